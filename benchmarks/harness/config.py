"""Options, environment and machine facts for ``make bench``; imports nothing from Django
(``benchmarks/settings.py`` reads the names below before Django is set up)."""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PLANS_DIR = ROOT / "benchmarks" / "plans"
OUTPUT = ROOT / "bench-output"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"

# The setting that turns the Redis panel fragment cache on and off (issue 13 part 1). The
# harness detects the cache by this name in django.conf.settings: when it is missing, hit rows
# print "n/a: panel cache not present" and panels are measured uncached. Adjust the name here if
# the cache's setting is spelled differently.
PANEL_CACHE_SETTING = "DASHBOARD_PANEL_CACHE"
# What benchmarks/settings.py reads: "on" or "off" sets PANEL_CACHE_SETTING for gunicorn.
PANEL_CACHE_ENV = "BENCH_PANEL_CACHE"
# What benchmarks/settings.py reads to choose the database connection handling under gunicorn
# (issue 13 part 5); the values are the keys of CONNECTION_MODES.
CONNECTION_ENV = "BENCH_DB_CONNECTIONS"
CONNECTION_MODES = {
    "health-checks": "persistent connections (CONN_MAX_AGE 60) with CONN_HEALTH_CHECKS: the production settings",
    "pool": "psycopg's pool (OPTIONS pool, CONN_MAX_AGE 0, no health checks)",
    "persistent": "persistent connections (CONN_MAX_AGE 60) without health checks: what the check costs",
}
# A one-minute load average at or above this share of the cores before the run marks the
# machine as busy in the report (afterwards the average holds the run's own load: gunicorn and
# wrk fill both cores).
BUSY_LOAD_PER_CORE = 0.5


def parse_args(argv: list[str] | None = None, *, doc: str = "") -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=doc.split("\n\n")[0], epilog=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=("small", "large"), default="small")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a fast look while developing: 1 run per case, 0.4 s cases, 2 s load runs (not a result)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of every case; the median is kept (default 3)")
    parser.add_argument("--iterations", type=int, default=200, help="most timed requests per case and run")
    parser.add_argument("--min-iterations", type=int, default=20, help="fewest timed requests per case and run")
    parser.add_argument(
        "--case-seconds",
        type=float,
        default=None,
        help="a case's run stops after this once it has --min-iterations (default 1.5 small, 3 large); "
        "a slow one (a naive baseline) stops at 3x with 3 requests",
    )
    parser.add_argument(
        "--load-seconds", type=int, default=None, help="each wrk run (default 5 small, 10 large; 0: no load phase)"
    )
    parser.add_argument("--load-users", type=int, default=20, help="signed-in gardeners under load (default 20)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections at saturation (default 16)")
    parser.add_argument(
        "--closed-connections", type=int, default=2, help="wrk connections below saturation (default 2)"
    )
    parser.add_argument(
        "--connection-modes",
        default="health-checks,pool",
        help=f"database connection handlings compared under gunicorn, of {', '.join(CONNECTION_MODES)} "
        "(default health-checks,pool; the first is the one the targets use)",
    )
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn + wrk phase")
    parser.add_argument("--no-plans", action="store_true", help="skip EXPLAIN (plans/<scale>.md is kept)")
    parser.add_argument(
        "--load-only", action="store_true", help="only the load phase (with --quick: iterating on it; not a result)"
    )
    parser.add_argument("--reseed", action="store_true", help="flush and seed the scale again")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="Markdown file to update (default benchmarks/RESULTS.md; with --quick bench-output/RESULTS-quick.md)",
    )
    args = parser.parse_args(argv)
    # A quick look is not a result: it never replaces the committed report or plans.
    args.output = args.output or (OUTPUT / "RESULTS-quick.md" if args.quick else RESULTS)
    args.plans_dir = OUTPUT / "plans-quick" if args.quick else PLANS_DIR
    if args.quick:
        args.runs, args.min_iterations, args.iterations = 1, 5, 50
        args.case_seconds = args.case_seconds or 0.4
        args.load_seconds = 2 if args.load_seconds is None else args.load_seconds
    if args.case_seconds is None:
        args.case_seconds = 1.5 if args.scale == "small" else 3.0
    if args.load_seconds is None:
        args.load_seconds = 5 if args.scale == "small" else 10
    if args.no_load:
        args.load_seconds = 0
    args.load_seconds = min(args.load_seconds, 20)  # issue 13: each load run capped at about 20 s
    modes = [m.strip() for m in args.connection_modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in CONNECTION_MODES]
    if unknown or not modes:
        parser.error(f"--connection-modes: unknown {unknown}; choose from {', '.join(CONNECTION_MODES)}")
    args.connection_modes = modes
    args.runs = max(1, args.runs)
    return args


def database_url(scale: str) -> str:
    base = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    if scale == "small":
        return base
    if os.environ.get("BENCH_LARGE_DATABASE_URL"):
        return os.environ["BENCH_LARGE_DATABASE_URL"]
    parts = urlparse(base)
    return urlunparse(parts._replace(path=parts.path.rstrip("/") + "_large"))


def configure_environment(url: str) -> None:
    """What ``benchmarks.settings`` (production settings) reads; gunicorn inherits it."""
    name = urlparse(url).path.lstrip("/")
    if not name or name.startswith("test"):
        sys.exit(f"Refusing to benchmark against database {name!r}: use a database of its own (e.g. portal_bench).")
    OUTPUT.mkdir(exist_ok=True)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "DATABASE_URL": url,
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL,
            "DEBUG": "false",
            "SECRET_KEY": "bench-" + secrets.token_hex(32),
            "JWT_SECRET_KEY": "bench-jwt-" + secrets.token_hex(32),
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SECURE_SSL_REDIRECT": "false",
            "MEDIA_ROOT": str(OUTPUT / "media"),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
    )
    os.environ.pop(PANEL_CACHE_ENV, None)
    os.environ.pop(CONNECTION_ENV, None)


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = urlunparse(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                print(f"Creating database {name}")
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        sys.exit(
            f"make bench needs PostgreSQL at {urlunparse(parts._replace(path=''))} ({str(error).strip()}).\n"
            "  Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
            "  or set BENCH_DATABASE_URL."
        )


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def is_busy(load_average: float) -> bool:
    """Whether a one-minute load average taken before the run (the benchmark not yet running)
    says other work shared the machine (``BUSY_LOAD_PER_CORE`` of the cores)."""
    return load_average >= BUSY_LOAD_PER_CORE * cores()


def machine() -> dict:
    """Cores, CPU, memory, versions; the caller adds PostgreSQL's after Django is set up."""

    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "unknown"

    memory_kib = first("/proc/meminfo", "MemTotal").split()[0]
    return {
        "nproc": cores(),
        "cpu": first("/proc/cpuinfo", "model name"),
        "ram_gib": round(int(memory_kib) / 1024 / 1024, 1) if memory_kib.isdigit() else "unknown",
        "python": platform.python_version(),
    }
