"""The Plant.id v3 and Pl@ntNet v2 clients against a local server speaking their documented JSON.

Each error a provider can answer (401/403, 429, 5xx, malformed or wrongly shaped bodies, slow
answers, a server that is gone) must reach the caller as its ``ProviderError`` subclass.
"""

import base64
import io
import json
import time
from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.utils import timezone
from PIL import Image

from apps.plants.identification.providers import (
    MachineSuggestion,
    PlantIdProvider,
    PlantNetProvider,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    configured_providers,
)

from .fake_providers import (
    PLANT_ID,
    PLANTNET,
    FakeProviderServer,
    Reply,
    plant_id_answer,
    plantnet_answer,
    plantnet_not_found,
)


def _jpeg(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((40, 30), 40 + seed).convert("RGB").save(buffer, "JPEG")
    return buffer.getvalue()


IMAGES = [_jpeg(1), _jpeg(2)]


def _provider(name: str):
    return {provider.name: provider for provider in configured_providers()}[name]


def _identify(name: str, *, latitude=None, longitude=None):
    return _provider(name).identify(IMAGES, latitude=latitude, longitude=longitude)


# --- configuration ---------------------------------------------------------------------------


def test_configured_providers_follow_the_api_keys(settings):
    """Only providers whose API key is set are used, Plant.id first; no keys means none."""
    settings.PLANT_ID_API_KEY = ""
    settings.PLANTNET_API_KEY = ""
    assert configured_providers() == []
    settings.PLANTNET_API_KEY = "k"
    assert [(p.name, p.api_version) for p in configured_providers()] == [("plantnet", "v2")]
    settings.PLANT_ID_API_KEY = "k"
    assert [(p.name, p.api_version) for p in configured_providers()] == [("plant_id", "v3"), ("plantnet", "v2")]


def test_timeouts_come_from_settings(settings):
    """Each client's whole-call timeout is its setting (35 s and 20 s by default)."""
    settings.PLANT_ID_API_KEY = settings.PLANTNET_API_KEY = "k"
    settings.PLANT_ID_TIMEOUT_SECONDS = 35
    settings.PLANTNET_TIMEOUT_SECONDS = 20
    assert [p.timeout_seconds for p in configured_providers()] == [35.0, 20.0]


# --- Plant.id v3 -----------------------------------------------------------------------------


def test_plant_id_sends_documented_request_and_parses_suggestions(fake_providers):
    """Plant.id gets a JSON POST with the ``Api-Key`` header, base64 images in order, the
    location and ``similar_images: false``; its suggestions come back most probable first with
    their common names."""
    fake_providers.script(
        PLANT_ID,
        plant_id_answer(
            ("Monstera adansonii", 0.04, None),
            ("Monstera deliciosa", 0.93, ["Swiss cheese plant", "split-leaf philodendron"]),
        ),
    )
    suggestions = _identify(PLANT_ID, latitude=49.19, longitude=16.6)

    assert suggestions == [
        MachineSuggestion("Monstera deliciosa", ("Swiss cheese plant", "split-leaf philodendron"), 0.93),
        MachineSuggestion("Monstera adansonii", (), 0.04),
    ]
    (received,) = fake_providers.requests(PLANT_ID)
    assert received.headers["api-key"] == "test-plant-id-key"
    assert received.headers["content-type"] == "application/json"
    assert received.query == {"details": ["common_names"]}
    assert received.json == {
        "images": [base64.b64encode(image).decode("ascii") for image in IMAGES],
        "latitude": 49.19,
        "longitude": 16.6,
        "similar_images": False,
    }


def test_plant_id_omits_an_unknown_location(fake_providers):
    """Without coordinates the body carries no ``latitude``/``longitude`` keys at all."""
    _identify(PLANT_ID)
    (received,) = fake_providers.requests(PLANT_ID)
    assert set(received.json) == {"images", "similar_images"}


def test_plant_id_accepts_200_and_suggestions_without_details(fake_providers):
    """A 200 answer is as good as 201, and ``details`` or ``common_names`` may be missing."""
    reply = plant_id_answer(("Ficus lyrata", 0.7, None))
    reply.status = 200
    del reply.json["result"]["classification"]["suggestions"][0]["details"]
    fake_providers.script(PLANT_ID, reply)
    assert _identify(PLANT_ID) == [MachineSuggestion("Ficus lyrata", (), 0.7)]


def test_plant_id_not_a_plant_gives_no_suggestions(fake_providers):
    """When Plant.id says the photo is not a plant (``is_plant.binary`` false), its guesses
    are dropped: an empty answer, not an error."""
    fake_providers.script(PLANT_ID, plant_id_answer(("Ficus lyrata", 0.3, None), is_plant=False))
    assert _identify(PLANT_ID) == []


def _first(doc: dict) -> dict:
    return doc["result"]["classification"]["suggestions"][0]


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda doc: doc.pop("result"), id="no-result"),
        pytest.param(lambda doc: doc["result"].pop("classification"), id="no-classification"),
        pytest.param(lambda doc: doc["result"]["classification"].update(suggestions={}), id="suggestions-not-list"),
        pytest.param(lambda doc: _first(doc).update(probability="0.9"), id="probability-string"),
        pytest.param(lambda doc: _first(doc).update(probability=1.5), id="probability-above-1"),
        pytest.param(lambda doc: _first(doc).update(probability=-0.1), id="probability-negative"),
        pytest.param(lambda doc: _first(doc).update(probability=True), id="probability-bool"),
        pytest.param(lambda doc: _first(doc).pop("name"), id="no-name"),
        pytest.param(lambda doc: _first(doc).update(name=" "), id="blank-name"),
        pytest.param(
            lambda doc: _first(doc)["details"].update(common_names="Swiss cheese"),
            id="common-names-not-list",
        ),
        pytest.param(lambda doc: doc["result"]["is_plant"].update(binary="yes"), id="is-plant-not-bool"),
    ],
)
def test_plant_id_wrong_shape_is_a_bad_response(fake_providers, mutate):
    """Every member the client reads is type-checked: a wrong shape is ``ProviderBadResponse``,
    never a ``KeyError`` or a probability outside 0..1."""
    reply = plant_id_answer(("Monstera deliciosa", 0.93, ["Swiss cheese plant"]))
    mutate(reply.json)
    fake_providers.script(PLANT_ID, reply)
    with pytest.raises(ProviderBadResponse):
        _identify(PLANT_ID)


