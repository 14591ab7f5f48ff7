"""Every check of the current password counts on the sign-in lockout (issue 11: "the
current-password check counts on the same lockout as sign-in"; SPEC "Sign-in, tokens and
lockout"; OWASP ASVS 4.0 2.2.1). The failing case of the issue: 15 wrong ``old_password``
POSTs to ``/accounts/password_change/`` were 15 ordinary form errors."""

import pytest
from django.core import mail
from django.urls import reverse

from apps.accounts.lockout import PREFIX
from apps.core.redis import get_strict_redis
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

PASSWORD_CHANGE = "/accounts/password_change/"
NEW_PASSWORD = "a-brand-new-passphrase-99"


def _change(client, old_password, new_password=NEW_PASSWORD):
    return client.post(
        PASSWORD_CHANGE,
        {"old_password": old_password, "new_password1": new_password, "new_password2": new_password},
    )


def _email_change(client, password, email="rosa.new@example.com"):
    return client.post(reverse("accounts:settings-email"), {"email": email, "password": password})


def _sign_in(client, password=DEFAULT_PASSWORD):
    return client.post("/accounts/login/", {"username": "rosa", "password": password})


def test_fifteen_wrong_old_passwords_lock_like_sign_in(
    gardener, gardener_client, client_factory, django_capture_on_commit_callbacks
):
    """Failures 1-10 show the form with its message (the 10th answers like any failure, as at
    sign-in); 11-15 answer the lock page, 429 with ``Retry-After`` up to an hour, even with the
    right password; the lock is the account's, so sign-in is locked too; one lock email; the
    password never changed."""
    with django_capture_on_commit_callbacks(execute=True):
        for attempt in range(1, 11):
            response = _change(gardener_client, f"wrong-guess-{attempt}")
            assert response.status_code == 200, attempt
            assert "Your old password was entered incorrectly" in response.content.decode()
        locked = [_change(gardener_client, f"wrong-guess-{attempt}") for attempt in range(11, 16)]
        right = _change(gardener_client, DEFAULT_PASSWORD)
    for response in [*locked, right]:
        assert response.status_code == 429
        assert 3590 <= int(response["Retry-After"]) <= 3600
        assert "locked" in response.content.decode()
    assert _sign_in(client_factory(), DEFAULT_PASSWORD).status_code == 429
    assert [message.subject for message in mail.outbox] == ["Your Plant Community Portal account is locked"]
    gardener.refresh_from_db()
    assert gardener.check_password(DEFAULT_PASSWORD)
    assert gardener_client.get("/dashboard/").status_code == 200  # the lock signs nobody out


def test_sign_in_failures_and_password_checks_share_one_counter(gardener, gardener_client, client_factory):
    """Five wrong sign-ins elsewhere and five wrong current passwords here are ten failures of
    one account: the next check, right password or not, is locked."""
    stranger = client_factory()
    for attempt in range(5):
        assert _sign_in(stranger, f"wrong-{attempt}").status_code == 200
    for attempt in range(5):
        assert _change(gardener_client, f"wrong-{attempt}").status_code == 200
    assert _change(gardener_client, DEFAULT_PASSWORD).status_code == 429
    assert get_strict_redis().exists(f"{PREFIX}:lock:user:{gardener.pk}")


def test_a_lock_from_sign_in_blocks_the_password_change_and_email_change(gardener, gardener_client, client_factory):
    """A lock made by failed sign-ins holds for every current-password check."""
    stranger = client_factory()
    for attempt in range(10):
        _sign_in(stranger, f"wrong-{attempt}")
    for response in (_change(gardener_client, DEFAULT_PASSWORD), _email_change(gardener_client, DEFAULT_PASSWORD)):
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 3500
    gardener.refresh_from_db()
    assert gardener.check_password(DEFAULT_PASSWORD) and gardener.email == "rosa@example.com"


def test_a_right_current_password_clears_the_count_as_sign_in_does(gardener, gardener_client):
    """Nine failures, then the right password with a new password that fails validation: the
    count is cleared (the password was proven), so ten more guesses are needed to lock."""
    for attempt in range(9):
        _change(gardener_client, f"wrong-{attempt}")
    response = _change(gardener_client, DEFAULT_PASSWORD, new_password="short")
    assert response.status_code == 200 and "too short" in response.content.decode()
    for attempt in range(9):
        assert _change(gardener_client, f"wrong-again-{attempt}").status_code == 200
    assert not get_strict_redis().exists(f"{PREFIX}:lock:user:{gardener.pk}")


def test_email_change_password_counts_on_the_lockout(
    gardener, gardener_client, client_factory, django_capture_on_commit_callbacks
):
    """Ten wrong passwords on the email form lock the account (one lock email, no change
    email): the form answers 429, and so does sign-in."""
    with django_capture_on_commit_callbacks(execute=True):
        for attempt in range(10):
            response = _email_change(gardener_client, f"wrong-{attempt}")
            assert response.status_code == 200
            assert "That is not your current password." in response.content.decode()
        assert _email_change(gardener_client, DEFAULT_PASSWORD).status_code == 429
    assert _sign_in(client_factory()).status_code == 429
    assert [message.subject for message in mail.outbox] == ["Your Plant Community Portal account is locked"]


def test_password_checks_fail_closed_when_redis_dies(gardener, client_factory, own_redis):
    """With the security store down, neither the password change nor the email change checks
    a password: 503 "temporarily unavailable", nothing changed (as sign-in does)."""
    browser = client_factory()
    assert _sign_in(browser).status_code == 302
    own_redis.kill()
    for response in (_change(browser, DEFAULT_PASSWORD), _email_change(browser, DEFAULT_PASSWORD)):
        assert response.status_code == 503
        assert "temporarily unavailable" in response.content.decode()
        assert response["Retry-After"]
    gardener.refresh_from_db()
    assert gardener.check_password(DEFAULT_PASSWORD) and gardener.email == "rosa@example.com"
    assert mail.outbox == []


def test_password_change_page_is_in_the_settings_and_lands_back_there(gardener, gardener_client):
    """The settings' "Password" entry is the password change; after a change the page says so."""
    page = gardener_client.get(PASSWORD_CHANGE).content.decode()
    assert 'href="/accounts/password_change/" aria-current="page"' in page
    response = _change(gardener_client, DEFAULT_PASSWORD)
    assert response.status_code == 302 and response["Location"] == PASSWORD_CHANGE
    assert "Your password is changed" in gardener_client.get(PASSWORD_CHANGE).content.decode()
