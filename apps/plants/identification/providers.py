"""HTTP clients for the machine identification providers: Plant.id v3 and Pl@ntNet v2.

Both speak plain HTTPS through the standard library (``http.client``), so the project adds no
dependency. Each call has one deadline, the provider's ``*_TIMEOUT_SECONDS`` setting, that
covers connecting, sending the photos and reading the whole answer: a server that trickles
its body a byte at a time still ends the call on time.

Every failure is a ``ProviderError`` subclass, so callers (the service, the circuit breaker)
never see ``OSError``, ``http.client`` or ``json`` exceptions.
"""

import base64
import http.client
import json
import math
import secrets
import socket
import ssl
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.utils import timezone

from apps.plants.models import SuggestionSource

# Answers are a few KiB (Plant.id is asked for no similar images); anything far larger is not
# an answer we asked for, and reading it would only waste the worker's memory.
MAX_RESPONSE_BYTES = 5 * 1024 * 1024
USER_AGENT = "PlantCommunityPortal/1.0 (+https://github.com/plant-community-portal)"


@dataclass(frozen=True, slots=True)
class MachineSuggestion:
    """One species a provider proposes: its scientific name (without authorship), common names
    in the provider's order, and the provider's probability, 0..1."""

    scientific_name: str
    common_names: tuple[str, ...]
    probability: float

    def as_json(self) -> dict:
        """``{"scientific_name", "common_names": [...], "probability"}``, as the cache stores it."""
        return {
            "scientific_name": self.scientific_name,
            "common_names": list(self.common_names),
            "probability": self.probability,
        }


class ProviderError(Exception):
    """A provider call did not produce suggestions. ``provider`` is the provider's ``name``.

    ``trips_breaker`` says whether the failure speaks about the provider's health (and so
    counts towards opening its circuit breaker) rather than about one request.
    """

    trips_breaker = False

    def __init__(self, provider: str, message: str):
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message


class ProviderAuthError(ProviderError):
    """401 or 403: the API key is missing, wrong, revoked or out of credit."""

    trips_breaker = True


class ProviderRateLimited(ProviderError):
    """429: the provider's quota or rate limit is exhausted. ``retry_after`` is the number of
    seconds its ``Retry-After`` header asked for (RFC 9110 section 10.2.3), or ``None``."""

    trips_breaker = True

    def __init__(self, provider: str, message: str, *, retry_after: int | None = None):
        super().__init__(provider, message)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """5xx, or the connection could not be made or broke off before the answer was read."""

    trips_breaker = True


class ProviderTimeout(ProviderError):
    """The whole call (connect, send, read) did not finish within the provider's timeout."""

    trips_breaker = True


class ProviderBadResponse(ProviderError):
    """The answer is not JSON, not UTF-8, too large, or not the documented shape; or the
    provider refused the request itself with a 4xx other than 401/403/429."""


class ProviderCircuitOpen(ProviderError):
    """The provider's circuit breaker is open: the call was skipped without any HTTP request.
    ``retry_after`` is the number of seconds until a trial call may go through."""

    def __init__(self, provider: str, *, retry_after: float):
        super().__init__(provider, f"circuit open, next trial in {retry_after:.1f} s")
        self.retry_after = retry_after


class Provider(ABC):
    """One machine identification service.

    ``name`` is the ``SuggestionSource`` value its suggestions are saved under; ``api_version``
    is part of the result cache key, so answers of an older API are never reused;
    ``timeout_seconds`` bounds one whole ``identify`` call.
    """

    name: str
    api_version: str
    timeout_seconds: float

    def __init__(self, *, api_key: str, url: str, timeout_seconds: float):
        self.api_key = api_key
        self.url = url
        self.timeout_seconds = timeout_seconds

    @abstractmethod
    def identify(
        self, images: list[bytes], *, latitude: float | None, longitude: float | None
    ) -> list[MachineSuggestion]:
        """Return the provider's suggestions for one plant shown in ``images`` (1 to 3 JPEG
        files, as stored), most probable first; ``[]`` when it recognises nothing.
        ``latitude``/``longitude`` are WGS84 degrees or ``None``. Raises ``ProviderError``."""


