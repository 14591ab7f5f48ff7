"""Moderators see and clear sign-in locks at ``/moderation/lockouts/`` (SPEC "Sign-in, tokens
and lockout"; "Bad input": refused input changes nothing). Real Redis throughout; the outage is
a ``redis-server`` this test started and SIGKILLs."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.lockout import PREFIX, current_locks
from apps.accounts.models import TrustLevel
from apps.accounts.selectors import time_left_text
from apps.accounts.services import lockout_clear_by_moderator
from apps.core.models import ModerationAction
from apps.core.redis import get_strict_redis
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.redis_server import redis_server

pytestmark = pytest.mark.django_db

LOCKOUTS = reverse("moderation:lockouts")
CLEAR = reverse("moderation:lockout-clear")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def moderator(db):
    user = UserFactory(username="mod", trust_level=TrustLevel.VETERAN, is_staff=True)
    user.groups.add(Group.objects.get(name="moderators"))
    return user


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


def _lock(client_factory, name: str) -> None:
    """Ten failed sign-ins from another browser lock the account named ``name``."""
    browser = client_factory()
    for _ in range(10):
        assert (
            browser.post(reverse("accounts:login"), {"username": name, "password": "wrong-guess-123"}).status_code
            == 200
        )
    assert browser.post(reverse("accounts:login"), {"username": name, "password": "wrong-guess-123"}).status_code == 429


@pytest.fixture
def locked_account(gardener, client_factory):
    """``gardener`` (rosa) locked for an hour by ten failed sign-ins."""
    _lock(client_factory, "rosa")
    return gardener


def _locked_keys() -> set[str]:
    return {lock.key for lock in current_locks()}


def test_time_left_reads_in_minutes_and_hours():
    """Seconds are never shown: under a minute, whole minutes rounded down, then hours."""
    assert [time_left_text(seconds=s) for s in (1, 59, 60, 119, 3599, 3600, 3659, 3660, 5400, 7200)] == [
        "under a minute",
        "under a minute",
        "1 min",
        "1 min",
        "59 min",
        "1 h",
        "1 h",
        "1 h 1 min",
        "1 h 30 min",
        "2 h",
    ]


def test_lockouts_page_shows_time_left_in_minutes(moderator_client, locked_account, client_factory):
    """A lock with 59.5 minutes left reads "59 min", one with 30 s "under a minute"; an unknown
    name is listed by what was typed."""
    _lock(client_factory, "nobody-by-this-name")
    redis = get_strict_redis()
    redis.pexpire(f"{PREFIX}:lock:user:{locked_account.pk}", 3_570_000)
    [unknown_key] = _locked_keys() - {f"user:{locked_account.pk}"}
    redis.pexpire(f"{PREFIX}:lock:{unknown_key}", 30_000)

    page = moderator_client.get(LOCKOUTS)

    assert page.status_code == 200
    html = page.content.decode()
    assert '<td data-label="Time left">59 min</td>' in html
    assert '<td data-label="Time left">under a minute</td>' in html
    assert "Unknown name “nobody-by-this-name”" in html
    assert " s</td>" not in html
    assert f'value="user:{locked_account.pk}"' in html and f'value="{unknown_key}"' in html


@pytest.mark.parametrize(
    ("reason", "message"),
    [("spam\x00", "Null characters are not allowed."), ("x" * 501, "Keep the reason to 500 characters (it has 501).")],
    ids=["nul-byte", "501-chars"],
)
def test_a_refused_reason_over_htmx_is_400_with_the_message_and_changes_nothing(
    moderator_client, locked_account, reason, message
):
    """htmx: 400 with the form and its message, retargeted onto the form; the lock stays and no
    audit row is written."""
    key = f"user:{locked_account.pk}"
    response = moderator_client.post(CLEAR, {"key": key, "reason": reason}, **HTMX)

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert '<form method="post"' in html and 'aria-invalid="true"' in html
    assert "for rosa" in html
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("this", "outerHTML")
    assert key in _locked_keys()
    assert not ModerationAction.objects.exists()


@pytest.mark.parametrize(
    ("reason", "message"),
    [("spam\x00", "Null characters are not allowed."), ("x" * 501, "Keep the reason to 500 characters (it has 501).")],
    ids=["nul-byte", "501-chars"],
)
def test_a_refused_reason_in_a_plain_post_shows_the_page_again_and_changes_nothing(
    moderator_client, locked_account, reason, message
):
    """Plain POST: the lockouts page again (200) with the message in the lock's row."""
    key = f"user:{locked_account.pk}"
    response = moderator_client.post(CLEAR, {"key": key, "reason": reason})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Account locks</h1>" in html
    assert message in html
    assert '<strong><a href="/u/rosa/" class="user-link">rosa</a></strong>' in html
    assert key in _locked_keys()
    assert not ModerationAction.objects.exists()


