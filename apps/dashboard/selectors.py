"""Reads that mix domains for the dashboard: recent activity and the stats API."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import CharField, DurationField, ExpressionWrapper, F, IntegerField, Max, Value
from django.db.models.functions import Coalesce, Extract, Mod, NullIf
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.selectors import trust_progress_for_user
from apps.forum.models import Post, Topic
from apps.forum.selectors import forum_stats_for_user
from apps.plants.models import IdentificationStatus, PlantIdentificationRequest, identification_request_title
from apps.plants.selectors import gardener_suggestion_stats_annotations, plant_stats_for_user

ACTIVITY_TOPIC = "topic"
ACTIVITY_REPLY = "reply"
ACTIVITY_IDENTIFICATION = "identification"


def _activity_parts(user: User, limit: int):
    no_text = Value(None, output_field=CharField())
    # The author's own topics and replies as the visibility rule shows them to the author.
    topics = (
        Topic.objects.visible_to(user)
        .filter(poster=user)
        .values(
            kind=Value(ACTIVITY_TOPIC, output_field=CharField()),
            object_id=F("id"),
            thread_id=F("id"),
            title=F("subject"),
            forum_name=F("forum__name"),
            state=no_text,
            created=F("created_at"),
        )
    )
    replies = (
        Post.objects.visible_to(user)
        .filter(poster=user, is_opening_post=False)
        .values(
            kind=Value(ACTIVITY_REPLY, output_field=CharField()),
            object_id=F("id"),
            thread_id=F("topic_id"),
            title=F("topic__subject"),
            forum_name=F("topic__forum__name"),
            state=no_text,
            created=F("created_at"),
        )
    )
    requests = PlantIdentificationRequest.objects.filter(owner=user).values(
        kind=Value(ACTIVITY_IDENTIFICATION, output_field=CharField()),
        object_id=F("id"),
        thread_id=Value(None, output_field=IntegerField()),
        # The accepted name: the species', or the accepted free text (plants' request title).
        title=Coalesce(
            NullIf(F("species__primary_common_name"), Value("")),
            F("species__scientific_name"),
            NullIf(F("accepted_suggestion__free_text_name"), Value("")),
        ),
        forum_name=no_text,
        state=F("status"),
        created=F("created_at"),
    )
    parts = [topics, replies, requests]
    if connection.features.supports_slicing_ordering_in_compound:
        # Each part reads at most `limit` rows from its owner index before the merge.
        parts = [part.order_by("-created")[:limit] for part in parts]
    return parts


def recent_activity_for_user(*, user: User, limit: int | None = None) -> list[dict]:
    """The ``recent-activity`` panel: ``user``'s latest topics, replies and identification
    requests, mixed, newest first, in one ``UNION ALL`` statement (each part limited and read
    from its ``(owner, created_at)`` index on PostgreSQL).

    Returns up to ``limit`` (``DASHBOARD_RECENT_ACTIVITY_LIMIT``, 8) dicts
    ``{"type", "title", "url", "created", "forum_name", "status"}``; ``type`` is ``topic``,
    ``reply`` or ``identification``.
    """
    limit = limit or settings.DASHBOARD_RECENT_ACTIVITY_LIMIT
    topics, replies, requests = _activity_parts(user, limit)
    rows = topics.union(replies, requests, all=True).order_by("-created")[:limit]
    items = []
    for row in rows:
        if row["kind"] == ACTIVITY_IDENTIFICATION:
            url = reverse("plants:request-detail", kwargs={"pk": row["object_id"]})
            if row["state"] == IdentificationStatus.IDENTIFIED and row["title"]:
                title = f"Identified: {identification_request_title(pk=row['object_id'], accepted_name=row['title'])}"
            else:
                title = (
                    f"Identification request #{row['object_id']} ({IdentificationStatus(row['state']).label.lower()})"
                )
        else:
            if row["kind"] == ACTIVITY_REPLY:
                url = reverse("forum:post-permalink", kwargs={"pk": row["object_id"]})
                title = f"Re: {row['title']}"
            else:
                url = reverse("forum:topic-detail", kwargs={"pk": row["thread_id"]})
                title = row["title"]
        items.append(
            {
                "type": row["kind"],
                "title": title,
                "url": url,
                "created": row["created"],
                "forum_name": row["forum_name"],
                "status": row["state"],
            }
        )
    return items


def dashboard_stats_for_user(*, user: User, now: datetime | None = None) -> dict:
    """SPEC's ``/api/dashboard/stats/`` body, in three SQL statements after the user lookup:
    ``{"plant_stats": {...}, "forum_stats": {...}, "recent_activity": [...], "trust": {...}}``.
    ``created`` values are ISO 8601 strings in UTC."""
    now = now or timezone.now()
    plant_stats = plant_stats_for_user(user=user, now=now)
    plant_stats.pop("weekly_searches")
    activity = [
        {"type": item["type"], "title": item["title"], "url": item["url"], "created": item["created"].isoformat()}
        for item in recent_activity_for_user(user=user)
    ]
    return {
        "plant_stats": plant_stats,
        "forum_stats": forum_stats_for_user(user=user, now=now),
        "recent_activity": activity,
        "trust": trust_progress_for_user(user=user),
    }


PROFILE_TOPICS_LIMIT = 5
PROFILE_USER_FIELDS = (
    "id",
    "username",
    "display_name",
    "avatar",
    "trust_level",
    "date_joined",
    "is_active",
    "identified_plant_count",
)


def gardener_profile(*, username: str, viewer: User | None) -> dict | None:
    """The public profile ``/u/<username>/`` (issue 12), in two statements; ``None`` when no
    active account has that username (any letter case: the ``UPPER(username)`` unique index).
    Deactivated accounts and erased ones (inactive, ``deleted-gardener-…``) are ``None`` too.

    Returns ``{"gardener": User, "agreement_rate": float | None, "topics": [Topic, ...]}``.
    ``gardener`` holds only public fields (``PROFILE_USER_FIELDS``: never the email or home
    location) and the suggestion counts of
    ``apps.plants.selectors.gardener_suggestion_stats_annotations``; ``agreement_rate`` is
    ``suggestions_matched / suggestions_decided`` (0..1). ``topics`` are the gardener's
    ``PROFILE_TOPICS_LIMIT`` (5) latest topics that ``viewer`` may see (the forum visibility
    rule, ``Topic.objects.visible_to``: a signed-out visitor sees public topics only), with
    their forum, newest first, from the ``(poster, created_at)`` index.
    """
    gardener = (
        User.objects.filter(username__iexact=username, is_active=True)
        .only(*PROFILE_USER_FIELDS)
        .annotate(**gardener_suggestion_stats_annotations())
        .first()
    )
    if gardener is None:
        return None
    topics = list(
        Topic.objects.visible_to(viewer)
        .filter(poster=gardener)
        .select_related("forum")
        .only("id", "subject", "created_at", "post_count", "forum__id", "forum__name", "forum__slug")
        .order_by("-created_at", "-id")[:PROFILE_TOPICS_LIMIT]
    )
    decided = gardener.suggestions_decided
    rate = gardener.suggestions_matched / decided if decided else None
    return {"gardener": gardener, "agreement_rate": rate, "topics": topics}


WEEK = timedelta(weeks=1)


def searches_window_changes_at(*, user: User, now: datetime) -> datetime | None:
    """When the ``plant-stats`` panel next changes with time alone (issue 13): its "this week"
    count and 12 weekly sparkline buckets are rolling (``plant_stats_for_user``: the last 7 days,
    then weeks counted back from ``now``), so a search moves on at every whole week of its age,
    and leaves after 12. That moment is ``now + 1 week - max(age mod 1 week)`` over the owner's
    searches in the window: one statement, an aggregate over the ``(owner, created_at)``
    index range (on PostgreSQL; elsewhere the timestamps are read and the same computed here).
    ``None`` when the window holds no search."""
    window = PlantIdentificationRequest.objects.filter(
        owner=user, created_at__gt=now - settings.DASHBOARD_SPARKLINE_WEEKS * WEEK
    )
    week_seconds = WEEK.total_seconds()
    if connection.vendor == "postgresql":
        age = ExpressionWrapper(Value(now) - F("created_at"), output_field=DurationField())
        phase = window.aggregate(phase=Max(Mod(Extract(age, "epoch"), Value(week_seconds))))["phase"]
    else:
        stamps = window.values_list("created_at", flat=True)
        phase = max(((now - created).total_seconds() % week_seconds for created in stamps), default=None)
    if phase is None:
        return None
    return now + timedelta(seconds=week_seconds - float(phase))


def forum_window_changes_at(*, user: User, now: datetime) -> datetime | None:
    """When the ``forum-stats`` panel next changes with time alone (issue 13): its last-30-days
    counts (``forum_stats_for_user``) drop a post 30 days after it was written, so the oldest
    live post in the window leaves first. One statement over the ``(poster, created_at)`` index;
    ``None`` when the window holds no post."""
    days = timedelta(days=30)
    oldest = (
        Post.objects.filter(poster=user, created_at__gt=now - days, is_deleted=False)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return None if oldest is None else oldest + days
