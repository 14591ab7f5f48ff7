"""Machine identification of one identification request: ask every configured provider in
parallel, save their suggestions, and move the request to its final status.

The rules, in order (each is the answer to "what does the gardener see?"):

1. No provider has an API key: the request goes from ``pending`` straight to ``needs_help``
   (the community identifies it); no HTTP request is made.
2. A conditional ``UPDATE ... WHERE status = 'pending'`` moves it to ``processing``, stamps
   ``processing_started_at`` (the run's deadline, ``IDENTIFICATION_PROCESSING_DEADLINE_SECONDS``,
   counts from it; ``identification_requeue`` retries a run past it) and counts the attempt.
   Only the worker whose update touched the row goes on, so a task delivered twice calls the
   providers once; any other run returns the status it finds.
3. Each provider is asked in its own thread: result cache, then circuit breaker, then the HTTP
   client, whose own deadline is the provider's timeout (``PLANT_ID_TIMEOUT_SECONDS`` 35 s,
   ``PLANTNET_TIMEOUT_SECONDS`` 20 s). The worker waits at most the longest timeout plus 5 s.
4. At most 5 suggestions per provider are kept (names compared case-insensitively, with
   whitespace collapsed), matched to the catalog by ``scientific_name__iexact`` in one query,
   and saved as one ``IdentificationSuggestion`` per provider and name (species, or the
   provider's name as free text when the catalog lacks it), in one transaction.
5. Final status: ``failed`` when every provider failed (the community can still help);
   otherwise ``identified`` when the most probable name is a catalog species with a
   probability of at least ``IDENTIFICATION_AUTO_ACCEPT_PROBABILITY`` and no other name reaches
   that threshold (two confident providers that disagree need a human); else ``needs_help``.
   ``identified`` also sets the species, the accepted suggestion and ``identified_at`` and adds
   one to the owner's ``identified_plant_count``, in the same transaction.
6. The owner hears of it in the same transaction (``apps.plants.events``): ``machine_result``
   (the most probable name) or ``machine_failed``.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.accounts.panel_versions import panel_versions_bump
from apps.notifications.models import NotificationKind
from apps.plants.events import identification_event_send
from apps.plants.models import (
    IdentificationStatus,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    PlantSpecies,
    identification_request_title,
)

from .breaker import breaker_call
from .cache import cache_suggestions, cached_suggestions, images_digest
from .providers import MachineSuggestion, Provider, ProviderError, ProviderTimeout, configured_providers

logger = logging.getLogger(__name__)

MAX_SUGGESTIONS_PER_PROVIDER = 5
# How much longer than the slowest provider's own deadline the worker waits for its thread.
EXECUTOR_GRACE_SECONDS = 5
NAME_MAX_LENGTH = IdentificationSuggestion._meta.get_field("free_text_name").max_length

PENDING = IdentificationStatus.PENDING.value
PROCESSING = IdentificationStatus.PROCESSING.value
IDENTIFIED = IdentificationStatus.IDENTIFIED.value
NEEDS_HELP = IdentificationStatus.NEEDS_HELP.value
FAILED = IdentificationStatus.FAILED.value


@dataclass(frozen=True, slots=True)
class _Candidate:
    source: str
    name: str
    key: str
    probability: float


def normalise_scientific_name(name: str) -> str:
    """``name`` with surrounding whitespace removed and inner runs collapsed to one space,
    cut to the length ``free_text_name`` stores (120 characters)."""
    return " ".join(name.split())[:NAME_MAX_LENGTH].strip()


def _owner_panels_bump(request_id: int) -> None:
    """The owner's dashboard shows the request's status: bump their panel version (issue 13)."""
    panel_versions_bump(user_ids=PlantIdentificationRequest.objects.filter(pk=request_id).values("owner_id"))


@transaction.atomic
def _move(request_id: int, *, from_status: str, to_status: str) -> bool:
    """One conditional UPDATE (and the owner's panel version); True when this caller made the
    transition."""
    moved = bool(PlantIdentificationRequest.objects.filter(pk=request_id, status=from_status).update(status=to_status))
    if moved:
        _owner_panels_bump(request_id)
    return moved


@transaction.atomic
def _claim(request_id: int) -> bool:
    """``pending`` -> ``processing`` in one conditional UPDATE, starting the run's deadline
    (``processing_started_at``) and counting the attempt; True when this caller claimed it."""
    claimed = bool(
        PlantIdentificationRequest.objects.filter(pk=request_id, status=PENDING).update(
            status=PROCESSING, processing_started_at=timezone.now(), machine_attempts=F("machine_attempts") + 1
        )
    )
    if claimed:
        _owner_panels_bump(request_id)
    return claimed


def machine_outcome_notify(*, request_id: int, owner_id: int, status: str, top_name: str = "") -> None:
    """Tell the owner their machine run ended (``apps.plants.events``): ``machine_failed`` when
    it failed, else ``machine_result`` with the most probable name (or none found)."""
    failed = status == FAILED
    identification_event_send(
        request_id=request_id,
        title=identification_request_title(pk=request_id, accepted_name=top_name if status == IDENTIFIED else ""),
        recipient_ids=[owner_id],
        actor_id=None,
        kind=NotificationKind.MACHINE_FAILED if failed else NotificationKind.MACHINE_RESULT,
        name="" if failed else (top_name or "No match found"),
    )


def _mark_failed(request_id: int) -> None:
    """``processing`` -> ``failed`` (a crash) and tell the owner, in one transaction."""
    with transaction.atomic():
        owner_id = (
            PlantIdentificationRequest.objects.select_for_update()
            .filter(pk=request_id, status=PROCESSING)
            .values_list("owner_id", flat=True)
            .first()
        )
        if owner_id is not None and _move(request_id, from_status=PROCESSING, to_status=FAILED):
            machine_outcome_notify(request_id=request_id, owner_id=owner_id, status=FAILED)


def _current_status(request_id: int) -> str:
    status = PlantIdentificationRequest.objects.filter(pk=request_id).values_list("status", flat=True).first()
    return status or ""


def _read_photos(request_id: int) -> list[bytes]:
    photos = PlantPhoto.objects.filter(request_id=request_id).order_by("position").only("id", "image", "position")
    images = []
    for photo in photos:
        with photo.image.open("rb") as handle:
            images.append(handle.read())
    return images


def _consult(
    provider: Provider, images: list[bytes], digest: str, latitude: float | None, longitude: float | None
) -> list[MachineSuggestion]:
    """Cache, then breaker, then HTTP; runs in a worker thread and touches no database."""
    cached = cached_suggestions(provider=provider, digest=digest)
    if cached is not None:
        return cached
    try:
        suggestions = breaker_call(provider, lambda: provider.identify(images, latitude=latitude, longitude=longitude))
    except ProviderError:
        raise
    except Exception as error:
        # A bug in a client must not take the other provider's answer down with it.
        logger.exception("identification: %s raised unexpectedly", provider.name)
        raise ProviderError(provider.name, f"unexpected {error.__class__.__name__}") from error
    cache_suggestions(provider=provider, digest=digest, suggestions=suggestions)
    return suggestions


def _ask_providers(
    providers: list[Provider], images: list[bytes], *, latitude: float | None, longitude: float | None
) -> dict[str, list[MachineSuggestion] | ProviderError]:
    digest = images_digest(images)
    wait_seconds = max(provider.timeout_seconds for provider in providers) + EXECUTOR_GRACE_SECONDS
    executor = ThreadPoolExecutor(max_workers=len(providers), thread_name_prefix="identification")
    try:
        futures = {
            provider.name: executor.submit(_consult, provider, images, digest, latitude, longitude)
            for provider in providers
        }
        wait_for_futures(futures.values(), timeout=wait_seconds)
    finally:
        # Never block on a stuck thread: its HTTP deadline ends it on its own.
        executor.shutdown(wait=False, cancel_futures=True)
    outcomes: dict[str, list[MachineSuggestion] | ProviderError] = {}
    for name, future in futures.items():
        if not future.done():
            outcomes[name] = ProviderTimeout(name, f"no answer within {wait_seconds:g} s; the worker stopped waiting")
            continue
        error = future.exception()
        outcomes[name] = error if error is not None else future.result()
    return outcomes


def _provider_candidates(source: str, suggestions: list[MachineSuggestion]) -> list[_Candidate]:
    best: dict[str, _Candidate] = {}
    for suggestion in suggestions:
        name = normalise_scientific_name(suggestion.scientific_name)
        if not name:
            continue
        key = name.casefold()
        if key not in best or suggestion.probability > best[key].probability:
            best[key] = _Candidate(source=source, name=name, key=key, probability=suggestion.probability)
    return sorted(best.values(), key=lambda candidate: -candidate.probability)[:MAX_SUGGESTIONS_PER_PROVIDER]


def _catalog_species(candidates: list[_Candidate]) -> dict[str, int]:
    """Catalog species id per candidate key, in one query (``scientific_name__iexact``)."""
    names = {candidate.name for candidate in candidates}
    if not names:
        return {}
    matches = Q()
    for name in sorted(names):
        matches |= Q(scientific_name__iexact=name)
    rows = PlantSpecies.objects.filter(matches).values_list("id", "scientific_name")
    return {normalise_scientific_name(scientific_name).casefold(): pk for pk, scientific_name in rows}


def _accepted_candidate(
    candidates: list[_Candidate], species_by_key: dict[str, int], source_order: list[str]
) -> _Candidate | None:
    """The candidate that identifies the plant, or ``None`` when a human must decide."""
    if not candidates:
        return None
    threshold = float(settings.IDENTIFICATION_AUTO_ACCEPT_PROBABILITY)
    by_key: dict[str, list[_Candidate]] = {}
    for candidate in candidates:
        by_key.setdefault(candidate.key, []).append(candidate)
    # Most probable name first; when two are equally probable, the one more providers agree on.
    ranking = sorted(
        by_key.values(),
        key=lambda rows: (max(row.probability for row in rows), len(rows)),
        reverse=True,
    )
    best_rows = ranking[0]
    best = max(best_rows, key=lambda row: (row.probability, -source_order.index(row.source)))
    confident_names = [rows for rows in ranking if max(row.probability for row in rows) >= threshold]
    if best.probability >= threshold and best.key in species_by_key and len(confident_names) == 1:
        return best
    return None


def _save_outcome(
    *,
    request_id: int,
    status: str,
    candidates: list[_Candidate],
    species_by_key: dict[str, int],
    accepted: _Candidate | None,
) -> str:
    """Write suggestions and the final status in one transaction, if the request is still
    ``processing``; return the status the request ends with."""
    now = timezone.now()
    with transaction.atomic():
        owner_id = (
            PlantIdentificationRequest.objects.select_for_update()
            .filter(pk=request_id, status=PROCESSING)
            .values_list("owner_id", flat=True)
            .first()
        )
        if owner_id is None:
            # Deleted or moved on by someone else meanwhile: their word stands.
            return ""
        key_of_species = {pk: key for key, pk in species_by_key.items()}
        existing: dict[tuple[str, str], int] = {}
        if candidates:
            # A request put back to pending and run again keeps its earlier rows (and votes).
            for pk, source, species_id, free_text in IdentificationSuggestion.objects.filter(
                request_id=request_id, source__in={candidate.source for candidate in candidates}
            ).values_list("id", "source", "species_id", "free_text_name"):
                key = key_of_species.get(species_id) if species_id else normalise_scientific_name(free_text).casefold()
                if key:
                    existing[(source, key)] = pk
        new_rows = []
        for candidate in candidates:
            if (candidate.source, candidate.key) in existing:
                continue
            species_id = species_by_key.get(candidate.key)
            new_rows.append(
                IdentificationSuggestion(
                    request_id=request_id,
                    species_id=species_id,
                    free_text_name="" if species_id else candidate.name,
                    probability=candidate.probability,
                    source=candidate.source,
                    created_at=now,
                )
            )
        for row in IdentificationSuggestion.objects.bulk_create(new_rows):
            key = key_of_species.get(row.species_id) if row.species_id else row.free_text_name.casefold()
            existing[(row.source, key)] = row.pk
        fields: dict[str, object] = {"status": status}
        if accepted is not None:
            fields.update(
                species_id=species_by_key[accepted.key],
                accepted_suggestion_id=existing[(accepted.source, accepted.key)],
                identified_at=now,
            )
        PlantIdentificationRequest.objects.filter(pk=request_id).update(**fields)
        get_user_model().objects.filter(pk=owner_id).update(
            identified_plant_count=F("identified_plant_count") + (1 if accepted is not None else 0),
            panel_version=F("panel_version") + 1,
        )
        top = max(candidates, key=lambda candidate: candidate.probability, default=None)
        top_name = top.name if top else ""
        if accepted is not None:
            species_names = (
                PlantSpecies.objects.filter(pk=species_by_key[accepted.key])
                .values_list("primary_common_name", "scientific_name")
                .first()
            )
            top_name = (species_names[0] or species_names[1]) if species_names else accepted.name
        machine_outcome_notify(request_id=request_id, owner_id=owner_id, status=status, top_name=top_name)
    return status


def _finish_claimed(*, request_id: int, providers: list[Provider]) -> str:
    location = PlantIdentificationRequest.objects.filter(pk=request_id).values("latitude", "longitude").first()
    if location is None:
        return ""
    latitude = float(location["latitude"]) if location["latitude"] is not None else None
    longitude = float(location["longitude"]) if location["longitude"] is not None else None
    try:
        images = _read_photos(request_id)
    except Exception:
        logger.exception("identification request %s: its photos could not be read", request_id)
        return _save_outcome(request_id=request_id, status=FAILED, candidates=[], species_by_key={}, accepted=None)
    if not images:
        logger.warning("identification request %s has no photos; leaving it to the community", request_id)
        return _save_outcome(request_id=request_id, status=NEEDS_HELP, candidates=[], species_by_key={}, accepted=None)

    outcomes = _ask_providers(providers, images, latitude=latitude, longitude=longitude)
    candidates: list[_Candidate] = []
    answered = 0
    for provider in providers:
        outcome = outcomes[provider.name]
        if isinstance(outcome, ProviderError):
            logger.warning("identification request %s: %s", request_id, outcome)
            continue
        answered += 1
        candidates += _provider_candidates(provider.name, outcome)
    if not answered:
        return _save_outcome(request_id=request_id, status=FAILED, candidates=[], species_by_key={}, accepted=None)

    species_by_key = _catalog_species(candidates)
    accepted = _accepted_candidate(candidates, species_by_key, [provider.name for provider in providers])
    # Strongest first, so the request page lists them in a sensible order by id.
    candidates.sort(key=lambda candidate: -candidate.probability)
    return _save_outcome(
        request_id=request_id,
        status=IDENTIFIED if accepted else NEEDS_HELP,
        candidates=candidates,
        species_by_key=species_by_key,
        accepted=accepted,
    )


def machine_identification_run(*, request_id: int) -> str:
    """Run machine identification for the ``PlantIdentificationRequest`` with ``request_id``
    and return the status it ends with (``identified``, ``needs_help``, ``failed``; the
    status found when another run owns or already finished it; ``""`` when it no longer
    exists). The rules are in this module's docstring.

    Idempotent: only a request still ``pending`` is processed. Provider problems (HTTP errors,
    timeouts, malformed answers, open circuits) and Redis failures never raise; they end as
    ``failed`` or ``needs_help``. An unexpected error (the database going away) marks the
    request ``failed`` when it still can and is re-raised so the task backend records it.
    """
    providers = configured_providers()
    if not providers:
        if _move(request_id, from_status=PENDING, to_status=NEEDS_HELP):
            return NEEDS_HELP
        return _current_status(request_id)
    if not _claim(request_id):
        return _current_status(request_id)
    try:
        status = _finish_claimed(request_id=request_id, providers=providers)
    except Exception:
        logger.exception("identification request %s: machine identification crashed", request_id)
        try:
            _mark_failed(request_id)
        except Exception:
            logger.exception("identification request %s: could not mark it failed", request_id)
        raise
    return status or _current_status(request_id)
