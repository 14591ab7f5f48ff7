"""The crawl: every registered route (``e2e/routes.py``) as every role, at two widths, in a
real browser.

``test_every_get_route_is_registered`` keeps the registry equal to the project's URL patterns.
``test_crawl_every_route_as_every_role`` signs each role in through the sign-in form, in one
browser context per role and width (1280 px, and 390 px for a phone: issue 15), visits each
entry, checks the status (and where a redirect goes), and on every page shown (and the first
403, 404 and 405 page at each width): runs axe (no violation at all, the policy of ``helpers.
assert_no_axe_violations``), asserts no layout fault (``LAYOUT``: no horizontal overflow,
``scrollWidth <= innerWidth``, naming the elements that stick out; no table cut off in its
scrolling wrapper; every checkbox on one row with its label), fails on console errors or CSP
violations, and writes a screenshot under ``e2e/artifacts/crawl/<width>/<role>/`` (git-ignored)
for a reviewer to look at. It collects every failure and reports them together.
"""

import re
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from tests import factories

from .conftest import PROJECT_DIR
from .helpers import submit_sign_in
from .routes import (
    DATA,
    FRAGMENT,
    PAGE,
    POST_ONLY,
    REGISTRY,
    ROLES,
    SIGN_IN_PATH,
    SIGNED_OUT,
    Expect,
    Route,
    World,
    is_skipped,
    make_world,
)

pytestmark = pytest.mark.e2e

# Wait for htmx before axe: dashboard panels (``aria-busy``) and the header badge load after
# the page does.
HTMX_SETTLED = """() => !document.querySelector('[aria-busy="true"], .htmx-request, .htmx-settling, .htmx-swapping')"""
ERROR_PAGES = (403, 404, 405)
AXE = Axe()
ARTIFACTS = PROJECT_DIR / "e2e" / "artifacts" / "crawl"
PHASES: Counter[str] = Counter()  # seconds spent per step of the crawl, printed at its end


@contextmanager
def timed(phase: str):
    """Adds the block's wall time to ``PHASES[phase]`` (the crawl's closing line prints them)."""
    started = time.monotonic()
    try:
        yield
    finally:
        PHASES[phase] += time.monotonic() - started


@dataclass(frozen=True)
class Width:
    """A browser window the crawl uses: a desktop and a phone (issue 15 "Done when")."""

    name: str
    width: int
    height: int


WIDTHS = (Width("desktop", 1280, 900), Width("phone", 390, 844))

# Opens every closed <details> in <main>; answers how many it opened.
OPEN_DETAILS = "() => [...document.querySelectorAll('main details:not([open])')].map((d) => (d.open = true)).length"

# Layout faults, as sentences: a page wider than the window (naming the outermost elements whose
# right edge passes it), a table cut off inside its scrolling wrapper (``.table-wrap`` hides that
# from the page's width), and a visible checkbox or radio button not on one row with its label.
LAYOUT = """() => {
  const faults = [];
  const name = (element) => element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
    + (element.classList.length ? "." + [...element.classList].join(".") : "");
  const limit = window.innerWidth;
  const width = document.documentElement.scrollWidth;
  if (width > limit) {
    const culprits = [];
    for (const element of document.body.querySelectorAll("*")) {
      const box = element.getBoundingClientRect();
      if (box.width === 0 || box.right <= limit + 1) continue;
      if (culprits.some((outer) => outer.contains(element))) continue;
      culprits.push(element);
    }
    faults.push(`sideways scroll: scrollWidth ${width} > innerWidth ${limit}: ` + culprits.slice(0, 4)
      .map((element) => `${name(element)} (right ${Math.round(element.getBoundingClientRect().right)})`).join(", "));
  }
  for (const wrap of document.querySelectorAll(".table-wrap")) {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      faults.push(`table cut off: ${name(wrap.querySelector("table") || wrap)} is ${wrap.scrollWidth} px `
        + `in a ${wrap.clientWidth} px wrapper`);
    }
  }
  for (const box of document.querySelectorAll('input[type="checkbox"], input[type="radio"]')) {
    const label = box.labels && box.labels[0];
    const own = box.getBoundingClientRect();
    if (!label || own.width === 0 || label.contains(box)) continue;
    const text = label.getBoundingClientRect();
    const apart = Math.abs((own.top + own.bottom) / 2 - (text.top + text.bottom) / 2);
    if (apart > own.height) faults.push(`${name(box)} sits ${Math.round(apart)} px off its label's row`);
  }
  return faults;
}"""


def project_routes() -> list[str]:
    """Every URL pattern of the project as ``ResolverMatch.route`` spells it
    (``forum/t/<int:pk>/``), depth first."""

    def walk(resolver, prefix: str):
        for pattern in resolver.url_patterns:
            # Django's URLResolver joins nested routes this way (``_join_route``).
            route = prefix + str(pattern.pattern).removeprefix("^") if prefix else str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, route)
            elif isinstance(pattern, URLPattern):
                yield route

    return list(walk(get_resolver(), ""))


