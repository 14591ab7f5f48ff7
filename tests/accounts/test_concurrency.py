"""Exact counting under real concurrency: threads and separate server processes against real
PostgreSQL and Redis, started on a barrier (STYLE "Tests")."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from apps.accounts.lockout import PREFIX
from apps.core.redis import get_strict_redis
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.hashers import hash_count, hash_count_reset

pytestmark = pytest.mark.django_db(transaction=True)
PROJECT = Path(__file__).resolve().parents[2]


def _run_on_barrier(count: int, work):
    """Run ``work(index)`` in ``count`` threads released together; return (results, spans)."""
    barrier = threading.Barrier(count)
    results, spans = [None] * count, [None] * count

    def runner(index):
        try:
            barrier.wait()
            start = time.monotonic()
            results[index] = work(index)
            spans[index] = (start, time.monotonic())
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, spans


def _max_in_flight(spans) -> int:
    """The most requests that were running at the same moment."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def _overlapped(spans, *, at_least: int = 5) -> bool:
    """The threads really ran concurrently: at some moment ``at_least`` were in flight (on a
    busy 2-core machine not all 50 need to overlap for the burst to be a burst)."""
    return _max_in_flight(spans) >= at_least


def test_fifty_concurrent_wrong_passwords_run_at_most_ten_checks_and_lock_once():
    """50 parallel wrong passwords for one account: exactly 10 password checks (401), the rest
    refused before any hash (429), the account locked, exactly one email."""
    user = UserFactory(username="rosa")
    hash_count_reset()
    mail.outbox = []

    def attempt(_index):
        response = Client().post(
            "/api/auth/token/", {"username": "rosa", "password": "wrong-guess-123"}, content_type="application/json"
        )
        return response.status_code

    statuses, spans = _run_on_barrier(50, attempt)
    assert _overlapped(spans, at_least=11), f"only {_max_in_flight(spans)} attempts overlapped"
    assert hash_count() == 10
    assert sorted(statuses).count(401) == 10 and sorted(statuses).count(429) == 40
    assert get_strict_redis().pttl(f"{PREFIX}:lock:user:{user.pk}") > 3_500_000
    assert [message.to for message in mail.outbox] == [["rosa@example.com"]]


def test_twenty_concurrent_refreshes_with_one_token_yield_one_successor():
    """Parallel tabs refreshing with the same token all get the same successor pair."""
    UserFactory(username="rosa")
    pair = (
        Client()
        .post("/api/auth/token/", {"username": "rosa", "password": DEFAULT_PASSWORD}, content_type="application/json")
        .json()
    )

    def refresh(_index):
        response = Client().post(
            "/api/auth/token/refresh/", {"refresh": pair["refresh"]}, content_type="application/json"
        )
        return response.status_code, response.json()

    results, spans = _run_on_barrier(20, refresh)
    assert _overlapped(spans)
    assert {status for status, _ in results} == {200}
    assert len({body["refresh"] for _, body in results}) == 1
    assert len({body["access"] for _, body in results}) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post_json(url: str, payload: dict) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def two_servers(tmp_path, settings):
    """Two gunicorn processes (one worker each) on the test database and the test Redis db,
    writing mail to one shared folder."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "TEST_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TEST_REDIS_URL": settings.REDIS_URL,
        "PORTAL_TEST_EMAIL_DIR": str(mail_dir),
    }
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "1",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "portal.wsgi:application",
            ],
            cwd=PROJECT,
            env=env,
            start_new_session=True,
        )
        for port in ports
    ]
    try:
        deadline = time.monotonic() + 60
        for port in ports:
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("gunicorn did not start") from None
                    time.sleep(0.2)
        yield [f"http://127.0.0.1:{port}" for port in ports], mail_dir
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)


def test_two_server_processes_lock_at_exactly_the_tenth_failure(two_servers):
    """Failures alternate between two processes sharing Redis: 1-10 answer 401, the 11th 429,
    whichever process it reaches; one lock email in the mailbox both write to. Then a burst
    across both processes on another account still runs exactly 10 checks' worth of 401s."""
    (first, second), mail_dir = two_servers
    UserFactory(username="rosa")
    UserFactory(username="fern")
    statuses = [
        _post_json(f"{(first, second)[index % 2]}/api/auth/token/", {"username": "rosa", "password": "nope-nope-1"})
        for index in range(12)
    ]
    assert statuses == [401] * 10 + [429, 429]

    def burst(index):
        return _post_json(
            f"{(first, second)[index % 2]}/api/auth/token/", {"username": "FERN", "password": "nope-nope-1"}
        )

    results, spans = _run_on_barrier(30, burst)
    assert _overlapped(spans)
    assert sorted(results).count(401) == 10 and sorted(results).count(429) == 20
    # The file backend may append two processes' messages to one file (it names files by
    # time and object id), so count messages, not files.
    mailbox = "".join(path.read_text() for path in mail_dir.iterdir())
    locked = [
        part
        for part in mailbox.split("Subject: ")[1:]
        if part.startswith("Your Plant Community Portal account is locked")
    ]
    assert len(locked) == 2
    assert sum("To: rosa@example.com" in part for part in locked) == 1
    assert sum("To: fern@example.com" in part for part in locked) == 1
