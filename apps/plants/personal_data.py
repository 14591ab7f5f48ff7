"""The plants app's personal data (issue 11, "Your data"): what an export holds and what
deleting an account removes. Registered from ``PlantsConfig.ready()`` (see
``apps.accounts.personal_data``).

Exported: the gardener's identification requests (with their photos and the machine
suggestions made for them), the suggestions they made, their votes, their care cards with
their care tasks and each task's done dates (issue 14). Not
exported: other gardeners' suggestions and votes on the gardener's requests (theirs).

Erased: votes (the suggestions' counters recounted in the same transaction, ``recount``, and the
owners' notifications of them), the notifications about the gardener's requests (everyone's),
identification requests with their photos, thumbnails (files removed after commit by
``files_follow_rows``), suggestions and the votes on those, care cards with their care tasks
and done dates, the care calendar link (its secret token is never exported: ``kept_out``), and
the hourly identification and calendar-link limits in Redis (the care reminder records are
``apps.plants.care.reminder_personal_data``'s). Kept: suggestions the gardener
made on other people's requests (community content, as forum posts are), under the anonymized account.
"""

from django.db.models import F

from apps.accounts.models import User
from apps.accounts.panel_versions import panel_versions_bump
from apps.accounts.personal_data import ErasurePart, ExportPart, PersonalDataSource, rows_of
from apps.core.ratelimit import limit_key
from apps.notifications.models import NotificationKind

from .care.feed import calendar_limit_key
from .events import request_notifications_delete, vote_notifications_withdraw
from .models import (
    CareCalendarFeed,
    CareTask,
    CareTaskDone,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    SavedCareInstructions,
    SuggestionSource,
    SuggestionVote,
)
from .recount import suggestion_votes_recount


def identification_limit_key(*, user_id: int) -> str:
    """The Redis key of ``user_id``'s hourly identification limit, as ``views.identify``
    counts it (``limit_key("identify:user", <id>)``)."""
    return limit_key("identify:user", str(user_id))


def _photo_path(request_id: int, name: str, stored_name: str) -> str:
    extension = stored_name.rsplit(".", 1)[-1] if "." in stored_name else "jpg"
    return f"files/plants/request-{request_id}/{name}.{extension}"


def plants_export(user: User) -> ExportPart:
    """Nine queries, none per row."""
    part = ExportPart()
    requests = rows_of(
        PlantIdentificationRequest.objects.filter(owner=user),
        "notes",
        "latitude",
        "longitude",
        "location_is_exact",
        "status",
        "created_at",
        "identified_at",
        "thumbnail",
        species_name="species__scientific_name",
        accepted_suggestion_species="accepted_suggestion__species__scientific_name",
        accepted_suggestion_name="accepted_suggestion__free_text_name",
    )
    machine = {}
    for row in (
        IdentificationSuggestion.objects.filter(request__owner=user)
        .exclude(source=SuggestionSource.COMMUNITY)
        .order_by("request_id", "-probability", "pk")
        .values("request_id", "source", "probability", "free_text_name", species_name=F("species__scientific_name"))
    ):
        machine.setdefault(row.pop("request_id"), []).append(row)
    for row in requests:
        row["machine_suggestions"] = machine.get(row["id"], [])
        stored = row.pop("thumbnail")
        row["thumbnail"] = _photo_path(row["id"], "thumbnail", stored) if stored else None
        if stored:
            part.files.append((row["thumbnail"], stored))
    photos = rows_of(
        PlantPhoto.objects.filter(request__owner=user), "request_id", "position", "width", "height", "image"
    )
    for row in photos:
        stored = row.pop("image")
        row["file"] = _photo_path(row["request_id"], f"photo-{row['position']}", stored)
        part.files.append((row["file"], stored))
    part.rows = {
        "plants.PlantIdentificationRequest": requests,
        "plants.PlantPhoto": photos,
        "plants.IdentificationSuggestion": rows_of(
            IdentificationSuggestion.objects.filter(suggested_by=user),
            "request_id",
            "source",
            "free_text_name",
            "vote_count",
            "disagree_count",
            "created_at",
            species_name="species__scientific_name",
        ),
        "plants.SuggestionVote": rows_of(
            SuggestionVote.objects.filter(voter=user),
            "suggestion_id",
            "request_id",
            "agrees",
            "created_at",
        ),
        "plants.SavedCareInstructions": rows_of(
            SavedCareInstructions.objects.filter(owner=user),
            "nickname",
            "personal_notes",
            "status",
            "is_favourite",
            "created_at",
            "updated_at",
            species_name="species__scientific_name",
        ),
        "plants.CareTask": rows_of(
            CareTask.objects.filter(owner=user),
            "care_card_id",
            "kind",
            "interval_days",
            "growing_season_only",
            "is_enabled",
            "next_due_on",
            "last_done_on",
            "created_at",
            "updated_at",
        ),
        "plants.CareTaskDone": rows_of(
            CareTaskDone.objects.filter(task__owner=user), "task_id", "done_on", "recorded_at"
        ),
    }
    return part


