"""Load: gunicorn (2 sync workers) on 127.0.0.1 driven by wrk (``benchmarks/load.lua``) with
signed-in gardeners' sessions, each target twice: with ``--closed-connections`` (1-2, a closed
loop below saturation: latency is service time) and with ``--connections`` (saturation:
throughput). One gunicorn per database connection handling (``--connection-modes``) and, with
the panel cache present, one more with the cache off for the miss case. Every run is repeated
``--runs`` times (the targets of one gunicorn in rotation) and the median kept; gunicorn is
stopped whatever happens."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from .config import CONNECTION_ENV, CONNECTION_MODES, OUTPUT, PANEL_CACHE_ENV, ROOT
from .inprocess import BenchError, panel_cache_present

WORKERS = 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_sessions(count: int, users: list) -> list[str]:
    """``count`` signed-in sessions (``cached_db``: the database and Redis), warm, as
    ``login()`` leaves them, as Cookie header values: ``users`` first, then seeded gardeners by id."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore

    from apps.accounts.models import User
    from apps.core.middleware import SESSION_AUTH_AT_KEY, SESSION_RENEWED_AT_KEY

    users = list(users)
    users += list(
        User.objects.filter(is_active=True, is_superuser=False)
        .exclude(pk__in=[u.pk for u in users])
        .order_by("id")[: max(count - len(users), 0)]
    )
    cookies = []
    now = int(time.time())
    for user in users[:count]:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store[SESSION_AUTH_AT_KEY] = now
        store[SESSION_RENEWED_AT_KEY] = now
        store.create()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={store.session_key}")
    return cookies


def run_wrk(url: str, *, seconds: int, connections: int, cookies: Path, paths: Path) -> dict:
    """One wrk run; its JSON line (``load.lua``'s ``done()``) plus req/s and the error total."""
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "benchmarks" / "load.lua"),
        url,
        "--",
        str(cookies),
        str(paths),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            result = json.loads(line)
            result["rps"] = result["requests"] / result["seconds"] if result["seconds"] else 0.0
            result["errors"] = sum(
                result[k] for k in ("not_200", "connect_errors", "read_errors", "write_errors", "timeouts")
            )
            return result
    raise BenchError(f"wrk printed no result: {done.stdout[-500:]} {done.stderr[-500:]}")


def transactions() -> int:
    """PostgreSQL's count of committed and rolled-back transactions in this database so far.
    Each statement outside a transaction is one (the user lookup, ``CONN_HEALTH_CHECKS``'
    ``SELECT 1``). A busy backend publishes its counters at most once a second and an idle one
    within 10 s (PostgreSQL 15's PGSTAT_IDLE_INTERVAL), hence the wait."""
    from django.db import connection

    time.sleep(11)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def round_trips(url: str, *, cookies: Path, paths: Path) -> float:
    """Database round trips (transactions) per request of a 3 s closed-loop wrk run on
    ``paths``: the signed-in floor's user lookup is 1, ``CONN_HEALTH_CHECKS`` adds its ``SELECT
    1``. The harness's own two statements are in the difference (under 0.01 a request)."""
    before = transactions()
    result = run_wrk(url, seconds=3, connections=2, cookies=cookies, paths=paths)
    return (transactions() - before) / max(result["requests"], 1)


def median_run(reps: list[dict]) -> dict:
    """The median of each figure over the repetitions; errors and requests are summed."""
    keys = ("rps", "p50_ms", "p95_ms", "p99_ms", "max_ms")
    merged = {k: statistics.median(r[k] for r in reps) for k in keys}
    merged["errors"] = sum(r["errors"] for r in reps)
    merged["requests"] = sum(r["requests"] for r in reps)
    merged["reps"] = len(reps)
    return merged


class Server:
    """gunicorn with the benchmark settings and ``env`` on a free port."""

    def __init__(self, env: dict[str, str], label: str) -> None:
        self.port = free_port()
        self.label = label
        self.log_path = OUTPUT / f"gunicorn-{label.replace(' ', '-').replace(',', '')}.log"
        self.env = {**os.environ, **env}

    def __enter__(self) -> Server:
        self.log = self.log_path.open("w")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "benchmarks.wsgi:application",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
            "--timeout",
            "30",
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise BenchError(f"gunicorn did not start; see {self.log_path}")
            time.sleep(0.3)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def warm(self, cookies: list[str], paths: list[str]) -> None:
        """Every gardener's every path once (fills the panel cache, opens both workers'
        connections), outside the timing."""
        for cookie in cookies:
            for path in paths:
                request = urllib.request.Request(self.url + path, headers={"Cookie": cookie, "HX-Request": "true"})
                with urllib.request.urlopen(request, timeout=30) as answer:
                    answer.read()

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.close()


