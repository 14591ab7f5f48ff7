"""Forum Markdown: rendered with markdown-it-py, then sanitized with nh3 (SPEC "Bad input").

Raw HTML in the source is not rendered (markdown-it's ``html`` option is off) and whatever the
renderer produces is passed through an allow-list, so no script, event handler or
``javascript:`` URL survives. Links get ``rel="nofollow ugc noopener"``. Bare URLs with a
scheme (``https://…``, ``mailto:…``) become links (markdown-it's ``linkify`` with linkify-it-py,
issue 15), so they count against a new member's link limit like Markdown links. ``@name`` of an
existing active gardener links to their profile when the caller passes the names it found
(``render_markdown(source, mentions=…)``).

``mentioned_usernames`` reads the ``@mentions`` out of the same parse (text the author wrote,
not code, links or images).
"""

import re
from collections.abc import Iterator, Mapping
from html import unescape

import nh3
from django.urls import NoReverseMatch
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from apps.core.people import profile_url


def _parser() -> MarkdownIt:
    """The one Markdown configuration of the forum: CommonMark plus tables, raw HTML off."""
    parser = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    parser.enable(["table", "linkify"])
    # Only URLs with a scheme (or ``mailto:``): "fuzzy" links would turn words such as
    # ``notes.md`` or ``repot.it`` (two-letter country domains) into links.
    parser.linkify.set({"fuzzy_link": False, "fuzzy_email": False})
    # ``@name`` links, before ``text_join`` so that an escaped ``\@`` is still its own token.
    parser.core.ruler.before("text_join", "mention_links", _link_mentions)
    return parser


ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(source: str, *, mentions: Mapping[str, str] | None = None) -> str:
    """Return sanitized HTML for the Markdown ``source`` (str of any length the form allows).

    ``mentions`` maps lowercased names to usernames (``{"rosa": "Rosa"}``): each ``@name``
    ``mentioned_usernames`` would find whose name is a key becomes a link to that gardener's
    profile ``/u/<username>/``; other ``@name`` stay text (``None``: no mention links, which is
    what the new-member link limit counts, see ``permissions.link_limit_error``). Build it with
    ``services.mention_targets`` (one query). Raises nothing for any input: unknown constructs
    are escaped or dropped by nh3.
    """
    html = _renderer.render(source or "", {"mentions": mentions or {}})
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes={"a": {"mention"}},
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow ugc noopener",
    )


# A block-level tag ends a run of text (a space between two paragraphs or list items); any other
# tag (``<strong>``, ``<a>``, ``<code>``) sits inside a sentence and leaves nothing, so
# "**10 days**, then" reads "10 days, then", not "10 days , then". The pattern is written for both
# Python's ``re`` and PostgreSQL's regular expressions (``search.POST_TEXT``).
BLOCK_TAG_PATTERN = r"</?(?:p|br|li|ul|ol|h[1-6]|blockquote|pre|div|hr|table|thead|tbody|tr|td|th)(?:\s[^>]*)?/?>"
TAG_PATTERN = r"<[^>]*>"
_BLOCK_TAG = re.compile(BLOCK_TAG_PATTERN, re.IGNORECASE)
_TAG = re.compile(TAG_PATTERN)
_SPACE = re.compile(r"\s+")


def html_to_text(html: str | None) -> str:
    """The text a reader sees in ``html`` (a post's sanitized ``Post.html``): block tags count
    as a space (paragraphs do not run together), other tags as nothing (``BLOCK_TAG_PATTERN``),
    entities decoded and whitespace collapsed to single spaces, e.g. ``"<p><strong>Check
    </strong>, &amp; see</p><p>More</p>"`` gives ``"Check, & see More"``. Only for HTML from
    ``render_markdown``, in which every ``<`` of the text is escaped. Raises nothing."""
    text = _TAG.sub("", _BLOCK_TAG.sub(" ", html or ""))
    return _SPACE.sub(" ", unescape(text)).strip()


# ``@name``: the name syntax of usernames (``accounts.models.username_validator``: letters,
# digits, ``_ . + -``), at most 30 characters (``User.username`` max_length). Not after a word
# character, ``@`` or ``/`` (``ana@example.org``, ``@@ana``, ``example.org/@ana``). The
# possessive quantifier and the lookahead refuse a longer run outright rather than matching its
# first 30 characters (a 31-character word must not mention the 30-character gardener whose
# name is its prefix); trailing dots (sentence punctuation) may follow and are stripped later.
MENTION = re.compile(r"(?<![\w@/])@([\w.+-]{1,30}+)(?!\.*[\w+-])")
# A URL typed as plain text (``linkify`` is off, so it is no link token): a scheme and ``://``,
# or ``www.``, up to the next space or angle bracket.
_URL_AS_TEXT = re.compile(r"(?i)(?<![\w.+-])(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>]*")


