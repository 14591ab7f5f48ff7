"""Reads for forum pages, the review queue and the dashboard's forum panel.

Every read of topics or posts goes through the one visibility rule,
``Topic.objects.visible_to(viewer)`` / ``Post.objects.visible_to(viewer)`` (see
``apps.forum.models``); views reach single objects through the 404 getters of
``apps.forum.permissions``.
"""

import difflib
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Window
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.accounts.models import User
from apps.core.db import SubqueryCount
from apps.core.permissions import is_moderator
from apps.core.precompiled import PrecompiledValues

from .models import WAITING_POST, WAITING_TOPIC, Forum, Post, Report, Topic, post_version

TOPIC_PAGE_FIELDS = (
    "id",
    "forum_id",
    "subject",
    "created_at",
    "is_locked",
    "is_pinned",
    "is_approved",
    "is_hidden",
    "last_post_at",
    "post_count",
    "poster__id",
    "poster__username",
    "poster__trust_level",
    "last_poster__id",
    "last_poster__username",
)
TOPIC_DETAIL_FIELDS = (
    "id",
    "subject",
    "created_at",
    "is_locked",
    "is_pinned",
    "is_approved",
    "is_hidden",
    "post_count",
    "poster_id",
    "forum__id",
    "forum__name",
    "forum__slug",
)
POST_PAGE_FIELDS = (
    "id",
    "topic_id",
    "html",
    "created_at",
    "updated_at",
    "is_approved",
    "is_hidden",
    "is_opening_post",
    "rejection_reason",
    "image",
    "pending_at",
    "pending_html",
    "edit_rejection_reason",
    "is_deleted",
    "poster__id",
    "poster__username",
    "poster__trust_level",
)
POST_CHANGE_FIELDS = (
    "id",
    "topic_id",
    "poster_id",
    "source",
    "is_opening_post",
    "is_approved",
    "is_hidden",
    "is_deleted",
    "pending_at",
    "pending_source",
)


def _signed_in(viewer) -> bool:
    return viewer is not None and viewer.is_authenticated


def _recent_forum_query(*, user_id: int, since: datetime):
    live = Post.objects.filter(poster_id=OuterRef("pk"), created_at__gt=since, is_deleted=False)
    return User.objects.filter(pk=user_id).values(
        topics_recent=SubqueryCount(live.filter(is_opening_post=True)),
        posts_recent=SubqueryCount(live),
        oldest_recent=Subquery(live.order_by("created_at").values("created_at")[:1]),
    )


# Compiled once per process (``apps.core.precompiled``): the same statement for every gardener.
_RECENT_FORUM = PrecompiledValues(_recent_forum_query, user_id=int, since=datetime)


def forum_stats_for_user(*, user: User, now: datetime | None = None) -> dict:
    """The ``forum-stats`` panel and ``forum_stats`` of ``/api/dashboard/stats/``.

    All-time totals are ``user``'s maintained counters (their topics and posts not deleted,
    held ones included, as they see them: ``apps.forum.recount``); the last-30-days counts use
    the same definition, as scalar subqueries in one SQL statement, each an index range
    on ``(poster, created_at)``. Returns ``{"topics", "posts", "topics_last_30_days",
    "posts_last_30_days"}``.
    """
    return forum_stats_with_changes_at(user=user, now=now)[0]


def forum_stats_with_changes_at(*, user: User, now: datetime | None = None) -> tuple[dict, datetime | None]:
    """``(forum_stats_for_user(...), changes_at)`` from the same single statement: the
    last-30-days counts drop a post 30 days after it was written, so ``changes_at`` (issue 13's
    panel cache) is the oldest live post in the window plus 30 days; ``None`` when the window
    holds no post."""
    days = timedelta(days=30)
    (recent,) = _RECENT_FORUM.rows(user_id=user.pk, since=(now or timezone.now()) - days)
    stats = {
        "topics": user.topic_count,
        "posts": user.post_count,
        "topics_last_30_days": recent["topics_recent"],
        "posts_last_30_days": recent["posts_recent"],
    }
    oldest = recent["oldest_recent"]
    return stats, None if oldest is None else oldest + days


