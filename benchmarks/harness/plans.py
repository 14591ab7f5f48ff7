"""``EXPLAIN (ANALYZE, BUFFERS)`` of the statements our endpoints sent, with planning time beside
execution time, and the two indexed lookups timed with and without their index."""

from __future__ import annotations

import re
import time

from django.db import connection, transaction

from .data import table_rows

# A sequential scan of a table over this many rows is flagged.
LARGE_TABLE_ROWS = 10_000

_SCAN = re.compile(
    r"(Seq Scan on|Index Only Scan using|Index Scan Backward using|Index Scan using|Bitmap Index Scan "
    r"on|Bitmap Heap Scan on) (\S+)"
)
_ACTUAL = re.compile(r"actual time=[\d.]+\.\.[\d.]+ rows=([\d.]+) loops=(\d+)")


def timed_sql(sql: str, params, *, iterations: int, budget: float = 10.0) -> list[float]:
    """Milliseconds of ``iterations`` executions (at least 20, then until ``budget`` seconds)."""
    times = []
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for index in range(iterations):
            begin = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            times.append((time.perf_counter() - begin) * 1000)
            if index >= 20 and time.perf_counter() - started > budget:
                break
    return times


def explain(sql: str, params) -> str:
    """The plan of the second of two ``EXPLAIN (ANALYZE, BUFFERS)`` runs: the first warms the
    catalog caches, whose misses would otherwise inflate the planning time. ANALYZE executes the
    statement, so it runs in a transaction that is rolled back (a token refresh's writes stay
    undone)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for _ in range(2):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            rows = cursor.fetchall()
        transaction.set_rollback(True)
    return "\n".join(row[0] for row in rows)


def summarize_plan(plan: str, sizes: dict[str, int]) -> dict:
    """Planning and execution time (ms), the scans used, rows read by scan nodes (rows times
    loops), the top node's buffers and any sequential scan of a table over ``LARGE_TABLE_ROWS``."""
    scans, flagged, rows_read = [], [], 0
    for line in plan.splitlines():
        match = _SCAN.search(line)
        if not match:
            continue
        kind, target = match.groups()
        scans.append(f"{kind.replace(' using', '').replace(' on', '')} {target}")
        actual = _ACTUAL.search(line)
        if actual and kind != "Bitmap Index Scan on":
            rows_read += int(float(actual.group(1)) * int(actual.group(2)))
        if kind == "Seq Scan on" and sizes.get(target, 0) > LARGE_TABLE_ROWS:
            flagged.append(f"{target} ({sizes[target]:,} rows)")
    execution = re.search(r"Execution Time: ([\d.]+) ms", plan)
    planning = re.search(r"Planning Time: ([\d.]+) ms", plan)
    buffers = re.search(r"Buffers: ([^\n]+)", plan)
    return {
        "ms": float(execution.group(1)) if execution else float("nan"),
        "planning_ms": float(planning.group(1)) if planning else float("nan"),
        "scans": list(dict.fromkeys(scans)),
        "rows_read": rows_read,
        "buffers": buffers.group(1).strip() if buffers else "",
        "seq_scans": flagged,
    }


def _is_user_lookup(sql: str, number: int) -> bool:
    """The signed-in request's user lookup: its first statement, the user by primary key (with
    whatever the authentication backend adds to it)."""
    return number == 1 and bool(re.search(r'FROM "accounts_user".*"accounts_user"\."id" = %s', sql, re.S))


def lookups_and_plans(active_user, statements: dict) -> dict:
    """The sign-in lookup and the member list, timed with and without their index; and the plans
    of every statement our endpoints ran (``statements``: (endpoint, gardener) -> [(sql, params)])."""
    from apps.accounts.models import TrustLevel, User

    sizes = table_rows()
    lookups = {
        "sign-in lookup: User.objects.filter(email__iexact=...)": (
            User.objects.filter(email__iexact=active_user.email.upper()),
            "upper((email)",
        ),
        "member list: trust level trusted by -date_joined, first 25": (
            User.objects.filter(trust_level=TrustLevel.TRUSTED).order_by("-date_joined")[:25],
            "(trust_level, date_joined)",
        ),
    }
    # What CONN_HEALTH_CHECKS adds before a request's first statement: one SELECT 1 round trip.
    found = {"lookups": [], "plans": [], "select_1": timed_sql("SELECT 1", [], iterations=300)}
    for label, (queryset, index_marker) in lookups.items():
        sql, params = queryset.query.sql_with_params()
        ours = timed_sql(sql, params, iterations=300)
        plan = explain(sql, params)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
                [User._meta.db_table, f"%{index_marker}%"],
            )
            dropped = [row[0] for row in cursor.fetchall()]
            for name in dropped:
                cursor.execute(f'DROP INDEX "{name}"')
            without = timed_sql(sql, params, iterations=100)
            plan_without = explain(sql, params)
            transaction.set_rollback(True)  # the indexes come back
        found["lookups"].append(
            {
                "label": label,
                "ours": ours,
                "without": without,
                "dropped": dropped,
                "plan": plan,
                "plan_without": plan_without,
                "summary": summarize_plan(plan, sizes),
                "summary_without": summarize_plan(plan_without, sizes),
            }
        )
    for (endpoint, gardener), recorded in statements.items():
        for number, (sql, params) in enumerate(recorded, start=1):
            if sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                continue
            user_lookup = _is_user_lookup(sql, number)
            label = "user lookup (every signed-in request)" if user_lookup else f"{endpoint} #{number}"
            if label.startswith("user lookup") and any(
                p["label"] == label and p["gardener"] == gardener for p in found["plans"]
            ):
                continue
            try:
                plan = explain(sql, params)
            except Exception as error:  # a statement that cannot be explained is reported, not fatal
                plan = f"(EXPLAIN failed: {error})"
            found["plans"].append(
                {"label": label, "gardener": gardener, "sql": sql, "plan": plan, "summary": summarize_plan(plan, sizes)}
            )
    return found
