"""Writes of the plants app: identification requests, community suggestions and votes,
accepting a suggestion, and care cards. Counters on the user row move in the same transaction
with ``F()`` (SPEC "Domain": counters kept on the row)."""

import logging
from collections import defaultdict
from decimal import Decimal

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.panel_versions import panel_versions_bump
from apps.core.geo import coarse_coordinate
from apps.core.uploads import ProcessedImage
from apps.notifications.models import NotificationKind

from . import events, selectors
from .care import services as care_services
from .identification.providers import configured_providers
from .identification.tasks import identification_enqueue
from .models import (
    IdentificationStatus,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    PlantSpecies,
    SavedCareInstructions,
    SuggestionSource,
    SuggestionVote,
    identification_request_title,
)

logger = logging.getLogger(__name__)


def identification_request_create(
    *,
    owner: User,
    photos: list[ProcessedImage],
    thumbnail: ProcessedImage,
    notes: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    exact_location: bool = False,
    show_on_species_pages: bool = True,
) -> PlantIdentificationRequest:
    """Create an identification request from one to three processed photos.

    ``photos`` (at most 1600 px) and ``thumbnail`` (300 px) come from the upload pipeline
    (``IdentificationRequestForm.photos_process``, ``apps.core.uploads.image_process``):
    metadata-free JPEGs, stored through Django's storage API under random names (the fields'
    ``upload_to``). The location (degrees) is rounded to 0.2° unless ``exact_location``.
    ``show_on_species_pages`` is the owner's consent to show the photo on the species page once
    identified (issue 12; the location is never shown there). With
    provider keys configured the request waits (``pending``) for the background task, enqueued
    after commit; without, it goes straight to the community (``needs_help``). If anything
    fails, the files already stored are deleted again. Returns the request.
    """
    if latitude is not None and longitude is not None and not exact_location:
        latitude, longitude = coarse_coordinate(latitude), coarse_coordinate(longitude)
    machine = bool(configured_providers())
    stored: list[str] = []
    try:
        with transaction.atomic():
            id_request = PlantIdentificationRequest(
                owner=owner,
                notes=notes,
                latitude=latitude,
                longitude=longitude,
                location_is_exact=bool(exact_location and latitude is not None),
                show_on_species_pages=show_on_species_pages,
                status=IdentificationStatus.PENDING if machine else IdentificationStatus.NEEDS_HELP,
            )
            id_request.thumbnail.save("thumbnail.jpg", thumbnail.content, save=False)
            stored.append(id_request.thumbnail.name)
            id_request.save()
            for position, processed in enumerate(photos):
                photo = PlantPhoto(
                    request=id_request, position=position, width=processed.width, height=processed.height
                )
                photo.image.save("photo.jpg", processed.content, save=False)
                stored.append(photo.image.name)
                photo.save()
            User.objects.filter(pk=owner.pk).update(
                identification_request_count=F("identification_request_count") + 1,
                panel_version=F("panel_version") + 1,
            )
            if machine:
                identification_enqueue(request_id=id_request.pk)
    except Exception:
        for name in stored:
            default_storage.delete(name)
        raise
    return id_request


def _request_locked(request_id: int) -> PlantIdentificationRequest:
    """The request row, locked until the transaction ends: every opinion on a request is
    written one at a time, so "one current name per gardener" replaces instead of racing, and
    the consensus before and after a vote is read consistently. With what its title needs."""
    return (
        PlantIdentificationRequest.objects.select_for_update(of=("self",))
        .select_related("species")
        .only("id", "owner_id", "status", "species", "species__primary_common_name", "species__scientific_name")
        .annotate(accepted_free_text=F("accepted_suggestion__free_text_name"))
        .get(pk=request_id)
    )


def _suggestion_name(suggestion_id: int) -> str:
    row = (
        IdentificationSuggestion.objects.filter(pk=suggestion_id)
        .values("free_text_name", "species__primary_common_name", "species__scientific_name")
        .first()
    )
    if row is None:
        return ""
    return row["species__primary_common_name"] or row["species__scientific_name"] or row["free_text_name"]


