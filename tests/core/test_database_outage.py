"""PostgreSQL outages are real (issue 11, section 2): the site runs in gunicorn processes on a
cluster the test started itself (``tests.postgres_server``), which it stops mid-test with
``pg_ctl stop -m fast`` and starts again. While it is down, pages answer 503 with the static
"temporarily unavailable" page and ``Retry-After``, the API 503 ``SERVICE_UNAVAILABLE``,
``/healthz`` 200 and ``/readyz`` 503, signed in or not, under the local settings (``DEBUG`` on,
as ``make run``) and under production settings; the first request after it is back is served."""

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import IntegrityError, InterfaceError, OperationalError, ProgrammingError, connection
from django.http import HttpResponse
from django.test import RequestFactory

from apps.accounts.models import User
from apps.core.middleware import DatabaseUnavailableMiddleware, database_unavailable_mark
from tests.factories import DEFAULT_PASSWORD, ForumFactory, UserFactory
from tests.postgres_server import _free_port, postgres_cluster

PROJECT = Path(__file__).resolve().parents[2]
NOT_INHERITED = {"DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "DEBUG"}
SETTINGS = {
    "local": {"DJANGO_SETTINGS_MODULE": "portal.settings.local"},
    "production": {
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "SECRET_KEY": "s" * 60,
        "JWT_SECRET_KEY": "j" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    },
}


class Browser:
    """A cookie-keeping HTTP client that follows no redirect. Against production settings it
    speaks as a TLS proxy would forward HTTPS (``X-Forwarded-Proto``, an ``https`` origin), so
    the ``Secure`` ``__Host-`` cookies and the CSRF origin check work as in a real browser."""

    def __init__(self, port: int, *, https: bool):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.base_headers = {"Host": f"127.0.0.1:{port}"}
        if https:
            self.base_headers |= {"X-Forwarded-Proto": "https", "Origin": f"https://127.0.0.1:{port}"}

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None):
        """Return ``(status, headers, text)``."""
        connection_ = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {**self.base_headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection_.request(method, path, body=body, headers=sent)
        response = connection_.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            for morsel in SimpleCookie(header).values():
                if morsel["max-age"] == "0":
                    self.cookies.pop(morsel.key, None)
                else:
                    self.cookies[morsel.key] = morsel.value
        connection_.close()
        return response.status, response.headers, text

    def get(self, path: str, **headers):
        return self.request("GET", path, headers=headers)

    def sign_in(self, username: str, password: str) -> int:
        _status, _headers, page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token}).encode()
        status, _headers, _text = self.request(
            "POST", "/accounts/login/", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        return status


def _copy_test_database(cluster) -> str:
    """The test database (schema and the rows the test committed) into the cluster: the same
    schema ``migrate`` made, in a second or two."""
    db = connection.settings_dict
    source = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    subprocess.run(["psql", "-q", cluster.url(), "-c", "CREATE DATABASE portal"], check=True, timeout=60)
    dump = subprocess.run(
        [cluster.bindir / "pg_dump", "--no-owner", "--no-privileges", source],
        check=True,
        capture_output=True,
        env={**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""},
        timeout=120,
    )
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", cluster.url("portal")],
        input=dump.stdout,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=120,
    )
    return cluster.url("portal")


def _start_server(name: str, database_url: str, redis_url: str) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = {
        **{key: value for key, value in os.environ.items() if key not in NOT_INHERITED},
        **SETTINGS[name],
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
        + ["tests.server_wsgi:application"],
        cwd=PROJECT,
        env=env,
        start_new_session=True,
        stderr=subprocess.DEVNULL,
    )
    return process, port


def _wait_until_up(ports, deadline_seconds: float = 60) -> None:
    deadline = time.monotonic() + deadline_seconds
    for port in ports:
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)


@pytest.fixture
def outage_world(settings):
    """A PostgreSQL cluster of the test's own holding a copy of the test database with the
    gardener ``rosa`` and a forum, and one gunicorn server per settings module on it."""
    # The servers run the real hashers (argon2), not the test settings' fast one.
    rosa = UserFactory(username="rosa")
    User.objects.filter(pk=rosa.pk).update(password=Argon2PasswordHasher().encode(DEFAULT_PASSWORD, "outagetestsalt"))
    ForumFactory(name="Houseplants", slug="houseplants")
    with postgres_cluster() as cluster:
        database_url = _copy_test_database(cluster)
        servers = {name: _start_server(name, database_url, settings.REDIS_URL) for name in SETTINGS}
        try:
            _wait_until_up([port for _process, port in servers.values()])
            yield cluster, {name: port for name, (_process, port) in servers.items()}
        finally:
            for process, _port in servers.values():
                os.killpg(process.pid, signal.SIGTERM)
            for process, _port in servers.values():
                process.wait(timeout=30)


def _is_unavailable_page(status, headers, text) -> bool:
    return (
        status == 503
        and headers["Retry-After"] == "30"
        and "Temporarily unavailable" in text
        and "Traceback" not in text
        and headers["Content-Type"].startswith("text/html")
    )