def plan(args) -> list[dict]:
    """The gunicorns to start: connection handling, panel cache, and the targets each serves."""
    from apps.dashboard import views as dashboard_views

    cache = panel_cache_present()
    hidden = getattr(dashboard_views, "MODERATOR_PANELS", set())
    panels = [reverse("dashboard:panel", args=[name]) for name in dashboard_views.PANELS if name not in hidden]
    floors = {"no-SQL floor": [reverse("bench-floor")], "signed-in floor": [reverse("bench-signed-in")]}
    panel_label = "panels, cache on (hits)" if cache else "panels (no panel cache: every request builds)"
    servers = []
    for number, mode in enumerate(args.connection_modes):
        targets = dict(floors) if number == 0 else {"signed-in floor": floors["signed-in floor"]}
        targets[panel_label] = panels
        env = {CONNECTION_ENV: mode, **({PANEL_CACHE_ENV: "on"} if cache else {})}
        servers.append({"mode": mode, "cache": "on" if cache else "absent", "env": env, "targets": targets})
        if number == 0 and cache:
            servers.append(
                {
                    "mode": mode,
                    "cache": "off",
                    "env": {CONNECTION_ENV: mode, PANEL_CACHE_ENV: "off"},
                    "targets": {"panels, cache off (misses)": panels},
                }
            )
    return servers


def load(args, users: list) -> dict | None:
    """Every server of ``plan()``: its targets at both connection counts, ``args.runs`` times.
    Returns ``{"runs": [...], "servers": [...], ...}`` or None without wrk."""
    if not shutil.which("wrk"):
        print("wrk is not installed (make bench installs it: apt-get install -y wrk); skipping the load phase.")
        return None
    levels = {"closed": args.closed_connections, "saturation": args.connections}
    results = {
        "seconds": args.load_seconds,
        "users": args.load_users,
        "levels": levels,
        "workers": WORKERS,
        "runs": [],
        "servers": [],
    }
    cookie_file = OUTPUT / "load-cookies.txt"
    for server_plan in plan(args):
        mode = server_plan["mode"]
        label = f"{mode}, panel cache {server_plan['cache']}"
        entry = {"label": label, "mode": mode, "cache": server_plan["cache"], "load_before": os.getloadavg()[0]}
        results["servers"].append(entry)
        if mode == "pool" and importlib.util.find_spec("psycopg_pool") is None:
            entry["skipped"] = "n/a: psycopg_pool is not installed (pip install -r requirements.txt)"
            print(f"  {label}: {entry['skipped']}")
            continue
        cookies = load_sessions(args.load_users, users)
        cookie_file.write_text("\n".join(cookies) + "\n")
        with Server(server_plan["env"], label) as server:
            print(f"  gunicorn {label} (pid {server.process.pid}, 127.0.0.1:{server.port}, {WORKERS} workers)")
            reps: dict[tuple[str, str], list[dict]] = {}
            for target, paths in server_plan["targets"].items():
                server.warm(cookies, paths)
            for _rep in range(args.runs):
                for target, paths in server_plan["targets"].items():
                    path_file = OUTPUT / "load-paths.txt"
                    path_file.write_text("\n".join(paths) + "\n")
                    for level, connections in levels.items():
                        result = run_wrk(
                            server.url,
                            seconds=args.load_seconds,
                            connections=connections,
                            cookies=cookie_file,
                            paths=path_file,
                        )
                        reps.setdefault((target, level), []).append(result)
            if "signed-in floor" in server_plan["targets"]:
                floor_paths = OUTPUT / "load-paths.txt"
                floor_paths.write_text(reverse("bench-signed-in") + "\n")
                entry["round_trips"] = round_trips(server.url, cookies=cookie_file, paths=floor_paths)
                print(f"    signed-in floor: {entry['round_trips']:.2f} database round trips a request")
            for (target, level), runs in reps.items():
                merged = median_run(runs)
                merged.update({"server": label, "mode": mode, "cache": server_plan["cache"]})
                merged.update({"target": target, "level": level, "connections": levels[level]})
                results["runs"].append(merged)
                print(
                    f"    {target:<46} {level:<10} c={levels[level]:<3} {merged['rps']:8.1f} req/s  "
                    f"p50 {merged['p50_ms']:.2f}  p95 {merged['p95_ms']:.2f} ms  errors {merged['errors']}",
                    flush=True,
                )
        entry["load_after"] = os.getloadavg()[0]
    results["modes"] = {m: CONNECTION_MODES[m] for m in args.connection_modes}
    return results
