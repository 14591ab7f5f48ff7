"""Machine identification of a request: both providers in parallel through the cache and the
circuit breaker, merged suggestions, and the request's final status (real PostgreSQL, real
Redis, the real HTTP clients against the local fake providers)."""

import io
import logging
import random
import threading
import time
from dataclasses import replace

import pytest
from django.db import connection
from PIL import Image

from apps.accounts.models import User
from apps.core.redis import get_strict_redis
from apps.core.uploads import PHOTO_MAX_PX, encode_jpeg, open_checked
from apps.plants.identification.breaker import breaker_call, breaker_key
from apps.plants.identification.cache import cache_key, images_digest
from apps.plants.identification.providers import (
    PlantIdProvider,
    PlantNetProvider,
    ProviderBadResponse,
    ProviderCircuitOpen,
    ProviderUnavailable,
)
from apps.plants.identification.service import machine_identification_run
from apps.plants.identification.tasks import identification_enqueue, identify_plant
from apps.plants.models import (
    IdentificationStatus,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    PlantSpecies,
)
from tests import factories
from tests.redis_server import redis_server

from .fake_providers import (
    PLANT_ID,
    PLANTNET,
    Reply,
    plant_id_answer,
    plantnet_answer,
    plantnet_not_found,
)

_photo_seeds = iter(range(1, 10**9))


def photo_bytes(seed: int | None = None) -> bytes:
    """A Pillow-generated JPEG of random pixels: every seed gives different bytes."""
    rng = random.Random(next(_photo_seeds) if seed is None else seed)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (48, 36), rng.randbytes(48 * 36 * 3)).save(buffer, "JPEG")
    return buffer.getvalue()


def pending_request(owner, *, photos: list[bytes] | None = None, latitude=None, longitude=None):
    """A pending identification request of ``owner`` with its photos stored the way uploads
    are (decoded, EXIF stripped, re-encoded as JPEG by ``apps.core.uploads``)."""
    id_request = factories.IdentificationRequestFactory(
        owner=owner, status=IdentificationStatus.PENDING, latitude=latitude, longitude=longitude
    )
    for position, data in enumerate(photos or [photo_bytes()]):
        image = open_checked(data)
        PlantPhoto.objects.create(
            request=id_request,
            image=encode_jpeg(image, max_px=PHOTO_MAX_PX, name=f"photo-{position}.jpg"),
            position=position,
            width=image.width,
            height=image.height,
        )
    return id_request


def stored_photos(id_request) -> list[bytes]:
    images = []
    for photo in PlantPhoto.objects.filter(request=id_request).order_by("position"):
        with photo.image.open("rb") as handle:
            images.append(handle.read())
    return images


def saved_suggestions(id_request) -> set[tuple]:
    return set(
        IdentificationSuggestion.objects.filter(request=id_request).values_list(
            "source", "species__scientific_name", "free_text_name", "probability"
        )
    )


def request_row(id_request) -> PlantIdentificationRequest:
    return PlantIdentificationRequest.objects.select_related("species", "accepted_suggestion").get(pk=id_request.pk)


def owner_count(user) -> int:
    return User.objects.filter(pk=user.pk).values_list("identified_plant_count", flat=True).get()


pytestmark = pytest.mark.django_db


# --- merging and status ------------------------------------------------------------------------