# --- Pl@ntNet v2 -----------------------------------------------------------------------------


def test_plantnet_sends_documented_multipart_and_parses_results(fake_providers):
    """Pl@ntNet gets the key as ``api-key`` in the query, ``include-related-images=false``, and
    a well-formed multipart body with one JPEG ``images`` part and one ``organs=auto`` field
    per photo, in order; results come back most probable first with their common names."""
    fake_providers.script(
        PLANTNET,
        plantnet_answer(
            ("Monstera deliciosa", 0.87, ["Swiss cheese plant"]),
            ("Epipremnum aureum", 0.05, ["Golden pothos", "Devil's ivy"]),
        ),
    )
    suggestions = _identify(PLANTNET, latitude=49.19, longitude=16.6)

    assert suggestions == [
        MachineSuggestion("Monstera deliciosa", ("Swiss cheese plant",), 0.87),
        MachineSuggestion("Epipremnum aureum", ("Golden pothos", "Devil's ivy"), 0.05),
    ]
    (received,) = fake_providers.requests(PLANTNET)
    assert received.query == {"api-key": ["test-plantnet-key"], "include-related-images": ["false"]}
    assert received.multipart_ok
    images = [part for part in received.parts if part.name == "images"]
    organs = [part for part in received.parts if part.name == "organs"]
    assert [part.content for part in images] == IMAGES
    assert all(part.content_type == "image/jpeg" and part.filename.endswith(".jpg") for part in images)
    assert [part.content for part in organs] == [b"auto", b"auto"]
    assert "api-key" not in received.headers


def test_plantnet_uses_a_fresh_boundary_per_request(fake_providers):
    """The multipart boundary is random per request, so no photo's bytes can be crafted to
    contain it."""
    _identify(PLANTNET)
    _identify(PLANTNET)
    first, second = (r.headers["content-type"] for r in fake_providers.requests(PLANTNET))
    assert first != second


def test_plantnet_species_not_found_is_an_empty_answer(fake_providers):
    """Pl@ntNet's 404 "Species not found" means no match: ``[]``, not an error."""
    fake_providers.script(PLANTNET, plantnet_not_found())
    assert _identify(PLANTNET) == []


def test_plantnet_other_404_is_an_error(fake_providers):
    """A 404 that is not "Species not found" (a wrong URL's HTML page) is a bad response."""
    html = Reply(status=404, body=b"<html>Not here</html>", headers={"Content-Type": "text/html"})
    fake_providers.script(PLANTNET, html)
    with pytest.raises(ProviderBadResponse):
        _identify(PLANTNET)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda doc: doc.pop("results"), id="no-results"),
        pytest.param(lambda doc: doc.update(results={"score": 1}), id="results-not-list"),
        pytest.param(lambda doc: doc["results"][0].update(score=87), id="score-percent"),
        pytest.param(lambda doc: doc["results"][0].update(score=None), id="score-null"),
        pytest.param(lambda doc: doc["results"][0].pop("species"), id="no-species"),
        pytest.param(lambda doc: doc["results"][0]["species"].pop("scientificNameWithoutAuthor"), id="no-name"),
        pytest.param(
            lambda doc: doc["results"][0]["species"].update(commonNames=[1, 2]), id="common-names-not-strings"
        ),
    ],
)
def test_plantnet_wrong_shape_is_a_bad_response(fake_providers, mutate):
    """Every member the client reads is type-checked: a wrong shape is ``ProviderBadResponse``."""
    reply = plantnet_answer(("Monstera deliciosa", 0.87, ["Swiss cheese plant"]))
    mutate(reply.json)
    fake_providers.script(PLANTNET, reply)
    with pytest.raises(ProviderBadResponse):
        _identify(PLANTNET)


# --- errors shared by both clients -----------------------------------------------------------

