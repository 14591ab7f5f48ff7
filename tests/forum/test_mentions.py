r"""Which ``@mentions`` a post's Markdown makes (``apps.forum.markdown.mentioned_usernames``).

Issue 9: mentions are taken from the Markdown the author wrote as text, outside code spans,
code blocks and links; a post whose only mention sits in a fenced block notifies nobody. The
rule follows Discourse (a text post-process over markdown-it's text tokens): mentions in code
are not mentions. Decisions pinned here: ``\@ana`` (and ``&#64;ana``) is a literal "@", not a
mention; a 31-character name mentions nobody, not the gardener named by its first 30
characters; ``@_ana_`` renders as "@*ana*" and mentions nobody.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.forum.markdown import MENTION, mentioned_usernames

NAME_30 = "a" * 30
NAME_31 = "b" * 31

NOT_MENTIONS = {
    "fenced block": "Look:\n\n```\n@ana water daily\n```\n",
    "fenced block with info string": "```python\nprint('@ana')\n```",
    "tilde fence": "~~~\n@ana\n~~~",
    "unclosed fence runs to the end": "```\n@ana\n\nstill code @ben",
    "indented code block": "Here:\n\n    @ana is in code\n",
    "inline code": "Type `@ana` to mention.",
    "inline code with double backticks": "``say `@ana` here``",
    "link text": "[@ana](https://example.org/)",
    "link url": "[her profile](https://example.org/@ana)",
    "link title": '[profile](https://example.org/ "@ana")',
    "reference link text and url": "[@ana][ref]\n\n[ref]: https://example.org/@ben",
    "autolink": "<https://example.org/@ana>",
    "email autolink": "<ana@example.org>",
    "image alt": "![@ana](https://example.org/a.png)",
    "image inside a link": "[![@ana](a.png)](https://example.org/@ben)",
    "email address": "Write to ana@example.org please.",
    "email address with dots and plus": "Write to first.last+tag@example.org.",
    "url typed as text": "See https://example.org/@ana for her photos.",
    "url with www typed as text": "See www.example.org/@ana.",
    "url with query typed as text": "See https://example.org/search?u=@ana&x=1.",
    "path after a domain": "Find her at mastodon.example/@ana.",
    "double at": "@@ana",
    "escaped at": r"\@ana",
    "entity at": "&#64;ana",
    "31-character name": f"@{NAME_31}",
    "31-character name then a dot": f"@{NAME_31}.",
    "only dots": "@... and @.",
    "bare at": "@ alone",
    "emphasis around the name only": "@_ana_ said",
    "in a code span inside a list": "- `@ana`",
    "in a fence inside a blockquote": "> ```\n> @ana\n> ```",
}

MENTIONS = {
    "plain paragraph": ("Thanks @ana!", {"ana"}),
    "any letter case": ("Thanks @Ana and @ANA", {"ana"}),
    "blockquote": ("> @ana said so", {"ana"}),
    "nested blockquote": ("> > @ana", {"ana"}),
    "list item": ("- first\n- ask @ana", {"ana"}),
    "ordered list item": ("1. ask @ana", {"ana"}),
    "table cell": ("| who | what |\n|---|---|\n| @ana | fern |", {"ana"}),
    "table header cell": ("| @ben |\n|---|\n| fern |", {"ben"}),
    "heading": ("## Question for @ana", {"ana"}),
    "strong": ("**@ana**", {"ana"}),
    "emphasis": ("*@ana*", {"ana"}),
    "trailing full stop": ("Ask @ana.", {"ana"}),
    "trailing dots": ("Ask @ana...", {"ana"}),
    "trailing comma": ("@ana, have a look", {"ana"}),
    "trailing colon and question mark": ("@ana: really? @ben?", {"ana", "ben"}),
    "in parentheses": ("(cc @ana)", {"ana"}),
    "in quotes": ("\"@ana\" and '@ben'", {"ana", "ben"}),
    "name with dot inside": ("@ben.k.", {"ben.k"}),
    "name with plus, minus, underscore": ("@a+b @c-d @e_f", {"a+b", "c-d", "e_f"}),
    "30-character name": (f"@{NAME_30}", {NAME_30}),
    "30-character name then a full stop": (f"hi @{NAME_30}.", {NAME_30}),
    "unicode letters": ("Merci @Zoë et @Łucja, @ñandú", {"zoë", "łucja", "ñandú"}),
    "other scripts and digits": ("@薔薇 and @Ωμέγα٣", {"薔薇", "ωμέγα٣"}),
    "soft line break": ("first line\n@ana second", {"ana"}),
    "hard line break": ("first  \n@ana", {"ana"}),
    "beside code and a link": ("`@ben` @ana [@cleo](https://x.org)", {"ana"}),
    "after a link": ("[photo](https://x.org/@ben) by @ana", {"ana"}),
    "after an escaped backslash": ("\\\\@ana", {"ana"}),
    "escaped character inside the name": ("@rose\\_bud", {"rose_bud"}),
    "after an email and a url": ("ana@example.org https://x.org/@ben @cleo", {"cleo"}),
    "several, once each": ("@ana @ben @ana", {"ana", "ben"}),
    "mention then its own fence": ("@ana\n\n```\n@ben\n```\n\n@cleo", {"ana", "cleo"}),
}


@pytest.mark.parametrize("source", NOT_MENTIONS.values(), ids=NOT_MENTIONS.keys())
def test_text_that_is_not_a_mention(source):
    """Code, links, images, email addresses, URLs, escapes and over-long names mention nobody."""
    assert mentioned_usernames(source) == set()


@pytest.mark.parametrize("source, expected", MENTIONS.values(), ids=MENTIONS.keys())
def test_mentions_in_text_the_author_wrote(source, expected):
    """Mentions in prose count wherever it sits (quotes, lists, tables, headings, emphasis),
    lowercased, once each, with sentence punctuation stripped."""
    assert mentioned_usernames(source) == expected


@pytest.mark.parametrize("source", ["", None, "   ", "```", "[", "@"])
def test_empty_or_degenerate_source_gives_no_mention(source):
    """Nothing to read is no mention and no error."""
    assert mentioned_usernames(source) == set()


def test_old_raw_regex_found_the_fenced_mention_the_new_reader_does_not():
    """The failing case issue 9 reported: the regex over the raw source sees the mention in the
    fenced block; reading the token stream does not."""
    source = "Log output:\n\n```\nERROR @ana: pot too small\n```\n"
    assert MENTION.search(source) is not None
    assert mentioned_usernames(source) == set()


# --- Property: mentions are found in prose and never in code ------------------------------

_alnum = st.characters(categories=("Lu", "Ll", "Lo", "Nd"))
_word = st.text(alphabet=_alnum, min_size=1, max_size=10)
# Usernames as the sign-up form allows them (letters, digits, ``. + - _``), with separators
# only between letters or digits so that no "_" can open or close emphasis across words.
_name = st.builds(
    lambda first, rest: first + "".join(separator + chunk for separator, chunk in rest),
    st.text(alphabet=_alnum, min_size=1, max_size=8),
    st.lists(
        st.tuples(st.sampled_from(["", ".", "_", "-", "+"]), st.text(alphabet=_alnum, min_size=1, max_size=6)),
        max_size=3,
    ),
).filter(lambda name: len(name) <= 30)
_words_and_mentions = st.lists(st.one_of(_word, _name.map(lambda name: "@" + name)), min_size=1, max_size=25)


def _mentioned(items: list[str]) -> set[str]:
    return {item[1:].lower() for item in items if item.startswith("@")}


@settings(max_examples=200, deadline=None)
@given(items=_words_and_mentions, fence=st.sampled_from(["```", "~~~", "````"]), lines=st.integers(1, 4))
def test_property_mentions_inside_a_fenced_block_are_never_found(items, fence, lines):
    """Any safe words and mentions, over one or more lines of a fenced block: no mention."""
    body = "\n".join(" ".join(items[index::lines]) for index in range(lines))
    assert mentioned_usernames(f"Before the code.\n\n{fence}\n{body}\n{fence}\n\nAfter it.") == set()


@settings(max_examples=200, deadline=None)
@given(items=_words_and_mentions, code_items=_words_and_mentions)
def test_property_every_mention_written_as_a_paragraph_word_is_found(items, code_items):
    """Mentions placed as plain paragraph words are all found, and exactly those: the same
    kind of text in a fenced block beside them adds nothing."""
    source = " ".join(items) + "\n\n```\n" + " ".join(code_items) + "\n```\n"
    assert mentioned_usernames(source) == _mentioned(items)