def _is_unavailable_problem(status, headers, text) -> bool:
    return (
        status == 503
        and headers["Retry-After"] == "30"
        and headers["Content-Type"] == "application/problem+json"
        and '"code": "SERVICE_UNAVAILABLE"' in text
    )


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_answers_503_and_the_site_comes_back_with_the_database(outage_world, settings):
    """Each server is asked by a signed-out browser, a signed-in one whose session is in the
    Redis cache, and a signed-in one whose cached session is gone (evicted, or Redis restarted),
    so its session is read from the database: every page, fragment and API call answers 503,
    the probes 200 / 503. Then the cluster starts again and the next requests are served."""
    cluster, ports = outage_world
    started = time.monotonic()
    browsers = {}
    for name, port in ports.items():
        anonymous, cached, uncached = (Browser(port, https=name == "production") for _ in range(3))
        for browser in (cached, uncached):
            assert browser.sign_in("rosa", DEFAULT_PASSWORD) == 302, name
            assert browser.get("/dashboard/")[0] == 200, name
        assert anonymous.get("/forum/")[0] == 200, name
        browsers[name] = {"anonymous": anonymous, "signed in": cached, "signed in, session not cached": uncached}

    cluster.stop("fast")
    cache = redis.Redis.from_url(settings.REDIS_URL)
    for browser in (kept["signed in, session not cached"] for kept in browsers.values()):
        for session_key in browser.cookies.values():
            for key in cache.scan_iter(f"*sessions.cached_db{session_key}"):
                cache.delete(key)
    wrong = []
    for name, kept in browsers.items():
        for who, browser in kept.items():
            answers = {
                "/forum/": browser.get("/forum/"),
                "/forum/f/houseplants/": browser.get("/forum/f/houseplants/"),
                "/healthz": browser.get("/healthz"),
                "/readyz": browser.get("/readyz"),
                "/api/auth/token/": browser.request(
                    "POST",
                    "/api/auth/token/",
                    body=b'{"username": "rosa", "password": "whatever-it-is"}',
                    headers={"Content-Type": "application/json"},
                ),
            }
            if who != "anonymous":
                answers |= {
                    "/dashboard/": browser.get("/dashboard/"),
                    "/dashboard/panels/plant-stats/": browser.get(
                        "/dashboard/panels/plant-stats/", **{"HX-Request": "true"}
                    ),
                    "/plants/requests/": browser.get("/plants/requests/"),
                    "/api/me/": browser.get("/api/me/"),
                    "/api/dashboard/stats/": browser.get("/api/dashboard/stats/"),
                }
            for path, (status, headers, text) in answers.items():
                if path == "/healthz":
                    right = status == 200 and '"ok"' in text
                elif path == "/readyz":
                    right = status == 503 and '"database": "unavailable"' in text
                elif path.startswith("/api/"):
                    right = _is_unavailable_problem(status, headers, text)
                else:
                    right = _is_unavailable_page(status, headers, text)
                if not right:
                    wrong.append((name, who, path, status))
    # Issue 15: a 404 page is the site's page, which reads the signed-in user. Signed out it
    # needs no database and is served in full. Signed in, the user is first read for a missing
    # file under /static/ (the time-zone middleware skips those paths): the site's page cannot
    # render, and the answer is still a 404, with the static page. (Other paths of a signed-in
    # browser need the user before the address is looked up: 503, as above. Under the local
    # settings DEBUG shows Django's own 404 page.)
    production = browsers["production"]
    for who, path, site_page in (("anonymous", "/no/such/page/", True), ("signed in", "/static/no-such.css", False)):
        status, _headers, text = production[who].get(path)
        right = status == 404 and "Page not found" in text and "Traceback" not in text
        if not right or ('<nav aria-label="Main">' in text) != site_page:
            wrong.append(("production", who, path, status))
    # Every answer checked before failing, so a regression shows its whole extent.
    assert wrong == [], "\n".join(map(str, wrong))

    cluster.start()
    for name, kept in browsers.items():
        # The first request after the database is back is served, signed in or not.
        assert kept["signed in, session not cached"].get("/dashboard/")[0] == 200, name
        assert kept["signed in"].get("/api/me/")[0] == 200, name
        assert kept["anonymous"].get("/forum/")[0] == 200, name
        assert kept["anonymous"].get("/readyz")[0] == 200, name
    print(f"outage round trip for {len(ports)} servers took {time.monotonic() - started:.1f} s")


def _marked(error: Exception) -> bool:
    request = RequestFactory().get("/forum/")
    try:
        raise error
    except Exception:
        database_unavailable_mark(None, request=request)
    return DatabaseUnavailableMiddleware(lambda _request: HttpResponse(status=500))(request).status_code == 503


def test_only_an_unreachable_database_turns_a_500_into_a_503():
    """``OperationalError`` (connection refused, server gone) and ``InterfaceError`` (connection
    closed), also as the cause of another exception, make the 500 a 503; an integrity or
    programming error is a bug and stays a 500."""
    assert _marked(OperationalError("connection refused"))
    assert _marked(InterfaceError("connection already closed"))
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError as cause:
        chained = RuntimeError("while loading the session")
        chained.__cause__ = cause
    assert _marked(chained)
    assert not _marked(IntegrityError("duplicate key"))
    assert not _marked(ProgrammingError("relation does not exist"))
    assert not _marked(ValueError("a bug"))