def test_every_get_route_is_registered():
    """Every URL pattern (admin, ``api/`` and media aside) has a registry entry, as a page, a
    fragment, data or POST-only; every entry's pattern still exists."""
    routes = {route for route in project_routes() if not is_skipped(route)}
    registered = {entry.route for entry in REGISTRY}
    missing = sorted(routes - registered)
    stale = sorted(registered - routes)
    assert not missing and not stale, (
        "e2e/routes.py is out of date with the URL patterns.\n"
        + "".join(f"  not registered: {route}\n" for route in missing)
        + "".join(f"  registered but gone: {route}\n" for route in stale)
    )


# --- The crawl ------------------------------------------------------------------------------


class Crawler:
    """One role's browser context and page, reused for every entry; failures are collected."""

    def __init__(self, browser, base_url: str, world: World, role: str, width: Width, failures: list[str], axed_errors):
        self.base_url, self.world, self.role, self.width = base_url, world, role, width
        self.failures, self.axed_errors = failures, axed_errors[width.name]
        self.context = browser.new_context(viewport={"width": width.width, "height": width.height})
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.console.append(message.text))
        self.page.on("pageerror", lambda error: self.console.append(f"uncaught: {error}"))
        self.page.expose_function("__reportCspViolation", lambda text: self.console.append(f"csp: {text}"))
        self.page.add_init_script(
            """document.addEventListener("securitypolicyviolation", (event) => {
                 window.__reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI}`);
               });"""
        )
        self.counts = {"pages": 0, "axe": 0, "requests": 0, "screenshots": 0}
        self.shots = ARTIFACTS / width.name / role
        self.shots.mkdir(parents=True, exist_ok=True)
        self.entry: Route | None = None

    def sign_in(self, username: str) -> None:
        self.page.goto(f"{self.base_url}{SIGN_IN_PATH}")
        submit_sign_in(self.page, username=username, password=factories.DEFAULT_PASSWORD)
        assert urlsplit(self.page.url).path == "/dashboard/", f"{self.role} did not sign in: {self.page.url}"

    def fail(self, url: str, message: str) -> None:
        route = self.entry.route if self.entry else "?"
        self.failures.append(f"{self.role:<11} {self.width.width:>4} px {url} ({route or 'root'}): {message}")

    def visit(self, entry: Route) -> None:
        self.entry = entry
        url = entry.url(self.world)
        expect = entry.expect[self.role]
        if (route := resolve(urlsplit(url).path).route) != entry.route:
            self.fail(url, f"resolves to {route!r}, not the entry's {entry.route!r}")
            return
        if entry.kind is PAGE:
            self._open(url, expect)
        elif self.width is WIDTHS[0] or (expect.status in ERROR_PAGES and expect.status not in self.axed_errors):
            # Fragments, data and refused GETs answer alike at any width; at the phone's only
            # the first error page of each kind is requested again, to be shown and checked.
            self._request(url, expect, htmx=entry.kind is FRAGMENT)

    def _open(self, url: str, expect: Expect) -> None:
        """A browser navigation; the first answer decides the status, redirects are followed."""
        self.console.clear()
        self.counts["pages"] += 1
        with timed("navigation"):
            response = self.page.goto(f"{self.base_url}{url}")
        first = response.request
        while first.redirected_from is not None:
            first = first.redirected_from
        first_response = first.response()
        if problem := self._mismatch(url, expect, first_response.status, first_response.headers.get("location")):
            self.fail(url, problem)
            return
        self._check_shown_page(url, expect.status)

    def _request(self, url: str, expect: Expect, *, htmx: bool) -> None:
        """An API request in the role's context (its cookies): fragments with ``HX-Request``,
        data and POST-only routes as plain GETs."""
        self.counts["requests"] += 1
        headers = {"HX-Request": "true"} if htmx else {}
        response = self.page.request.get(f"{self.base_url}{url}", headers=headers, max_redirects=0)
        status, location = response.status, response.headers.get("location")
        if htmx and "hx-redirect" in response.headers:  # an htmx redirect is a redirect
            status, location = 302, response.headers["hx-redirect"]
        if problem := self._mismatch(url, expect, status, location):
            self.fail(url, problem)
        elif htmx and status < 300:
            # The same URL opened in the browser (a bookmark, a copied link) must lead to a page,
            # never show the bare fragment (SPEC "HTTP contract"; issue 15).
            plain = self.page.request.get(f"{self.base_url}{url}", max_redirects=0)
            if not 300 <= plain.status < 400:
                self.fail(url, f"a plain navigation to this fragment answers {plain.status}, not a redirect to a page")
        elif status in ERROR_PAGES and status not in self.axed_errors:
            self.console.clear()
            self.page.goto(f"{self.base_url}{url}")
            self._check_shown_page(url, status)

    def _check_shown_page(self, url: str, status: int) -> None:
        """On pages shown (200) and the first error page of each kind at this width: axe, no
        layout fault (``LAYOUT``, again with the page's closed ``<details>`` opened), no console
        error but the browser's note of the expected error status, and a screenshot."""
        if status != 200 and (status not in ERROR_PAGES or status in self.axed_errors):
            return
        with timed("htmx"):
            self.page.wait_for_function(HTMX_SETTLED)
        if status != 200:
            self.axed_errors.add(status)
        for fault in self.page.evaluate(LAYOUT):
            self.fail(url, fault)
        self.counts["screenshots"] += 1
        with timed("screenshot"):
            self.page.screenshot(path=self.shots / self._shot_name(url, status), full_page=True)
        self.counts["axe"] += 1
        with timed("axe"):
            results = AXE.run(self.page)
        if results.violations_count:
            found = "; ".join(
                f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:3])}"
                for v in results.response["violations"]
            )
            self.fail(url, f"axe: {found}")
        # What the page's own disclosures hide (a care card's "Name, notes and status" form):
        # opened, checked again for layout faults not already reported.
        shown = set(self.page.evaluate(LAYOUT))
        if self.page.evaluate(
            "() => [...document.querySelectorAll('main details:not([open])')].map((d) => d.open = true).length"
        ):
            for fault in self.page.evaluate(LAYOUT):
                if fault not in shown:
                    self.fail(url, f"{fault} (its <details> opened)")
        expected_note = f"status of {status}"
        unexpected = [text for text in self.console if not (status != 200 and expected_note in text)]
        if unexpected:
            self.fail(url, "console: " + " | ".join(unexpected))

    @staticmethod
    def _shot_name(url: str, status: int) -> str:
        """``/forum/t/3/?page=2`` -> ``forum-t-3-page-2.png``; an error page adds its status; a
        token in the path (a confirmation or unlock link) is cut to its first 8 characters."""
        short = "/".join(part[:8] if len(part) > 24 else part for part in url.split("/"))
        name = re.sub(r"[^A-Za-z0-9]+", "-", short).strip("-")[:80] or "home"
        return f"{name}.png" if status == 200 else f"{name}-{status}.png"

    def _mismatch(self, url: str, expect: Expect, status: int, location: str | None) -> str | None:
        if status != expect.status:
            return f"expected {expect.status}, got {status}" + (f" to {location}" if location else "")
        wanted = expect.location_for(self.world)
        if wanted is None:
            return None
        target = urlsplit(location or "")
        if target.path != wanted:
            return f"expected a redirect to {wanted}, got {location}"
        if wanted == SIGN_IN_PATH and parse_qs(target.query).get("next") != [url]:
            return f"the sign-in redirect does not come back to {url}: {location}"
        return None

    def close(self) -> None:
        self.context.close()


