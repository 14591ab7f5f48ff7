"""Revoking a session from another browser (issue 11, "Done when": browser e2e for revoking a
session from another browser): one gardener signed in in two browser contexts; from the first
one's "Active sessions" page the second is signed out, and its next navigation lands on the
sign-in page."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories

from .helpers import assert_no_axe_violations, submit_sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OTHER_BROWSER = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def test_revoke_another_browser_from_the_sessions_page(browser, live_server, transactional_db, page, console_errors):
    """A signs in, B signs in (another context, another user agent); A opens Settings from the
    header, then Sessions, sees both (this browser marked), signs B out; B's next navigation
    lands on sign-in with ``next``; A is still signed in."""
    factories.UserFactory(username="rosa", email="rosa@example.com")
    other_context = browser.new_context(user_agent=OTHER_BROWSER)
    other = other_context.new_page()
    try:
        for tab in (page, other):
            tab.goto(f"{live_server.url}/accounts/login/")
            submit_sign_in(tab, username="rosa", password=factories.DEFAULT_PASSWORD)
            assert tab.url == f"{live_server.url}/dashboard/"

        page.get_by_role("link", name=re.compile(r"^rosa")).click()
        page.wait_for_url(f"{live_server.url}/accounts/settings/")
        page.get_by_role("navigation", name="Settings").get_by_role("link", name="Sessions").click()
        page.wait_for_url(f"{live_server.url}/accounts/settings/sessions/")
        browsers = page.get_by_role("table", name="Browsers")
        expect(browsers.get_by_role("row")).to_have_count(3)  # the header and two browsers
        expect(browsers.get_by_text("This browser")).to_have_count(1)
        assert_no_axe_violations(page)

        with page.expect_navigation():
            browsers.get_by_role("button", name=re.compile(r"^Sign out Firefox 128 on Ubuntu")).click()
        expect(page.get_by_role("status")).to_contain_text("Signed out: Firefox 128 on Ubuntu.")
        expect(browsers.get_by_role("row")).to_have_count(2)
        assert_no_axe_violations(page)

        other.goto(f"{live_server.url}/dashboard/")
        assert other.url == f"{live_server.url}/accounts/login/?next=/dashboard/"
        expect(other.get_by_role("heading", name="Sign in")).to_be_visible()

        page.goto(f"{live_server.url}/dashboard/")
        assert page.url == f"{live_server.url}/dashboard/"
    finally:
        other_context.close()
    assert console_errors == []
