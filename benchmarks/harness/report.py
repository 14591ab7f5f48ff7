"""The report: issue 13's targets first (met or not, with figures), then one screen of tables per
scale in ``benchmarks/RESULTS.md``; the ``EXPLAIN`` plans in ``benchmarks/plans/<scale>.md``."""

from __future__ import annotations

import statistics
from pathlib import Path

from .config import cores, is_busy
from .inprocess import NO_SQL_FLOOR, NOT_PRESENT, SIGNED_IN_FLOOR, Case, p95
from .plans import LARGE_TABLE_ROWS

TITLE = """# Benchmark results

Written by `make bench-large` and `make bench` (`benchmarks/run.py`). The large scale comes first
because issue 13's targets are set for it; each scale opens with its targets, met or not, with
figures; how it is measured is at the end. Plans: `benchmarks/plans/<scale>.md`.
"""

METHOD = """## How these are measured

Every ratio is to the **signed-in floor** (`/bench/signed-in`: the whole middleware stack, the
session read and the user lookup, nothing else) measured in the same run. In process: Django's
test client with a warm session, every row 3 times (spread over the phase), the median kept; a
row's variants (panel cache hit and miss, ours and the naive baseline of `benchmarks/naive.py`)
alternate request by request. A miss deletes the Redis keys a cache-on request of that panel
wrote. Under load: gunicorn (2 sync workers) and wrk with signed-in gardeners, each target with
2 connections (a closed loop below saturation: latency is service time) and with 16
(saturation: throughput), each run 3 times. The machine is shared (two cores): the load
average before and after says when it was busy; ratios taken in the same run are the steadier
figures. Nothing here is a test: the benchmark never fails on a timing.
"""


def fmt(value: float) -> str:
    if value != value:
        return "n/a"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def ratio(a: float, b: float) -> str:
    return "n/a" if a != a or b != b or not b else f"{a / b:.1f}x"


class Cases:
    """The measured cases, looked up by endpoint prefix, gardener and variant."""

    def __init__(self, cases: list[Case]) -> None:
        self.cases = cases

    def get(self, prefix: str, gardener: str, variant: str) -> Case | None:
        return next(
            (
                c
                for c in self.cases
                if c.endpoint.startswith(prefix) and c.gardener == gardener and c.variant == variant
            ),
            None,
        )

    def floor(self, gardener: str) -> Case | None:
        return self.get(SIGNED_IN_FLOOR, gardener, "floor")

    def panels(self) -> list[str]:
        return list(dict.fromkeys(c.endpoint for c in self.cases if c.kind == "panel"))

    def panel_owner(self, panel: str, active: str) -> str:
        """Who a panel is measured for: ``moderator`` for the moderators' panel, else ``active``."""
        return "moderator" if any(c.endpoint == panel and c.gardener == "moderator" for c in self.cases) else active


def _mark(met: bool | None) -> str:
    return "n/a" if met is None else ("**met**" if met else "**NOT met**")


