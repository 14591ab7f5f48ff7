"""The site header on a phone and on a keyboard (issue 15, "Good on a phone, good on a
keyboard"): at 390 px the closed header is at most 64 px tall and its "Menu" disclosure opens by
keyboard onto 44 px rows (WCAG 2.2 2.5.8, aimed at 44); Escape and a click outside close it; at
1280 px the links are inline with nothing to open; without JavaScript the links are reachable at
both widths. Screenshots go to ``e2e/artifacts/`` (git-ignored)."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.accounts.models import TrustLevel
from apps.forum.services import reply_create, topic_create
from tests import factories

from .helpers import assert_no_axe_violations, submit_sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CLOSED_HEADER_MAX_PX = 64
TARGET_MIN_PX = 44
# A moderator sees the longest navigation (Moderation included).
NAV_LINKS = ["Dashboard", "Identify", "My searches", "Help identify", "Care cards", "Moderation", "Species", "Forum"]
FOCUSED = "() => [document.activeElement.tagName, document.activeElement.textContent.trim()]"
BADGE_LOADED = "() => document.querySelector('#notification-badge[aria-live]') !== null"


@pytest.fixture
def moderator(transactional_db):
    """A superuser (the moderation check passes for superusers), so Moderation is in the nav."""
    return factories.UserFactory(username="rosa", email="rosa@example.com", is_superuser=True, is_staff=True)


def _signed_in_page(browser, live_server, *, viewport, javascript=True):
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/accounts/login/")
    submit_sign_in(page, username="rosa", password=factories.DEFAULT_PASSWORD)
    assert page.url == f"{live_server.url}/dashboard/"
    if javascript:
        page.wait_for_function(BADGE_LOADED)
    return context, page, errors


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def _header_targets(page):
    """Every link and button of the open menu: the nav links, then the account's."""
    header = page.locator("header")
    nav = header.get_by_role("navigation", name="Main")
    return [nav.get_by_role("link", name=name, exact=True) for name in NAV_LINKS] + [
        header.get_by_role("link", name="Notifications, none unread"),
        header.get_by_role("link", name="rosa (your settings)"),
        header.get_by_role("button", name="Sign out"),
    ]


def test_phone_menu_opens_by_keyboard_and_closes_on_escape(browser, live_server, moderator):
    """At 390 px: header <= 64 px closed, nav hidden; Tab, Tab, Tab reaches the summary (after the
    skip link and the brand); Enter opens it, every link and button >= 44 px tall and visible;
    axe clean when open; Escape closes it with focus back on the summary; a click outside, or Tab
    past its last control, closes it; widened to 1280 px and narrowed back, it is closed."""
    context, page, errors = _signed_in_page(browser, live_server, viewport=PHONE)
    try:
        header = page.locator("header")
        summary = header.locator("summary")
        _shot(page, "header-390-closed.png")
        assert header.bounding_box()["height"] <= CLOSED_HEADER_MAX_PX
        assert summary.bounding_box()["height"] >= TARGET_MIN_PX
        expect(header.get_by_role("link", name="Dashboard")).to_be_hidden()
        assert_no_axe_violations(page)

        page.locator("body").focus()
        for expected in (["A", "Skip to content"], ["A", "Plant Community Portal"], ["SUMMARY", "Menu"]):
            page.keyboard.press("Tab")
            assert page.evaluate(FOCUSED) == expected
        expect(summary).to_have_accessible_name("Menu")
        page.keyboard.press("Enter")
        expect(header.locator("details")).to_have_attribute("open", "")
        for target in _header_targets(page):
            expect(target).to_be_visible()
            assert target.bounding_box()["height"] >= TARGET_MIN_PX, target
        expect(header.get_by_text("Signed in as")).to_be_visible()
        _shot(page, "header-390-open.png")
        assert_no_axe_violations(page)

        page.keyboard.press("Tab")  # into the menu: Escape works from inside it too
        assert page.evaluate(FOCUSED) == ["A", "Dashboard"]
        page.keyboard.press("Escape")
        expect(header.locator("details")).not_to_have_attribute("open", "")
        expect(header.get_by_role("link", name="Dashboard")).to_be_hidden()
        assert page.evaluate(FOCUSED) == ["SUMMARY", "Menu"]
        assert header.bounding_box()["height"] <= CLOSED_HEADER_MAX_PX

        summary.click()
        expect(header.get_by_role("link", name="Forum")).to_be_visible()
        panel = header.locator(".site-menu-panel").bounding_box()
        page.mouse.click(PHONE["width"] / 2, panel["y"] + panel["height"] + 20)  # the page under the panel
        expect(header.get_by_role("link", name="Forum")).to_be_hidden()

        # Tabbing on past the last control (Sign out) closes the menu: the panel would hide the focus.
        summary.click()
        header.get_by_role("button", name="Sign out").focus()
        page.keyboard.press("Tab")
        expect(header.get_by_role("link", name="Forum")).to_be_hidden()
        assert page.evaluate("() => document.querySelector('header').contains(document.activeElement)") is False

        # Widened past 48rem the links are inline; narrowed again, the menu starts closed.
        page.set_viewport_size(DESKTOP)
        expect(header.get_by_role("link", name="Forum")).to_be_visible()
        page.set_viewport_size(PHONE)
        expect(header.get_by_role("link", name="Forum")).to_be_hidden()
        expect(summary).to_be_visible()
    finally:
        context.close()
    assert errors == []


