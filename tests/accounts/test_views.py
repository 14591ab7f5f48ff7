"""Sign-up, sign-in (username or email, any case), sign-out and email confirmation."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.services import email_confirmation_token
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "window-basil-trellis-42"


def _sign_in(client, username, password=DEFAULT_PASSWORD, next_url=None):
    data = {"username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post(reverse("accounts:login"), data)


@pytest.mark.parametrize("spelling", ["rosa", "ROSA", "  Rosa ", "rosa@example.com", "ROSA@Example.COM"])
def test_sign_in_by_username_or_email_in_any_case(client, gardener, spelling):
    """Every spelling of the account signs in and lands on the dashboard."""
    response = _sign_in(client, spelling)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:index")
    assert client.session[SESSION_KEY] == str(gardener.pk)


def test_sign_in_rotates_the_session_key(client, gardener):
    """A session key known before sign-in is not the one after it (session fixation)."""
    client.get(reverse("accounts:login"))
    client.session.save()
    before = client.session.session_key
    _sign_in(client, "rosa")
    assert client.session.session_key != before


def test_wrong_password_and_unknown_name_answer_alike(client, gardener):
    """The form is shown again (200) with one message that does not say which part was wrong."""
    wrong = _sign_in(client, "rosa", "not-the-password")
    unknown = _sign_in(client, "nobody-here", "not-the-password")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "do not match an account" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_next_is_followed_on_site_and_ignored_off_site(client, gardener):
    """``next`` never redirects off-site (SPEC "Bad input")."""
    assert _sign_in(client, "rosa", next_url="/plants/requests/")["Location"] == "/plants/requests/"
    client.logout()
    assert _sign_in(client, "rosa", next_url="https://evil.example/")["Location"] == reverse("dashboard:index")
    client.logout()
    assert _sign_in(client, "rosa", next_url="//evil.example/x")["Location"] == reverse("dashboard:index")


def test_sign_out_is_post_only(client, gardener):
    """GET does not sign out; POST ends the session."""
    client.force_login(gardener)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert SESSION_KEY in client.session
    response = client.post(reverse("accounts:logout"), follow=True)
    assert response.redirect_chain == [(reverse("accounts:login"), 302)]
    assert "You are signed out." in response.content.decode()
    assert SESSION_KEY not in client.session


def test_signed_out_page_redirects_to_login_with_next(client):
    """A signed-out browser gets 302 to the sign-in page with ``next``."""
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/"


def test_signed_out_htmx_request_gets_hx_redirect(client):
    """An htmx request gets the same redirect through ``HX-Redirect``, not a 302."""
    response = client.get(reverse("dashboard:panel", args=["plant-stats"]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/dashboard/panels/plant-stats/"


def test_signed_out_api_call_is_401_problem(client):
    """A signed-out API call gets 401 problem+json."""
    response = client.get(reverse("api-dashboard-stats"))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


def _sign_up(client, **overrides):
    data = {
        "username": "basil",
        "email": "basil@example.com",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
    }
    data.update(overrides)
    return client.post(reverse("accounts:signup"), data)


def test_sign_up_creates_account_and_sends_confirmation_link(client, django_capture_on_commit_callbacks):
    """Sign-up answers "check your email" and the link, emailed after commit, confirms it."""
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign_up(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:signup-done")
    user = User.objects.get(username="basil")
    assert user.email_confirmed_at is None
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/confirm/\S+/)", mail.outbox[0].body).group(1)
    landing = client.get(link)
    assert landing.status_code == 200 and "Confirm my email" in landing.content.decode()
    user.refresh_from_db()
    assert user.email_confirmed_at is None
    response = client.post(link)
    assert response.status_code == 303 and response["Location"] == reverse("accounts:login")
    user.refresh_from_db()
    assert user.email_confirmed_at is not None


def test_sign_up_answers_the_same_when_email_or_username_is_taken(client, gardener, django_capture_on_commit_callbacks):
    """Taken names change nothing and the answer is identical; the owner is told someone tried."""
    with django_capture_on_commit_callbacks(execute=True):
        fresh = _sign_up(client, username="basil", email="basil@example.com")
        taken_email = _sign_up(client, username="thyme", email="ROSA@example.com")
        taken_username = _sign_up(client, username="ROSA", email="other@example.com")
    assert fresh.status_code == taken_email.status_code == taken_username.status_code == 302
    assert fresh["Location"] == taken_email["Location"] == taken_username["Location"]
    assert User.objects.filter(username__iexact="thyme").count() == 0
    assert User.objects.filter(email__iexact="other@example.com").count() == 0
    subjects = sorted(message.subject for message in mail.outbox)
    assert "Someone tried to sign up with your email" in subjects
    assert "Choose another username" in subjects
    assert mail.outbox[[m.subject for m in mail.outbox].index("Someone tried to sign up with your email")].to == [
        "ROSA@example.com"
    ]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"username": "has@sign"}, "no @"),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"password1": "short", "password2": "short"}, "too short"),
        ({"password1": "password1234", "password2": "password1234"}, "too common"),
        ({"password2": "something-else-entirely"}, "do not match"),
    ],
)
def test_sign_up_rejects_bad_input_with_a_message(client, overrides, message):
    """Bad input is shown again with its message and creates nothing."""
    response = _sign_up(client, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()
    assert mail.outbox == []


def test_confirmation_link_that_is_tampered_is_a_400_page(client):
    """A broken link gets a clear page, not a 500, whether opened (GET) or submitted (POST)."""
    url = reverse("accounts:confirm-email", kwargs={"token": "nope"})
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 400
        assert "not valid" in response.content.decode()


def test_opening_the_confirmation_link_changes_nothing_until_the_button_is_pressed(client_factory, db):
    """The emailed link's GET (a person, a mail scanner or a link preview) shows a page with a
    button and leaves the address unconfirmed (SPEC "Bad input": a GET never changes state);
    the button's POST, with the CSRF token the page carries, confirms it. Once confirmed, the
    link's page says so and shows no button."""
    user = User.objects.create_user(username="basil", email="basil@example.com", password=STRONG_PASSWORD)
    url = reverse("accounts:confirm-email", kwargs={"token": email_confirmation_token(user=user)})
    browser = client_factory(enforce_csrf_checks=True)
    page = browser.get(url)
    assert page.status_code == 200
    user.refresh_from_db()
    assert user.email_confirmed_at is None
    assert browser.post(url).status_code == 403  # no CSRF token: refused, nothing confirmed
    user.refresh_from_db()
    assert user.email_confirmed_at is None
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = browser.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 303
    user.refresh_from_db()
    assert user.email_confirmed_at is not None
    again = browser.get(url).content.decode()
    assert "already confirmed" in again and "Confirm my email" not in again