def forum_list() -> list[Forum]:
    """All forums in display order with their counters and last activity (topic and poster
    joined); one statement. The stored counters and last activity count public topics only
    (``apps.forum.recount``), so this is what every viewer may see."""
    return list(
        Forum.objects.select_related("last_topic", "last_poster")
        .only(
            "id",
            "name",
            "slug",
            "description",
            "position",
            "topic_count",
            "post_count",
            "last_post_at",
            "last_topic__id",
            "last_topic__subject",
            "last_poster__id",
            "last_poster__username",
        )
        .order_by("position", "name")
    )


LATEST_PUBLIC_TOPICS_LIMIT = 5


def latest_public_topics(*, limit: int = LATEST_PUBLIC_TOPICS_LIMIT) -> list[Topic]:
    """The ``limit`` (default 5) public topics (``Topic.objects.public()``: what every visitor,
    signed out too, may see) with the latest activity, across every forum, with their forum
    joined; one statement. Each topic carries ``subject``, ``last_post_at``, ``forum.name`` /
    ``forum.slug`` and ``reply_count``: its public posts (``post_count``) less the opening
    post (issue 15's public home)."""
    topics = list(
        Topic.objects.public()
        .select_related("forum")
        .only("id", "subject", "post_count", "last_post_at", "forum__id", "forum__name", "forum__slug")
        .order_by("-last_post_at", "-id")[:limit]
    )
    for topic in topics:
        topic.reply_count = max(topic.post_count - 1, 0)
    return topics


def forum_for_viewer(*, slug: str, viewer: User | None) -> Forum | None:
    """The forum ``slug`` (``None`` when there is none) with ``viewer_extra_topics``: the
    topics the viewer sees beyond the public ones the ``topic_count`` counter holds (their own
    held or hidden topics; every one for a moderator). One statement.

    For a gardener the count also names the poster, which the visibility rule implies (a
    waiting topic is not public, so they see only their own) but its ``OR`` hides from the
    planner: with it the ``forum_topic_waiting`` index is probed on ``(forum, poster)``
    instead of reading every waiting topic of the forum (issue 13: 2.1 ms at 100,000 topics
    with 2,170 waiting in the forum)."""
    queryset = Forum.objects.only("id", "name", "slug", "description", "topic_count", "post_count").filter(slug=slug)
    if _signed_in(viewer):
        extra = Topic.objects.visible_to(viewer).filter(WAITING_TOPIC, forum=OuterRef("pk"))
        if not is_moderator(viewer):
            extra = extra.filter(poster=viewer.pk)
        queryset = queryset.annotate(viewer_extra_topics=SubqueryCount(extra))
    return queryset.first()


def topic_page_for_forum(*, forum: Forum, viewer: User | None, page_number: int | str | None):
    """One page (``FORUM_TOPICS_PAGE_SIZE``, 25) of the topics of ``forum`` that ``viewer``
    sees, pinned first then by last activity, with poster and last poster joined. The page
    count comes from the counters (``forum_for_viewer``), so this is one statement. Returns a
    Django ``Page``."""
    queryset = (
        Topic.objects.visible_to(viewer)
        .filter(forum=forum)
        .select_related("poster", "last_poster")
        .only(*TOPIC_PAGE_FIELDS)
        .order_by("-is_pinned", "-last_post_at", "-id")
    )
    paginator = Paginator(queryset, settings.FORUM_TOPICS_PAGE_SIZE)
    paginator.count = forum.topic_count + getattr(forum, "viewer_extra_topics", 0)
    page = paginator.get_page(page_number)
    page.object_list = list(page.object_list)
    return page


def topic_for_viewer(*, pk: int, viewer: User | None) -> Topic | None:
    """Topic ``pk`` with its forum if ``viewer`` may see it, else ``None``. For a signed-in
    viewer it carries ``viewer_extra_posts``: the posts they see beyond the public ones
    ``post_count`` holds (their own held or hidden posts; all of them for a moderator), in the
    same statement, for the page count."""
    queryset = Topic.objects.visible_to(viewer).select_related("forum").only(*TOPIC_DETAIL_FIELDS)
    if _signed_in(viewer):
        extra = Post.objects.visible_to(viewer).filter(WAITING_POST, topic=OuterRef("pk"))
        queryset = queryset.annotate(viewer_extra_posts=SubqueryCount(extra))
    return queryset.filter(pk=pk).first()