def test_both_providers_merge_into_catalog_matched_suggestions_and_identify(fake_providers, gardener):
    """Both providers are asked; each keeps its own rows, names are matched to the catalog
    case-insensitively (free text otherwise); a confident catalog match identifies the plant,
    accepts the most probable row, and adds one to the owner's identified count."""
    fake_providers.script(
        PLANT_ID,
        plant_id_answer(
            ("Monstera deliciosa", 0.93, ["Swiss cheese plant"]),
            ("Monstera adansonii", 0.04, None),
            ("Epipremnum aureum", 0.02, ["Golden pothos"]),
        ),
    )
    fake_providers.script(
        PLANTNET,
        plantnet_answer(
            ("  monstera   DELICIOSA ", 0.87, ["Swiss cheese plant"]),
            ("Epipremnum aureum", 0.05, ["Golden pothos"]),
        ),
    )
    id_request = pending_request(gardener, latitude="49.19400", longitude="16.60300")

    assert machine_identification_run(request_id=id_request.pk) == "identified"

    assert saved_suggestions(id_request) == {
        ("plant_id", "Monstera deliciosa", "", 0.93),
        ("plant_id", None, "Monstera adansonii", 0.04),
        ("plant_id", "Epipremnum aureum", "", 0.02),
        ("plantnet", "Monstera deliciosa", "", 0.87),
        ("plantnet", "Epipremnum aureum", "", 0.05),
    }
    row = request_row(id_request)
    assert row.status == "identified"
    assert row.species.scientific_name == "Monstera deliciosa"
    assert (row.accepted_suggestion.source, row.accepted_suggestion.probability) == ("plant_id", 0.93)
    assert row.identified_at is not None
    assert owner_count(gardener) == 1
    assert len(fake_providers.requests(PLANT_ID)) == len(fake_providers.requests(PLANTNET)) == 1
    # The gardener's location reaches Plant.id as numbers; the photos as stored, in order.
    (sent,) = fake_providers.requests(PLANT_ID)
    assert (sent.json["latitude"], sent.json["longitude"]) == (49.194, 16.603)
    (multipart,) = fake_providers.requests(PLANTNET)
    assert [part.content for part in multipart.parts if part.name == "images"] == stored_photos(id_request)


def test_not_confident_needs_help(fake_providers, gardener):
    """When no suggestion reaches IDENTIFICATION_AUTO_ACCEPT_PROBABILITY the suggestions are
    saved, the request needs community help and no species is set or counted."""
    fake_providers.script(PLANT_ID, plant_id_answer(("Monstera deliciosa", 0.62, None)))
    fake_providers.script(PLANTNET, plantnet_answer(("Monstera deliciosa", 0.55, [])))
    id_request = pending_request(gardener)

    assert machine_identification_run(request_id=id_request.pk) == "needs_help"

    row = request_row(id_request)
    assert (row.status, row.species, row.accepted_suggestion, row.identified_at) == ("needs_help", None, None, None)
    assert len(saved_suggestions(id_request)) == 2
    assert owner_count(gardener) == 0


def test_auto_accept_threshold_is_inclusive_and_a_setting(fake_providers, gardener, settings):
    """A probability exactly at the threshold identifies the plant (``>=``)."""
    settings.IDENTIFICATION_AUTO_ACCEPT_PROBABILITY = 0.6
    fake_providers.script(PLANT_ID, plant_id_answer(("Ficus lyrata", 0.6, None)))
    fake_providers.script(PLANTNET, plantnet_not_found())
    id_request = pending_request(gardener)
    assert machine_identification_run(request_id=id_request.pk) == "identified"
    assert request_row(id_request).species.scientific_name == "Ficus lyrata"


def test_confident_name_outside_the_catalog_needs_help(fake_providers, gardener):
    """A confident suggestion that is not a catalog species is saved as free text and the
    request needs help: only a catalog species can identify a plant."""
    fake_providers.script(PLANT_ID, plant_id_answer(("Rhaphidophora tetrasperma", 0.96, ["Mini monstera"])))
    fake_providers.script(PLANTNET, plantnet_answer(("Rhaphidophora tetrasperma", 0.91, [])))
    id_request = pending_request(gardener)

    assert machine_identification_run(request_id=id_request.pk) == "needs_help"
    assert saved_suggestions(id_request) == {
        ("plant_id", None, "Rhaphidophora tetrasperma", 0.96),
        ("plantnet", None, "Rhaphidophora tetrasperma", 0.91),
    }


def test_confident_providers_that_disagree_need_help(fake_providers, gardener):
    """Two providers each confident about a different species leave the choice to people."""
    fake_providers.script(PLANT_ID, plant_id_answer(("Ficus lyrata", 0.92, None)))
    fake_providers.script(PLANTNET, plantnet_answer(("Ficus elastica", 0.9, [])))
    id_request = pending_request(gardener)
    assert machine_identification_run(request_id=id_request.pk) == "needs_help"
    assert owner_count(gardener) == 0