@pytest.mark.parametrize("key", ["user:abc", "sec:lockout:lock:user:1", "user:1\x00", "user:" + "9" * 30, ""])
def test_a_malformed_key_is_refused_and_changes_nothing(moderator_client, locked_account, key):
    """A key of the wrong shape is "not found": 400 over htmx, the page again otherwise."""
    htmx = moderator_client.post(CLEAR, {"key": key}, **HTMX)
    plain = moderator_client.post(CLEAR, {"key": key})

    assert htmx.status_code == 400
    assert "That lock could not be found." in htmx.content.decode()
    assert plain.status_code == 200
    assert "That lock could not be found." in plain.content.decode()
    assert f"user:{locked_account.pk}" in _locked_keys()
    assert not ModerationAction.objects.exists()


def test_clearing_over_htmx_writes_one_audit_row_removes_the_lock_and_says_cleared(
    moderator_client, moderator, locked_account, client
):
    """The swapped row says "Cleared." in a status region; exactly one ``lockout.clear`` row
    with the reason; the owner can sign in at once."""
    key = f"user:{locked_account.pk}"
    response = moderator_client.post(CLEAR, {"key": key, "reason": "Owner called the help desk"}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith("<tr")
    assert '<p role="status"><strong>Cleared.</strong> The sign-in lock on rosa is cleared' in html
    assert key not in _locked_keys()
    [row] = ModerationAction.objects.values("actor_id", "action", "target_type", "target_id", "reason")
    assert row == {
        "actor_id": moderator.pk,
        "action": "lockout.clear",
        "target_type": "account",
        "target_id": key,
        "reason": "Owner called the help desk",
    }
    moderator_client.logout()
    assert client.post(reverse("accounts:login"), {"username": "rosa", "password": DEFAULT_PASSWORD}).status_code == 302


def test_clearing_with_a_plain_post_redirects_to_the_page_saying_cleared(
    moderator_client, locked_account, client_factory
):
    """A lock on an unknown name clears the same way; the page says so in a status region."""
    _lock(client_factory, "nobody-by-this-name")
    [unknown_key] = _locked_keys() - {f"user:{locked_account.pk}"}

    response = moderator_client.post(CLEAR, {"key": unknown_key, "reason": ""})

    assert response.status_code == 302 and response["Location"] == LOCKOUTS
    page = moderator_client.get(LOCKOUTS).content.decode()
    assert '<div role="status"><ul class="messages">' in page
    assert "Cleared the sign-in lock on an unknown name." in page
    assert _locked_keys() == {f"user:{locked_account.pk}"}
    assert ModerationAction.objects.get().target_id == unknown_key


def test_a_lock_that_already_ended_is_not_recorded(moderator_client, locked_account):
    """Clearing twice (two moderators, or a stale page) records one row; the second answer says
    the lock had already ended."""
    key = f"user:{locked_account.pk}"
    assert moderator_client.post(CLEAR, {"key": key}, **HTMX).status_code == 200
    again = moderator_client.post(CLEAR, {"key": key}, **HTMX)

    assert again.status_code == 200
    assert "<strong>Already ended.</strong>" in again.content.decode()
    assert ModerationAction.objects.count() == 1


def test_the_service_refuses_to_run_inside_another_transaction(moderator, locked_account):
    """The clear must be the last step before a real commit, never a savepoint of a caller's
    transaction that could still roll back after Redis forgot the lock."""
    with pytest.raises(RuntimeError), transaction.atomic():
        lockout_clear_by_moderator(key=f"user:{locked_account.pk}", moderator=moderator, reason="")
    assert f"user:{locked_account.pk}" in _locked_keys()


def test_redis_outage_shows_the_unavailable_page_and_rolls_the_audit_row_back(
    settings, client_factory, gardener, moderator_client
):
    """Redis SIGKILLed after the lock was made: clearing answers the "temporarily unavailable"
    page (503, never 500); the audit row was inserted and rolled back with the failed clear;
    the list page answers 503 too."""
    with redis_server() as server:
        settings.REDIS_URL = server.url
        _lock(client_factory, "rosa")
        assert f"user:{gardener.pk}" in _locked_keys()
        server.kill()

        with CaptureQueriesContext(connection) as queries:
            response = moderator_client.post(CLEAR, {"key": f"user:{gardener.pk}", "reason": "help desk"})
        statements = [query["sql"] for query in queries.captured_queries]
        listing = moderator_client.get(LOCKOUTS)

    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode().lower()
    assert "nothing was changed" in response.content.decode()
    assert any(sql.startswith('INSERT INTO "core_moderationaction"') for sql in statements)
    assert not ModerationAction.objects.exists()
    assert listing.status_code == 503


def test_only_moderators_clear_locks(client, locked_account, client_factory):
    """Signed out: redirect to sign-in; a gardener: 403; either way the lock stays."""
    key = f"user:{locked_account.pk}"
    signed_out = client.post(CLEAR, {"key": key})
    assert signed_out.status_code == 302 and signed_out["Location"].startswith(reverse("accounts:login"))
    gardener_browser = client_factory()
    gardener_browser.force_login(UserFactory(username="fern"))
    assert gardener_browser.post(CLEAR, {"key": key}).status_code == 403
    assert gardener_browser.get(LOCKOUTS).status_code == 403
    assert key in _locked_keys()
    assert not ModerationAction.objects.exists()