def plants_erase(user: User) -> ErasurePart:
    """Runs inside the account deletion's transaction. The stored photos and thumbnails go after
    commit with their rows (``apps.core.uploads.files_follow_rows``, connected in
    ``PlantsConfig.ready``). Returns the identification limit key."""
    voted = sorted(set(SuggestionVote.objects.filter(voter=user).values_list("suggestion_id", flat=True)))
    # Lock the suggestions first, as a vote's counter update would, then recount from the votes
    # left: exact even with a vote by someone else landing at the same moment.
    list(IdentificationSuggestion.objects.select_for_update().filter(pk__in=voted).order_by("pk").values_list("pk"))
    SuggestionVote.objects.filter(voter=user).delete()
    suggestion_votes_recount(suggestion_ids=voted)
    # Those votes ordered the top suggestion on their owners' dashboards (issue 13).
    panel_versions_bump(user_ids=IdentificationSuggestion.objects.filter(pk__in=voted).values("request__owner_id"))
    # The owners' notifications of those votes told of opinions that are gone.
    for kind in (NotificationKind.AGREEMENT, NotificationKind.DISAGREEMENT):
        vote_notifications_withdraw(suggestion_ids=voted, voter_id=user.pk, kind=kind)

    requests = PlantIdentificationRequest.objects.filter(owner=user)
    # Nobody is told about a request that is gone (the suggesters' "accepted", the supporters'
    # "consensus"): one DELETE per request, by its group key.
    for request_id in requests.values_list("id", flat=True).order_by("id"):
        request_notifications_delete(request_id=request_id)
    # Requests point at their accepted suggestion and suggestions at their request: clear the
    # back reference first so the delete is plain cascades.
    requests.update(accepted_suggestion=None)
    requests.delete()
    # Care tasks and their done dates go with their cards (CASCADE); any task left without its
    # card's owner (none today) goes too, as the relation is this source's to erase.
    SavedCareInstructions.objects.filter(owner=user).delete()
    CareTask.objects.filter(owner=user).delete()
    CareCalendarFeed.objects.filter(owner=user).delete()
    User.objects.filter(pk=user.pk).update(
        identification_request_count=0,
        identified_plant_count=0,
        care_card_count=0,
        panel_version=F("panel_version") + 1,
    )
    return ErasurePart(redis_keys=[identification_limit_key(user_id=user.pk), calendar_limit_key(user_id=user.pk)])


PLANTS_SOURCE = PersonalDataSource(
    name="plants",
    exported=(
        "plants.PlantIdentificationRequest.owner",
        "plants.IdentificationSuggestion.suggested_by",
        "plants.SuggestionVote.voter",
        "plants.SavedCareInstructions.owner",
        "plants.CareTask.owner",
    ),
    derived={},
    indirect={"plants.PlantPhoto": "request__owner", "plants.CareTaskDone": "task__owner"},
    export=plants_export,
    erase=plants_erase,
    kept_out={
        "plants.CareCalendarFeed.owner": (
            "the calendar link's token is a credential (whoever holds it reads your care tasks), not data about "
            "you; an export kept in a downloads folder must not carry a working link"
        ),
    },
)