def suggestion_add(
    *, id_request: PlantIdentificationRequest, suggester: User, species: PlantSpecies | None, free_text_name: str
) -> IdentificationSuggestion:
    """Add a community suggestion (a catalog ``species`` or, when ``None``, the free-text
    name); it becomes the suggester's current name (their agreeing vote, replacing an earlier
    one). Suggesting a name that is already there agrees with it instead of duplicating it.
    Notifies the owner (``suggestion`` for a new name, ``agreement`` otherwise;
    ``apps.plants.events``). Returns the suggestion."""
    with transaction.atomic():
        locked = _request_locked(id_request.pk)
        existing = IdentificationSuggestion.objects.filter(request=id_request)
        existing = (
            existing.filter(species=species)
            if species
            else existing.filter(species__isnull=True, free_text_name__iexact=free_text_name)
        )
        suggestion = existing.order_by("id").first()
        created = suggestion is None
        if created:
            suggestion = IdentificationSuggestion.objects.create(
                request=id_request,
                species=species,
                free_text_name="" if species else free_text_name,
                source=SuggestionSource.COMMUNITY,
                suggested_by=suggester,
            )
            events.identification_event_send(
                request_id=locked.pk,
                title=locked.title,
                recipient_ids=[locked.owner_id],
                actor_id=suggester.pk,
                kind=NotificationKind.SUGGESTION,
                suggestion_id=suggestion.pk,
                name=_suggestion_name(suggestion.pk),
            )
        suggestion_vote(suggestion=suggestion, voter=suggester, agrees=True, toggle=False, notify=not created)
        # A failed machine run hands the request to the community; a pending or running one is
        # left alone so its suggestions still arrive.
        PlantIdentificationRequest.objects.filter(pk=id_request.pk, status=IdentificationStatus.FAILED).update(
            status=IdentificationStatus.NEEDS_HELP
        )
        # The owner's previous searches show the top suggestion and the status.
        panel_versions_bump(user_ids=[locked.owner_id])
    return suggestion


def _vote_kind(agrees: bool) -> NotificationKind:
    return NotificationKind.AGREEMENT if agrees else NotificationKind.DISAGREEMENT


def suggestion_vote(
    *, suggestion: IdentificationSuggestion, voter: User, agrees: bool, toggle: bool = True, notify: bool = True
) -> None:
    """Record ``voter`` agreeing (or disagreeing) with ``suggestion`` (SPEC "Domain",
    "Identification opinions"; ``apps.plants.consensus``):

    - agreeing makes its name the voter's current name, replacing their earlier one on this
      request, and replaces a disagreement with this suggestion;
    - disagreeing with a name withdraws it as the voter's current name, the vote becoming a
      disagreement;
    - with ``toggle``, casting the same vote again withdraws it.

    Keeps ``vote_count`` / ``disagree_count`` exact with ``F()`` in the same transaction, the
    request row locked (``_request_locked``); the partial unique constraint on (request,
    voter) where agreeing is the store's guarantee. Notifies the owner of the vote (unless
    ``notify`` is false), withdraws the voter's notifications of votes that went, and on the
    change into a consensus notifies the owner and its supporters (``apps.plants.events``).
    """
    with transaction.atomic():
        locked = _request_locked(suggestion.request_id)
        before = selectors.identification_request_consensus(request_id=locked.pk)
        vote = SuggestionVote.objects.filter(suggestion_id=suggestion.pk, voter=voter).first()
        deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        withdrawn: dict[bool, list[int]] = {True: [], False: []}
        cast = None
        if vote is not None and vote.agrees == agrees:
            if not toggle:
                return
            vote.delete()
            deltas[suggestion.pk][0 if agrees else 1] -= 1
            withdrawn[agrees].append(suggestion.pk)
        else:
            if agrees:
                replaced = list(
                    SuggestionVote.objects.filter(request_id=locked.pk, voter=voter, agrees=True)
                    .exclude(suggestion_id=suggestion.pk)
                    .values_list("pk", "suggestion_id")
                )
                if replaced:
                    SuggestionVote.objects.filter(pk__in=[pk for pk, _ in replaced]).delete()
                    for _, suggestion_id in replaced:
                        deltas[suggestion_id][0] -= 1
                        withdrawn[True].append(suggestion_id)
            if vote is None:
                SuggestionVote.objects.create(
                    suggestion_id=suggestion.pk, request_id=locked.pk, voter=voter, agrees=agrees
                )
            else:
                vote.agrees = agrees
                vote.save(update_fields=["agrees"])
                deltas[suggestion.pk][1 if agrees else 0] -= 1
                withdrawn[not agrees].append(suggestion.pk)
            deltas[suggestion.pk][0 if agrees else 1] += 1
            cast = agrees
        for suggestion_id, (agree_delta, disagree_delta) in sorted(deltas.items()):
            IdentificationSuggestion.objects.filter(pk=suggestion_id).update(
                vote_count=F("vote_count") + agree_delta, disagree_count=F("disagree_count") + disagree_delta
            )
        # Votes reorder the top suggestion on the owner's previous searches.
        panel_versions_bump(user_ids=[locked.owner_id])
        for kind_agrees, suggestion_ids in withdrawn.items():
            events.vote_notifications_withdraw(
                suggestion_ids=suggestion_ids, voter_id=voter.pk, kind=_vote_kind(kind_agrees)
            )
        if cast is not None and notify and voter.pk != locked.owner_id:
            events.identification_event_send(
                request_id=locked.pk,
                title=locked.title,
                recipient_ids=[locked.owner_id],
                actor_id=voter.pk,
                kind=_vote_kind(cast),
                suggestion_id=suggestion.pk,
                name=_suggestion_name(suggestion.pk),
            )
        after = selectors.identification_request_consensus(request_id=locked.pk)
        if after is not None and (before is None or before.name_key != after.name_key):
            _consensus_announce(id_request=locked, consensus=after, actor_id=voter.pk)