def test_at_most_five_suggestions_per_provider(fake_providers, gardener):
    """Each provider keeps its five most probable names; a name repeated by one provider is one
    row (its best probability)."""
    answer = [
        ("Ficus lyrata", 0.1),
        ("Ficus elastica", 0.09),
        ("Aloe vera", 0.08),
        ("Epipremnum aureum", 0.07),
        ("Chlorophytum comosum", 0.06),
        ("Zamioculcas zamiifolia", 0.05),
        ("Maranta leuconeura", 0.04),
        ("ficus LYRATA", 0.2),
    ]
    fake_providers.script(PLANT_ID, plant_id_answer(*[(name, probability, None) for name, probability in answer]))
    fake_providers.script(PLANTNET, plantnet_not_found())
    id_request = pending_request(gardener)

    assert machine_identification_run(request_id=id_request.pk) == "needs_help"
    rows = saved_suggestions(id_request)
    assert {(name, probability) for _, name, _, probability in rows} == {
        ("Ficus lyrata", 0.2),
        ("Ficus elastica", 0.09),
        ("Aloe vera", 0.08),
        ("Epipremnum aureum", 0.07),
        ("Chlorophytum comosum", 0.06),
    }


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(Reply(status=500, body=b"oops"), id="500"),
        pytest.param(Reply(status=401, json={"message": "Invalid API key"}), id="401"),
        pytest.param(Reply(status=429, json={}, headers={"Retry-After": "60"}), id="429"),
        pytest.param(Reply(status=200, body=b"{not json"), id="malformed"),
        pytest.param(Reply(delay=1.5, json={}), id="timeout"),
    ],
)
def test_one_provider_failing_keeps_the_others_answer(fake_providers, gardener, caplog, failure):
    """When Pl@ntNet fails in any way, Plant.id's answer alone decides: its suggestions are
    saved and the plant is identified; the failure is logged, not raised."""
    fake_providers.script(PLANTNET, failure)
    id_request = pending_request(gardener)

    with caplog.at_level(logging.WARNING, logger="apps.plants.identification"):
        assert machine_identification_run(request_id=id_request.pk) == "identified"

    assert saved_suggestions(id_request) == {("plant_id", "Monstera deliciosa", "", 0.93)}
    assert any("plantnet" in record.getMessage() for record in caplog.records)


def test_a_provider_with_no_match_still_counts_as_an_answer(fake_providers, gardener):
    """Pl@ntNet's "Species not found" is an answer: with Plant.id down the request needs help
    (not failed) and has no suggestions."""
    fake_providers.script(PLANT_ID, Reply(status=503, body=b"maintenance"))
    fake_providers.script(PLANTNET, plantnet_not_found())
    id_request = pending_request(gardener)
    assert machine_identification_run(request_id=id_request.pk) == "needs_help"
    assert saved_suggestions(id_request) == set()


def test_every_provider_failing_marks_the_request_failed(fake_providers, gardener, caplog):
    """When every provider fails, the request is ``failed`` (the community can still help),
    nothing is saved, nothing is counted, and each provider's error is logged."""
    fake_providers.script(PLANT_ID, Reply(status=500, body=b"oops"))
    fake_providers.script(PLANTNET, Reply(status=200, json={"results": "nope"}))
    id_request = pending_request(gardener)

    with caplog.at_level(logging.WARNING, logger="apps.plants.identification"):
        assert machine_identification_run(request_id=id_request.pk) == "failed"

    row = request_row(id_request)
    assert (row.status, row.species, row.accepted_suggestion) == ("failed", None, None)
    assert saved_suggestions(id_request) == set()
    assert owner_count(gardener) == 0
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "plant_id" in messages and "plantnet" in messages


def test_a_slow_provider_costs_its_timeout_not_the_whole_run(fake_providers, gardener):
    """A provider that does not answer within its timeout is given up at that timeout: the run
    ends shortly after it with the other provider's answer, and the timeout counts as one
    failure in that provider's breaker."""
    fake_providers.script(PLANTNET, Reply(delay=1.5, json={}))
    id_request = pending_request(gardener)

    started = time.monotonic()
    assert machine_identification_run(request_id=id_request.pk) == "identified"
    assert time.monotonic() - started < 1.2
    assert get_strict_redis().hget(breaker_key("plantnet"), "failures") == b"1"


def test_no_api_keys_goes_straight_to_the_community(fake_providers, gardener, settings):
    """With no provider keys set, the request becomes ``needs_help`` without any HTTP request."""
    settings.PLANT_ID_API_KEY = ""
    settings.PLANTNET_API_KEY = ""
    id_request = pending_request(gardener)

    assert machine_identification_run(request_id=id_request.pk) == "needs_help"
    assert fake_providers.requests() == []
    assert saved_suggestions(id_request) == set()


# --- idempotence, tasks ------------------------------------------------------------------------