def post_page_for_topic(*, topic: Topic, viewer: User | None, page_number: int | str | None):
    """One page (``FORUM_POSTS_PAGE_SIZE``, 20) of the posts of ``topic`` that ``viewer`` sees,
    in order, with each poster's name and trust level. The page count comes from
    ``topic.post_count`` plus ``viewer_extra_posts`` (``topic_for_viewer``). One statement."""
    queryset = (
        Post.objects.visible_to(viewer)
        .filter(topic=topic)
        .select_related("poster")
        .only(*POST_PAGE_FIELDS)
        .order_by("created_at", "id")
    )
    paginator = Paginator(queryset, settings.FORUM_POSTS_PAGE_SIZE)
    paginator.count = max(topic.post_count + getattr(topic, "viewer_extra_posts", 0), 1)
    page = paginator.get_page(page_number)
    page.object_list = list(page.object_list)
    return page


def post_for_viewer(*, pk: int, viewer: User | None) -> Post | None:
    """Post ``pk`` with what edit, delete and report need, if ``viewer`` may see it."""
    return Post.objects.visible_to(viewer).filter(pk=pk).only(*POST_CHANGE_FIELDS).first()


def post_location_for_viewer(*, pk: int, viewer: User | None) -> tuple[int, int] | None:
    """Where post ``pk`` appears for ``viewer``: ``(topic_id, page_number)`` on the topic as
    that viewer sees it (a moderator's page counts the held and hidden posts shown to them in
    place), or ``None`` when the viewer may not see it. Two statements (the post, then how
    many posts the viewer sees before it in its topic)."""
    post = Post.objects.visible_to(viewer).filter(pk=pk).only("id", "topic_id", "created_at").first()
    if post is None:
        return None
    before = (
        Post.objects.visible_to(viewer)
        .filter(topic_id=post.topic_id)
        .filter(Q(created_at__lt=post.created_at) | Q(created_at=post.created_at, id__lt=post.pk))
        .count()
    )
    return post.topic_id, before // settings.FORUM_POSTS_PAGE_SIZE + 1


def replies_count(*, topic_id: int, viewer: User) -> int:
    """How many replies of topic ``topic_id`` that ``viewer`` sees would go with it if its
    opening post were deleted: the number the delete confirmation names (replies the viewer
    cannot see go too, but are not revealed). One statement."""
    return Post.objects.visible_to(viewer).filter(topic_id=topic_id, is_opening_post=False).count()


# --- Review queue --------------------------------------------------------------------------

QUEUE_HELD = Q(is_approved=False, rejection_reason="")
QUEUE_EDIT = Q(pending_at__isnull=False)
QUEUE_HIDDEN = Q(is_hidden=True)


def _open_reports(post_ref):
    return Report.objects.filter(post=post_ref, status=Report.Status.OPEN)


def review_queue(*, limit: int = 50, post_id: int | None = None) -> dict:
    """The review queue: every live post that waits for a moderator, oldest first: held posts
    from `new` gardeners (an opening post stands for its topic), pending edits (with a diff),
    posts hidden by reports, and posts with open reports that have not hidden them yet. Each
    item carries topic, forum and poster, its open reports (reporter, reason, detail, when),
    and the totals of each kind from the same statement (window counts), the ``version`` of the
    text shown (``models.post_version``, sent back with each decision) and, for an opening
    post, the number of replies that would go with its topic. ``post_id`` narrows it to that
    one post (a single item re-rendered after a refused decision; the counts are then that
    item's). Two statements: the posts, then their open reports. Returns ``{"items",
    "counts"}`` (``counts`` as ``review_queue_counts`` gives it)."""
    reported = Q(pk__in=Report.objects.filter(status=Report.Status.OPEN).values("post_id"))
    waiting = QUEUE_HELD | QUEUE_EDIT | QUEUE_HIDDEN | reported
    queryset = (
        Post.objects.filter(waiting, is_deleted=False, topic__is_deleted=False)
        .select_related("topic", "topic__forum", "poster")
        .only(
            "id",
            "source",
            "html",
            "created_at",
            "is_approved",
            "is_hidden",
            "is_opening_post",
            "topic_id",
            "pending_source",
            "pending_at",
            "rejection_reason",
            "topic__id",
            "topic__subject",
            "topic__forum_id",
            "topic__forum__id",
            "topic__forum__name",
            "poster__id",
            "poster__username",
            "poster__trust_level",
        )
        .annotate(
            open_report_count=SubqueryCount(_open_reports(OuterRef("pk"))),
            topic_replies=SubqueryCount(
                Post.objects.filter(topic=OuterRef("topic_id"), is_deleted=False, is_opening_post=False)
            ),
            held_total=Window(Count("id", filter=QUEUE_HELD)),
            edits_total=Window(Count("id", filter=QUEUE_EDIT)),
            hidden_total=Window(Count("id", filter=QUEUE_HIDDEN)),
            reported_total=Window(Count("id", filter=reported)),
        )
        .order_by("created_at", "id")
    )
    if post_id is not None:
        queryset = queryset.filter(pk=post_id)
    items = list(queryset[:limit])
    reports: dict[int, list[Report]] = {}
    if items:
        rows = (
            Report.objects.filter(post_id__in=[item.pk for item in items], status=Report.Status.OPEN)
            .select_related("reporter")
            .only("id", "post_id", "reason", "detail", "created_at", "reporter__id", "reporter__username")
            .order_by("created_at", "id")
        )
        for report in rows:
            reports.setdefault(report.post_id, []).append(report)
    for item in items:
        item.open_reports = reports.get(item.pk, [])
        item.edit_diff = text_diff(item.source, item.pending_source) if item.pending_at else None
        item.version = post_version(source=item.source, pending_source=item.pending_source)
    first = items[0] if items else None
    counts = {
        "held": first.held_total if first else 0,
        "edits": first.edits_total if first else 0,
        "hidden": first.hidden_total if first else 0,
        "reported": first.reported_total if first else 0,
    }
    return {"items": items, "counts": counts}


