"""In-process cases: every budgeted endpoint through Django's test ``Client`` (the whole
middleware stack, a warm ``cached_db`` session), for a quiet and the most active gardener.

Variants of a row: ``floor`` (the two floor views), ``hit`` and ``miss`` (a dashboard panel with
the panel cache on: a hit finds its fragment in Redis, a miss has had its keys deleted just
before the request), ``ours`` and ``naive`` (our view against ``benchmarks/naive.py``). The
variants of one row alternate request by request, so machine noise hits them alike; every row
runs ``--runs`` times, the runs spread over the whole phase, and the median of the runs is kept.
Each row records the statements of one request and the rows they returned.
"""

from __future__ import annotations

import contextlib
import gc
import json
import re
import statistics
import time
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .config import OUTPUT, PANEL_CACHE_SETTING

SIGNED_IN_FLOOR = "signed-in floor /bench/signed-in (user lookup)"
NO_SQL_FLOOR = "floor /bench/floor (no SQL)"
NOT_PRESENT = "n/a: panel cache not present"


def panel_cache_present() -> bool:
    """Whether the panel fragment cache exists: its setting (``PANEL_CACHE_SETTING``) is defined."""
    return hasattr(settings, PANEL_CACHE_SETTING)


def p95(times_ms: list[float]) -> float:
    """The 95th percentile of ``times_ms`` (statistics' inclusive method; one value: itself)."""
    if len(times_ms) < 2:
        return times_ms[0] if times_ms else float("nan")
    return statistics.quantiles(times_ms, n=100, method="inclusive")[94]


@dataclass
class Endpoint:
    name: str
    ours: str
    naive: str | None = None
    kind: str = "page"  # floor, panel, page
    method: str = "GET"
    htmx: bool = False
    json: bool = False
    moderators_only: bool = False
    cache_off: bool = False  # ours runs with the panel cache off (the whole dashboard, ?all=1)


@dataclass
class Case:
    endpoint: str
    gardener: str
    variant: str  # floor, hit, miss, ours, naive
    kind: str = "page"
    queries: int = 0
    rows: int = 0
    runs: list[list[float]] = field(default_factory=list)
    same: str = ""
    error: str = ""
    note: str = ""

    @property
    def measured(self) -> bool:
        return not self.error and any(self.runs)

    @property
    def n(self) -> int:
        return sum(len(run) for run in self.runs)

    @property
    def p50(self) -> float:
        """The median over the runs of each run's median, in ms."""
        values = [statistics.median(run) for run in self.runs if run]
        return statistics.median(values) if values else float("nan")

    @property
    def p95(self) -> float:
        """The median over the runs of each run's 95th percentile, in ms."""
        values = [p95(run) for run in self.runs if run]
        return statistics.median(values) if values else float("nan")


class BenchError(Exception):
    pass


def endpoints() -> list[Endpoint]:
    from apps.dashboard import views as dashboard_views
    from apps.forum.models import Forum, Topic

    moderator_panels = getattr(dashboard_views, "MODERATOR_PANELS", set())
    listed = [
        Endpoint(NO_SQL_FLOOR, reverse("bench-floor"), kind="floor"),
        Endpoint(SIGNED_IN_FLOOR, reverse("bench-signed-in"), kind="floor"),
    ]
    listed += [
        Endpoint(
            f"panel {name}",
            reverse("dashboard:panel", args=[name]),
            f"/bench/naive/dashboard/panels/{name}/",
            kind="panel",
            htmx=True,
            moderators_only=name in moderator_panels,
        )
        for name in dashboard_views.PANELS
    ]
    forum = Forum.objects.order_by("-topic_count", "id").first()
    topic = Topic.objects.filter(is_approved=True, is_deleted=False).order_by("-post_count", "id").first()
    listed += [
        Endpoint(
            "dashboard ?all=1 (every panel, caching off)",
            reverse("dashboard:index") + "?all=1",
            "/bench/naive/dashboard/?all=1",
            cache_off=True,
        ),
        Endpoint(
            "GET /api/dashboard/stats/", reverse("api-dashboard-stats"), "/bench/naive/api/dashboard/stats/", json=True
        ),
        Endpoint(
            "POST /api/auth/token/refresh/",
            reverse("api-token-refresh"),
            "/bench/naive/api/auth/token/refresh/",
            method="POST",
            json=True,
        ),
        Endpoint(
            "previous searches /plants/requests/", reverse("plants:request-list"), "/bench/naive/plants/requests/"
        ),
        Endpoint("forum index /forum/", reverse("forum:index"), "/bench/naive/forum/"),
    ]
    if forum is not None:
        listed.append(
            Endpoint(
                f"forum page /forum/f/{forum.slug}/ ({forum.topic_count:,} topics)",
                forum.get_absolute_url(),
                f"/bench/naive/forum/f/{forum.slug}/",
            )
        )
    if topic is not None:
        listed.append(
            Endpoint(
                f"topic page /forum/t/{topic.pk}/ ({topic.post_count:,} posts)",
                topic.get_absolute_url(),
                f"/bench/naive/forum/t/{topic.pk}/",
            )
        )
    return listed