def mentioned_usernames(source: str) -> set[str]:
    r"""Return the usernames ``source`` mentions, lowercased, e.g. ``{"rosa", "ben.k"}``.

    ``source`` is a post's Markdown as the author wrote it (``Post.source``, str of any length
    the form allows; ``""`` or ``None`` give an empty set). Raises nothing for any input.

    A mention is ``@name`` (``MENTION``: 1-30 characters of letters, digits, ``_ . + -``,
    case-insensitive, trailing dots stripped as punctuation) inside plain text the author wrote:
    paragraphs, headings, list items, blockquotes and table cells, emphasised or not. It is not
    a mention inside a code span, an indented or fenced code block, a link's text or URL
    (autolinks ``<https://…/@x>`` and ``<ana@example.org>`` included), an image's alt text, an
    email address or a URL typed as text (``https://example.org/@name``,
    ``example.org/@name``), nor after a backslash escape or an entity (``\@ana``,
    ``&#64;ana``: the author asked for a literal ``@``, as GitHub reads ``\@``).

    Source of the rule: the forum's mentions issue ("mentions are taken from the Markdown
    outside code spans, code blocks and links the author wrote") and Discourse, whose
    ``discourse-markdown/mentions.js`` finds mentions with a text post-process rule over
    markdown-it's text tokens outside links, so mentions in code are not mentions. Here too a
    run of text ends at any markup token (emphasis, line break), so ``@_ana_`` (rendered
    "@*ana*") mentions nobody, as there.
    """
    names: set[str] = set()
    for block in _mention_parser.parse(source or ""):
        # Only ``inline`` tokens hold text the author wrote as prose; ``fence`` and
        # ``code_block`` are block tokens of their own and are never looked into.
        if block.type == "inline":
            names.update(name.lower() for _index, _start, _end, name in _mentions_in(block.children or []))
    return names


def _mentions_in(tokens: list[Token]) -> Iterator[tuple[int, int, int, str]]:
    """Yield ``(token index, start, end, name)`` for each mention in one inline token's
    children: ``tokens[index].content[start:end]`` is the ``@name`` as written (trailing dots
    left out). A mention that would span two tokens (never, in practice) has index ``-1``."""
    for text, escaped_at, offsets in _plain_text_runs(tokens):
        text = _URL_AS_TEXT.sub(lambda url: " " * len(url.group()), text)
        for match in MENTION.finditer(text):
            name = match.group(1).rstrip(".")
            if not name or match.start() in escaped_at:
                continue
            end = match.start(1) + len(name)
            index, start = -1, 0
            for token_index, token_start, token_end in offsets:
                if token_start <= match.start() and end <= token_end:
                    index, start = token_index, token_start
            yield index, match.start() - start, end - start, name


def _plain_text_runs(tokens: list[Token]) -> Iterator[tuple[str, set[int], list[tuple[int, int, int]]]]:
    """Yield ``(text, positions of escaped "@", [(token index, start, end), …])`` for each run
    of adjacent plain-text tokens of one inline token's children that lies outside links. Code
    spans and images (whose alt text is in their own children) are single tokens that end a
    run, like every other markup token."""
    link_depth = 0
    parts: list[str] = []
    escaped_at: set[int] = set()
    offsets: list[tuple[int, int, int]] = []
    length = 0
    for index, token in enumerate(tokens):
        if token.type == "link_open":
            link_depth += 1
        elif token.type == "link_close":
            link_depth -= 1
        elif link_depth == 0 and token.type in ("text", "text_special"):
            if token.type == "text_special" and token.content == "@":
                escaped_at.add(length)
            parts.append(token.content)
            offsets.append((index, length, length + len(token.content)))
            length += len(token.content)
            continue
        if parts:
            yield "".join(parts), escaped_at, offsets
        parts, escaped_at, offsets, length = [], set(), [], 0
    if parts:
        yield "".join(parts), escaped_at, offsets


def _link_mentions(state: StateCore) -> None:
    """markdown-it core rule: each ``@name`` (as ``mentioned_usernames`` reads it) whose
    lowercased name is a key of ``state.env["mentions"]`` becomes a link to that gardener's
    profile, with class ``mention``."""
    known = state.env.get("mentions") if isinstance(state.env, dict) else None
    if not known:
        return
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        by_token: dict[int, list[tuple[int, int, str]]] = {}
        for index, start, end, name in _mentions_in(block.children):
            if index >= 0 and name.lower() in known:
                try:
                    url = profile_url(known[name.lower()])
                except NoReverseMatch:
                    continue
                by_token.setdefault(index, []).append((start, end, url))
        for index in sorted(by_token, reverse=True):
            block.children[index : index + 1] = _split_with_links(block.children[index], by_token[index])


def _split_with_links(token: Token, spans: list[tuple[int, int, str]]) -> list[Token]:
    """``token`` (a text token) cut into text and ``<a class="mention">`` links at ``spans``
    (``(start, end, url)`` in ascending order, not overlapping)."""
    pieces: list[Token] = []
    position = 0
    for start, end, url in spans:
        if start > position:
            pieces.append(Token("text", "", 0, content=token.content[position:start]))
        pieces.append(Token("link_open", "a", 1, attrs={"href": url, "class": "mention"}, markup="mention"))
        pieces.append(Token("text", "", 0, content=token.content[start:end]))
        pieces.append(Token("link_close", "a", -1, markup="mention"))
        position = end
    if position < len(token.content):
        pieces.append(Token(token.type, "", 0, content=token.content[position:]))
    return pieces


_renderer = _parser()
# The same parse for reading mentions, except that backslash escapes and entities stay separate
# ``text_special`` tokens (``text_join`` merges them into plain text), so ``\@ana`` can be told
# apart from ``@ana``. Block and inline structure are identical to ``_renderer``'s.
_mention_parser = _parser().disable("text_join")