def targets(*, scale: str, cases: list[Case], loaded: dict | None, found: dict | None) -> list[str]:
    """Issue 13's targets at this scale for the most active gardener (``moderator`` for the
    moderators' panel), each a Markdown list item with its figures."""
    table = Cases(cases)
    active = "active"
    lines = []

    def floor_of(gardener: str) -> Case | None:
        floor = table.floor(gardener)
        return floor if floor and floor.measured else None

    hit_rows, miss_rows, miss95_rows, hit_sql = [], [], [], []
    hit_met = miss_met = miss95_met = sql_met = True
    hit_any = False
    uncached: list[str] = []
    for panel in table.panels():
        gardener = table.panel_owner(panel, active)
        floor = floor_of(gardener)
        name = panel.removeprefix("panel ")
        hit, miss = table.get(panel, gardener, "hit"), table.get(panel, gardener, "miss")
        if floor is None:
            continue
        if hit and hit.measured and hit.note:
            uncached.append(name)  # wrote no cache key: a hit is a miss (allowed for site-wide panels)
        elif hit and hit.measured:
            hit_any = True
            r = hit.p50 / floor.p50
            hit_met &= r <= 1.5
            hit_rows.append(f"{name} {r:.1f}x ({fmt(hit.p50)} ms)")
            extra = hit.queries - floor.queries
            sql_met &= extra <= 0
            hit_sql.append(f"{name} {hit.queries}")
        if miss and miss.measured:
            r = miss.p50 / floor.p50
            miss_met &= r <= 3
            miss_rows.append(f"{name} {r:.1f}x ({fmt(miss.p50)} ms)")
            r95 = miss.p95 / floor.p95
            miss95_met &= r95 <= 5
            miss95_rows.append(f"{name} {r95:.1f}x ({fmt(miss.p95)} ms)")
    floor = floor_of(active)
    floor_text = (
        f"signed-in floor p50 {fmt(floor.p50)} ms, p95 {fmt(floor.p95)} ms ({floor.queries} statement)"
        if floor
        else "signed-in floor not measured"
    )
    lines.append(f"In process, most active gardener ({floor_text}):")
    lines.append("")
    if hit_any:
        not_cached = f"; not cached (no key written, measured as misses): {', '.join(uncached)}" if uncached else ""
        lines.append(
            f"- Every panel p50 <= 1.5x the signed-in floor on a cache hit: {_mark(hit_met)}: {', '.join(hit_rows)}"
            f"{not_cached}."
        )
        lines.append(
            "- A hit sends no SQL beyond the user lookup (statements equal the signed-in floor's "
            f"{floor.queries if floor else '?'}): {_mark(sql_met)}: {', '.join(hit_sql)}."
        )
    else:
        lines.append(f"- Every panel p50 <= 1.5x the signed-in floor on a cache hit: {NOT_PRESENT}.")
    miss_word = "cache miss" if hit_any else "miss (no panel cache: every request builds the panel)"
    lines.append(
        f"- Every panel p50 <= 3x the signed-in floor on a {miss_word}: {_mark(miss_met)}: {', '.join(miss_rows)}."
    )
    lines.append(
        f"- Every panel p95 <= 5x the signed-in floor's p95 on a {miss_word}: {_mark(miss95_met)}: "
        f"{', '.join(miss95_rows)}."
    )
    ours, naive = table.get("dashboard ?all=1", active, "ours"), table.get("dashboard ?all=1", active, "naive")
    if ours and naive and ours.measured and naive.measured:
        r = naive.p50 / ours.p50
        lines.append(
            f"- Whole dashboard (`?all=1`, caching off) >= 10x faster than the naive baseline: {_mark(r >= 10)}: "
            f"{r:.1f}x at p50 ({fmt(ours.p50)} vs {fmt(naive.p50)} ms), {naive.p95 / ours.p95:.1f}x at p95."
        )
    else:
        lines.append("- Whole dashboard >= 10x faster than the naive baseline: n/a (not measured).")
    forum = table.get("forum page", active, "ours")
    if forum and forum.measured and floor:
        r = forum.p95 / floor.p95
        lines.append(
            f"- Forum page p95 <= 10x the signed-in floor's p95: {_mark(r <= 10)}: {r:.1f}x "
            f"({fmt(forum.p95)} ms; p50 {fmt(forum.p50)} ms, {forum.queries} statements)."
        )
    errors = [c for c in cases if c.error]
    if loaded and loaded["runs"]:
        primary = loaded["servers"][0]["mode"]

        def run(target: str, level: str = "saturation", cache: str | None = None) -> dict | None:
            return next(
                (
                    r
                    for r in loaded["runs"]
                    if r["mode"] == primary
                    and r["target"].startswith(target)
                    and r["level"] == level
                    and (cache is None or r["cache"] == cache)
                ),
                None,
            )

        floor_run = run("signed-in floor")
        hits = run("panels, cache on")
        misses = run("panels, cache off") or run("panels (no panel cache")
        lines.append("")
        lines.append(
            f"Under gunicorn ({primary}; saturation, {loaded['levels']['saturation']} connections, median of "
            f"{floor_run['reps'] if floor_run else '?'} runs of {loaded['seconds']} s):"
        )
        lines.append("")
        if floor_run and floor_run["rps"]:
            miss_text = f"; misses {misses['rps']:.0f} req/s = {misses['rps'] / floor_run['rps']:.0%}" if misses else ""
            if hits:
                share = hits["rps"] / floor_run["rps"]
                lines.append(
                    f"- Panel throughput with the cache on >= 60 % of the signed-in floor's: {_mark(share >= 0.6)}: "
                    f"{hits['rps']:.0f} vs {floor_run['rps']:.0f} req/s = {share:.0%}{miss_text}."
                )
            else:
                lines.append(
                    f"- Panel throughput with the cache on >= 60 % of the signed-in floor's: {NOT_PRESENT}"
                    f"{miss_text} (floor {floor_run['rps']:.0f} req/s)."
                )
        load_errors = sum(r["errors"] for r in loaded["runs"])
        lines.append(
            f"- 0 errors: {_mark(not load_errors and not errors)}: {load_errors} under load "
            f"({sum(r['requests'] for r in loaded['runs']):,} requests), {len(errors)} in process."
        )
    else:
        lines.append(f"- 0 errors: {_mark(not errors)} in process; load phase not run.")
    if found:
        flagged = [
            f"{p['label']} ({p['gardener']}): {', '.join(p['summary']['seq_scans'])}"
            for p in found["plans"]
            if p["summary"]["seq_scans"]
        ]
        lines.append(
            f"- No sequential scan of a table over {LARGE_TABLE_ROWS:,} rows in our statements: "
            f"{_mark(not flagged)}{': ' + '; '.join(flagged) if flagged else ''}."
        )
    if scale != "large":
        lines.append("")
        lines.append("(The targets are set for the large scale; at this scale they are indicative.)")
    return lines