def test_a_finished_request_is_not_run_again(fake_providers, gardener):
    """Running again (a task delivered twice) calls no provider and returns the status found."""
    id_request = pending_request(gardener)
    assert machine_identification_run(request_id=id_request.pk) == "identified"
    get_strict_redis().flushdb()  # so a second run could only answer through HTTP
    assert machine_identification_run(request_id=id_request.pk) == "identified"
    assert len(fake_providers.requests()) == 2
    assert len(saved_suggestions(id_request)) == 2
    assert owner_count(gardener) == 1


def test_a_deleted_request_is_skipped(fake_providers):
    """A request deleted before its task ran gives an empty status and no HTTP request."""
    assert machine_identification_run(request_id=987654321) == ""
    assert fake_providers.requests() == []


def test_enqueue_runs_the_task_after_commit(fake_providers, gardener, django_capture_on_commit_callbacks):
    """``identification_enqueue`` queues ``identify_plant`` only when the transaction commits;
    the test settings' ImmediateBackend then runs it."""
    id_request = pending_request(gardener)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        identification_enqueue(request_id=id_request.pk)
        assert request_row(id_request).status == "pending"
    assert len(callbacks) == 1
    assert request_row(id_request).status == "identified"


def test_task_returns_the_final_status(fake_providers, gardener):
    """The ``identify_plant`` task's result is the request's final status."""
    id_request = pending_request(gardener)
    result = identify_plant.enqueue(id_request.pk)
    assert result.status == "SUCCESSFUL"
    assert result.return_value == "identified"


# --- cache ---------------------------------------------------------------------------------------


def test_same_photos_again_are_answered_from_the_cache(fake_providers, gardener):
    """A second request with the same photos makes no HTTP request: both providers' answers
    come from the 24-hour Redis cache and give the same suggestions."""
    photos = [photo_bytes(), photo_bytes()]
    first = pending_request(gardener, photos=photos)
    second = pending_request(gardener, photos=photos)

    assert machine_identification_run(request_id=first.pk) == "identified"
    assert len(fake_providers.requests()) == 2
    assert machine_identification_run(request_id=second.pk) == "identified"
    assert len(fake_providers.requests()) == 2
    assert saved_suggestions(second) == saved_suggestions(first)
    plant_id = PlantIdProvider(api_key="", url="", timeout_seconds=1)
    ttl = get_strict_redis().ttl(cache_key(plant_id, images_digest(stored_photos(first))))
    assert 24 * 3600 - 5 < ttl <= 24 * 3600


def test_errors_are_not_cached_but_empty_answers_are(fake_providers, gardener):
    """A failed call is asked again next time; Pl@ntNet's "Species not found" is cached."""
    photos = [photo_bytes()]
    fake_providers.script(PLANT_ID, Reply(status=503, body=b"down"))
    fake_providers.script(PLANTNET, plantnet_not_found())
    assert machine_identification_run(request_id=pending_request(gardener, photos=photos).pk) == "needs_help"
    assert machine_identification_run(request_id=pending_request(gardener, photos=photos).pk) == "identified"
    assert len(fake_providers.requests(PLANT_ID)) == 2
    assert len(fake_providers.requests(PLANTNET)) == 1


def test_cache_key_is_provider_version_and_photos_in_order():
    """The key names the provider and its API version, and hashes each photo then the digests
    in order: other photos, or the same photos in another order, are another key."""
    a, b = photo_bytes(), photo_bytes()
    plant_id = PlantIdProvider(api_key="", url="", timeout_seconds=1)
    plantnet = PlantNetProvider(api_key="", url="", timeout_seconds=1)
    assert images_digest([a, b]) == images_digest([a, b])
    assert images_digest([a, b]) != images_digest([b, a])
    assert images_digest([a]) != images_digest([a, b])
    assert cache_key(plant_id, "d") == "identification:cache:plant_id:v3:d"
    assert cache_key(plantnet, "d") == "identification:cache:plantnet:v2:d"


def test_redis_outage_skips_cache_and_breaker_but_identifies(fake_providers, gardener, settings):
    """When the Redis server dies mid-test (SIGKILL), the cache and the breaker are skipped:
    providers are asked again and the request is still identified, without an exception."""
    photos = [photo_bytes()]
    with redis_server() as server:
        settings.REDIS_URL = server.url
        assert machine_identification_run(request_id=pending_request(gardener, photos=photos).pk) == "identified"
        assert len(fake_providers.requests()) == 2  # cached on the throwaway server now
        server.kill()
        assert machine_identification_run(request_id=pending_request(gardener, photos=photos).pk) == "identified"
        assert len(fake_providers.requests()) == 4


