"""Issue 15, "Good on a phone": at 390 px (an iPhone 12-15's CSS width) the species catalog, the
account locks, the sessions tables, the moderation log and the dashboard with its "confirm your
email" banner fit the screen: nothing scrolls sideways, not the page and not a table inside its
scrolling wrapper (``.table-wrap`` would hide a cut-off table from the page's own width), and
each table row is stacked as a card. Long unbroken words (an email, a typed name, a user agent,
a reason) are used on purpose. Full-page screenshots go to ``e2e/artifacts/`` for a person to
look at."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from apps.accounts.lockout import current_locks
from apps.accounts.services import lockout_clear_by_moderator
from tests import factories

from .helpers import assert_no_axe_violations, submit_sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PHONE = {"width": 390, "height": 844}
LONG_EMAIL = "rosa.who.keeps.a.very.long.mailbox.name.without.breaks@community-garden-allotments.example.org"
LONG_NAME = "someone-typed-a-name-without-any-space-or-break-at-all-" + "x" * 40
LONG_AGENT = "Mozilla/5.0 (Linux; Android 14; " + "VeryLongDeviceModelName" * 6 + ") AppleWebKit/537.36 Chrome/126.0"

# Widest element inside each .table-wrap against the wrap's own width, and the page's width.
MEASURE = """() => ({
  page: document.documentElement.scrollWidth,
  inner: window.innerWidth,
  wraps: [...document.querySelectorAll('.table-wrap')].map(w => [w.scrollWidth, w.clientWidth]),
  rows: [...document.querySelectorAll('.table-stack tbody tr')].map(r => getComputedStyle(r).display),
})"""


def _lock(name: str) -> None:
    """Ten failed sign-ins (Django's test client on the same database and Redis) lock ``name``."""
    browser = Client()
    for _ in range(10):
        browser.post(reverse("accounts:login"), {"username": name, "password": "wrong-guess-123"})


def _assert_fits(page, label: str, *, tables: bool) -> None:
    measured = page.evaluate(MEASURE)
    assert measured["page"] <= measured["inner"], f"{label}: the page scrolls sideways: {measured}"
    for scroll_width, client_width in measured["wraps"]:
        assert scroll_width <= client_width, f"{label}: a table is cut off in its wrapper: {measured}"
    if tables:
        assert measured["rows"] and set(measured["rows"]) == {"block"}, f"{label}: rows not stacked: {measured}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-{label}.png"), full_page=True)


def test_tables_and_dashboard_fit_a_phone(browser, live_server, transactional_db):
    """An unconfirmed moderator with a long email signs in on a 390 px phone and opens each page."""
    moderator = factories.UserFactory(username="mod", email=LONG_EMAIL, email_confirmed_at=None, is_staff=True)
    moderator.groups.add(Group.objects.get(name="moderators"))
    factories.UserFactory(username="rosa", email="rosa." + LONG_EMAIL)
    for name in ("rosa", LONG_NAME, "basil"):
        _lock(name)
    basil = next(lock for lock in current_locks() if "basil" in lock.display)
    lockout_clear_by_moderator(key=basil.key, moderator=moderator, reason="Owner-called-the-help-desk-" * 6)

    context = browser.new_context(viewport=PHONE, user_agent=LONG_AGENT, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        submit_sign_in(page, username="mod", password=factories.DEFAULT_PASSWORD)
        assert page.url == f"{live_server.url}/dashboard/"
        banner = page.get_by_role("region", name="Confirm your email address to post in the forum")
        assert banner.get_by_role("button", name="Resend the confirmation email").is_visible()
        page.wait_for_load_state("networkidle")  # the panels load themselves
        _assert_fits(page, "dashboard", tables=False)
        assert_no_axe_violations(page)

        for label, url in (
            ("species", reverse("plants:species-list")),
            ("lockouts", reverse("moderation:lockouts")),
            ("sessions", reverse("accounts:settings-sessions")),
        ):
            page.goto(f"{live_server.url}{url}")
            _assert_fits(page, label, tables=True)
            assert_no_axe_violations(page)

        page.goto(f"{live_server.url}{reverse('moderation:log')}")
        assert page.get_by_text("Owner-called-the-help-desk-", exact=False).first.is_visible()
        _assert_fits(page, "moderation-log", tables=False)
    finally:
        context.close()
    assert errors == []
