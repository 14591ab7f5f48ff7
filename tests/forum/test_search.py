"""Forum search (``/forum/search/``): full-text matching, ranking, grouping per topic,
filters, safe highlighting, visibility, bad input, index use and the query budget."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import TrustLevel
from apps.forum import search
from apps.forum.models import Post, Topic
from apps.forum.services import forum_counters_recount, post_delete, reply_create, report_create, topic_create
from tests import factories

pytestmark = pytest.mark.django_db

SEARCH_URL = "/forum/search/"


@pytest.fixture
def houseplants(db):
    """The "Houseplants" forum."""
    return factories.ForumFactory(name="Houseplants", slug="houseplants")


@pytest.fixture
def pests(db):
    """The "Pests and diseases" forum."""
    return factories.ForumFactory(name="Pests and diseases", slug="pests")


@pytest.fixture
def ana(db):
    """A basic gardener (publishes at once)."""
    return factories.UserFactory(username="ana", trust_level=TrustLevel.BASIC)


@pytest.fixture
def ben(db):
    """Another basic gardener."""
    return factories.UserFactory(username="ben", trust_level=TrustLevel.BASIC)


def start(forum, poster, subject, source, *, publish=True) -> Topic:
    return topic_create(forum=forum, poster=poster, subject=subject, source=source, publish=publish)


def reply(topic, poster, source, *, publish=True) -> Post:
    return reply_create(topic=Topic.objects.get(pk=topic.pk), poster=poster, source=source, publish=publish)


def hits(query, **filters):
    return search.forum_search(query=query, **filters).object_list


def result_ids(response) -> list[int]:
    return [int(n) for n in re.findall(r'id="result-topic-(\d+)"', response.content.decode())]


def test_results_are_grouped_per_topic_with_the_number_of_matching_posts(houseplants, ana, ben):
    """Three matching posts in one topic give one result that says 3 posts matched; another
    topic with one matching post is a second result; a topic without the word is absent."""
    busy = start(houseplants, ana, "Sticky leaves", "Aphids all over my hibiscus.")
    reply(busy, ben, "Aphids hate neem oil.")
    reply(busy, ana, "The aphids came back after a week.")
    reply(busy, ben, "Unrelated: my fern is fine.")
    quiet = start(houseplants, ben, "Pepper plant", "One aphid on the pepper.")
    start(houseplants, ana, "Watering", "How often should I water?")

    found = {hit.topic_id: hit for hit in hits("aphids")}

    assert set(found) == {busy.pk, quiet.pk}
    assert found[busy.pk].matched_posts == 3
    assert found[quiet.pk].matched_posts == 1


def test_denser_and_title_matches_rank_first(houseplants, ana, ben):
    """A topic about the word (in its subject and body) outranks one that mentions it in
    passing, and the best-ranked post of a topic is the one whose snippet is shown."""
    passing = start(houseplants, ana, "My balcony in spring", "Tomatoes, basil, and one thrips sighting, nothing else.")
    about = start(houseplants, ben, "Thrips on my monstera", "Little insects on the leaves, what are they?")
    weak = reply(about, ana, "I once saw thrips too, long ago, on a different plant in another house entirely.")
    strong = reply(about, ana, "Thrips, definitely: thrips leave silver streaks. Spray for thrips weekly.")

    ranked = hits("thrips")

    assert [hit.topic_id for hit in ranked] == [about.pk, passing.pk]
    assert ranked[0].post_id == strong.pk and ranked[0].matched_posts == 2
    assert weak.pk != strong.pk


def test_a_subject_match_alone_finds_the_topic(houseplants, ana):
    """A word only in the subject finds the topic (linked to the topic, no post snippet)."""
    topic = start(houseplants, ana, "Calathea curling", "The edges roll up in the afternoon.")
    [hit] = hits("calathea")
    assert hit.topic_id == topic.pk
    assert hit.matched_posts == 0 and hit.post_id is None
    assert str(hit.subject_html) == "<mark>Calathea</mark> curling"


def test_snippet_highlights_the_match_and_links_to_the_best_post(client, houseplants, ana, ben):
    """The result shows the best post's snippet with the words in ``<mark>`` and links to
    that post's permalink."""
    topic = start(houseplants, ana, "Repotting", "When should I repot?")
    post = reply(topic, ben, "Repot a peace lily in spring, into a slightly larger pot.")
    body = client.get(SEARCH_URL, {"q": "peace lily"}).content.decode()
    assert "<mark>peace</mark> <mark>lily</mark>" in body
    assert reverse("forum:post-permalink", args=[post.pk]) in body
    assert "1 matching post<" in body


