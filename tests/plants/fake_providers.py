"""A local HTTP server that speaks Plant.id v3 and Pl@ntNet v2, so the real clients run in tests.

STYLE "Tests": a fake is allowed only for a third-party service that cannot be reached, and then
it is a local HTTP server speaking the documented format. Each test scripts what the server
answers (per provider: a queue of ``Reply`` objects, then a default) and reads back what it
received (``Received``: headers, query, JSON body or multipart parts, start and end times).
"""

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

PLANT_ID = "plant_id"
PLANTNET = "plantnet"
PATHS = {"/plant-id/v3/identification": PLANT_ID, "/plantnet/v2/identify/all": PLANTNET}


@dataclass
class Reply:
    """What the server answers: ``status``; a JSON document ``json`` or raw ``body`` bytes;
    extra ``headers``; ``delay`` seconds before the status line; ``drip`` seconds between the
    body's bytes (a server that keeps a slow connection alive)."""

    status: int = 200
    json: object = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drip: float = 0.0

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        return json.dumps(self.json).encode("utf-8")


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    content: bytes


@dataclass
class Received:
    """One request the server received; ``finished`` is set once the answer was written (or
    the client went away)."""

    provider: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    started: float
    finished: float | None = None
    json: object = None
    parts: list[Part] = field(default_factory=list)
    multipart_ok: bool = False


def plant_id_answer(*suggestions: tuple[str, float, list[str] | None], is_plant: bool = True) -> Reply:
    """A Plant.id v3 ``201 Created`` identification with ``(name, probability, common_names)``
    suggestions, shaped like the documented example answer."""
    return Reply(
        status=201,
        json={
            "access_token": "xYzAbC123",
            "model_version": "plant_id:4.1.2",
            "custom_id": None,
            "input": {"images": ["https://plant.id/media/imgs/input.jpg"], "similar_images": False},
            "result": {
                "is_plant": {"probability": 0.99 if is_plant else 0.02, "threshold": 0.5, "binary": is_plant},
                "classification": {
                    "suggestions": [
                        {
                            "id": f"s{index}",
                            "name": name,
                            "probability": probability,
                            "details": {"language": "en", "entity_id": f"e{index}", "common_names": common},
                        }
                        for index, (name, probability, common) in enumerate(suggestions)
                    ]
                },
            },
            "status": "COMPLETED",
            "sla_compliant_client": True,
            "sla_compliant_system": True,
            "created": 1700000000.0,
            "completed": 1700000001.2,
        },
    )


def plantnet_answer(*results: tuple[str, float, list[str]]) -> Reply:
    """A Pl@ntNet v2 ``200`` identify answer with ``(scientific name, score, common names)``
    results, shaped like the documented example answer."""
    return Reply(
        status=200,
        json={
            "query": {"project": "all", "images": ["a1b2"], "organs": ["auto"], "includeRelatedImages": False},
            "language": "en",
            "preferedReferential": "k-world-flora",
            "bestMatch": f"{results[0][0]} Auth." if results else "",
            "results": [
                {
                    "score": score,
                    "species": {
                        "scientificNameWithoutAuthor": name,
                        "scientificNameAuthorship": "Auth.",
                        "genus": {"scientificNameWithoutAuthor": name.split()[0], "scientificNameAuthorship": ""},
                        "family": {"scientificNameWithoutAuthor": "Araceae", "scientificNameAuthorship": ""},
                        "commonNames": common,
                        "scientificName": f"{name} Auth.",
                    },
                    "gbif": {"id": "2868241"},
                }
                for name, score, common in results
            ],
            "version": "2024-01-01 (7.1)",
            "remainingIdentificationRequests": 498,
        },
    )


def plantnet_not_found() -> Reply:
    """Pl@ntNet v2's answer when no species matches."""
    return Reply(status=404, json={"statusCode": 404, "error": "Not Found", "message": "Species not found"})


def _parse_multipart(content_type: str, body: bytes) -> tuple[list[Part], bool]:
    """Split a multipart/form-data body (RFC 7578) strictly; ``ok`` is False when it is not
    well formed (missing boundary, no closing delimiter, parts without headers)."""
    boundary = None
    for item in content_type.split(";")[1:]:
        key, _, value = item.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not content_type.lower().startswith("multipart/form-data") or not boundary:
        return [], False
    delimiter = b"--" + boundary.encode("ascii")
    sections = body.split(b"\r\n" + delimiter)
    if not sections[0].startswith(delimiter):
        return [], False
    sections[0] = sections[0][len(delimiter) :]
    if sections[-1] not in (b"--", b"--\r\n"):
        return [], False
    parts = []
    for section in sections[:-1]:
        if not section.startswith(b"\r\n"):
            return [], False
        head, separator, content = section[2:].partition(b"\r\n\r\n")
        if not separator:
            return [], False
        headers = {}
        for line in head.decode("utf-8").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        params = {}
        for item in disposition.split(";")[1:]:
            key, _, value = item.strip().partition("=")
            params[key.lower()] = value.strip('"')
        parts.append(Part(params.get("name", ""), params.get("filename"), headers.get("content-type"), content))
    return parts, True