def redis_clients() -> list[redis.Redis]:
    """A client for every Redis database the caches use (where the panel cache keeps its keys)."""
    urls = {settings.REDIS_URL}
    for alias in settings.CACHES.values():
        if "redis" in alias.get("BACKEND", "").lower():
            location = alias.get("LOCATION")
            urls.update([location] if isinstance(location, str) else list(location or []))
    return [redis.Redis.from_url(url) for url in sorted(urls)]


def _keys(clients: list[redis.Redis]) -> set[tuple[int, bytes]]:
    return {(index, key) for index, client in enumerate(clients) for key in client.scan_iter(count=1000)}


class Gardener:
    """A signed-in test client with a warm session (cached, not due for renewal)."""

    def __init__(self, label: str, user) -> None:
        from apps.accounts import tokens

        self.label, self.user = label, user
        self.client = Client()
        self.client.force_login(user)
        self.client.get("/healthz")
        self.client.get("/dashboard/")
        self.warmed_at = time.monotonic()
        self.refresh = {variant: tokens.family_start(user_id=user.pk).refresh for variant in ("ours", "naive")}

    def rewarm(self, *, force: bool = False) -> None:
        """Keep the session "not due for renewal" (SPEC "Query budgets"), outside the timing."""
        if force or time.monotonic() - self.warmed_at > 30:
            from apps.core.middleware import SESSION_RENEWED_AT_KEY

            session = self.client.session
            session[SESSION_RENEWED_AT_KEY] = int(time.time())
            session.save()
            self.warmed_at = time.monotonic()

    def call(self, endpoint: Endpoint, variant: str):
        path = endpoint.naive if variant == "naive" else endpoint.ours
        if endpoint.method == "POST":
            key = "naive" if variant == "naive" else "ours"
            response = self.client.post(
                path, data=json.dumps({"refresh": self.refresh[key]}), content_type="application/json"
            )
            if response.status_code == 200:
                self.refresh[key] = response.json()["refresh"]
        else:
            response = self.client.get(path, headers={"HX-Request": "true"} if endpoint.htmx else {})
        if response.status_code != 200:
            raise BenchError(f"{variant} {path} answered {response.status_code}")
        return response


class Row:
    """One endpoint for one gardener: its variants' cases, and what a miss must delete."""

    def __init__(self, endpoint: Endpoint, gardener: Gardener, cache: bool) -> None:
        self.endpoint, self.gardener = endpoint, gardener
        if endpoint.kind == "floor":
            self.variants = ["floor"]
        elif endpoint.kind == "panel":
            self.variants = ["miss", "hit"] if cache else ["miss"]
        else:
            self.variants = ["ours", "naive"]
        self.cases = {v: Case(endpoint.name, gardener.label, v, endpoint.kind) for v in self.variants}
        if endpoint.kind == "panel" and not cache:
            self.cases["hit"] = Case(endpoint.name, gardener.label, "hit", "panel", note=NOT_PRESENT)
        self.cache = cache
        self.clients: list[redis.Redis] = []
        self.panel_keys: set[tuple[int, bytes]] = set()
        self.ready = False

    def settings_for(self, variant: str):
        """The panel cache setting a variant runs with (nothing to change without the cache)."""
        if not self.cache:
            return contextlib.nullcontext()
        if variant in ("hit", "miss"):
            return override_settings(**{PANEL_CACHE_SETTING: True})
        if self.endpoint.cache_off:
            return override_settings(**{PANEL_CACHE_SETTING: False})
        return contextlib.nullcontext()

    def before(self, variant: str) -> None:
        """Outside the timing: a miss deletes the panel's cached fragment first."""
        if variant == "miss" and self.panel_keys:
            for index, key in self.panel_keys:
                self.clients[index].delete(key)

    def call(self, variant: str):
        self.before(variant)
        with self.settings_for(variant):
            return self.gardener.call(self.endpoint, variant)

    def discover_panel_keys(self) -> None:
        """The Redis keys the panel cache writes for this panel and gardener: those a cache-on
        request adds, sessions aside. Deleting them turns the next request into a miss whatever
        the cache names its keys. None found: the panel is not cached (a hit is a miss)."""
        self.clients = redis_clients()
        before = _keys(self.clients)
        with self.settings_for("hit"):
            self.gardener.call(self.endpoint, "hit")
        added = _keys(self.clients) - before
        self.panel_keys = {(i, k) for i, k in added if b"session" not in k.lower()}
        if not self.panel_keys:
            self.cases["hit"].note = "not cached: the request wrote no key (hit = miss)"

    def prepare(self, statements: dict) -> None:
        """Warm up, compare outputs, count statements and rows (first run only)."""
        self.gardener.rewarm(force=True)
        if "hit" in self.variants:
            self.discover_panel_keys()
        for _ in range(2):
            for variant in self.variants:
                self.call(variant)
        if len(self.variants) == 2:
            a_variant, b_variant = ("miss", "hit") if "hit" in self.variants else ("ours", "naive")
            for _attempt in range(3):  # "41 minutes ago" may turn 42 between the two answers
                verdict, a, b = same_output(self.endpoint, self.call(a_variant), self.call(b_variant))
                if verdict != "no":
                    break
            self.cases[b_variant].same = verdict
            if verdict == "no":
                slug = re.sub(r"[^a-z0-9]+", "-", f"{self.endpoint.name}-{self.gardener.label}".lower()).strip("-")
                (OUTPUT / f"differs-{slug}-{a_variant}.txt").write_text(a)
                (OUTPUT / f"differs-{slug}-{b_variant}.txt").write_text(b)
        for variant in self.variants:
            record: list = []
            self.before(variant)
            with self.settings_for(variant):
                queries, rows = count_statements(self.gardener, self.endpoint, variant, record)
            self.cases[variant].queries, self.cases[variant].rows = queries, rows
            if variant in ("ours", "miss"):
                statements[(self.endpoint.name, self.gardener.label)] = record
        self.ready = True

    def run(self, args) -> None:
        """One timed run: the variants alternate request by request."""
        times: dict[str, list[float]] = {v: [] for v in self.variants}
        gc.collect()
        started = time.perf_counter()
        index = 0
        while index < args.iterations:
            elapsed = time.perf_counter() - started
            if index >= args.min_iterations and elapsed >= args.case_seconds:
                break
            if index >= 3 and elapsed >= 3 * args.case_seconds:  # a baseline taking seconds a request
                break
            self.gardener.rewarm()
            order = self.variants if index % 2 == 0 else self.variants[::-1]
            for variant in order:
                self.before(variant)
                with self.settings_for(variant):
                    begin = time.perf_counter()
                    self.gardener.call(self.endpoint, variant)
                    times[variant].append((time.perf_counter() - begin) * 1000)
            index += 1
        for variant in self.variants:
            self.cases[variant].runs.append(times[variant])


