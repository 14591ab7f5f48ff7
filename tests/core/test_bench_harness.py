"""The ``make bench`` harness (``benchmarks/``) where it decides something, untimed: the floor
views' statements, the plan summary (planning beside execution time), the median of runs, the
Results file's layout, the options and the settings switches for the load phase. Nothing here
measures a time (issue 13: timings belong to ``make bench``, never to a unit test)."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.harness import config, report
from benchmarks.harness.inprocess import Case
from benchmarks.harness.plans import summarize_plan

PROJECT = Path(__file__).resolve().parents[2]

PLAN = """Limit  (cost=0.29..8.31 rows=1 width=8) (actual time=0.010..0.011 rows=1 loops=1)
  Buffers: shared hit=3
  ->  Seq Scan on forum_topic  (cost=0.00..1.01 rows=1 width=8) (actual time=0.005..0.006 rows=40 loops=2)
  ->  Index Scan using accounts_user_pkey on accounts_user  (actual time=0.001..0.001 rows=1 loops=3)
Planning Time: 0.612 ms
Execution Time: 0.071 ms"""


@pytest.fixture
def bench_urls(settings):
    """The benchmark's URLconf, with the no-SQL floor exempt from the gardener's time zone as in
    ``benchmarks/settings.py``."""
    settings.ROOT_URLCONF = "benchmarks.urls"
    settings.TIME_ZONE_EXEMPT_PATH_PREFIXES = (*settings.TIME_ZONE_EXEMPT_PATH_PREFIXES, "/bench/floor")


def test_signed_in_floor_sends_only_the_user_lookup(bench_urls, gardener_client, django_assert_num_queries):
    """The signed-in floor is the session read plus the user lookup: one statement."""
    gardener_client.get("/bench/signed-in")  # the session settles (renewal) outside the count
    with django_assert_num_queries(1):
        response = gardener_client.get("/bench/signed-in")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_no_sql_floor_sends_nothing_for_a_signed_in_gardener(bench_urls, gardener_client, django_assert_num_queries):
    """The no-SQL floor stays SQL-free with a signed-in session (no user lookup for the time zone)."""
    gardener_client.get("/bench/floor")
    with django_assert_num_queries(0):
        assert gardener_client.get("/bench/floor").status_code == 200


def test_signed_in_floor_refuses_a_signed_out_request(bench_urls, client, db):
    """Signed out, the signed-in floor answers 403, so a lost session counts as an error under load."""
    assert client.get("/bench/signed-in").status_code == 403


def test_plan_summary_reports_planning_beside_execution():
    """Planning and execution time, rows read (rows times loops) and a flagged large sequential scan."""
    summary = summarize_plan(PLAN, {"forum_topic": 100_000, "accounts_user": 5})
    assert summary["planning_ms"] == 0.612
    assert summary["ms"] == 0.071
    assert summary["rows_read"] == 40 * 2 + 1 * 3
    assert summary["scans"] == ["Seq Scan forum_topic", "Index Scan accounts_user_pkey"]
    assert summary["seq_scans"] == ["forum_topic (100,000 rows)"]
    assert summary["buffers"] == "shared hit=3"


def test_plan_summary_of_a_failed_explain_has_no_times():
    summary = summarize_plan("(EXPLAIN failed: syntax error)", {})
    assert summary["ms"] != summary["ms"] and summary["planning_ms"] != summary["planning_ms"]  # NaN
    assert summary["scans"] == [] and summary["seq_scans"] == []


def test_case_keeps_the_median_of_its_runs():
    """p50 is the median of each run's median; a run spoiled by a busy moment does not move it."""
    case = Case("panel x", "active", "miss", runs=[[1.0, 2.0, 3.0], [2.0, 2.0, 2.0], [50.0, 60.0, 70.0]])
    assert case.p50 == 2.0
    assert case.n == 9
    assert case.measured
    assert not Case("panel x", "active", "hit", note="n/a").measured


def test_results_file_puts_large_first_and_keeps_the_other_scale(tmp_path):
    """Writing one scale replaces only its section; large precedes small; the method comes last."""
    path = tmp_path / "RESULTS.md"
    report.write_results(path, "small", "## Scale `small`\nfirst small")
    report.write_results(path, "large", "## Scale `large`\nlarge")
    report.write_results(path, "small", "## Scale `small`\nsecond small")
    text = path.read_text()
    assert text.startswith(report.TITLE.strip())
    assert text.index("large") < text.index("second small") < text.index("## How these are measured")
    assert "first small" not in text
    assert text.count("<!-- bench:small:start -->") == 1
    report.write_results(path, "small", "## Scale `small`\nsecond small")
    assert path.read_text() == text


def test_targets_without_a_panel_cache_say_so():
    """Without the panel cache the hit target is "n/a", and misses are still judged."""
    floor = Case(report.SIGNED_IN_FLOOR, "active", "floor", "floor", queries=1, runs=[[2.0, 2.0]])
    miss = Case("panel plant-stats", "active", "miss", "panel", queries=2, runs=[[5.0, 5.0]])
    hit = Case("panel plant-stats", "active", "hit", "panel", note=report.NOT_PRESENT)
    lines = report.targets(scale="large", cases=[floor, miss, hit], loaded=None, found=None)
    assert any("cache hit: n/a: panel cache not present" in line for line in lines)
    assert any("<= 3x" in line and "**met**: plant-stats 2.5x" in line for line in lines)


def test_quick_options_and_the_load_cap():
    args = config.parse_args(["--quick"])
    assert (args.runs, args.load_seconds) == (1, 2)
    # Found by review: a quick look rewrote the committed plans; it writes under bench-output/.
    assert args.output == config.OUTPUT / "RESULTS-quick.md" and args.plans_dir == config.OUTPUT / "plans-quick"
    full = config.parse_args([])
    assert (full.output, full.plans_dir) == (config.RESULTS, config.PLANS_DIR)
    assert config.parse_args(["--load-seconds", "60"]).load_seconds == 20
    assert config.parse_args(["--no-load"]).load_seconds == 0
    with pytest.raises(SystemExit):
        config.parse_args(["--connection-modes", "bogus"])


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("health-checks", "60 True None"),
        ("pool", "0 False {'min_size': 1, 'max_size': 2, 'timeout': 10}"),
        ("persistent", "60 False None"),
    ],
)
def test_connection_switch_of_the_benchmark_settings(mode, expected):
    """``BENCH_DB_CONNECTIONS`` chooses health checks, psycopg's pool or neither (issue 13 part 5)."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG")},
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal_bench",
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "SECRET_KEY": "s" * 60,
        "JWT_SECRET_KEY": "j" * 60,
        config.CONNECTION_ENV: mode,
    }
    code = (
        "import benchmarks.settings as s; d = s.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], d.get('OPTIONS', {}).get('pool'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected


def test_plans_file_lists_planning_time(tmp_path):
    found = {
        "lookups": [],
        "plans": [
            {
                "label": "panel x #2",
                "gardener": "active",
                "sql": "SELECT 1",
                "plan": PLAN,
                "summary": summarize_plan(PLAN, {}),
            }
        ],
    }
    path = tmp_path / "plans" / "large.md"
    report.write_plans(path, scale="large", started=datetime(2026, 11, 30, tzinfo=UTC), found=found)
    text = path.read_text()
    assert "| panel x #2 | active | 0.612 | 0.071 |" in text
    assert "Planning Time: 0.612 ms" in text
