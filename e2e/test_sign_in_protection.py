"""Sign-in protection in a real browser: the lockout after ten wrong passwords, a moderator
clearing it, sign-up with the emailed confirmation link, and axe on each page (SPEC
"Sign-in, tokens and lockout")."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from playwright.sync_api import expect

from apps.core.models import ModerationAction
from tests import factories

from .helpers import assert_no_axe_violations, submit_sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def gardener_and_moderator(transactional_db):
    gardener = factories.UserFactory(username="rosa", email="rosa@example.com")
    moderator = factories.UserFactory(username="mod", email="mod@example.com", is_staff=True)
    moderator.groups.add(Group.objects.get(name="moderators"))
    return gardener, moderator


def test_lockout_then_moderator_clears_it_then_gardener_signs_in(
    browser, live_server, gardener_and_moderator, console_errors, page
):
    """Ten wrong passwords, then the lock page with the time remaining (even for the right
    password); a moderator clears the lock from /moderation/lockouts/ over htmx; the gardener
    signs in."""
    page.goto(f"{live_server.url}/accounts/login/")
    for attempt in range(10):
        submit_sign_in(page, username="rosa", password=f"wrong-password-{attempt}")
        assert page.get_by_role("alert").get_by_text("do not match an account").is_visible()
    submit_sign_in(page, username="Rosa", password=factories.DEFAULT_PASSWORD)
    assert page.get_by_role("heading", name="Too many sign-in attempts").is_visible()
    message = page.get_by_role("alert").inner_text()
    assert re.search(r"try again in 60 minutes\.\s+Try again in 3[56]\d\d seconds\.", message), message
    assert_no_axe_violations(page)

    moderator_context = browser.new_context()
    moderator_page = moderator_context.new_page()
    moderator_page.goto(f"{live_server.url}/accounts/login/")
    submit_sign_in(moderator_page, username="mod", password=factories.DEFAULT_PASSWORD)
    moderator_page.get_by_role("link", name="Moderation").click()
    moderator_page.wait_for_url(f"{live_server.url}/moderation/")
    moderator_page.get_by_role("link", name="Account locks").click()
    moderator_page.wait_for_url(f"{live_server.url}/moderation/lockouts/")
    row = moderator_page.get_by_role("row", name=re.compile("rosa"))
    assert row.is_visible()
    assert_no_axe_violations(moderator_page)
    row.get_by_role("textbox", name="Reason").fill("Owner called the help desk")
    row.get_by_role("button", name="Clear lock for rosa").click()
    expect(row.get_by_role("status")).to_contain_text("Cleared.")
    assert_no_axe_violations(moderator_page)
    moderator_context.close()
    assert (
        ModerationAction.objects.filter(
            action="lockout.clear",
            target_id=f"user:{gardener_and_moderator[0].pk}",
            reason="Owner called the help desk",
        ).count()
        == 1
    )

    page.goto(f"{live_server.url}/accounts/login/")
    submit_sign_in(page, username="rosa", password=factories.DEFAULT_PASSWORD)
    assert page.url == f"{live_server.url}/dashboard/"
    assert page.get_by_role("heading", name="Hello, rosa").is_visible()
    # The lock page is a 429 on purpose; Chromium logs every non-2xx document load.
    unexpected = [error for error in console_errors if "status of 429" not in error]
    assert unexpected == [], "\n".join(unexpected)


def test_sign_up_with_the_emailed_confirmation_link(page, live_server, transactional_db, console_errors):
    """Sign up, read the confirmation link from the test mailbox, open it, press "Confirm my
    email", sign in."""
    mail.outbox = []
    page.goto(f"{live_server.url}/accounts/signup/")
    assert_no_axe_violations(page)
    form = page.locator("main form")
    form.locator("input[name=username]").fill("basil")
    form.locator("input[name=email]").fill("basil@example.com")
    form.locator("input[name=password1]").fill("window-basil-trellis-42")
    form.locator("input[name=password2]").fill("window-basil-trellis-42")
    with page.expect_navigation():
        form.get_by_role("button", name="Create account").click()
    assert page.get_by_role("heading", name="Check your email").is_visible()
    assert_no_axe_violations(page)

    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/confirm/\S+/)", mail.outbox[0].body).group(1)
    page.goto(f"{live_server.url}{link}")
    # Opening the link changes nothing (a GET never changes state); the button confirms.
    assert page.get_by_role("heading", name="Confirm your email").is_visible()
    assert_no_axe_violations(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm my email").click()
    assert page.get_by_role("status").get_by_text("your email is confirmed").is_visible()
    submit_sign_in(page, username="basil", password="window-basil-trellis-42")
    assert page.get_by_role("heading", name="Hello, basil").is_visible()
    assert console_errors == [], "\n".join(console_errors)