_CSRF = re.compile(r"[A-Za-z0-9]{64}")
_NONCE = re.compile(r'nonce="[^"]*"')
# "25 minutes ago" turns "26 minutes ago" while a slow baseline runs; the datetime attribute
# beside it still has to match to the second.
_NATURALTIME = re.compile(r"(<time datetime=\"[^\"]*\">)[^<]*(</time>)")


def same_output(endpoint: Endpoint, first, second) -> tuple[str, str, str]:
    """Whether two answers match, per-browser tokens and relative times aside."""
    if endpoint.method == "POST":
        return ("yes (same keys)" if first.json().keys() == second.json().keys() else "no"), "", ""
    if endpoint.json:
        return (
            ("yes" if first.json() == second.json() else "no"),
            json.dumps(first.json(), indent=1),
            json.dumps(second.json(), indent=1),
        )
    a = _NATURALTIME.sub(r"\1\2", _NONCE.sub("", _CSRF.sub("", first.content.decode())))
    b = _NATURALTIME.sub(r"\1\2", _NONCE.sub("", _CSRF.sub("", second.content.decode())))
    return ("yes" if a == b else "no"), a, b


def count_statements(gardener: Gardener, endpoint: Endpoint, variant: str, record: list) -> tuple[int, int]:
    """Statements one request sends and the rows they return (``cursor.rowcount``); ``record``
    receives each statement's SQL and parameters for the plans."""
    returned = [0]

    def recorder(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not many:
            record.append((sql, params))
            rowcount = getattr(context.get("cursor"), "rowcount", -1)
            if sql.lstrip().upper().startswith(("SELECT", "WITH")) and rowcount and rowcount > 0:
                returned[0] += rowcount
        return result

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(recorder):
        gardener.call(endpoint, variant)
    return len(captured.captured_queries), returned[0]


def measure(gardeners: list[Gardener], moderator: Gardener, args, statements: dict) -> list[Case]:
    """Every row ``args.runs`` times; run k of every row before run k+1 of any."""
    cache = panel_cache_present()
    rows: list[Row] = []
    for endpoint in endpoints():
        if endpoint.moderators_only:
            people = [moderator]
        elif endpoint.kind == "floor":
            people = [*gardeners, moderator]
        else:
            people = gardeners
        rows += [Row(endpoint, person, cache) for person in people]
    failed: set[int] = set()
    for run in range(args.runs):
        print(f"  run {run + 1} of {args.runs}", flush=True)
        for number, row in enumerate(rows):
            if number in failed:
                continue
            try:
                if not row.ready:
                    row.prepare(statements)
                row.run(args)
            except Exception as error:  # a failing view is reported, the other rows still run
                failed.add(number)
                for case in row.cases.values():
                    case.error = f"{type(error).__name__}: {error}"[:200]
            if run == args.runs - 1 or number in failed:
                shown = " | ".join(
                    (f"{c.variant} {c.queries}q {c.rows}r p50 {c.p50:.2f} p95 {c.p95:.2f} ms" if c.runs else c.variant)
                    + (f" ERROR {c.error}" if c.error else "")
                    + (f" ({c.note})" if c.note else "")
                    for c in row.cases.values()
                )
                print(f"    {row.endpoint.name[:52]:<52} {row.gardener.label:<9} {shown}", flush=True)
    return [case for row in rows for case in row.cases.values()]