# --- circuit breaker -----------------------------------------------------------------------------


def test_breaker_opens_after_consecutive_failures_then_lets_one_trial_through(fake_providers, gardener, settings):
    """After IDENTIFICATION_BREAKER_FAILURES consecutive failures the provider gets no HTTP
    request until the cool-down has passed; then one trial goes through: a failed trial opens
    it again for a full cool-down, a successful one closes it."""
    settings.PLANT_ID_API_KEY = ""
    settings.IDENTIFICATION_BREAKER_FAILURES = 2
    settings.IDENTIFICATION_BREAKER_COOLDOWN_SECONDS = 0.5
    fake_providers.default(PLANTNET, Reply(status=503, body=b"down"))
    # Made up front, so the runs follow each other well within the cool-down.
    requests = [pending_request(gardener) for _ in range(7)]

    def run() -> str:
        return machine_identification_run(request_id=requests.pop(0).pk)

    def calls() -> int:
        return len(fake_providers.requests(PLANTNET))

    assert (run(), calls()) == ("failed", 1)
    assert (run(), calls()) == ("failed", 2)  # second failure opens it
    assert (run(), calls()) == ("failed", 2)  # open: skipped without HTTP
    time.sleep(0.55)
    assert (run(), calls()) == ("failed", 3)  # the trial, which fails: open again
    assert (run(), calls()) == ("failed", 3)
    time.sleep(0.55)
    fake_providers.default(PLANTNET, plantnet_answer(("Monstera deliciosa", 0.9, [])))
    assert (run(), calls()) == ("identified", 4)  # the trial succeeds: closed
    assert (run(), calls()) == ("identified", 5)
    assert get_strict_redis().exists(breaker_key("plantnet")) == 0


def test_open_breaker_on_one_provider_leaves_the_other_working(fake_providers, gardener, settings):
    """An open breaker only skips its own provider; the other one still identifies."""
    settings.IDENTIFICATION_BREAKER_FAILURES = 1
    fake_providers.default(PLANTNET, Reply(status=500, body=b"down"))
    assert machine_identification_run(request_id=pending_request(gardener).pk) == "identified"
    assert machine_identification_run(request_id=pending_request(gardener).pk) == "identified"
    assert len(fake_providers.requests(PLANTNET)) == 1
    assert len(fake_providers.requests(PLANT_ID)) == 2


def test_bad_responses_do_not_open_the_breaker(fake_providers, gardener, settings):
    """Only failures about the provider's health count (timeouts, 5xx, 429, 401/403): a
    malformed answer does not open the breaker."""
    settings.IDENTIFICATION_BREAKER_FAILURES = 1
    fake_providers.default(PLANTNET, Reply(status=200, body=b"{"))
    for _ in range(3):
        machine_identification_run(request_id=pending_request(gardener).pk)
    assert len(fake_providers.requests(PLANTNET)) == 3


def test_half_open_breaker_lets_exactly_one_trial_through(settings):
    """After the cool-down, while one worker's trial call is in flight, every other caller is
    refused without calling the provider."""
    settings.IDENTIFICATION_BREAKER_FAILURES = 1
    settings.IDENTIFICATION_BREAKER_COOLDOWN_SECONDS = 0.2
    provider = PlantNetProvider(api_key="k", url="http://127.0.0.1:9/", timeout_seconds=2)

    def fail():
        raise ProviderUnavailable("plantnet", "HTTP 503")

    with pytest.raises(ProviderUnavailable):
        breaker_call(provider, fail)
    with pytest.raises(ProviderCircuitOpen) as caught:
        breaker_call(provider, lambda: pytest.fail("called while open"))
    assert 0 < caught.value.retry_after <= 0.2
    time.sleep(0.25)

    in_trial, release = threading.Event(), threading.Event()
    outcome = []

    def trial():
        in_trial.set()
        release.wait(5)
        return ["answer"]

    worker = threading.Thread(target=lambda: outcome.append(breaker_call(provider, trial)))
    worker.start()
    assert in_trial.wait(5)
    others = []
    for _ in range(5):
        try:
            breaker_call(provider, lambda: others.append("called"))
        except ProviderCircuitOpen:
            others.append("refused")
    release.set()
    worker.join(5)
    assert others == ["refused"] * 5
    assert outcome == [["answer"]]
    assert breaker_call(provider, lambda: "closed again") == "closed again"