@pytest.mark.django_db(transaction=True)
def test_crawl_every_route_as_every_role(browser, live_server, capsys):
    """Each registered route, as a signed-out visitor, a gardener, a newbie, a gardener whose
    address is unconfirmed and a moderator (each signed in through the form), at 1280 and 390
    px (one context each): the status the registry expects, the redirect's target (sign-in
    redirects carry ``next``), and on every page shown and the first error page of each kind:
    axe clean, no sideways scroll, no console error or CSP violation, a screenshot."""
    world = make_world()
    failures: list[str] = []
    axed_errors: dict[str, set[int]] = {width.name: set() for width in WIDTHS}
    timings = {}
    started = time.monotonic()
    totals = {"pages": 0, "axe": 0, "requests": 0, "screenshots": 0}
    for role in ROLES:
        role_started = time.monotonic()
        for width in WIDTHS:
            crawler = Crawler(browser, live_server.url, world, role, width, failures, axed_errors)
            try:
                if role != SIGNED_OUT:
                    crawler.sign_in(world.accounts[role])
                for entry in REGISTRY:
                    try:
                        crawler.visit(entry)
                    except Exception as error:  # a timeout or a crash on one URL: note it, go on
                        crawler.fail(entry.url(world), f"{type(error).__name__}: {error}".splitlines()[0])
            finally:
                crawler.close()
            totals = {key: totals[key] + crawler.counts[key] for key in totals}
        timings[role] = time.monotonic() - role_started
    elapsed = time.monotonic() - started
    with capsys.disabled():
        kinds = {kind: sum(1 for entry in REGISTRY if entry.kind is kind) for kind in (PAGE, FRAGMENT, DATA, POST_ONLY)}
        print(
            f"\ncrawl: {len(REGISTRY)} entries ({kinds[PAGE]} pages, {kinds[FRAGMENT]} fragments, {kinds[DATA]} data, "
            f"{kinds[POST_ONLY]} POST-only) x {len(ROLES)} roles x {len(WIDTHS)} widths "
            f"({', '.join(f'{width.width} px' for width in WIDTHS)}): {totals['pages']} navigations, "
            f"{totals['requests']} requests, {totals['axe']} axe runs, {totals['screenshots']} screenshots "
            f"(in {ARTIFACTS.relative_to(PROJECT_DIR)}) in {elapsed:.1f} s ("
            + ", ".join(f"{role} {seconds:.1f} s" for role, seconds in timings.items())
            + "); of which "
            + ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in PHASES.most_common())
        )
    assert not failures, f"{len(failures)} crawl failure(s):\n" + "\n".join(failures)
