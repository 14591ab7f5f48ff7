"""Forum search: reads for ``/forum/search/``.

PostgreSQL does full-text search (``websearch_to_tsquery`` over the ``english`` configuration)
on topic subjects and post sources, using the GIN expression indexes of migration
``0003_search_indexes``; any other database (the embedded SQLite default) falls back to a plain
``icontains`` match ordered by recency. Results are grouped as topics: one result per topic,
with its best-ranked matching post's snippet and how many of its posts matched.

What is searched follows the one visibility rule (``Topic.objects.visible_to`` /
``Post.objects.visible_to``): public content for everyone, plus the searcher's own held or
hidden posts and topics, and everything in place for moderators.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import F, FloatField, Func, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Coalesce, JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.core.db import SubqueryCount

from .markdown import BLOCK_TAG_PATTERN, TAG_PATTERN, html_to_text
from .models import Forum, Post, Topic

SEARCH_PAGE_SIZE = 20
SEARCH_CONFIG = "english"
# How much a subject match weighs against the best post match: a title names what a topic is
# about, so a title hit outranks a passing mention in one reply (Discourse ranks titles higher).
SUBJECT_RANK_WEIGHT = 2.0
# ts_rank normalization 1: divide by 1 + log(document length), so a long post does not win only
# by being long (PostgreSQL docs, "Ranking Search Results").
RANK_NORMALIZATION = 1
# ts_headline marks its matches with these private-use characters; the snippet is HTML-escaped
# first and only then are the markers turned into <mark> tags, so nothing from a post survives
# as markup.
START_SEL = "\ue000"
STOP_SEL = "\ue001"
_MARKERS = re.compile(f"([{START_SEL}{STOP_SEL}])")
PLAIN_SNIPPET_CHARS = 200

# The exact expressions the GIN indexes of migration 0003 are built on; a filter must compile
# to the same SQL for PostgreSQL to use them.
POST_VECTOR = SearchVector("source", config=SEARCH_CONFIG)
SUBJECT_VECTOR = SearchVector("subject", config=SEARCH_CONFIG)
# A post's rendered HTML without its tags, for the snippet (block tags a space, others nothing:
# ``markdown.BLOCK_TAG_PATTERN``): ``Post.html`` comes from ``render_markdown``, whose text has
# every ``<`` escaped, so ``<[^>]*>`` is exactly a tag. Entities stay (``&amp;``) until
# ``html_to_text`` decodes them after ``ts_headline``.
POST_TEXT = Func(
    Func(
        F("html"),
        Value(BLOCK_TAG_PATTERN),
        Value(" "),
        Value("gi"),
        function="regexp_replace",
        output_field=TextField(),
    ),
    Value(TAG_PATTERN),
    Value(""),
    Value("g"),
    function="regexp_replace",
    output_field=TextField(),
)


@dataclass(frozen=True)
class SearchHit:
    """One result: a topic, its highlighted subject, and its best-matching post (if a post
    matched; a topic found by its subject alone has ``post_id`` ``None``)."""

    topic_id: int
    subject_html: SafeString
    forum_name: str
    forum_slug: str
    topic_poster: str
    last_post_at: datetime
    matched_posts: int
    post_id: int | None
    post_poster: str | None
    post_created_at: datetime | None
    snippet_html: SafeString


def is_full_text() -> bool:
    """True when the database is PostgreSQL, so search is full-text and ranked."""
    return connection.vendor == "postgresql"


def search_forum_choices() -> list[tuple[str, str]]:
    """``(slug, name)`` of every forum in display order, for the search form's forum filter.
    One statement."""
    return list(Forum.objects.order_by("position", "name").values_list("slug", "name"))


def highlight(text: str | None) -> SafeString:
    """HTML-escape ``text`` and turn the ``START_SEL``/``STOP_SEL`` markers that
    ``ts_headline`` (or the plain fallback) put around matches into ``<mark>`` tags.

    The markers are paired defensively (a stray marker a gardener typed into a post can only
    open or close a ``<mark>``, never unbalance it), and everything else is escaped, so the
    result is safe to render: no tag or attribute from a post survives."""
    parts, open_mark = [], False
    for piece in _MARKERS.split(text or ""):
        if piece == START_SEL:
            if not open_mark:
                parts.append("<mark>")
                open_mark = True
        elif piece == STOP_SEL:
            if open_mark:
                parts.append("</mark>")
                open_mark = False
        elif piece:
            parts.append(str(escape(piece)))
    if open_mark:
        parts.append("</mark>")
    return mark_safe("".join(parts))


def _plain_marked(text: str, query: str, *, window: int | None) -> str:
    """The fallback's stand-in for ``ts_headline``: ``text`` (or a window of about ``window``
    characters around the first match) with every case-insensitive occurrence of ``query``
    wrapped in the markers."""
    pattern = re.compile(re.escape(query), re.IGNORECASE)
    if window is not None and len(text) > window:
        found = pattern.search(text)
        start = max(0, (found.start() if found else 0) - window // 3)
        text = ("…" if start else "") + text[start : start + window] + ("…" if start + window < len(text) else "")
    return pattern.sub(lambda m: f"{START_SEL}{m.group(0)}{STOP_SEL}", text)


def search_topics(*, query: str, viewer=None, forum_slug: str = "", author: str = "") -> QuerySet:
    """The unevaluated queryset of matching topics, best first, each annotated with
    ``rank``, ``matched_posts``, ``subject_marked`` and ``best`` (a JSON object of the best
    post: ``id``, ``poster``, ``created_at``, ``marked`` text, or ``None``).

    A topic ``viewer`` (``None``: signed out) may see matches when one of the posts they may
    see matches ``query`` or its subject does. On
    PostgreSQL both tests are ``to_tsvector(...) @@ websearch_to_tsquery(...)`` on the indexed
    expressions, combined as ``id IN (post hits UNION subject hits)`` so each side can use its
    GIN index. ``author`` (a username, any letter case) keeps only that gardener's posts, and
    subjects of topics they started; ``forum_slug`` keeps one forum. Exposed for the EXPLAIN
    test; pages use ``forum_search``.
    """
    full_text = is_full_text()
    if full_text:
        search_query = SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
        post_match = Q(search_vector_source=search_query)
        subject_match = Q(search_vector_subject=search_query)
        post_hits = Post.objects.visible_to(viewer).annotate(search_vector_source=POST_VECTOR).filter(post_match)
        subject_hits = Topic.objects.annotate(search_vector_subject=SUBJECT_VECTOR).filter(subject_match)
    else:
        post_hits = Post.objects.visible_to(viewer).filter(source__icontains=query)
        subject_hits = Topic.objects.filter(subject__icontains=query)
    if author:
        post_hits = post_hits.filter(poster__username__iexact=author)
        subject_hits = subject_hits.filter(poster__username__iexact=author)

    topics = Topic.objects.visible_to(viewer).filter(
        pk__in=post_hits.values("topic_id").union(subject_hits.values("pk"))
    )
    if forum_slug:
        topics = topics.filter(forum__slug=forum_slug)

    hits_in_topic = post_hits.filter(topic=OuterRef("pk"))
    if full_text:
        post_rank = SearchRank(POST_VECTOR, search_query, normalization=Value(RANK_NORMALIZATION))
        ranked = hits_in_topic.annotate(rank=post_rank).order_by("-rank", "created_at", "id")
        best_marked = SearchHeadline(
            POST_TEXT,
            search_query,
            config=SEARCH_CONFIG,
            start_sel=START_SEL,
            stop_sel=STOP_SEL,
            max_words=35,
            min_words=15,
            max_fragments=2,
            fragment_delimiter=" … ",
        )
        subject_marked = SearchHeadline(
            "subject",
            search_query,
            config=SEARCH_CONFIG,
            start_sel=START_SEL,
            stop_sel=STOP_SEL,
            highlight_all=True,
        )
        subject_rank = SearchRank(SUBJECT_VECTOR, search_query, normalization=Value(RANK_NORMALIZATION))
        rank = Coalesce(Subquery(ranked.values("rank")[:1]), Value(0.0)) + subject_rank * Value(SUBJECT_RANK_WEIGHT)
    else:
        ranked = hits_in_topic.order_by("-created_at", "-id")
        best_marked = F("html")
        subject_marked = F("subject")
        rank = Value(0.0)

    best = ranked.values(
        data=JSONObject(id=F("id"), poster=F("poster__username"), created_at=F("created_at"), marked=best_marked)
    )[:1]
    return (
        topics.select_related("forum", "poster")
        .only(
            "id", "subject", "last_post_at", "forum__id", "forum__name", "forum__slug", "poster__id", "poster__username"
        )
        .annotate(
            rank=Coalesce(rank, Value(0.0), output_field=FloatField()),
            matched_posts=SubqueryCount(hits_in_topic),
            subject_marked=subject_marked,
            best=Subquery(best),
        )
        .order_by("-rank", "-last_post_at", "-id")
    )


def _hit(topic: Topic, *, query: str, full_text: bool) -> SearchHit:
    best = topic.best or {}
    subject_marked, post_marked = topic.subject_marked, best.get("marked")
    # The snippet is the text readers see (issue 15: no ``**`` or ``[…](…)`` of the Markdown):
    # tags are gone (in SQL for the headline), entities are decoded here and escaped again by
    # ``highlight``.
    post_marked = post_marked and html_to_text(post_marked)
    if not full_text:
        subject_marked = _plain_marked(subject_marked, query, window=None)
        post_marked = post_marked and _plain_marked(post_marked, query, window=PLAIN_SNIPPET_CHARS)
    created = best.get("created_at")
    if isinstance(created, str):
        # JSON carries the time as text: ISO 8601 with offset on PostgreSQL, naive UTC on SQLite.
        created = parse_datetime(created.replace(" ", "T"))
        if created is not None and timezone.is_naive(created):
            created = timezone.make_aware(created, UTC)
    return SearchHit(
        topic_id=topic.pk,
        subject_html=highlight(subject_marked),
        forum_name=topic.forum.name,
        forum_slug=topic.forum.slug,
        topic_poster=topic.poster.username,
        last_post_at=topic.last_post_at,
        matched_posts=topic.matched_posts,
        post_id=best.get("id"),
        post_poster=best.get("poster"),
        post_created_at=created,
        snippet_html=highlight(post_marked),
    )


def forum_search(
    *, query: str, viewer=None, forum_slug: str = "", author: str = "", page_number: int | str | None = None
) -> Page:
    """One page (``SEARCH_PAGE_SIZE``, 20) of topics matching ``query``, best-ranked first.

    ``query`` is a web-search string (quotes for phrases, ``or``, ``-word``); any text is
    accepted and never raises (``websearch_to_tsquery`` has no syntax errors), though a query of
    only stop words finds nothing. ``forum_slug`` and ``author`` (username, any case) narrow it;
    an unknown one finds nothing. ``page_number`` out of range or junk gives the nearest page.

    Two statements: the count of matching topics and the page itself (the best post's snippet
    is computed only for the page's rows). Returns a Django ``Page`` whose ``object_list`` is a
    list of ``SearchHit``.
    """
    full_text = is_full_text()
    paginator = Paginator(
        search_topics(query=query, viewer=viewer, forum_slug=forum_slug, author=author), SEARCH_PAGE_SIZE
    )
    page = paginator.get_page(page_number)
    page.object_list = [_hit(topic, query=query, full_text=full_text) for topic in page.object_list]
    return page