def test_highlighting_escapes_html_from_posts_and_subjects(client, houseplants, ana, ben):
    """Markup in a post or subject is shown as text: a ``<script>`` (or an event handler)
    never reaches the results page unescaped; only the ``<mark>`` tags search adds are HTML."""
    topic = start(houseplants, ana, "<img src=x onerror=alert(1)> orchid help", "Roots look silvery.")
    reply(topic, ben, "<script>alert('orchid')</script> My orchid <b>blooms</b> & grows \ue001 \ue000 well.")
    body = client.get(SEARCH_URL, {"q": "orchid"}).content.decode()
    results = body[body.index('class="search-results"') :]
    assert "<script>alert" not in results
    assert "<img src=x" not in results and "onerror=alert(1)>" not in results
    assert "<mark>orchid</mark>" in results and "&amp; grows" in results
    assert "&lt;img src=x onerror=alert(1)&gt; <mark>orchid</mark> help" in results
    assert "<b>blooms</b>" not in results
    # Every <mark> opened is closed, whatever private-use markers a post contains.
    assert results.count("<mark>") == results.count("</mark>") > 0


def test_highlight_pairs_stray_markers():
    """``highlight`` escapes everything and pairs markers, so a marker typed into a post
    cannot leave a ``<mark>`` open or close one that was never opened."""
    assert search.highlight("a\ue001b<i>\ue000c\ue000d") == "ab&lt;i&gt;<mark>cd</mark>"


def test_filters_by_forum_and_by_author(client, houseplants, pests, ana, ben):
    """``forum=<slug>`` keeps one forum's topics; ``author=<username>`` (any letter case)
    keeps topics where that gardener wrote a matching post; an unknown forum is a form
    error and an unknown author finds nothing."""
    in_houseplants = start(houseplants, ana, "Fungus gnats", "Fungus gnats in the soil.")
    in_pests = start(pests, ben, "Gnats again", "Yellow sticky traps for fungus gnats.")
    reply(in_pests, ana, "Let the soil dry out between waterings.")

    assert [h.topic_id for h in hits("gnats", forum_slug="pests")] == [in_pests.pk]
    assert [h.topic_id for h in hits("gnats", author="BEN")] == [in_pests.pk]
    assert [h.topic_id for h in hits("gnats", author="ana")] == [in_houseplants.pk]
    assert hits("gnats", author="nobody") == []

    response = client.get(SEARCH_URL, {"q": "gnats", "forum": "houseplants", "author": "ana"})
    assert result_ids(response) == [in_houseplants.pk]
    unknown = client.get(SEARCH_URL, {"q": "gnats", "forum": "no-such-forum"})
    assert unknown.status_code == 200 and "Select a valid choice" in unknown.content.decode()