def review_queue_counts(*, viewer: User) -> dict:
    """What waits for moderators, in one statement (scalar subqueries over partial indexes,
    carried by ``viewer``'s row): ``{"held", "edits", "hidden", "reported", "open_reports"}``:
    held posts, pending edits, posts hidden by reports, posts with open reports, open
    reports.

    A counted post's topic must not be deleted. That is asked as "no deleted topic with this
    id" (``NOT EXISTS`` over the small partial index ``forum_topic_deleted``), not as a join
    to live topics: the join made PostgreSQL hash all of ``forum_topic`` (a sequential scan,
    about 30 ms at 100,000 topics) once the held queue passed about a thousand posts, while the
    anti-join reads only the queue's partial index and the deleted topics (issue 13). Every
    post has a topic (``topic`` is a non-null foreign key), so both ask the same thing. The
    statement is compiled once per process (``apps.core.precompiled``)."""
    (counts,) = _REVIEW_QUEUE_COUNTS.rows(user_id=viewer.pk)
    return counts


def _review_queue_counts_query(*, user_id: int):
    in_deleted_topic = Exists(Topic.objects.filter(pk=OuterRef("topic_id"), is_deleted=True))
    live = Post.objects.filter(~in_deleted_topic, is_deleted=False)
    open_reports = Report.objects.filter(status=Report.Status.OPEN, post__is_deleted=False)
    return User.objects.filter(pk=user_id).values(
        held=SubqueryCount(live.filter(QUEUE_HELD)),
        edits=SubqueryCount(live.filter(QUEUE_EDIT)),
        hidden=SubqueryCount(live.filter(QUEUE_HIDDEN)),
        reported=SubqueryCount(live.filter(pk__in=open_reports.values("post_id"))),
        open_reports=SubqueryCount(open_reports),
    )


# Compiled once per process (``apps.core.precompiled``): the same statement for every moderator.
_REVIEW_QUEUE_COUNTS = PrecompiledValues(_review_queue_counts_query, user_id=int)


_WORDS = re.compile(r"\s+|[^\s]+")


def text_diff(old: str, new: str) -> SafeString:
    """HTML showing what changed from ``old`` to ``new`` word by word: removed words in
    ``<del>``, added ones in ``<ins>``, everything HTML-escaped (the texts are gardeners'
    Markdown, shown as source). Used by the review queue for pending edits."""
    old_words, new_words = _WORDS.findall(old or ""), _WORDS.findall(new or "")
    parts = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for operation, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        removed = escape("".join(old_words[a_start:a_end]))
        added = escape("".join(new_words[b_start:b_end]))
        if operation == "equal":
            parts.append(removed)
            continue
        if removed:
            parts.append(f"<del>{removed}</del>")
        if added:
            parts.append(f"<ins>{added}</ins>")
    return mark_safe("".join(parts))
