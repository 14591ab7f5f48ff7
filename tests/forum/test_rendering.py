"""How a post's Markdown is rendered (``apps.forum.markdown.render_markdown``, issue 15): bare
URLs become links with the same ``rel`` as other links, and ``@name`` of an existing active
gardener links to their profile, never inside code or an existing link; the services store
posts rendered that way with one statement for all of a post's mentions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import TrustLevel
from apps.forum.markdown import html_to_text, render_markdown
from apps.forum.models import Post
from apps.forum.services import mention_targets, topic_create
from tests import factories

REL = 'rel="nofollow ugc noopener"'


def test_a_bare_url_renders_as_a_link_with_rel():
    html = render_markdown("Look at https://example.org/ficus?x=1&y=2.")
    assert f'<a href="https://example.org/ficus?x=1&amp;y=2" {REL}>https://example.org/ficus?x=1&amp;y=2</a>.' in html


@pytest.mark.parametrize(
    "source",
    [
        "`https://example.org`",
        "```\nhttps://example.org\n```",
        "notes.md and repot.it and ana@example.org",  # no scheme: not a link
        "javascript:alert(1)",
    ],
)
def test_what_is_not_linkified(source):
    assert "<a " not in render_markdown(source)


def test_mentions_link_only_names_given():
    html = render_markdown(
        "Hi @Rosa and @nobody. `@rosa` [@rosa](https://x.example) \\@rosa **@rosa**",
        mentions={"rosa": "rosa"},
    )
    assert html.count('<a href="/u/rosa/" class="mention" ' + REL + ">") == 2
    assert '<a href="/u/rosa/" class="mention" ' + REL + ">@Rosa</a> and @nobody." in html
    assert "<code>@rosa</code>" in html
    assert f'<a href="https://x.example" {REL}>@rosa</a>' in html
    assert "<strong><a " in html  # emphasised text is still text the author wrote
    assert "/u/rosa/" not in render_markdown("Hi @rosa")  # no mentions given: text


def test_mention_in_a_code_block_stays_text():
    html = render_markdown("```\n@rosa\n```\n\n    @rosa", mentions={"rosa": "rosa"})
    assert "/u/" not in html


@pytest.mark.django_db
def test_mention_targets_one_statement_for_all_names_and_only_active_gardeners():
    factories.UserFactory(username="Rosa")
    factories.UserFactory(username="ben")
    factories.UserFactory(username="gone", is_active=False)
    with CaptureQueriesContext(connection) as queries:
        targets = mention_targets("@rosa @BEN @gone @nobody `@cat`")
    assert targets == {"rosa": "Rosa", "ben": "ben"} and len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert mention_targets("no mentions, https://example.org/@rosa") == {}
    assert len(queries) == 0


@pytest.mark.django_db
def test_posts_are_stored_with_mentions_linked():
    forum = factories.ForumFactory()
    poster = factories.UserFactory(username="ana", trust_level=TrustLevel.BASIC)
    factories.UserFactory(username="Rosa")
    topic_create(forum=forum, poster=poster, subject="Roots", source="@rosa, @nobody: `@rosa`", publish=True)
    html = Post.objects.get().html
    assert '<a href="/u/Rosa/" class="mention"' in html and ">@rosa</a>, @nobody: <code>@rosa</code>" in html


def test_html_to_text():
    assert html_to_text(render_markdown("**Check the roots first.**\n\nA &amp; <b>\n\n- one\n- two")) == (
        "Check the roots first. A & <b> one two"
    )