def test_username_and_email_are_unique_whatever_the_case(db):
    """The database refuses a second spelling of a username or email."""
    from django.db import IntegrityError, transaction

    UserFactory(username="Fern", email="fern@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="fERN", email="x@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="other", email="FERN@EXAMPLE.COM")


def test_password_reset_sends_a_link(client, gardener):
    """Django's reset flow works by email."""
    response = client.post(reverse("password_reset"), {"email": "rosa@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body


def test_sign_up_with_a_taken_email_costs_the_same_password_hash(client, gardener):
    """The taken-email path hashes the password like a new account, so timing does not tell."""
    from tests.hashers import hash_count, hash_count_reset

    for email in ("rosa@example.com", "fresh@example.com"):
        hash_count_reset()
        _sign_up(client, username=f"u{len(email)}", email=email)
        assert hash_count() == 1, email


def test_trust_levels_are_ordered_and_reached_by_the_spec_rules():
    """``TrustLevel`` orders the ladder (plain stored values compare too) and
    ``trust_level_reached`` applies SPEC "Domain"'s requirements (basic 5 / 7 days, trusted
    25 / 30, veteran 100 / 90), never falling below the current level."""
    from apps.accounts.models import TrustLevel, trust_level_reached

    assert TrustLevel.NEW < TrustLevel.BASIC < TrustLevel.TRUSTED < TrustLevel.VETERAN
    assert "basic" >= TrustLevel.BASIC and "new" < TrustLevel.BASIC and TrustLevel("veteran") > "trusted"
    assert [level.next_level for level in TrustLevel] == [
        TrustLevel.BASIC,
        TrustLevel.TRUSTED,
        TrustLevel.VETERAN,
        None,
    ]
    cases = [
        (("new", 4, 365), "new"),
        (("new", 5, 6), "new"),
        (("new", 5, 7), "basic"),
        (("new", 25, 29), "basic"),
        (("new", 25, 30), "trusted"),
        (("new", 99, 365), "trusted"),
        (("new", 100, 90), "veteran"),
        (("trusted", 0, 0), "trusted"),
        (("basic", 100, 8), "basic"),
    ]
    for (current, posts, days), expected in cases:
        assert trust_level_reached(current=current, approved_posts=posts, account_age_days=days) == expected