def test_search_follows_the_visibility_rule(client, houseplants, ana, ben):
    """Search reads through the one visibility rule: a held topic, a held reply and a reply
    hidden by a report are found by their author and by moderators only; a deleted reply and a
    deleted topic by nobody."""
    newcomer = factories.UserFactory(username="newbie", trust_level=TrustLevel.NEW)
    trusted = factories.UserFactory(username="tess", trust_level=TrustLevel.TRUSTED)
    moderator = factories.UserFactory(username="mod")
    moderator.groups.add(Group.objects.get(name="moderators"))
    visible = start(houseplants, ana, "Begonia care", "My begonia likes bright shade.")
    held_topic = start(houseplants, newcomer, "Begonia secrets", "Begonia held topic", publish=False)
    held_reply = reply(visible, newcomer, "Begonia held reply zzheld", publish=False)
    hidden_reply = reply(visible, newcomer, "Begonia hidden reply zzhidden")
    report_create(post_id=hidden_reply.pk, reporter=trusted, reason="spam", detail="")
    deleted_reply = reply(visible, ben, "Begonia deleted reply zzdeleted")
    post_delete(post_id=deleted_reply.pk, actor=ben)
    gone = start(houseplants, ben, "Begonia gone", "Begonia deleted topic zzgone")
    post_delete(post_id=Post.objects.get(topic=gone, is_opening_post=True).pk, actor=ben)
    assert Post.objects.get(pk=hidden_reply.pk).is_hidden and not Post.objects.get(pk=held_reply.pk).is_approved

    [hit] = hits("begonia")
    assert hit.topic_id == visible.pk and hit.matched_posts == 1
    for viewer in (None, ana, ben, trusted):
        for word in ("zzheld", "zzhidden", "zzdeleted", "zzgone", "secrets"):
            assert hits(word, viewer=viewer) == [], (viewer, word)
    for viewer in (newcomer, moderator):
        assert [h.topic_id for h in hits("zzheld", viewer=viewer)] == [visible.pk]
        assert [h.topic_id for h in hits("zzhidden", viewer=viewer)] == [visible.pk]
        assert [h.topic_id for h in hits("secrets", viewer=viewer)] == [held_topic.pk]
        assert hits("zzdeleted", viewer=viewer) == [] and hits("zzgone", viewer=viewer) == []
    client.force_login(ben)
    body = client.get(SEARCH_URL, {"q": "begonia"}).content.decode()
    assert result_ids(client.get(SEARCH_URL, {"q": "begonia"})) == [visible.pk]
    assert "zzheld" not in body and "zzhidden" not in body and f"result-topic-{held_topic.pk}" not in body
    client.force_login(newcomer)
    assert set(result_ids(client.get(SEARCH_URL, {"q": "begonia"}))) == {visible.pk, held_topic.pk}


def test_websearch_syntax_phrases_or_and_exclusion(houseplants, ana, ben):
    """``q`` is web-search syntax: "quoted phrases", ``or`` and ``-word`` work as on a search
    engine; the English stemmer matches word forms (``repotting`` finds ``repot``)."""
    adjacent = start(houseplants, ana, "Leaves", "My fern has yellow leaves since May.")
    apart = start(houseplants, ben, "Colours", "The leaves are green, the pot is yellow.")
    other = start(houseplants, ana, "Bugs", "Spider mites on the calathea.")
    assert [h.topic_id for h in hits('"yellow leaves"')] == [adjacent.pk]
    assert {h.topic_id for h in hits("yellow -fern")} == {apart.pk}
    assert {h.topic_id for h in hits("calathea or fern")} == {adjacent.pk, other.pk}
    assert {h.topic_id for h in hits("mite")} == {other.pk}


JUNK = [
    '"unbalanced quote',
    "a & b | !c <-> d",
    "'); DROP TABLE forum_post; --",
    "1' OR '1'='1",
    "-",
    "or",
    '""""',
    ":* & | ! ( )",
    "\\",
    "%_%",
    "the and of",
    "🌱🌵 plant",
    "<script>alert(1)</script>",
    "a" * 200,
    "word " * 40,
    "x" * 2100,
    "\x00",
    "q" * 5000,
]


@pytest.mark.parametrize("query", JUNK, ids=range(len(JUNK)))
def test_junk_and_malformed_queries_never_fail(client, houseplants, ana, query):
    """Any query text answers 200: web-search parsing never raises, stop-word-only queries
    find nothing, and what the form refuses (over 200 characters, NUL) is shown as a message."""
    start(houseplants, ana, "Plant", "A plant post with a word or two.")
    response = client.get(SEARCH_URL, {"q": query, "page": "abc", "author": "x' OR 1=1", "forum": ""})
    assert response.status_code == 200
    body = response.content.decode()
    if len(query) > 200 or "\x00" in query:
        assert 'class="errorlist"' in body
    assert "<script>alert(1)</script>" not in body


def test_junk_filters_and_pages_never_fail(client, houseplants, ana):
    """Junk in ``page``, ``forum`` and ``author`` gives a page, a form message or no results,
    never an error."""
    start(houseplants, ana, "Plant", "Plant words.")
    for params in (
        {"q": "plant", "page": "-1"},
        {"q": "plant", "page": "99999"},
        {"q": "plant", "page": "1e9"},
        {"q": "plant", "forum": "x" * 500},
        {"q": "plant", "author": "a" * 500},
        {"q": "plant", "author": "\x00"},
        {"q": ["plant", "two"]},
        {"q": "   "},
    ):
        assert client.get(SEARCH_URL, params).status_code == 200, params