def _consensus_announce(
    *, id_request: PlantIdentificationRequest, consensus: IdentificationSuggestion, actor_id: int
) -> None:
    """The community has just reached consensus on ``consensus``'s name: tell the owner and the
    name's supporters (``apps.plants.events``), the first time this name reaches it on this
    request only."""
    same_name = (
        Q(suggestion__species_id=consensus.species_id)
        if consensus.species_id
        else Q(suggestion__species__isnull=True, suggestion__free_text_name__iexact=consensus.free_text_name)
    )
    supporters = SuggestionVote.objects.filter(same_name, request_id=id_request.pk, agrees=True).values_list(
        "voter_id", flat=True
    )
    name = consensus.species.display_name if consensus.species_id else consensus.free_text_name
    if events.consensus_announced(request_id=id_request.pk, name=name):
        return
    events.identification_event_send(
        request_id=id_request.pk,
        title=id_request.title,
        recipient_ids=[id_request.owner_id, *supporters],
        actor_id=actor_id,
        kind=NotificationKind.CONSENSUS,
        suggestion_id=consensus.pk,
        name=name,
    )


def suggestion_accept(*, id_request: PlantIdentificationRequest, suggestion: IdentificationSuggestion) -> None:
    """The owner accepts ``suggestion`` (of this request): the request becomes ``identified``
    with its species (``None`` for a free-text name, which then titles the request) and the
    owner's identified-plant counter rises once (re-accepting another suggestion does not
    count again). A gardener's suggestion accepted tells them (``accepted``)."""
    with transaction.atomic():
        current = (
            PlantIdentificationRequest.objects.select_for_update()
            .only("id", "status", "owner_id", "accepted_suggestion_id")
            .get(pk=id_request.pk)
        )
        was_identified = current.status == IdentificationStatus.IDENTIFIED
        PlantIdentificationRequest.objects.filter(pk=id_request.pk).update(
            status=IdentificationStatus.IDENTIFIED,
            accepted_suggestion=suggestion,
            species_id=suggestion.species_id,
            identified_at=timezone.now(),
        )
        User.objects.filter(pk=current.owner_id).update(
            identified_plant_count=F("identified_plant_count") + (0 if was_identified else 1),
            panel_version=F("panel_version") + 1,
        )
        if current.accepted_suggestion_id != suggestion.pk:
            accepted = (
                IdentificationSuggestion.objects.filter(pk=suggestion.pk)
                .values("suggested_by_id", "free_text_name", "species__primary_common_name", "species__scientific_name")
                .get()
            )
            if accepted["suggested_by_id"] is not None:
                name = (
                    accepted["species__primary_common_name"]
                    or accepted["species__scientific_name"]
                    or accepted["free_text_name"]
                )
                events.identification_event_send(
                    request_id=current.pk,
                    title=identification_request_title(pk=current.pk, accepted_name=name),
                    recipient_ids=[accepted["suggested_by_id"]],
                    actor_id=current.owner_id,
                    kind=NotificationKind.ACCEPTED,
                    suggestion_id=suggestion.pk,
                    name=name,
                )


