"""Reads for forum pages and the dashboard's forum panel."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Q
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


def _visible_topics(*, viewer: User | None):
    visible = Q(is_approved=True)
    if viewer is not None and viewer.is_authenticated:
        visible |= Q(poster=viewer)
    return Topic.objects.filter(visible, is_deleted=False)


def topic_page_for_forum(*, forum: Forum, viewer: User | None, page_number: int | str | None):
    """One page (``FORUM_TOPICS_PAGE_SIZE``, 25) of a forum's visible topics, pinned first then
    by last activity, with poster and last poster joined. The page count comes from the forum's
    ``topic_count`` counter, so this is one statement. Returns a Django ``Page``."""
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
    paginator.count = forum.topic_count
    page = paginator.get_page(page_number)
    page.object_list = list(page.object_list)
    return page


def post_page_for_topic(*, topic: Topic, viewer: User | None, page_number: int | str | None):
    """One page (``FORUM_POSTS_PAGE_SIZE``, 20) of a topic's visible posts in order, with each
    poster's name and trust level; the page count comes from ``topic.post_count``. One statement."""
    visible = Q(is_approved=True, is_hidden=False)
    if viewer is not None and viewer.is_authenticated:
        visible |= Q(poster=viewer)
    queryset = (
        Post.objects.filter(visible, topic=topic, is_deleted=False)
        .select_related("poster")
        .only(
            "id", "topic_id", "html", "created_at", "updated_at", "is_approved", "is_hidden", "is_opening_post",
            "poster__id", "poster__username", "poster__trust_level",
        )
        .order_by("created_at", "id")
    )
    paginator = Paginator(queryset, settings.FORUM_POSTS_PAGE_SIZE)
    paginator.count = max(topic.post_count, 1)
    page = paginator.get_page(page_number)
    page.object_list = list(page.object_list)
    return page


def get_topic_for_viewer(*, pk: int, viewer: User | None) -> Topic | None:
    """The topic with its forum, or ``None`` when it does not exist or ``viewer`` may not see it."""
    return (
        _visible_topics(viewer=viewer)
        .select_related("forum")
        .only(
            "id", "subject", "created_at", "is_locked", "is_pinned", "is_approved", "post_count", "poster_id",
            "forum__id", "forum__name", "forum__slug",
        )
        .filter(pk=pk)
        .first()
    )
