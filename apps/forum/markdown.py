"""Forum Markdown: rendered with markdown-it-py, then sanitized with nh3 (SPEC "Bad input").

Raw HTML in the source is not rendered (markdown-it's ``html`` option is off) and whatever the
renderer produces is passed through an allow-list, so no script, event handler or
``javascript:`` URL survives. Links get ``rel="nofollow ugc"``.

``mentioned_usernames`` reads the ``@mentions`` out of the same parse (text the author wrote,
not code, links or images).
"""

import re
from collections.abc import Iterator

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token


def _parser() -> MarkdownIt:
    """The one Markdown configuration of the forum: CommonMark plus tables, raw HTML off."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


_renderer = _parser()
# The same parse for reading mentions, except that backslash escapes and entities stay separate
# ``text_special`` tokens (``text_join`` merges them into plain text), so ``\@ana`` can be told
# apart from ``@ana``. Block and inline structure are identical to ``_renderer``'s.
_mention_parser = _parser().disable("text_join")

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


def render_markdown(source: str) -> str:
    """Return sanitized HTML for the Markdown ``source`` (str of any length the form allows).

    Raises nothing for any input: unknown constructs are escaped or dropped by nh3.
    """
    html = _renderer.render(source or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow ugc noopener",
    )


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
        if block.type != "inline":
            continue
        for text, escaped_at in _plain_text_runs(block.children or []):
            text = _URL_AS_TEXT.sub(lambda url: " " * len(url.group()), text)
            for match in MENTION.finditer(text):
                name = match.group(1).rstrip(".")
                if name and match.start() not in escaped_at:
                    names.add(name.lower())
    return names


def _plain_text_runs(tokens: list[Token]) -> Iterator[tuple[str, set[int]]]:
    """Yield ``(text, positions of escaped "@")`` for each run of adjacent plain-text tokens
    of one inline token's children that lies outside links. Code spans and images (whose alt
    text is in their own children) are single tokens that end a run, like every other markup
    token."""
    link_depth = 0
    parts: list[str] = []
    escaped_at: set[int] = set()
    length = 0
    for token in tokens:
        if token.type == "link_open":
            link_depth += 1
        elif token.type == "link_close":
            link_depth -= 1
        elif link_depth == 0 and token.type in ("text", "text_special"):
            if token.type == "text_special" and token.content == "@":
                escaped_at.add(length)
            parts.append(token.content)
            length += len(token.content)
            continue
        if parts:
            yield "".join(parts), escaped_at
        parts, escaped_at, length = [], set(), 0
    if parts:
        yield "".join(parts), escaped_at