def test_desktop_header_shows_links_inline(browser, live_server, moderator):
    """At 1280 px the summary is not shown and every link and button is visible without
    opening anything; Escape changes nothing there."""
    context, page, errors = _signed_in_page(browser, live_server, viewport=DESKTOP)
    try:
        header = page.locator("header")
        expect(header.locator("summary")).to_be_hidden()
        for target in _header_targets(page):
            expect(target).to_be_visible()
        page.keyboard.press("Escape")
        expect(header.get_by_role("link", name="Dashboard")).to_be_visible()
        _shot(page, "header-1280.png")
        assert_no_axe_violations(page)
    finally:
        context.close()
    assert errors == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_links_reachable_without_javascript(browser, live_server, moderator, viewport):
    """With JavaScript off (the <details> is never opened by script): at 1280 px the links are
    visible as they are; at 390 px they are hidden until the summary is clicked, then visible."""
    context, page, _ = _signed_in_page(browser, live_server, viewport=viewport, javascript=False)
    try:
        header = page.locator("header")
        # Without htmx the badge is its plain fallback link.
        targets = _header_targets(page)[:-3] + [
            header.get_by_role("link", name="Notifications", exact=True),
            header.get_by_role("link", name="rosa (your settings)"),
            header.get_by_role("button", name="Sign out"),
        ]
        details = header.locator("details")
        expect(details).not_to_have_attribute("open", "")  # no script opened it, at either width
        if viewport is PHONE:
            for target in targets:
                expect(target).to_be_hidden()
            header.locator("summary").click()
            expect(details).to_have_attribute("open", "")
        for target in targets:
            expect(target).to_be_visible()
        _shot(page, f"header-{viewport['width']}-no-js.png")
    finally:
        context.close()


def test_phone_menu_button_shows_unread_notifications(browser, live_server, moderator):
    """The badge is hidden in the closed menu at 390 px, so while rosa has an unread reply the
    summary shows a dot and is named "Menu (unread notifications)"; the open menu shows the count."""
    forum = factories.ForumFactory(name="Houseplants", slug="houseplants")
    topic = topic_create(forum=forum, poster=moderator, subject="Yellow leaves", source="Why?", publish=True)
    ben = factories.UserFactory(username="ben", trust_level=TrustLevel.BASIC)
    reply_create(topic=topic, poster=ben, source="Too much water.", publish=True)
    context, page, errors = _signed_in_page(browser, live_server, viewport=PHONE)
    try:
        header = page.locator("header")
        summary = header.locator("summary")
        expect(summary).to_have_accessible_name("Menu (unread notifications)")
        assert header.bounding_box()["height"] <= CLOSED_HEADER_MAX_PX
        _shot(page, "header-390-unread.png")
        summary.click()
        expect(header.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()
        assert_no_axe_violations(page)
    finally:
        context.close()
    assert errors == []