# --- HTTP -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _HttpAnswer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def _post(provider: str, url: str, *, body: bytes, headers: dict[str, str], timeout_seconds: float) -> _HttpAnswer:
    """POST ``body`` to ``url`` and read the whole answer within ``timeout_seconds``.

    A socket timeout alone is per operation (a slow server resets it with every byte), so a
    watchdog timer shuts the socket down when the deadline passes; whatever the blocked call
    then raises is reported as ``ProviderTimeout``.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProviderUnavailable(provider, f"the API URL {url!r} is not an http(s) URL")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + timeout_seconds
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout_seconds, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_seconds)
    expired = threading.Event()
    # http.client drops ``conn.sock`` once it knows the server will close the connection, while
    # the response keeps reading from the same socket; so keep our own reference to it.
    sockets: list[socket.socket] = []

    def expire() -> None:
        expired.set()
        for sock in sockets:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0 or expired.is_set():
            raise TimeoutError
        return left

    watchdog = threading.Timer(timeout_seconds, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.connect()
        sock = conn.sock
        sockets.append(sock)
        sock.settimeout(remaining())
        conn.request(
            "POST", target, body=body, headers={"User-Agent": USER_AGENT, "Accept": "application/json", **headers}
        )
        sock.settimeout(remaining())
        response = conn.getresponse()
        chunks, size = [], 0
        # The response closes the socket itself once the body is complete.
        while not response.isclosed():
            sock.settimeout(remaining())
            chunk = response.read1(64 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise ProviderBadResponse(provider, f"answer larger than {MAX_RESPONSE_BYTES} bytes")
            chunks.append(chunk)
        remaining()
        return _HttpAnswer(status=response.status, headers=response.headers, body=b"".join(chunks))
    except ProviderError:
        raise
    except TimeoutError:
        raise ProviderTimeout(provider, f"no complete answer within {timeout_seconds:g} s") from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        if expired.is_set() or time.monotonic() >= deadline:
            raise ProviderTimeout(provider, f"no complete answer within {timeout_seconds:g} s") from None
        raise ProviderUnavailable(provider, f"connection failed: {error.__class__.__name__}: {error}") from None
    finally:
        watchdog.cancel()
        conn.close()


def _retry_after_seconds(value: str | None) -> int | None:
    """``Retry-After`` as seconds: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0, math.ceil((when - timezone.now()).total_seconds()))


def _raise_for_status(provider: str, answer: _HttpAnswer) -> None:
    """Map a non-success status to its ``ProviderError``; return quietly for 200/201."""
    status = answer.status
    if status in (200, 201):
        return
    if status in (401, 403):
        raise ProviderAuthError(provider, f"HTTP {status}: API key refused")
    if status == 429:
        retry_after = _retry_after_seconds(answer.headers.get("Retry-After"))
        raise ProviderRateLimited(provider, "HTTP 429: rate limit or quota exhausted", retry_after=retry_after)
    if status >= 500:
        raise ProviderUnavailable(provider, f"HTTP {status}")
    raise ProviderBadResponse(provider, f"unexpected HTTP {status}")


def _json(provider: str, body: bytes) -> object:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProviderBadResponse(provider, "answer is not UTF-8 JSON") from None


# --- strict shape checks ----------------------------------------------------------------------