def section(
    *,
    args,
    info: dict,
    sizes: dict,
    data_tables: tuple[str, ...],
    seed_seconds: float,
    cases: list[Case],
    found: dict | None,
    loaded: dict | None,
    gardeners: list,
    started,
    elapsed: float,
    load_after: tuple[float, float, float],
) -> str:
    """This scale's section of RESULTS.md: verdicts, machine, then the tables."""
    table = Cases(cases)
    lines: list[str] = []
    add = lines.append
    add(f"## Scale `{args.scale}` ({started:%Y-%m-%d %H:%M} UTC)")
    add("")
    add("### Targets (issue 13)")
    add("")
    lines += targets(scale=args.scale, cases=cases, loaded=loaded, found=found)
    add("")
    before, after = info["load_before"][0], load_after[0]
    busy = is_busy(before)
    add(
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['ram_gib']} GiB; Python {info['python']}, "
        f"Django {info['django']}, PostgreSQL {info['postgresql']}. Load average (1 min) before the run "
        f"**{before:.2f}**, after **{after:.2f}** (the run's own load included) on {cores()} cores: "
        + (
            "**the machine was busy** (other work shared the cores), so absolute times are inflated; "
            "the ratios, taken in the same run, are the figures to read."
            if busy
            else "the machine was quiet."
        )
    )
    add("")
    counted = {k: sizes[k] for k in data_tables if k in sizes}
    add(
        "Data: "
        + ", ".join(f"{k.split('_', 1)[1]} {v:,}" for k, v in counted.items())
        + (f" (seeded in this run in {seed_seconds:.0f} s)." if seed_seconds else " (seeded earlier).")
        + " Gardeners: "
        + "; ".join(
            f"{g.label} `{g.user.username}` ({g.user.identification_request_count:,} requests, "
            f"{g.user.post_count:,} posts, {g.user.care_card_count:,} care cards)"
            for g in gardeners
        )
        + f". Run: {elapsed / 60:.1f} min, {args.runs} runs a case"
        + (" (--quick: not a result)." if args.quick else ".")
    )
    add("")
    add("### Panels (in process; ms, median of the runs; x = ratio to the same gardener's signed-in floor)")
    add("")
    add(
        "| row | gardener | statements hit / miss | rows | hit p50 | x | miss p50 | x | miss p95 | x p95 "
        "| hit = miss HTML |"
    )
    add("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in (NO_SQL_FLOOR, SIGNED_IN_FLOOR):
        for gardener in ("quiet", "active"):
            c, floor = table.get(name, gardener, "floor"), table.floor(gardener)
            if c and floor:
                add(
                    f"| {name} | {gardener} | {c.queries} | {c.rows} | | | {fmt(c.p50)} | {ratio(c.p50, floor.p50)} | "
                    f"{fmt(c.p95)} | {ratio(c.p95, floor.p95)} | |"
                )
    for panel in table.panels():
        for gardener in ("quiet", "active", "moderator"):
            hit, miss = table.get(panel, gardener, "hit"), table.get(panel, gardener, "miss")
            floor = table.floor(gardener)
            if not miss or not floor:
                continue
            if miss.error:
                add(f"| {panel} | {gardener} | | | | | | | | | ERROR: {miss.error} |")
                continue
            hit_p50 = fmt(hit.p50) if hit and hit.measured else "n/a"
            hit_x = ratio(hit.p50, floor.p50) if hit and hit.measured else ""
            add(
                f"| {panel.removeprefix('panel ')} | {gardener} | "
                f"{hit.queries if hit and hit.measured else '-'} / {miss.queries} | {miss.rows} | "
                f"{hit_p50} | {hit_x} | "
                f"{fmt(miss.p50)} | {ratio(miss.p50, floor.p50)} | {fmt(miss.p95)} | {ratio(miss.p95, floor.p95)} | "
                f"{(hit.same or hit.note) if hit else ''} |"
            )
    add("")
    add("The floors' own p50 and p95 stand in the miss columns. Rows: rows the request's statements returned.")
    add("")
    add("### Pages (in process; ours against the naive baseline; ms)")
    add("")
    add(
        "| endpoint | statements ours / naive | rows quiet / active | ours p50 quiet / active | ours p95 active "
        "| x floor p50 / p95 | naive p50 active | naive / ours | same answer |"
    )
    add("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    pages = list(dict.fromkeys(c.endpoint for c in cases if c.kind == "page"))
    for page in pages:
        q, a = table.get(page, "quiet", "ours"), table.get(page, "active", "ours")
        nq, na = table.get(page, "quiet", "naive"), table.get(page, "active", "naive")
        floor = table.floor("active")
        if not (q and a and na and floor):
            continue
        if a.error or na.error:
            add(f"| {page} | | | | | | | | ERROR: {a.error or na.error} |")
            continue
        add(
            f"| {page} | {a.queries} / {na.queries} | {q.rows} / {a.rows} | {fmt(q.p50)} / {fmt(a.p50)} | "
            f"{fmt(a.p95)} | {ratio(a.p50, floor.p50)} / {ratio(a.p95, floor.p95)} | {fmt(na.p50)} | "
            f"{ratio(na.p50, a.p50)} | {na.same}{'' if not nq or nq.same == na.same else ' / quiet ' + nq.same} |"
        )
    add("")
    if loaded and loaded["runs"]:
        add(
            f"### Load (gunicorn {loaded['workers']} sync workers, wrk, {loaded['users']} signed-in gardeners; "
            f"median of {args.runs} runs of {loaded['seconds']} s)"
        )
        add("")
        add("| gunicorn | target | connections | req/s | x signed-in floor req/s | p50 ms | p95 ms | errors |")
        add("|---|---|---:|---:|---:|---:|---:|---:|")
        for r in loaded["runs"]:
            floor_run = next(
                (
                    f
                    for f in loaded["runs"]
                    if f["mode"] == r["mode"] and f["target"] == "signed-in floor" and f["level"] == r["level"]
                ),
                None,
            )
            share = f"{r['rps'] / floor_run['rps']:.0%}" if floor_run and floor_run["rps"] else ""
            add(
                f"| {r['server']} | {r['target']} | {r['connections']} ({r['level']}) | {r['rps']:.0f} | {share} | "
                f"{r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['errors']} |"
            )
        skipped = [s for s in loaded["servers"] if s.get("skipped")]
        for s in skipped:
            add(f"| {s['label']} | | | | | | | {s['skipped']} |")
        add("")
        add(
            "Connection handling: "
            + "; ".join(f"`{mode}`: {text}" for mode, text in loaded["modes"].items())
            + ". Database round trips a signed-in floor request (PostgreSQL's transaction count over a 3 s run): "
            + ", ".join(f"{s['mode']} {s['round_trips']:.2f}" for s in loaded["servers"] if "round_trips" in s)
            + ". Load average (1 min) before / after each gunicorn: "
            + ", ".join(
                f"{s['label']} {s['load_before']:.2f} / {s.get('load_after', float('nan')):.2f}"
                for s in loaded["servers"]
            )
            + "."
        )
        add("")
    if found:
        plans = [p for p in found["plans"] if p["summary"]["ms"] == p["summary"]["ms"]]
        slowest = max(plans, key=lambda p: p["summary"]["ms"] + p["summary"]["planning_ms"], default=None)
        planning = [p["summary"]["planning_ms"] for p in plans]
        planning = [ms for ms in planning if ms == ms]
        email = found["lookups"][0]
        add(
            f"Plans: {len(found['plans'])} statements in [`plans/{args.scale}.md`](plans/{args.scale}.md)"
            + (
                f"; slowest **{slowest['label']}** ({slowest['gardener']}): planning "
                f"{slowest['summary']['planning_ms']:.2f} ms + execution {slowest['summary']['ms']:.2f} ms"
                if slowest
                else ""
            )
            + (
                f"; planning time median {statistics.median(planning):.2f} ms, max {max(planning):.2f} ms"
                if planning
                else ""
            )
            + f"; a `SELECT 1` round trip (what `CONN_HEALTH_CHECKS` adds to a request) p50 "
            f"{statistics.median(found['select_1']):.3f} ms, p95 {p95(found['select_1']):.3f} ms"
            + f"; sign-in email lookup p50 {statistics.median(email['ours']):.3f} ms "
            f"({statistics.median(email['without']):.1f} ms without its index)."
        )
        add("")
    add("<details><summary>Every row (n = timed requests over all runs)</summary>")
    add("")
    add("| endpoint | gardener | variant | statements | rows | n | p50 ms | p95 ms | x floor p50 | note |")
    add("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    for c in cases:
        floor = table.floor(c.gardener)
        add(
            f"| {c.endpoint} | {c.gardener} | {c.variant} | {c.queries} | {c.rows} | {c.n} | {fmt(c.p50)} | "
            f"{fmt(c.p95)} | {ratio(c.p50, floor.p50) if floor and c.measured else ''} | "
            f"{c.error or c.note or c.same} |"
        )
    add("")
    add("</details>")
    return "\n".join(lines)


def write_results(path: Path, scale: str, text: str) -> None:
    """Replace this scale's section of ``path`` and rebuild the file: title, the large scale,
    the small scale, how it is measured (sections of other scales are kept as they are)."""
    current = path.read_text() if path.exists() else ""
    blocks = {}
    for name in ("large", "small"):
        start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
        if name == scale:
            blocks[name] = f"{start}\n{text}\n{end}"
        elif start in current and end in current:
            blocks[name] = current[current.index(start) : current.index(end) + len(end)]
    parts = [TITLE, *(blocks[name] for name in ("large", "small") if name in blocks), METHOD]
    path.write_text("\n\n".join(part.strip("\n") for part in parts) + "\n")


def write_plans(path: Path, *, scale: str, started, found: dict) -> None:
    """``benchmarks/plans/<scale>.md``: every statement's planning and execution time, then the
    plans (most active gardener and moderator; the lookups with and without their index)."""
    lines = [
        f"# `EXPLAIN (ANALYZE, BUFFERS)` at scale `{scale}` ({started:%Y-%m-%d %H:%M} UTC)",
        "",
        "Written by `make bench" + ("-large" if scale == "large" else "") + "`. Each statement is the one our "
        "view sent (a panel on a cache miss), explained twice, the second kept (the first warms the "
        "catalog caches). Rows read: rows returned by the scan nodes times loops. A sequential scan of a "
        f"table over {LARGE_TABLE_ROWS:,} rows is flagged.",
        "",
        "## Lookups (SQL only; without the index: dropped inside a rolled-back transaction)",
        "",
        "| lookup | p50 ms | p95 ms | scans | without index p50 | p95 | scans without |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    for item in found["lookups"]:
        lines.append(
            f"| {item['label']} | {statistics.median(item['ours']):.3f} | {p95(item['ours']):.3f} | "
            f"{', '.join(item['summary']['scans'])} | {statistics.median(item['without']):.3f} | "
            f"{p95(item['without']):.3f} | {', '.join(item['summary_without']['scans'])} |"
        )
    lines += [
        "",
        "## Statements",
        "",
        "| statement | gardener | planning ms | execution ms | rows read | scans | buffers "
        "| seq scan of a large table |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for item in [*({**i, "gardener": "-"} for i in found["lookups"]), *found["plans"]]:
        s = item["summary"]
        lines.append(
            f"| {item['label']} | {item['gardener']} | {s['planning_ms']:.3f} | {s['ms']:.3f} | {s['rows_read']:,} | "
            f"{', '.join(s['scans'])} | {s['buffers']} | "
            f"{'**' + ', '.join(s['seq_scans']) + '**' if s['seq_scans'] else 'none'} |"
        )
    lines += ["", "## Plans (most active gardener, moderator)", ""]
    for item in found["lookups"]:
        lines += [f"### {item['label']}", "```", item["plan"], "```", f"Without {', '.join(item['dropped'])}:"]
        lines += ["```", item["plan_without"], "```", ""]
    for item in found["plans"]:
        if item["gardener"] == "quiet":
            continue
        lines += [f"### {item['label']} ({item['gardener']})", "```sql", item["sql"].strip(), "```"]
        lines += ["```", item["plan"], "```", ""]
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines))