def test_a_trial_ending_in_a_bad_response_gives_the_trial_back(settings):
    """A trial whose answer is malformed says nothing about the provider's health: the next
    caller gets the trial instead of waiting for the lease to expire."""
    settings.IDENTIFICATION_BREAKER_FAILURES = 1
    settings.IDENTIFICATION_BREAKER_COOLDOWN_SECONDS = 0.1
    provider = PlantNetProvider(api_key="k", url="http://127.0.0.1:9/", timeout_seconds=30)

    def raise_(error):
        raise error

    with pytest.raises(ProviderUnavailable):
        breaker_call(provider, lambda: raise_(ProviderUnavailable("plantnet", "down")))
    time.sleep(0.15)
    with pytest.raises(ProviderBadResponse):
        breaker_call(provider, lambda: raise_(ProviderBadResponse("plantnet", "garbage")))
    assert breaker_call(provider, lambda: "trial") == "trial"


def test_breaker_counts_as_closed_when_redis_is_down(settings):
    """With Redis gone (SIGKILLed mid-test) the breaker lets calls through and swallows its own
    errors: the provider's outcome is all the caller sees."""
    provider = PlantNetProvider(api_key="k", url="http://127.0.0.1:9/", timeout_seconds=1)
    with redis_server() as server:
        settings.REDIS_URL = server.url
        assert breaker_call(provider, lambda: "ok") == "ok"
        server.kill()
        assert breaker_call(provider, lambda: "still ok") == "still ok"

        def fail():
            raise ProviderUnavailable("plantnet", "down")

        with pytest.raises(ProviderUnavailable):
            breaker_call(provider, fail)


# --- parallelism and concurrency -----------------------------------------------------------------


def test_providers_are_called_in_parallel(fake_providers, gardener, settings):
    """Both providers are asked at the same time: with each answering after 0.3 s the whole run
    takes well under the 0.6 s a sequential run would, and the server saw the calls overlap."""
    settings.PLANT_ID_TIMEOUT_SECONDS = settings.PLANTNET_TIMEOUT_SECONDS = 2
    fake_providers.script(PLANT_ID, replace(plant_id_answer(("Monstera deliciosa", 0.93, None)), delay=0.3))
    fake_providers.script(PLANTNET, replace(plantnet_answer(("Monstera deliciosa", 0.87, [])), delay=0.3))
    id_request = pending_request(gardener)

    started = time.monotonic()
    assert machine_identification_run(request_id=id_request.pk) == "identified"
    elapsed = time.monotonic() - started

    fake_providers.wait_finished()
    (plant_id,), (plantnet,) = fake_providers.requests(PLANT_ID), fake_providers.requests(PLANTNET)
    assert plant_id.started < plantnet.finished and plantnet.started < plant_id.finished
    assert 0.3 <= elapsed < 0.55


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_call_the_providers_once(fake_providers, settings):
    """Two workers starting the same request at the same moment (a barrier) call each provider
    once: the conditional pending -> processing update lets one of them through; the other
    returns the status it found."""
    settings.PLANT_ID_TIMEOUT_SECONDS = settings.PLANTNET_TIMEOUT_SECONDS = 2
    # Committed data only; the catalog may have been flushed by an earlier transactional test.
    species = factories.SpeciesFactory(scientific_name="Testus concurrens", slug="testus-concurrens")
    fake_providers.default(PLANT_ID, replace(plant_id_answer((species.scientific_name, 0.95, None)), delay=0.3))
    fake_providers.default(PLANTNET, replace(plantnet_answer((species.scientific_name, 0.9, [])), delay=0.3))
    owner = factories.UserFactory()
    id_request = pending_request(owner)
    barrier = threading.Barrier(2)
    entered, results = [], []

    def worker():
        try:
            barrier.wait(5)
            entered.append(time.monotonic())
            results.append(machine_identification_run(request_id=id_request.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert abs(entered[0] - entered[1]) < 0.2  # they really overlapped
    assert sorted(results) == ["identified", "processing"]
    assert len(fake_providers.requests(PLANT_ID)) == len(fake_providers.requests(PLANTNET)) == 1
    assert IdentificationSuggestion.objects.filter(request=id_request).count() == 2
    assert owner_count(owner) == 1
    assert PlantSpecies.objects.filter(pk=species.pk).exists()