BOTH = pytest.mark.parametrize("provider", [PLANT_ID, PLANTNET])


@BOTH
@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_is_an_auth_error(fake_providers, provider, status):
    """401 and 403 mean the API key is refused: ``ProviderAuthError``."""
    fake_providers.script(provider, Reply(status=status, json={"message": "Invalid API key"}))
    with pytest.raises(ProviderAuthError):
        _identify(provider)


@BOTH
def test_429_is_rate_limited_with_retry_after_seconds(fake_providers, provider):
    """429 is ``ProviderRateLimited`` carrying the ``Retry-After`` delay in seconds."""
    fake_providers.script(
        provider, Reply(status=429, json={"message": "Too many requests"}, headers={"Retry-After": "120"})
    )
    with pytest.raises(ProviderRateLimited) as caught:
        _identify(provider)
    assert caught.value.retry_after == 120


@BOTH
def test_429_retry_after_as_http_date(fake_providers, provider):
    """``Retry-After`` may be an HTTP-date (RFC 9110 section 10.2.3): it becomes seconds from now;
    without the header ``retry_after`` is None."""
    when = format_datetime(timezone.now() + timedelta(seconds=90), usegmt=True)
    fake_providers.script(
        provider,
        Reply(status=429, json={}, headers={"Retry-After": when}),
        Reply(status=429, json={}),
    )
    with pytest.raises(ProviderRateLimited) as caught:
        _identify(provider)
    assert 85 <= caught.value.retry_after <= 91
    with pytest.raises(ProviderRateLimited) as caught:
        _identify(provider)
    assert caught.value.retry_after is None


@BOTH
@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_unavailable(fake_providers, provider, status):
    """Any 5xx is ``ProviderUnavailable``."""
    fake_providers.script(
        provider, Reply(status=status, body=b"upstream error", headers={"Content-Type": "text/plain"})
    )
    with pytest.raises(ProviderUnavailable):
        _identify(provider)


@BOTH
def test_400_is_a_bad_response(fake_providers, provider):
    """A 4xx other than 401/403/404/429 says the request itself was refused: bad response."""
    fake_providers.script(provider, Reply(status=400, json={"message": "bad images"}))
    with pytest.raises(ProviderBadResponse):
        _identify(provider)


@BOTH
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"result": ', id="truncated-json"),
        pytest.param(b"<html>502 Bad Gateway</html>", id="html"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(b"[]", id="json-array"),
        pytest.param(b"null", id="json-null"),
    ],
)
def test_malformed_body_is_a_bad_response(fake_providers, provider, body):
    """A 200/201 whose body is not the documented JSON object is ``ProviderBadResponse``."""
    fake_providers.script(provider, Reply(status=201 if provider == PLANT_ID else 200, body=body))
    with pytest.raises(ProviderBadResponse):
        _identify(provider)


@BOTH
def test_slow_answer_times_out_at_the_setting(fake_providers, provider):
    """A server that takes 1.5 s to answer, with a 0.5 s timeout, gives ``ProviderTimeout``
    after about 0.5 s, not 1.5 s."""
    fake_providers.script(provider, Reply(delay=1.5, json={}))
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        _identify(provider)
    assert 0.45 <= time.monotonic() - started < 1.0


@BOTH
def test_timeout_covers_the_whole_call_not_each_read(fake_providers, provider):
    """The timeout bounds the whole call: a server that sends its headers at once and then one
    body byte every 0.1 s (each read well within 0.5 s) is still cut off at 0.5 s."""
    if provider == PLANT_ID:
        answer = plant_id_answer(("Monstera deliciosa", 0.93, None))
    else:
        answer = plantnet_answer(("Monstera deliciosa", 0.87, []))
    answer.drip = 0.1
    fake_providers.script(provider, answer)
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        _identify(provider)
    assert time.monotonic() - started < 1.0


@BOTH
def test_server_gone_is_unavailable(settings, provider):
    """When the provider's server is not there (connection refused), the call fails fast with
    ``ProviderUnavailable``."""
    server = FakeProviderServer().start()
    url = server.plant_id_url if provider == PLANT_ID else server.plantnet_url
    server.stop()
    settings.PLANT_ID_API_KEY = settings.PLANTNET_API_KEY = "k"
    settings.PLANT_ID_API_URL = settings.PLANTNET_API_URL = url
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        _identify(provider)
    assert time.monotonic() - started < 1.0


def test_answers_are_json_round_trippable():
    """A ``MachineSuggestion`` serialises to the JSON the cache stores."""
    suggestion = MachineSuggestion("Monstera deliciosa", ("Swiss cheese plant",), 0.93)
    assert json.loads(json.dumps(suggestion.as_json())) == {
        "scientific_name": "Monstera deliciosa",
        "common_names": ["Swiss cheese plant"],
        "probability": 0.93,
    }


def test_provider_classes_name_their_sources():
    """Provider names are the ``SuggestionSource`` values suggestions are saved under."""
    assert (PlantIdProvider.name, PlantIdProvider.api_version) == ("plant_id", "v3")
    assert (PlantNetProvider.name, PlantNetProvider.api_version) == ("plantnet", "v2")
