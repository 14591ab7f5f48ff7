"""``make bench`` / ``make bench-large``: issue 13's measurements of the request path against
its floors, a naive baseline and its targets, on PostgreSQL and Redis.

    .venv/bin/python benchmarks/run.py [--scale small|large] [--quick] [--runs N]
        [--case-seconds S] [--load-seconds S] [--connection-modes health-checks,pool]
        [--no-load] [--no-plans] [--load-only] [--reseed]

The steps, one module each in ``benchmarks/harness/``:

1. **Data** (``data``). ``BENCH_DATABASE_URL`` (default ``portal_bench``) holds the small
   scale, ``<name>_large`` (or ``BENCH_LARGE_DATABASE_URL``) the large one; created, migrated
   and seeded (``seed_demo --scale``) when missing, reused afterwards. Redis db 14
   (``BENCH_REDIS_URL``) is emptied first.
2. **In process** (``inprocess``). Django's test client, warm session, the whole middleware
   stack: the two floors (no SQL; signed-in: session and user lookup), every dashboard panel as
   a cache hit and a cache miss (the panel cache is found by its setting, ``config``'s
   ``PANEL_CACHE_SETTING``; without it, hits are "n/a" and panels are measured uncached), the
   whole dashboard with caching off and the other budgeted pages against the naive baseline
   (``benchmarks/naive.py``); a quiet and the most active gardener (the moderator for the
   moderators' panel). Every row ``--runs`` times, the median kept; statements and rows
   returned printed beside the times.
3. **Plans** (``plans``). ``EXPLAIN (ANALYZE, BUFFERS)`` of every statement our views sent,
   planning beside execution time, into ``benchmarks/plans/<scale>.md``.
4. **Load** (``load``). gunicorn (2 sync workers) and wrk: the floors and the panels a
   gardener sees, with 2 connections (service time) and 16 (throughput), for each database
   connection handling (``CONN_HEALTH_CHECKS``, psycopg's pool) and with the panel cache on
   and off; each run at most 20 s.
5. **Report** (``report``). The targets first, met or not with figures, then the tables, into
   this scale's section of ``benchmarks/RESULTS.md``; the machine's load average before and
   after, and whether it was busy.

It exits non-zero only when it cannot run (no PostgreSQL, a view raising, a seeding error),
never on a timing. ``--quick`` (one short run of everything) is for development, not a result.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import config


def main(argv: list[str] | None = None) -> int:
    args = config.parse_args(argv, doc=__doc__)
    run_started = time.perf_counter()
    started = datetime.now(UTC)
    info = {**config.machine(), "load_before": os.getloadavg()}
    url = config.database_url(args.scale)
    config.configure_environment(url)
    config.ensure_database(url)
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.db import models

    from apps.accounts.models import User
    from apps.demo.seeding import scaled
    from benchmarks.harness import data, inprocess, load, plans, report

    if settings.PORTAL_DEFAULT_FETCH_MODE is not models.FETCH_ONE or settings.DEBUG:
        sys.exit("The benchmark settings must keep FETCH_ONE and DEBUG off.")
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.RedisError as error:
        sys.exit(f"make bench needs Redis at {settings.REDIS_URL} ({error}).")
    print(
        f"make bench --scale {args.scale}: database {urlparse(url).path.lstrip('/')}, Redis {settings.REDIS_URL}; "
        f"load average {info['load_before'][0]:.2f}"
    )
    import django as django_module

    info.update({"django": django_module.get_version(), "postgresql": data.postgresql_version()})
    seed_seconds = data.prepare_data(args.scale, reseed=args.reseed)
    sizes = data.table_rows(exact=data.DATA_TABLES)
    quiet = scaled.quiet_gardener_username()
    gardeners = [
        inprocess.Gardener("quiet", User.objects.get(username=quiet)),
        inprocess.Gardener("active", User.objects.get(username="gardener")),
    ]
    moderator = inprocess.Gardener("moderator", User.objects.get(username="moderator"))
    cache = "present" if inprocess.panel_cache_present() else inprocess.NOT_PRESENT
    print(f"Gardeners: quiet {quiet}, most active gardener, moderator; panel cache: {cache}")

    statements: dict = {}
    cases = []
    if not args.load_only:
        print(f"In process ({args.runs} runs of every row):")
        cases = inprocess.measure(gardeners, moderator, args, statements)
    found = None
    if not args.no_plans and not args.load_only:
        print("Plans:")
        found = plans.lookups_and_plans(gardeners[-1].user, statements)
        flagged = [p for p in found["plans"] if p["summary"]["seq_scans"]]
        print(
            f"  {len(found['plans'])} plans; sequential scans of large tables: "
            + (", ".join(f"{p['label']} ({p['gardener']})" for p in flagged) or "none")
        )
        args.plans_dir.mkdir(parents=True, exist_ok=True)
        plans_path = args.plans_dir / f"{args.scale}.md"
        report.write_plans(plans_path, scale=args.scale, started=started, found=found)
        print(f"  written to {plans_path}")
    loaded = None
    if args.load_seconds > 0:
        print(f"Load ({args.load_seconds} s a run, {args.runs} runs):")
        loaded = load.load(args, [g.user for g in gardeners])
    text = report.section(
        args=args,
        info=info,
        sizes=sizes,
        data_tables=data.DATA_TABLES,
        seed_seconds=seed_seconds,
        cases=cases,
        found=found,
        loaded=loaded,
        gardeners=gardeners,
        started=started,
        elapsed=time.perf_counter() - run_started,
        load_after=os.getloadavg(),
    )
    print()
    print(text.split("<details>")[0])
    report.write_results(args.output, args.scale, text)
    print(f"Written to {args.output}")
    return 1 if any(c.error for c in cases) else 0


if __name__ == "__main__":
    sys.exit(main())