def identification_request_delete(*, id_request: PlantIdentificationRequest) -> None:
    """Delete the owner's request with its photos, suggestions and votes (stored files go after
    commit, ``files_follow_rows``) and every notification about it. The owner's counters
    follow (one search fewer; one identified plant fewer when it was identified). Deleting a
    request already gone does nothing."""
    with transaction.atomic():
        current = (
            PlantIdentificationRequest.objects.select_for_update()
            .filter(pk=id_request.pk)
            .values("owner_id", "status")
            .first()
        )
        if current is None:
            return
        rows = PlantIdentificationRequest.objects.filter(pk=id_request.pk)
        # The request points at its accepted suggestion and the suggestions at the request:
        # clear the back reference first so the delete is plain cascades.
        rows.update(accepted_suggestion=None)
        rows.delete()
        identified = current["status"] == IdentificationStatus.IDENTIFIED
        User.objects.filter(pk=current["owner_id"]).update(
            identification_request_count=Greatest(F("identification_request_count") - 1, 0),
            identified_plant_count=Greatest(F("identified_plant_count") - (1 if identified else 0), 0),
            panel_version=F("panel_version") + 1,
        )
        events.request_notifications_delete(request_id=id_request.pk)


def species_page_consent_set(*, id_request: PlantIdentificationRequest, show: bool) -> None:
    """The owner allows (``show``) or withdraws their request's photo from the species page's
    community photos (issue 12). Takes effect on the next page view; nothing is cached."""
    PlantIdentificationRequest.objects.filter(pk=id_request.pk).update(show_on_species_pages=show)
    id_request.show_on_species_pages = show


def care_card_toggle(*, owner: User, species: PlantSpecies) -> SavedCareInstructions | None:
    """Save ``species`` as a care card for ``owner``, or remove it when it is already saved.
    Returns the new card, or ``None`` when removed. The unique (owner, species) constraint
    settles double clicks; ``care_card_count`` moves with ``F()``."""
    with transaction.atomic():
        deleted, _ = SavedCareInstructions.objects.filter(owner=owner, species=species).delete()
        if deleted:
            User.objects.filter(pk=owner.pk).update(
                care_card_count=F("care_card_count") - 1, panel_version=F("panel_version") + 1
            )
            return None
        try:
            with transaction.atomic():
                card = SavedCareInstructions.objects.create(owner=owner, species=species, status="planning")
        except IntegrityError:
            return SavedCareInstructions.objects.get(owner=owner, species=species)
        User.objects.filter(pk=owner.pk).update(
            care_card_count=F("care_card_count") + 1, panel_version=F("panel_version") + 1
        )
        care_services.care_tasks_create_defaults(card=card, owner=owner)
        return card


def care_card_update(
    *, card: SavedCareInstructions, nickname: str, personal_notes: str, status: str, is_favourite: bool
) -> None:
    """Save the gardener's edits to one of their care cards (and bump their panel version: the
    care-cards panel shows nickname, status and favourite)."""
    card.nickname, card.personal_notes, card.status, card.is_favourite = nickname, personal_notes, status, is_favourite
    card.updated_at = timezone.now()
    with transaction.atomic():
        card.save(update_fields=["nickname", "personal_notes", "status", "is_favourite", "updated_at"])
        panel_versions_bump(user_ids=[card.owner_id])
