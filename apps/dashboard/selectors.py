"""Reads that mix domains for the dashboard: recent activity and the stats API."""

import functools
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import CharField, F, IntegerField, Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.selectors import trust_progress_for_user
from apps.core.permissions import is_moderator
from apps.core.precompiled import PrecompiledValues
from apps.forum.models import Post, Topic
from apps.forum.selectors import forum_stats_for_user, latest_public_topics
from apps.plants.models import IdentificationStatus, PlantIdentificationRequest, identification_request_title
from apps.plants.selectors import (
    gardener_suggestion_stats_annotations,
    plant_stats_for_user,
    recently_identified_plants,
)

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


def _recent_activity_query(*, user_id: int, limit: int, moderator: bool):
    # A stand-in viewer: the visibility rule reads only the id and the moderator flag.
    viewer = User(id=user_id, is_active=True, is_moderator_flag=moderator)
    topics, replies, requests = _activity_parts(viewer, limit)
    return topics.union(replies, requests, all=True).order_by("-created")[:limit]


@functools.cache
def _recent_activity_statement(limit: int, moderator: bool) -> PrecompiledValues:
    """The ``recent-activity`` statement for one limit and viewer shape, compiled once per
    process (``apps.core.precompiled``)."""
    return PrecompiledValues(functools.partial(_recent_activity_query, limit=limit, moderator=moderator), user_id=int)


def recent_activity_for_user(*, user: User, limit: int | None = None) -> list[dict]:
    """The ``recent-activity`` panel: ``user``'s latest topics, replies and identification
    requests, mixed, newest first, in one ``UNION ALL`` statement (each part limited and read
    from its ``(owner, created_at)`` index on PostgreSQL), compiled once per process.

    Returns up to ``limit`` (``DASHBOARD_RECENT_ACTIVITY_LIMIT``, 8) dicts
    ``{"type", "title", "url", "created", "forum_name", "status"}``; ``type`` is ``topic``,
    ``reply`` or ``identification``.
    """
    limit = limit or settings.DASHBOARD_RECENT_ACTIVITY_LIMIT
    rows = _recent_activity_statement(limit, is_moderator(user)).rows(user_id=user.pk)
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


def public_home() -> dict:
    """What the signed-out home page ``/`` shows (issue 15), in two statements and the same for
    every visitor (nothing here depends on who asks, so it reads no session or user).

    Returns ``{"topics": [Topic, ...], "plants": [PlantPhoto, ...]}``: the 5 public topics
    with the latest activity (``apps.forum.selectors.latest_public_topics``) and the 6 newest
    community photos (``apps.plants.selectors.recently_identified_plants``: the species-page
    photo rule, never a location).
    """
    return {"topics": latest_public_topics(), "plants": recently_identified_plants()}