def _dict(provider: str, value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise ProviderBadResponse(provider, f"{where} is not an object")
    return value


def _list(provider: str, value: object, where: str) -> list:
    if not isinstance(value, list):
        raise ProviderBadResponse(provider, f"{where} is not a list")
    return value


def _name(provider: str, value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProviderBadResponse(provider, f"{where} is not a non-empty string")
    return value.strip()


def _probability(provider: str, value: object, where: str) -> float:
    # bool is an int in Python; a JSON true is not a probability.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProviderBadResponse(provider, f"{where} is not a number")
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise ProviderBadResponse(provider, f"{where} is {value!r}, outside 0..1")
    return number


def _common_names(provider: str, value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    names = _list(provider, value, where)
    if not all(isinstance(name, str) for name in names):
        raise ProviderBadResponse(provider, f"{where} holds a non-string")
    return tuple(name.strip() for name in names if name.strip())


def _sniff_content_type(image: bytes) -> str:
    if image.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return parts._replace(query=query).geturl()


# --- Plant.id v3 ------------------------------------------------------------------------------


class PlantIdProvider(Provider):
    """Plant.id v3 (kindwise): ``POST /v3/identification`` with the key in the ``Api-Key``
    header and base64 images in a JSON body; answers 201 (or 200) with
    ``result.classification.suggestions[]`` of ``{name, probability, details}``.
    Source: kindwise's Plant.id API v3 documentation and its examples
    (github.com/Plant-id/plant-id-examples)."""

    name = SuggestionSource.PLANT_ID.value
    api_version = "v3"

    def identify(
        self, images: list[bytes], *, latitude: float | None, longitude: float | None
    ) -> list[MachineSuggestion]:
        """See ``Provider.identify``. Sends ``similar_images: false`` and asks for
        ``details=common_names`` only; the location is sent when both coordinates are known.
        A photo Plant.id judges not to be a plant (``is_plant.binary`` false) gives ``[]``."""
        payload: dict[str, object] = {
            "images": [base64.b64encode(image).decode("ascii") for image in images],
            "similar_images": False,
        }
        if latitude is not None and longitude is not None:
            payload["latitude"] = latitude
            payload["longitude"] = longitude
        answer = _post(
            self.name,
            _with_query(self.url, {"details": "common_names"}),
            body=json.dumps(payload).encode("utf-8"),
            headers={"Api-Key": self.api_key, "Content-Type": "application/json"},
            timeout_seconds=self.timeout_seconds,
        )
        _raise_for_status(self.name, answer)
        return self.parse(_json(self.name, answer.body))

    def parse(self, document: object) -> list[MachineSuggestion]:
        """Turn a decoded v3 identification into suggestions; raises ``ProviderBadResponse``
        when a required member is missing or of the wrong type."""
        root = _dict(self.name, document, "the answer")
        result = _dict(self.name, root.get("result"), "result")
        is_plant = result.get("is_plant")
        if is_plant is not None:
            binary = _dict(self.name, is_plant, "result.is_plant").get("binary")
            if binary is not None and not isinstance(binary, bool):
                raise ProviderBadResponse(self.name, "result.is_plant.binary is not a boolean")
            if binary is False:
                return []
        classification = _dict(self.name, result.get("classification"), "result.classification")
        raw = _list(self.name, classification.get("suggestions"), "result.classification.suggestions")
        suggestions = []
        for index, item in enumerate(raw):
            where = f"result.classification.suggestions[{index}]"
            item = _dict(self.name, item, where)
            details = item.get("details")
            common = ()
            if details is not None:
                details = _dict(self.name, details, f"{where}.details")
                common = _common_names(self.name, details.get("common_names"), f"{where}.details.common_names")
            suggestions.append(
                MachineSuggestion(
                    scientific_name=_name(self.name, item.get("name"), f"{where}.name"),
                    common_names=common,
                    probability=_probability(self.name, item.get("probability"), f"{where}.probability"),
                )
            )
        return sorted(suggestions, key=lambda suggestion: -suggestion.probability)


# --- Pl@ntNet v2 ------------------------------------------------------------------------------


class PlantNetProvider(Provider):
    """Pl@ntNet v2: ``POST /v2/identify/all?api-key=...`` with a multipart/form-data body of
    ``images`` files and one ``organs`` value per image; answers 200 with ``results[]`` of
    ``{score, species: {scientificNameWithoutAuthor, commonNames}}``, or 404 "Species not
    found" when nothing matches. Source: the Pl@ntNet API v2 documentation (my.plantnet.org)."""

    name = SuggestionSource.PLANTNET.value
    api_version = "v2"

    def identify(
        self, images: list[bytes], *, latitude: float | None, longitude: float | None
    ) -> list[MachineSuggestion]:
        """See ``Provider.identify``. The organ of every photo is ``auto``; v2's identify has
        no location parameter, so ``latitude``/``longitude`` are not sent. A 404 "Species not
        found" gives ``[]``."""
        boundary = f"----portal-{secrets.token_hex(16)}"
        body = self.multipart(images, boundary=boundary)
        answer = _post(
            self.name,
            _with_query(self.url, {"api-key": self.api_key, "include-related-images": "false"}),
            body=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            timeout_seconds=self.timeout_seconds,
        )
        if answer.status == 404 and self.is_species_not_found(answer.body):
            return []
        _raise_for_status(self.name, answer)
        return self.parse(_json(self.name, answer.body))

    @staticmethod
    def is_species_not_found(body: bytes) -> bool:
        """True for v2's "no match" answer: ``{"statusCode": 404, "error": "Not Found",
        "message": "Species not found"}`` (any other 404, such as a wrong URL, is an error)."""
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return False
        message = document.get("message") if isinstance(document, dict) else None
        return isinstance(message, str) and message.strip().lower() == "species not found"

    @staticmethod
    def multipart(images: list[bytes], *, boundary: str) -> bytes:
        """Encode ``images`` as multipart/form-data (RFC 7578): one ``organs=auto`` field and
        one ``images`` file part per photo, in the photos' order."""
        lines: list[bytes] = []
        delimiter = f"--{boundary}".encode("ascii")
        for _ in images:
            lines += [delimiter, b'Content-Disposition: form-data; name="organs"', b"", b"auto"]
        for position, image in enumerate(images, start=1):
            content_type = _sniff_content_type(image)
            extension = {"image/png": "png", "image/webp": "webp"}.get(content_type, "jpg")
            disposition = f'form-data; name="images"; filename="photo-{position}.{extension}"'
            lines += [
                delimiter,
                f"Content-Disposition: {disposition}".encode("ascii"),
                f"Content-Type: {content_type}".encode("ascii"),
                b"",
                image,
            ]
        lines += [delimiter + b"--", b""]
        return b"\r\n".join(lines)

    def parse(self, document: object) -> list[MachineSuggestion]:
        """Turn a decoded v2 identify answer into suggestions; raises ``ProviderBadResponse``
        when a required member is missing or of the wrong type."""
        root = _dict(self.name, document, "the answer")
        raw = _list(self.name, root.get("results"), "results")
        suggestions = []
        for index, item in enumerate(raw):
            where = f"results[{index}]"
            item = _dict(self.name, item, where)
            species = _dict(self.name, item.get("species"), f"{where}.species")
            suggestions.append(
                MachineSuggestion(
                    scientific_name=_name(
                        self.name,
                        species.get("scientificNameWithoutAuthor"),
                        f"{where}.species.scientificNameWithoutAuthor",
                    ),
                    common_names=_common_names(self.name, species.get("commonNames"), f"{where}.species.commonNames"),
                    probability=_probability(self.name, item.get("score"), f"{where}.score"),
                )
            )
        return sorted(suggestions, key=lambda suggestion: -suggestion.probability)


def configured_providers() -> list[Provider]:
    """The providers whose API keys are set (``PLANT_ID_API_KEY``, ``PLANTNET_API_KEY``), read
    from settings at each call, Plant.id first. An empty list means identification requests go
    straight to the community."""
    providers: list[Provider] = []
    if settings.PLANT_ID_API_KEY:
        providers.append(
            PlantIdProvider(
                api_key=settings.PLANT_ID_API_KEY,
                url=settings.PLANT_ID_API_URL,
                timeout_seconds=float(settings.PLANT_ID_TIMEOUT_SECONDS),
            )
        )
    if settings.PLANTNET_API_KEY:
        providers.append(
            PlantNetProvider(
                api_key=settings.PLANTNET_API_KEY,
                url=settings.PLANTNET_API_URL,
                timeout_seconds=float(settings.PLANTNET_TIMEOUT_SECONDS),
            )
        )
    return providers
