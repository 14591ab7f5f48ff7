"""What is in the database now: whether the demo is there, what would collide with it, the row
counts the summary prints, and the flush that deletes it."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q

from apps.accounts.models import User
from apps.core.models import ModerationAction
from apps.forum.models import Forum, Post, Report, Topic
from apps.plants.models import (
    CareTask,
    CareTaskDone,
    IdentificationStatus,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    PlantSpecies,
    SavedCareInstructions,
    SuggestionVote,
)

from .accounts import GARDENER, MODERATOR, NEWBIE
from .texts import FORUMS


def demo_data_exists() -> bool:
    """True when the primary demo gardener (username ``gardener``, any letter case) exists."""
    return User.objects.filter(username__iexact=GARDENER.username).exists()


def demo_data_conflicts() -> list[str]:
    """Rows that would collide with the demo data on a database that is not seeded yet:
    taken demo usernames or forum slugs/names. Returns human-readable descriptions (``[]``
    when seeding can go ahead)."""
    problems = []
    for name in (GARDENER.username, MODERATOR.username, NEWBIE.username):
        if User.objects.filter(username__iexact=name).exists():
            problems.append(f"user '{name}' already exists")
    forums = Forum.objects.filter(
        Q(slug__in=[slug for _, slug, _ in FORUMS]) | Q(name__in=[name for name, _, _ in FORUMS])
    ).order_by("position", "name")
    problems += [f"forum '{name}' already exists" for name in forums.values_list("name", flat=True)]
    return problems


@transaction.atomic
def demo_data_flush() -> dict[str, int]:
    """Delete the demo data: every forum (with its topics, posts and reports), every
    identification request (photos, suggestions, votes), every care card, the moderation log
    entries not written by a superuser, and every user who is not a superuser. The species
    catalog, groups and superusers stay. Uploaded files go with their rows (after commit,
    ``apps.core.uploads.files_follow_rows``); the demo's shared image pool stays and the next
    seed overwrites it. Returns ``{"<model label>": rows deleted}``.
    """
    deleted: dict[str, int] = {}

    def tally(result: tuple[int, dict[str, int]]) -> None:
        for label, count in result[1].items():
            deleted[label] = deleted.get(label, 0) + count

    tally(Forum.objects.all().delete())
    # Requests point at their accepted suggestion and suggestions at their request: clear the
    # back reference first so the delete is plain cascades.
    PlantIdentificationRequest.objects.update(accepted_suggestion=None)
    tally(PlantIdentificationRequest.objects.all().delete())
    tally(SavedCareInstructions.objects.all().delete())
    tally(ModerationAction.objects.exclude(actor__is_superuser=True).delete())
    tally(User.objects.filter(is_superuser=False).delete())
    return {label: count for label, count in sorted(deleted.items()) if count}


def demo_data_counts() -> dict[str, int]:
    """Rows of each kind now in the database, in display order: ``{"users": 33, "staff users":
    1, "forums": 6, ..., "requests identified": 97, ...}``. One ``COUNT`` per kind, plus one
    grouped count for the request statuses."""
    statuses = dict(
        PlantIdentificationRequest.objects.order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    counts = {
        "users": User.objects.count(),
        "staff users": User.objects.filter(is_staff=True).count(),
        "forums": Forum.objects.count(),
        "topics": Topic.objects.count(),
        "pinned topics": Topic.objects.filter(is_pinned=True).count(),
        "posts": Post.objects.count(),
        "posts awaiting review": Post.objects.filter(is_approved=False, is_deleted=False).count(),
        "open reports": Report.objects.filter(status=Report.Status.OPEN).count(),
        "moderation actions": ModerationAction.objects.count(),
        "identification requests": sum(statuses.values()),
    }
    for status in IdentificationStatus:
        counts[f"requests {status.label.lower()}"] = statuses.get(status.value, 0)
    counts |= {
        "photos": PlantPhoto.objects.count(),
        "suggestions": IdentificationSuggestion.objects.count(),
        "suggestion votes": SuggestionVote.objects.count(),
        "care cards": SavedCareInstructions.objects.count(),
        "care tasks": CareTask.objects.count(),
        "care tasks done (history)": CareTaskDone.objects.count(),
        "species in the catalog": PlantSpecies.objects.count(),
    }
    return counts
