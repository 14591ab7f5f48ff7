"""Two-factor sign-in in a real browser (README "Two-factor sign-in"): set it up from the settings
page (the key read from the page, the code computed by pyotp as an authenticator app would),
sign out, sign in with password and code, and with a recovery code; axe on the states the
crawl cannot reach (the set-up with its QR code, the recovery codes, the second step with its
error)."""

import time
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import expect

from tests import factories

from .helpers import assert_no_axe_violations, submit_sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _code(secret: str, *, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time(), counter_offset=steps)


def _sign_out(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


def test_set_up_two_factor_then_sign_in_with_password_and_code(live_server, page, console_errors):
    factories.UserFactory(username="rosa", email="rosa@example.com")
    page.goto(f"{live_server.url}/accounts/login/?next=/accounts/settings/two-factor/")
    submit_sign_in(page, username="rosa", password=factories.DEFAULT_PASSWORD)
    assert urlsplit(page.url).path == "/accounts/settings/two-factor/"
    expect(page.get_by_text("Off.")).to_be_visible()

    page.get_by_role("textbox", name="Your password").fill(factories.DEFAULT_PASSWORD)
    page.get_by_role("button", name="Confirm password").click()
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 150
    secret = page.locator("[data-totp-secret]").inner_text().replace(" ", "")
    assert len(secret) == 32
    assert_no_axe_violations(page)

    page.get_by_role("textbox", name="Code from the app").fill("000000" if _code(secret) != "000000" else "111111")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("alert")).to_contain_text("does not match")
    assert_no_axe_violations(page)
    page.get_by_role("textbox", name="Code from the app").fill(_code(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    recovery_codes = page.get_by_role("list", name="Recovery codes").locator("code").all_inner_texts()
    assert len(recovery_codes) == 10
    assert_no_axe_violations(page)

    _sign_out(page)
    page.goto(f"{live_server.url}/accounts/login/?next=/forum/")
    submit_sign_in(page, username="rosa", password=factories.DEFAULT_PASSWORD)
    assert urlsplit(page.url).path == "/accounts/login/two-factor/"
    assert not [cookie for cookie in page.context.cookies() if cookie["name"] in ("access_token", "refresh_token")]
    page.get_by_role("textbox", name="Authentication code").fill("12345")
    with page.expect_navigation():
        page.get_by_role("button", name="Verify and sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    assert_no_axe_violations(page)
    # The set-up used this step's code; the app's next code (one step of drift) is fresh.
    page.get_by_role("textbox", name="Authentication code").fill(_code(secret, steps=1))
    with page.expect_navigation():
        page.get_by_role("button", name="Verify and sign in").click()
    assert urlsplit(page.url).path == "/forum/"
    expect(page.get_by_text("Signed in as")).to_contain_text("rosa")
    assert {"access_token", "refresh_token"} <= {cookie["name"] for cookie in page.context.cookies()}

    _sign_out(page)
    page.goto(f"{live_server.url}/accounts/login/")
    submit_sign_in(page, username="rosa", password=factories.DEFAULT_PASSWORD)
    page.get_by_role("textbox", name="Authentication code").fill(recovery_codes[0])
    with page.expect_navigation():
        page.get_by_role("button", name="Verify and sign in").click()
    assert urlsplit(page.url).path == "/dashboard/"
    page.goto(f"{live_server.url}/accounts/settings/two-factor/")
    expect(page.get_by_text("9 recovery codes left")).to_be_visible()
    assert console_errors == []
