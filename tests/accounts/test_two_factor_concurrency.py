"""A code is accepted exactly once under real concurrency (RFC 6238 section 5.2): threads
released together on a barrier, each with its own database connection, against real PostgreSQL
and Redis (STYLE "Tests")."""

import time

import pyotp
import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from apps.accounts import two_factor
from apps.accounts.models import TotpDevice
from tests.factories import DEFAULT_PASSWORD, UserFactory

from .test_concurrency import _max_in_flight, _run_on_barrier

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 12


@pytest.fixture
def two_factor_account(settings):
    """``rosa`` with two-factor sign-in on; the lockout limit raised out of the way (the burst's
    refused copies are failures, and this test is about the code, not the lock)."""
    settings.LOCKOUT_FAILURE_LIMIT = 100
    settings.IP_SIGNIN_FAILURE_LIMIT = 1000
    user = UserFactory(username="rosa")
    secret = two_factor.totp_secret_new()
    past = time.time() - 150
    assert two_factor.two_factor_enable(user=user, secret=secret, code=pyotp.TOTP(secret).at(past), now=past)
    left = 30 - time.time() % 30
    if left < 5:  # the whole burst within one time step
        time.sleep(left + 0.05)
    return user, secret


def test_the_same_code_sent_to_the_token_api_from_many_threads_issues_tokens_once(two_factor_account):
    """12 parallel ``POST /api/auth/token/`` with the right password and the same code: exactly
    one 200, the others 401, and the device records that one step."""
    user, secret = two_factor_account
    code = pyotp.TOTP(secret).now()

    def attempt(_index):
        response = Client().post(
            "/api/auth/token/",
            {"username": "rosa", "password": DEFAULT_PASSWORD, "otp": code},
            content_type="application/json",
        )
        return response.status_code

    results, spans = _run_on_barrier(THREADS, attempt)
    assert sorted(results) == [200] + [401] * (THREADS - 1)
    assert _max_in_flight(spans) >= 3
    assert TotpDevice.objects.get(user=user).last_used_step == pyotp.TOTP(secret).timecode(time.time())


def test_the_same_code_at_the_second_step_of_many_browsers_signs_in_once(two_factor_account):
    """12 browsers past the password step post the same code at once: exactly one is signed in."""
    _, secret = two_factor_account
    browsers = [Client() for _ in range(THREADS)]
    for browser in browsers:
        assert browser.post("/accounts/login/", {"username": "rosa", "password": DEFAULT_PASSWORD}).status_code == 302
    code = pyotp.TOTP(secret).now()

    def attempt(index):
        return browsers[index].post("/accounts/login/two-factor/", {"code": code}).status_code

    results, spans = _run_on_barrier(THREADS, attempt)
    assert sorted(results) == [200] * (THREADS - 1) + [302]
    assert _max_in_flight(spans) >= 3
    assert sum(SESSION_KEY in browser.session for browser in browsers) == 1


def test_the_same_recovery_code_from_many_threads_works_once(two_factor_account):
    user, _ = two_factor_account
    codes = two_factor.recovery_codes_regenerate(user=user)

    def attempt(_index):
        response = Client().post(
            "/api/auth/token/",
            {"username": "rosa", "password": DEFAULT_PASSWORD, "otp": codes[0]},
            content_type="application/json",
        )
        return response.status_code

    results, spans = _run_on_barrier(THREADS, attempt)
    assert sorted(results) == [200] + [401] * (THREADS - 1)
    assert _max_in_flight(spans) >= 3
