"""Reads for forum pages and the dashboard's forum panel."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from apps.accounts.models import User
from apps.core.db import SubqueryCount

from .models import Forum, Post, Topic


def forum_stats_for_user(*, user: User, now: datetime | None = None) -> dict:
    """The ``forum-stats`` panel and ``forum_stats`` of ``/api/dashboard/stats/``.

    All-time totals come from ``user``'s maintained counters; the last-30-days counts are two
    scalar subqueries in one SQL statement, each an index range on ``(poster, created_at)``.
    Returns ``{"topics", "posts", "topics_last_30_days", "posts_last_30_days"}``.
    """
    since = (now or timezone.now()) - timedelta(days=30)
    recent = (
        User.objects.filter(pk=user.pk)
        .values(
            topics_recent=SubqueryCount(Topic.objects.filter(poster=user, created_at__gt=since, is_deleted=False)),
            posts_recent=SubqueryCount(Post.objects.filter(poster=user, created_at__gt=since, is_deleted=False)),
        )
        .get()
    )
    return {
        "topics": user.topic_count,
        "posts": user.post_count,
        "topics_last_30_days": recent["topics_recent"],
        "posts_last_30_days": recent["posts_recent"],
    }


def forum_list() -> list[Forum]:
    """All forums in display order with their counters and last activity (topic and poster
    joined); one statement."""
    return list(
        Forum.objects.select_related("last_topic", "last_poster")
        .only(
            "id", "name", "slug", "description", "position", "topic_count", "post_count", "last_post_at",
            "last_topic__id", "last_topic__subject", "last_poster__id", "last_poster__username",
        )
        .order_by("position", "name")
    )


def _visible_topics(*, viewer: User | None, include_held: bool = False):
    """Topics ``viewer`` may see: approved ones and their own; with ``include_held`` (a
    moderator) also everyone's held ones."""
    if include_held:
        return Topic.objects.filter(is_deleted=False)
    visible = Q(is_approved=True)
    if viewer is not None and viewer.is_authenticated:
        visible |= Q(poster=viewer)
    return Topic.objects.filter(visible, is_deleted=False)


def forum_for_viewer(*, slug: str, viewer: User | None) -> Forum | None:
    """The forum ``slug`` with ``viewer_pending_topics``: the viewer's own topics still in the
    review queue, which they see and the ``topic_count`` counter leaves out. One statement."""
    queryset = Forum.objects.only("id", "name", "slug", "description", "topic_count", "post_count").filter(slug=slug)
    if viewer is not None and viewer.is_authenticated:
        pending = Topic.objects.filter(forum=OuterRef("pk"), poster=viewer, is_approved=False, is_deleted=False)
        queryset = queryset.annotate(viewer_pending_topics=SubqueryCount(pending))
    return queryset.first()


def topic_page_for_forum(*, forum: Forum, viewer: User | None, page_number: int | str | None):
    """One page (``FORUM_TOPICS_PAGE_SIZE``, 25) of a forum's visible topics, pinned first then
    by last activity, with poster and last poster joined. The page count comes from the forum's
    ``topic_count`` counter (plus the viewer's own pending topics), so this is one statement.
    Returns a Django ``Page``."""
    queryset = (
        _visible_topics(viewer=viewer)
        .filter(forum=forum)
        .select_related("poster", "last_poster")
        .only(
            "id", "forum_id", "subject", "created_at", "is_locked", "is_pinned", "is_approved", "last_post_at",
            "post_count", "poster__id", "poster__username", "poster__trust_level",
            "last_poster__id", "last_poster__username",
        )
        .order_by("-is_pinned", "-last_post_at", "-id")
    )
    paginator = Paginator(queryset, settings.FORUM_TOPICS_PAGE_SIZE)
    paginator.count = forum.topic_count + getattr(forum, "viewer_pending_topics", 0)
    page = paginator.get_page(page_number)
    page.object_list = list(page.object_list)
    return page


def _visible_posts(*, viewer: User | None, include_held: bool = False):
    if include_held:
        return Post.objects.filter(is_deleted=False)
    visible = Q(is_approved=True, is_hidden=False)
    if viewer is not None and viewer.is_authenticated:
        visible |= Q(poster=viewer)
    return Post.objects.filter(visible, is_deleted=False)


def post_page_for_topic(
    *, topic: Topic, viewer: User | None, page_number: int | str | None, include_held: bool = False
):
    """One page (``FORUM_POSTS_PAGE_SIZE``, 20) of a topic's visible posts in order, with each
    poster's name and trust level. The page count comes from ``topic.post_count`` plus the
    viewer's own held posts (annotated by ``get_topic_for_viewer``). One statement."""
    queryset = (
        _visible_posts(viewer=viewer, include_held=include_held)
        .filter(topic=topic)
        .select_related("poster")
        .only(
            "id", "topic_id", "html", "created_at", "updated_at", "is_approved", "is_hidden", "is_opening_post",
            "rejection_reason", "image",
            "poster__id", "poster__username", "poster__trust_level",
        )
        .order_by("created_at", "id")
    )
    paginator = Paginator(queryset, settings.FORUM_POSTS_PAGE_SIZE)
    paginator.count = max(topic.post_count + getattr(topic, "viewer_held_posts", 0), 1)
    page = paginator.get_page(page_number)
    page.object_list = list(page.object_list)
    return page