class FakeProviderServer:
    """``ThreadingHTTPServer`` on 127.0.0.1 and a free port, serving both APIs from a thread.

    ``plant_id_url`` and ``plantnet_url`` are the endpoints to put in settings. By default each
    answers a confident "Monstera deliciosa"; ``script(provider, *replies)`` queues answers
    (used in order, then the default), ``default(provider, reply)`` replaces the default.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._queues: dict[str, list[Reply]] = defaultdict(list)
        self._defaults: dict[str, Reply] = {
            PLANT_ID: plant_id_answer(("Monstera deliciosa", 0.93, ["Swiss cheese plant"])),
            PLANTNET: plantnet_answer(("Monstera deliciosa", 0.87, ["Swiss cheese plant"])),
        }
        self._received: list[Received] = []
        self._stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.httpd.daemon_threads = True
        # A short poll interval keeps shutdown() (once per test) from waiting the default 0.5 s.
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-providers", daemon=True
        )

    # -- scripting -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def plant_id_url(self) -> str:
        return f"{self.base_url}/plant-id/v3/identification"

    @property
    def plantnet_url(self) -> str:
        return f"{self.base_url}/plantnet/v2/identify/all"

    def script(self, provider: str, *replies: Reply) -> None:
        """Queue ``replies`` for ``provider`` (``PLANT_ID`` or ``PLANTNET``), used in order."""
        with self._lock:
            self._queues[provider].extend(replies)

    def default(self, provider: str, reply: Reply) -> None:
        """Answer ``provider``'s requests with ``reply`` once its queue is empty."""
        with self._lock:
            self._defaults[provider] = reply

    def requests(self, provider: str | None = None) -> list[Received]:
        """What the server received (for ``provider``, or all), oldest first."""
        with self._lock:
            return [item for item in self._received if provider is None or item.provider == provider]

    def wait_finished(self, timeout: float = 5.0) -> None:
        """Wait until every received request has been answered (or abandoned by its client)."""
        deadline = time.monotonic() + timeout
        while any(item.finished is None for item in self.requests()) and time.monotonic() < deadline:
            time.sleep(0.01)

    def _next_reply(self, provider: str) -> Reply:
        with self._lock:
            queue = self._queues[provider]
            return queue.pop(0) if queue else self._defaults[provider]

    def _record(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "FakeProviderServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "FakeProviderServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def do_POST(self):
                started = time.monotonic()
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                provider = PATHS.get(parts.path)
                received = Received(
                    provider=provider or "unknown",
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=body,
                    started=started,
                )
                content_type = self.headers.get("Content-Type", "")
                if content_type.startswith("application/json"):
                    try:
                        received.json = json.loads(body)
                    except ValueError:
                        received.json = None
                elif content_type.startswith("multipart/"):
                    received.parts, received.multipart_ok = _parse_multipart(content_type, body)
                server._record(received)
                try:
                    if provider is None:
                        self._answer(Reply(status=404, json={"error": "no such path"}))
                    else:
                        self._answer(server._next_reply(provider))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout), as real clients do
                finally:
                    received.finished = time.monotonic()
                    self.close_connection = True

            def _answer(self, reply: Reply):
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                payload = reply.payload()
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                for key, value in reply.headers.items():
                    if key.lower() != "content-type":
                        self.send_header(key, value)
                self.end_headers()
                if not reply.drip:
                    self.wfile.write(payload)
                    return
                for index in range(len(payload)):
                    self.wfile.write(payload[index : index + 1])
                    self.wfile.flush()
                    if server._stopping.wait(reply.drip):
                        return

        return Handler


@pytest.fixture
def fake_providers(settings):
    """Both providers configured with API keys and pointed at a fresh ``FakeProviderServer``;
    timeouts of 0.5 s so slow-answer tests stay quick."""
    with FakeProviderServer() as server:
        settings.PLANT_ID_API_URL = server.plant_id_url
        settings.PLANT_ID_API_KEY = "test-plant-id-key"
        settings.PLANT_ID_TIMEOUT_SECONDS = 0.5
        settings.PLANTNET_API_URL = server.plantnet_url
        settings.PLANTNET_API_KEY = "test-plantnet-key"
        settings.PLANTNET_TIMEOUT_SECONDS = 0.5
        yield server
