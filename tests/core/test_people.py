"""``apps.core.people``: profile links, "A former member", generated avatars (issue 12)."""

import html
import re

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from apps.core import people


def test_user_link_links_to_the_profile():
    assert people.user_link("rosa") == '<a href="/u/rosa/" class="user-link">rosa</a>'


@pytest.mark.parametrize("name", [None, ""])
def test_a_gone_account_shows_as_a_former_member_without_a_link(name):
    assert people.user_link(name) == '<span class="former-member">A former member</span>'


@pytest.mark.parametrize("name", ["deleted-gardener-1a2b3c4d", "Deleted-Gardener-ffff0000"])
def test_an_erased_account_keeps_its_anonymous_name_without_a_link(name):
    """Its posts stay under the anonymous name (``account_erase``); its profile is a 404."""
    assert people.user_link(name) == f'<span class="former-member">{name}</span>'


def test_template_tags():
    rendered = Template(
        "{% load people %}{% user_link name %}|{% user_link None %}|{% user_links names 2 %}|{% avatar name %}"
    ).render(Context({"name": "ana", "names": ["ana", "ben"]}))
    assert rendered.startswith('<a href="/u/ana/" class="user-link">ana</a>|<span class="former-member">')
    assert '<a href="/u/ana/" class="user-link">ana</a>, <a href="/u/ben/" class="user-link">ben</a> and 2 others' in (
        rendered
    )
    assert "<svg" in rendered and ">A</text>" in rendered


def test_user_links_phrases():
    assert people.user_links([]) == "Someone"
    assert people.user_links(["ana"]) == people.user_link("ana")
    assert people.user_links(["ana"], 1).endswith(" and 1 other")


@pytest.mark.parametrize(
    "name, initials", [("rosa", "R"), ("Rosa Green", "RG"), ("ivy.green", "IG"), ("a_b_c", "AB"), ("...", "?")]
)
def test_avatar_initials(name, initials):
    assert people.avatar_initials(name) == initials


@given(st.text(min_size=1, max_size=40))
def test_generated_avatar_and_link_escape_anything_and_keep_one_colour(name):
    """Whatever the name (markup, quotes, any Unicode): the SVG and the link carry no raw markup
    from it, and the colour depends on the name alone (same in every process: SHA-256)."""
    svg = str(people.avatar_svg(username=name, display_name=name))
    text = re.search(r"<text[^>]*>(.*)</text>", svg, re.S).group(1)
    assert "<" not in text and html.unescape(text) == people.avatar_initials(name)
    assert people.avatar_colour(name) == people.avatar_colour(name.casefold()) in people.AVATAR_COLOURS
    link = str(people.user_link(name))
    inner = re.fullmatch(r"<(a|span)[^<>]*>([^<>]*)</\1>", link)
    assert inner is not None