def get_topic_for_viewer(*, pk: int, viewer: User | None, include_held: bool = False) -> Topic | None:
    """The topic with its forum, or ``None`` when it does not exist or ``viewer`` may not see
    it. For a signed-in viewer it carries ``viewer_held_posts`` (their own posts others cannot
    see yet), in the same statement."""
    queryset = _visible_topics(viewer=viewer, include_held=include_held).select_related("forum").only(
        "id", "subject", "created_at", "is_locked", "is_pinned", "is_approved", "post_count", "poster_id",
        "forum__id", "forum__name", "forum__slug",
    )
    if viewer is not None and viewer.is_authenticated:
        held = Post.objects.filter(topic=OuterRef("pk"), is_deleted=False).filter(Q(is_approved=False) | Q(is_hidden=True))
        if not include_held:
            held = held.filter(poster=viewer)
        queryset = queryset.annotate(viewer_held_posts=SubqueryCount(held))
    return queryset.filter(pk=pk).first()


def post_location_for_viewer(*, pk: int, viewer: User | None) -> tuple[int, int] | None:
    """Where post ``pk`` appears for ``viewer``: ``(topic_id, page_number)``, or ``None`` when
    the viewer may not see it. Two statements (the post, then how many visible posts precede
    it in its topic)."""
    post = _visible_posts(viewer=viewer).filter(pk=pk, topic__in=_visible_topics(viewer=viewer)).only(
        "id", "topic_id", "created_at"
    ).first()
    if post is None:
        return None
    before = _visible_posts(viewer=viewer).filter(topic_id=post.topic_id).filter(
        Q(created_at__lt=post.created_at) | Q(created_at=post.created_at, id__lt=post.pk)
    ).count()
    return post.topic_id, before // settings.FORUM_POSTS_PAGE_SIZE + 1


def post_for_change(*, pk: int) -> Post | None:
    """A post that is not deleted, with what edit, delete and report checks need."""
    return (
        Post.objects.filter(pk=pk, is_deleted=False)
        .only("id", "topic_id", "poster_id", "source", "is_opening_post", "is_approved", "is_hidden", "is_deleted")
        .first()
    )


def topic_for_change(*, pk: int) -> Topic | None:
    """A topic that is not deleted, with its counters and flags, for moderator tools."""
    return (
        Topic.objects.filter(pk=pk, is_deleted=False)
        .only("id", "forum_id", "poster_id", "subject", "is_approved", "is_locked", "is_pinned", "post_count")
        .first()
    )


def review_queue(*, limit: int = 50) -> dict:
    """The review queue: posts held from ``new`` gardeners (opening posts stand for their
    topics) and posts hidden by reports, oldest first, each with topic, forum and poster, the
    number of open reports and their reasons; with the totals of each kind from the same
    statement (window counts). Returns ``{"items", "held_total", "hidden_total"}``."""
    from django.db.models import Count, StringAgg, Value, Window

    from .models import Report

    held = Q(is_approved=False, rejection_reason="")
    queryset = (
        Post.objects.filter(held | Q(is_hidden=True), is_deleted=False, topic__is_deleted=False)
        .select_related("topic", "topic__forum", "poster")
        .only(
            "id", "source", "html", "created_at", "is_approved", "is_hidden", "is_opening_post", "topic_id",
            "topic__id", "topic__subject", "topic__forum_id", "topic__forum__id", "topic__forum__name",
            "poster__id", "poster__username", "poster__trust_level",
        )
        .annotate(
            open_reports=SubqueryCount(Report.objects.filter(post=OuterRef("pk"), status=Report.Status.OPEN)),
            held_total=Window(Count("id", filter=held)),
            hidden_total=Window(Count("id", filter=Q(is_hidden=True))),
        )
        .order_by("created_at", "id")
    )
    reasons = Report.objects.filter(post=OuterRef("pk"), status=Report.Status.OPEN).values("post").annotate(
        reasons=StringAgg("reason", delimiter=Value(", "))
    ).values("reasons")
    queryset = queryset.annotate(report_reasons=Subquery(reasons[:1]))
    items = list(queryset[:limit])
    first = items[0] if items else None
    return {
        "items": items,
        "held_total": first.held_total if first else 0,
        "hidden_total": first.hidden_total if first else 0,
    }


def review_queue_counts(*, viewer: User) -> dict:
    """Counts for the moderators' dashboard panel in one statement (three scalar subqueries,
    each on a partial index): ``{"held", "hidden", "open_reports"}``."""
    from .models import Report

    live = Post.objects.filter(is_deleted=False)
    return (
        User.objects.filter(pk=viewer.pk)
        .values(
            held=SubqueryCount(live.filter(is_approved=False, rejection_reason="")),
            hidden=SubqueryCount(live.filter(is_hidden=True)),
            open_reports=SubqueryCount(Report.objects.filter(status=Report.Status.OPEN)),
        )
        .get()
    )