def test_empty_query_shows_only_the_form(client, houseplants, ana):
    """No ``q`` (or only spaces): the labelled form, no results section, no search run."""
    start(houseplants, ana, "Plant", "Plant words.")
    for params in ({}, {"q": ""}, {"q": "   "}):
        body = client.get(SEARCH_URL, params).content.decode()
        assert '<label for="id_q">Search the forum</label>' in body
        assert 'role="search"' in body
        assert "search-results" not in body


def test_no_results_shows_an_empty_state(client, houseplants, ana):
    """A query that matches nothing says so and suggests what to try."""
    start(houseplants, ana, "Plant", "Plant words.")
    body = client.get(SEARCH_URL, {"q": "cactus"}).content.decode()
    assert "No results" in body and "Nothing in the forum matches “cactus”" in body


def test_results_are_paginated_twenty_topics_a_page(client, houseplants, ana):
    """25 matching topics: 20 on the first page, 5 on the second; page links keep the query
    and filters."""
    for index in range(25):
        start(houseplants, ana, f"Succulent number {index}", "Succulent care.")
    first = client.get(SEARCH_URL, {"q": "succulent", "forum": "houseplants"})
    body = first.content.decode()
    assert len(result_ids(first)) == 20
    assert "25 topics found" in body
    assert "?q=succulent&amp;forum=houseplants&amp;page=2" in body
    second = client.get(SEARCH_URL, {"q": "succulent", "forum": "houseplants", "page": "2"})
    assert len(result_ids(second)) == 5
    assert not set(result_ids(first)) & set(result_ids(second))


def test_plain_fallback_without_postgresql_full_text(monkeypatch, houseplants, ana, ben):
    """Off PostgreSQL (the embedded SQLite default) search falls back to ``icontains``:
    still grouped per topic, visibility rules kept, and the snippet escaped with the match
    marked."""
    monkeypatch.setattr(search, "is_full_text", lambda: False)
    topic = start(houseplants, ana, "Snake plant", "x" * 300 + " <b>Sansevieria</b> tips " + "y" * 300)
    reply(topic, ben, "sansevieria again")
    reply(topic, factories.UserFactory(trust_level=TrustLevel.NEW), "sansevieria held", publish=False)
    [hit] = hits("sansevieria")
    assert hit.topic_id == topic.pk and hit.matched_posts == 2
    assert "&lt;b&gt;<mark>Sansevieria</mark>&lt;/b&gt;" in str(hit.snippet_html) or "<mark>sansevieria</mark>" in str(
        hit.snippet_html
    )
    assert "<b>" not in str(hit.snippet_html)
    assert len(str(hit.snippet_html)) < 400


@pytest.fixture
def three_thousand_posts(houseplants, ana):
    """3,000 visible posts in 600 topics (bulk-inserted through factories), a few of which
    mention "kokedama"; then ANALYZE so the planner sees the table sizes."""
    topics = Topic.objects.bulk_create(
        factories.TopicFactory.build(forum=houseplants, poster=ana, subject=f"Fern question {index}")
        for index in range(600)
    )
    topics[7].subject = "Kokedama moss balls"
    Topic.objects.filter(pk=topics[7].pk).update(subject=topics[7].subject)
    Post.objects.bulk_create(
        Post(
            topic=topic,
            poster=ana,
            html="<p>x</p>",
            is_opening_post=index == 0,
            source=f"Water the fern weekly, mist it, number {n}" + (" kokedama" if n % 997 == 0 else ""),
        )
        for n, (topic, index) in enumerate((topic, index) for topic in topics for index in range(5))
    )
    forum_counters_recount()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE forum_post")
        cursor.execute("ANALYZE forum_topic")


