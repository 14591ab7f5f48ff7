"""Writes of the plants app: identification requests, community suggestions and votes,
accepting a suggestion, and care cards. Counters on the user row move in the same transaction
with ``F()`` (SPEC "Domain": counters kept on the row)."""

import logging
from decimal import Decimal

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.core.geo import coarse_coordinate
from apps.core.uploads import ProcessedImage

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
)

logger = logging.getLogger(__name__)
CONSENSUS_MIN_VOTERS = 2


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
            User.objects.filter(pk=owner.pk).update(identification_request_count=F("identification_request_count") + 1)
            if machine:
                identification_enqueue(request_id=id_request.pk)
    except Exception:
        for name in stored:
            default_storage.delete(name)
        raise
    return id_request


def suggestion_add(
    *, id_request: PlantIdentificationRequest, suggester: User, species: PlantSpecies | None, free_text_name: str
) -> IdentificationSuggestion:
    """Add a community suggestion (a catalog ``species`` or, when ``None``, the free-text
    name) and count it as the suggester's own agreeing vote. Suggesting a name that is already
    there agrees with it instead of duplicating it. Returns the suggestion."""
    with transaction.atomic():
        existing = IdentificationSuggestion.objects.select_for_update().filter(request=id_request)
        existing = (
            existing.filter(species=species)
            if species
            else existing.filter(species__isnull=True, free_text_name__iexact=free_text_name)
        )
        suggestion = existing.first()
        if suggestion is None:
            suggestion = IdentificationSuggestion.objects.create(
                request=id_request,
                species=species,
                free_text_name="" if species else free_text_name,
                source=SuggestionSource.COMMUNITY,
                suggested_by=suggester,
            )
        suggestion_vote(suggestion=suggestion, voter=suggester, agrees=True, toggle=False)
        # A failed machine run hands the request to the community; a pending or running one is
        # left alone so its suggestions still arrive.
        PlantIdentificationRequest.objects.filter(pk=id_request.pk, status=IdentificationStatus.FAILED).update(
            status=IdentificationStatus.NEEDS_HELP
        )
    return suggestion


def suggestion_vote(*, suggestion: IdentificationSuggestion, voter: User, agrees: bool, toggle: bool = True) -> None:
    """Record ``voter`` agreeing (or disagreeing) with ``suggestion``. With ``toggle``, casting
    the same vote again withdraws it. Keeps ``vote_count`` (agreeing votes) and
    ``disagree_count`` exact with ``F()`` in the same transaction."""
    with transaction.atomic():
        vote = SuggestionVote.objects.select_for_update().filter(suggestion=suggestion, voter=voter).first()
        agree_delta = disagree_delta = 0
        if vote is None:
            SuggestionVote.objects.create(suggestion=suggestion, voter=voter, agrees=agrees)
            agree_delta, disagree_delta = (1, 0) if agrees else (0, 1)
        elif vote.agrees == agrees:
            if not toggle:
                return
            vote.delete()
            agree_delta, disagree_delta = (-1, 0) if agrees else (0, -1)
        else:
            vote.agrees = agrees
            vote.save(update_fields=["agrees"])
            agree_delta, disagree_delta = (1, -1) if agrees else (-1, 1)
        IdentificationSuggestion.objects.filter(pk=suggestion.pk).update(
            vote_count=F("vote_count") + agree_delta, disagree_count=F("disagree_count") + disagree_delta
        )


def is_community_consensus(*, agree: int, disagree: int) -> bool:
    """More than two thirds of at least ``CONSENSUS_MIN_VOTERS`` (2) voters agree (the rule
    iNaturalist uses for "research grade"; SPEC "Domain": "supporters / voters > 2/3")."""
    voters = agree + disagree
    return voters >= CONSENSUS_MIN_VOTERS and 3 * agree > 2 * voters


def suggestion_accept(*, id_request: PlantIdentificationRequest, suggestion: IdentificationSuggestion) -> None:
    """The owner accepts ``suggestion`` (of this request): the request becomes ``identified``
    with its species (``None`` for a free-text name) and the owner's identified-plant counter
    rises once (re-accepting another suggestion does not count again)."""
    with transaction.atomic():
        current = (
            PlantIdentificationRequest.objects.select_for_update()
            .only("id", "status", "owner_id")
            .get(pk=id_request.pk)
        )
        was_identified = current.status == IdentificationStatus.IDENTIFIED
        PlantIdentificationRequest.objects.filter(pk=id_request.pk).update(
            status=IdentificationStatus.IDENTIFIED,
            accepted_suggestion=suggestion,
            species_id=suggestion.species_id,
            identified_at=timezone.now(),
        )
        if not was_identified:
            User.objects.filter(pk=current.owner_id).update(identified_plant_count=F("identified_plant_count") + 1)


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
            User.objects.filter(pk=owner.pk).update(care_card_count=F("care_card_count") - 1)
            return None
        try:
            with transaction.atomic():
                card = SavedCareInstructions.objects.create(owner=owner, species=species, status="planning")
        except IntegrityError:
            return SavedCareInstructions.objects.get(owner=owner, species=species)
        User.objects.filter(pk=owner.pk).update(care_card_count=F("care_card_count") + 1)
        return card


def care_card_update(
    *, card: SavedCareInstructions, nickname: str, personal_notes: str, status: str, is_favourite: bool
) -> None:
    """Save the gardener's edits to one of their care cards."""
    card.nickname, card.personal_notes, card.status, card.is_favourite = nickname, personal_notes, status, is_favourite
    card.updated_at = timezone.now()
    card.save(update_fields=["nickname", "personal_notes", "status", "is_favourite", "updated_at"])