def test_search_uses_the_gin_indexes(three_thousand_posts):
    """The statements search sends compile to the indexed expressions: EXPLAIN shows the GIN
    indexes of migration 0003 on ``forum_post.source`` and ``forum_topic.subject``
    (``enable_seqscan`` off so a small table cannot hide a mismatch)."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            with CaptureQueriesContext(connection) as captured:
                page = search.forum_search(query="kokedama", page_number=1)
            plans = []
            for query in captured.captured_queries:
                cursor.execute("EXPLAIN " + query["sql"])
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        finally:
            cursor.execute("RESET enable_seqscan")
    assert len(captured.captured_queries) == 2
    # Posts n = 0, 997, 1994, 2991 (topics 0, 199, 398, 598) and topic 7's subject.
    assert page.paginator.count == 5
    for plan in plans:
        assert "forum_post_source_fts" in plan, plan
        assert "forum_topic_subject_fts" in plan, plan


def test_the_indexes_match_what_searchvector_compiles_to(three_thousand_posts):
    """The index definitions are the very expression Django's ``SearchVector(col,
    config="english")`` emits, so any query using ``search.POST_VECTOR`` /
    ``search.SUBJECT_VECTOR`` can use them. Sequential scans are disabled for the check: on a
    small, freshly written table the planner may rightly prefer one, and the question here is
    whether the index matches the expression at all."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = (
        Post.objects.annotate(v=search.POST_VECTOR)
        .filter(v=search.SearchQuery("kokedama", config="english", search_type="websearch"))
        .explain()
    )
    assert "Bitmap Index Scan on forum_post_source_fts" in plan, plan
    plan = (
        Topic.objects.annotate(v=search.SUBJECT_VECTOR)
        .filter(v=search.SearchQuery("kokedama", config="english", search_type="websearch"))
        .explain()
    )
    assert "Bitmap Index Scan on forum_topic_subject_fts" in plan, plan


@pytest.mark.parametrize("matching_posts", [1, 200], ids=["1-match", "200-matches"])
def test_search_page_costs_four_statements(
    gardener, gardener_client, houseplants, ana, ben, matching_posts, django_assert_num_queries
):
    """A signed-in search costs exactly 4 statements at 1 and at 200 matching posts: the
    user lookup, the forum list for the filter, the result count and the result page."""
    topics = [start(houseplants, ana, f"Topic {index}", "Opening words.") for index in range(min(matching_posts, 40))]
    for index in range(matching_posts):
        reply(topics[index % len(topics)], ben, f"Propagation by cuttings, note {index}.")
    with django_assert_num_queries(4):
        response = gardener_client.get(SEARCH_URL, {"q": "propagation", "author": "ben", "forum": "houseplants"})
    assert response.status_code == 200
    assert len(result_ids(response)) == min(len(topics), 20)
    body = response.content.decode()
    assert f"{len(topics)} topic{'s' if len(topics) > 1 else ''} found" in body
    assert f"{matching_posts // len(topics)} matching post" in body
    with django_assert_num_queries(2):
        gardener_client.get(SEARCH_URL)


def test_snippet_is_the_rendered_text_not_the_markdown(client, houseplants, ana, ben):
    """Issue 15: ``**Check the roots first.**`` shows as "Check the roots first." (no
    asterisks, no link syntax), the match still marked and the text still escaped."""
    topic = start(houseplants, ana, "Drooping", "Any ideas?")
    reply(topic, ben, "**Check the roots first.** See [the guide](https://example.org/g) & <b>repot</b>.")
    [hit] = hits("roots")
    snippet = str(hit.snippet_html)
    assert "Check the <mark>roots</mark> first." in snippet
    assert "*" not in snippet and "](" not in snippet and "https://example.org" not in snippet
    assert "See the guide &amp; &lt;b&gt;repot" in snippet and "<b>" not in snippet  # escaped, as text
    body = client.get(SEARCH_URL, {"q": "roots"}).content.decode()
    assert "Check the <mark>roots</mark> first." in body


def test_snippet_has_no_space_where_an_inline_tag_was(houseplants, ana):
    """The fresh review of issue 15 read "every 10 days , which": each tag had become a space.
    Inline tags (bold, links, code) now leave nothing; paragraphs and list items still part."""
    start(
        houseplants,
        ana,
        "Watering",
        "Water **every 10 days**, which suits [ferns](https://example.org/f). Use `rain`.\n\n- roots\n- soil",
    )
    [hit] = hits("water")
    text = re.sub(r"</?mark>", "", str(hit.snippet_html))
    assert "every 10 days, which suits ferns. Use rain." in text, text
    assert " ," not in text and " ." not in text
    [listed] = hits("roots")
    assert "roots soil" in re.sub(r"</?mark>", "", str(listed.snippet_html))


def test_plain_fallback_snippet_is_the_rendered_text(monkeypatch, houseplants, ana):
    monkeypatch.setattr(search, "is_full_text", lambda: False)
    start(houseplants, ana, "Drooping", "**Check the roots first.**")
    [hit] = hits("roots")
    assert str(hit.snippet_html) == "Check the <mark>roots</mark> first."
