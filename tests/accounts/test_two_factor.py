"""Two-factor sign-in (README "Two-factor sign-in"): TOTP codes (RFC 6238), recovery codes, the
second step of the form and of the token API under the sign-in lockout, re-authentication, and
the half-signed-in state that must be refused everywhere."""

import hashlib
import re
import time
from urllib.parse import urlsplit

import pyotp
import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts import two_factor
from apps.accounts.lockout import PREFIX
from apps.accounts.models import RecoveryCode, TotpDevice, User
from apps.core.redis import get_strict_redis
from e2e.routes import FRAGMENT, REGISTRY, make_world
from tests.answers import comparable
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.hashers import hash_count, hash_count_reset

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
SECOND_STEP = "/accounts/login/two-factor/"
SETTINGS = "/accounts/settings/two-factor/"
TOKEN = "/api/auth/token/"
COOKIES = ("access_token", "refresh_token")


# --- Helpers and fixtures -----------------------------------------------------------------


def code_of(secret: str, *, steps: int = 0, at: float | None = None) -> str:
    """The authenticator code of ``secret`` ``steps`` time steps from ``at`` (now), by pyotp."""
    return pyotp.TOTP(secret).at(time.time() if at is None else at, counter_offset=steps)


def away_from_step_edge() -> None:
    """Wait until at least 3 s of the current 30 s step are left, so a code computed here is
    still of the same step when the server checks it."""
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.05)


def enable_two_factor(user: User) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on for ``user`` through the service, confirmed with a code of
    five steps ago (so codes of the current step are still unused); returns the key and the
    recovery codes."""
    secret = two_factor.totp_secret_new()
    past = time.time() - 150
    codes = two_factor.two_factor_enable(user=user, secret=secret, code=code_of(secret, at=past), now=past)
    assert codes is not None and len(codes) == 10
    return secret, codes


@pytest.fixture
def two_factor_gardener(db):
    """A gardener (``rosa``) with two-factor sign-in on: ``(user, secret, recovery_codes)``."""
    user = UserFactory(username="rosa")
    secret, codes = enable_two_factor(user)
    return user, secret, codes


def fresh(user: User) -> User:
    """``user`` read again as the sign-in does (authenticator joined)."""
    return User.objects.select_related("totp_device").get(pk=user.pk)


def password_step(client, name="rosa", password=DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN, {"username": name, "password": password, **extra})


def api_token(client, name="rosa", password=DEFAULT_PASSWORD, **extra):
    return client.post(TOKEN, {"username": name, "password": password, **extra}, content_type="application/json")


def failures_counted(user: User) -> int:
    return get_strict_redis().zcard(f"{PREFIX}:fail:user:{user.pk}")


# --- TOTP and recovery codes (the service) ------------------------------------------------


def test_a_code_is_accepted_once_and_never_again_in_its_step_or_after(two_factor_gardener):
    """RFC 6238 section 5.2: the second use of an accepted code is refused, and so is a code of
    an earlier step than the last one accepted."""
    user, secret, _ = two_factor_gardener
    now = (time.time() // 30) * 30 + 10
    assert two_factor.second_factor_verify(user=fresh(user), code=code_of(secret, at=now), now=now)
    assert not two_factor.second_factor_verify(user=fresh(user), code=code_of(secret, at=now), now=now)
    assert not two_factor.second_factor_verify(user=fresh(user), code=code_of(secret, at=now), now=now + 25)
    assert not two_factor.second_factor_verify(user=fresh(user), code=code_of(secret, at=now - 30), now=now)
    assert TotpDevice.objects.get(user=user).last_used_step == int(now // 30)


def test_one_step_of_drift_either_side_is_accepted_two_are_not(two_factor_gardener):
    """Clock drift: the codes of the steps just before and after the current one are accepted,
    those two steps away are not (``TOTP_DRIFT_STEPS`` = 1)."""
    user, secret, _ = two_factor_gardener
    now = (time.time() // 30) * 30 + 15
    assert not two_factor.second_factor_verify(user=fresh(user), code=code_of(secret, steps=-2, at=now), now=now)
    assert not two_factor.second_factor_verify(user=fresh(user), code=code_of(secret, steps=2, at=now), now=now)
    for steps in (-1, 0, 1):
        assert two_factor.second_factor_verify(user=fresh(user), code=code_of(secret, steps=steps, at=now), now=now)


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 5x", "’123456’", "x" * 64])
def test_malformed_codes_are_refused_and_change_nothing(two_factor_gardener, typed):
    user, _, _ = two_factor_gardener
    before = TotpDevice.objects.get(user=user).last_used_step
    assert not two_factor.second_factor_verify(user=fresh(user), code=typed)
    assert TotpDevice.objects.get(user=user).last_used_step == before
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=False).count() == 0


def test_a_wrong_code_is_refused(two_factor_gardener):
    user, secret, _ = two_factor_gardener
    now = time.time()
    right = {code_of(secret, steps=steps, at=now) for steps in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(1000) if f"{n:06d}" not in right)
    assert not two_factor.second_factor_verify(user=fresh(user), code=wrong, now=now)


def test_spaces_in_a_typed_code_are_ignored(two_factor_gardener):
    user, secret, _ = two_factor_gardener
    code = code_of(secret)
    assert two_factor.second_factor_verify(user=fresh(user), code=f" {code[:3]} {code[3:]} ")


def test_recovery_codes_are_stored_as_sha256_only_and_each_works_once(two_factor_gardener):
    """Ten codes of 80 random bits; the table keeps their SHA-256 and nothing readable; a code
    works once, in any letter case and with or without its hyphens."""
    user, _, codes = two_factor_gardener
    assert len(set(codes)) == 10
    stored = set(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert stored == {hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes}
    assert not any(code in hashed or code.replace("-", "") in hashed for code in codes for hashed in stored)
    assert two_factor.second_factor_verify(user=fresh(user), code=codes[0].upper().replace("-", " "))
    assert not two_factor.second_factor_verify(user=fresh(user), code=codes[0])
    assert two_factor.second_factor_verify(user=fresh(user), code=codes[1])
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 8


def test_another_users_recovery_code_does_not_work(two_factor_gardener):
    _, _, codes = two_factor_gardener
    other = UserFactory(username="ben")
    enable_two_factor(other)
    assert not two_factor.second_factor_verify(user=fresh(other), code=codes[0])


def test_the_qr_code_is_inline_svg_the_csp_allows():
    """The set-up QR code: inline SVG with an accessible name, no ``style`` attribute, no
    ``data:`` URI and no script (``SECURE_CSP``: ``style-src 'self'``)."""
    uri = two_factor.totp_provisioning_uri(secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", username="rosa")
    assert uri.startswith("otpauth://totp/Plant%20Community%20Portal:rosa?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    svg = str(two_factor.totp_qr_svg(uri=uri, title="QR code"))
    assert svg.startswith('<svg role="img" ') and "<title>QR code</title>" in svg
    for forbidden in ("style=", "data:", "<script", "href"):
        assert forbidden not in svg


# --- The sign-in form ---------------------------------------------------------------------


def test_the_password_step_alone_signs_nothing_in(client, two_factor_gardener):
    """After the right password: a new session key holding "password verified for rosa at T",
    no sign-in, no token cookies; pages and the API treat the browser as signed out."""
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key
    response = password_step(client, next="/forum/")
    assert response.status_code == 302 and response["Location"] == SECOND_STEP
    assert not any(name in response.cookies for name in COOKIES)
    session = client.session
    assert session.session_key != before
    assert SESSION_KEY not in session
    assert session[two_factor.SESSION_PENDING_KEY]["user_id"] == two_factor_gardener[0].pk
    assert client.get("/dashboard/")["Location"] == "/accounts/login/?next=/dashboard/"
    assert client.get("/api/me/").status_code == 401
    assert client.get(SECOND_STEP).status_code == 200


def test_the_right_code_signs_in_rotates_the_session_and_sets_the_cookies(client, two_factor_gardener):
    user, secret, _ = two_factor_gardener
    password_step(client, next="/forum/")
    pending_key = client.session.session_key
    away_from_step_edge()
    response = client.post(SECOND_STEP, {"code": code_of(secret)})
    assert response.status_code == 302 and response["Location"] == "/forum/"
    assert all(response.cookies[name].value for name in COOKIES)
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.session.session_key != pending_key
    assert two_factor.SESSION_PENDING_KEY not in client.session
    assert client.get("/api/me/").json()["username"] == "rosa"


def test_a_wrong_or_replayed_code_shows_the_form_again_and_signs_nothing_in(
    client, client_factory, two_factor_gardener
):
    user, secret, _ = two_factor_gardener
    away_from_step_edge()
    code = code_of(secret)
    first = client_factory()
    password_step(first)
    assert first.post(SECOND_STEP, {"code": code}).status_code == 302
    password_step(client)
    for typed in (code, "000000" if code != "000000" else "111111", "not a code"):
        response = client.post(SECOND_STEP, {"code": typed})
        assert response.status_code == 200
        assert "not right or was already used" in response.content.decode()
        assert SESSION_KEY not in client.session
        assert not any(name in response.cookies for name in COOKIES)


def test_a_recovery_code_signs_in_once_in_place_of_the_app_code(client_factory, two_factor_gardener):
    _, _, codes = two_factor_gardener
    browser = client_factory()
    password_step(browser)
    assert browser.post(SECOND_STEP, {"code": codes[3]}).status_code == 302
    again = client_factory()
    password_step(again)
    assert again.post(SECOND_STEP, {"code": codes[3]}).status_code == 200
    assert SESSION_KEY not in again.session


def test_a_wrong_password_stays_on_the_first_step(client, two_factor_gardener):
    response = password_step(client, password="not-the-password")
    assert response.status_code == 200 and "do not match an account" in response.content.decode()
    assert two_factor.SESSION_PENDING_KEY not in client.session


def test_the_second_step_without_a_pending_password_step_goes_to_sign_in(client, gardener):
    assert client.get(SECOND_STEP)["Location"] == f"{LOGIN}?next={SECOND_STEP}"
    assert client.post(SECOND_STEP, {"code": "123456"})["Location"] == f"{LOGIN}?next={SECOND_STEP}"
    client.force_login(gardener)
    assert client.get(SECOND_STEP)["Location"] == "/dashboard/"


def test_a_pending_step_expires(client, two_factor_gardener, settings):
    """``TWO_FACTOR_PENDING_SECONDS`` after the password, the code is no longer asked for: the
    sign-in starts again."""
    _, secret, _ = two_factor_gardener
    password_step(client)
    session = client.session
    session[two_factor.SESSION_PENDING_KEY]["at"] -= settings.TWO_FACTOR_PENDING_SECONDS + 1
    session.save()
    response = client.post(SECOND_STEP, {"code": code_of(secret)}, follow=True)
    assert response.redirect_chain[0] == (f"{LOGIN}?next={SECOND_STEP}", 302)
    assert "took too long" in response.content.decode()
    assert SESSION_KEY not in client.session and two_factor.SESSION_PENDING_KEY not in client.session


def test_a_password_changed_after_the_password_step_voids_it(client, two_factor_gardener):
    user, secret, _ = two_factor_gardener
    password_step(client)
    user.set_password("a-brand-new-password-2026")
    user.save()
    response = client.post(SECOND_STEP, {"code": code_of(secret)})
    assert response["Location"] == LOGIN
    assert SESSION_KEY not in client.session


def test_entering_a_two_factor_password_while_signed_in_as_someone_else_signs_them_out(
    client, gardener, django_capture_on_commit_callbacks
):
    """Switching accounts: the old sign-in ends (its token family revoked) before the new one's
    second step; nothing of it is left to use."""
    ben = UserFactory(username="ben")
    enable_two_factor(ben)
    client.post(LOGIN, {"username": "rosa", "password": DEFAULT_PASSWORD})
    access = client.cookies["access_token"].value
    response = client.post(LOGIN, {"username": "ben", "password": DEFAULT_PASSWORD})
    assert response["Location"] == SECOND_STEP
    assert SESSION_KEY not in client.session
    assert response.cookies["access_token"].value == ""
    assert client.get("/api/me/", headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_djangos_authenticate_refuses_a_two_factor_account(client, two_factor_gardener):
    """Doors without a second step (``authenticate()``: the admin's sign-in) refuse the password
    alone, counting it as a failure."""
    user, _, _ = two_factor_gardener
    assert not client.login(username="rosa", password=DEFAULT_PASSWORD)
    assert failures_counted(user) == 1
    response = client.post("/admin/login/", {"username": "rosa", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200 and SESSION_KEY not in client.session


# --- One lockout for the password and the code ----------------------------------------------


def test_wrong_codes_and_wrong_passwords_share_one_lock(client, client_factory, two_factor_gardener):
    """Wrong passwords (form and API), API calls without a code and wrong codes at the second
    step are failures of one counter; a right password in between clears nothing; the 10th
    failure answers like any other, then everything is 429 with ``Retry-After``, the right
    password and code too (SPEC "Sign-in, tokens and lockout")."""
    user, secret, _ = two_factor_gardener
    api = client_factory()
    assert password_step(client, password="wrong-1").status_code == 200
    assert password_step(client, password="wrong-2").status_code == 200
    assert api_token(api, password="wrong-3").json()["code"] == "OTP_REQUIRED"
    assert api_token(api).json()["code"] == "OTP_REQUIRED"
    assert password_step(client).status_code == 302
    for _ in range(3):
        assert client.post(SECOND_STEP, {"code": "000000"}).status_code == 200
    assert failures_counted(user) == 7
    assert password_step(client).status_code == 302  # the right password clears nothing
    assert failures_counted(user) == 7
    assert client.post(SECOND_STEP, {"code": "not-a-code"}).status_code == 200
    assert api_token(api, otp="000000").json()["code"] == "INVALID_CREDENTIALS"
    tenth = client.post(SECOND_STEP, {"code": "000000"})
    assert tenth.status_code == 200
    response = client.post(SECOND_STEP, {"code": code_of(secret)})
    assert response.status_code == 429 and int(response["Retry-After"]) > 3500
    assert api_token(api, otp=code_of(secret)).status_code == 429
    other_browser = client_factory()
    assert password_step(other_browser).status_code == 429
    assert SESSION_KEY not in client.session and SESSION_KEY not in other_browser.session
    assert two_factor.SESSION_PENDING_KEY not in client.session


def test_a_completed_sign_in_clears_the_count(client, two_factor_gardener):
    user, secret, _ = two_factor_gardener
    password_step(client, password="wrong")
    password_step(client)
    client.post(SECOND_STEP, {"code": "000000"})
    assert failures_counted(user) == 2
    away_from_step_edge()
    assert client.post(SECOND_STEP, {"code": code_of(secret)}).status_code == 302
    assert failures_counted(user) == 0


# --- The token API ------------------------------------------------------------------------


def test_api_without_otp_answers_the_same_for_the_right_and_a_wrong_password(client_factory, two_factor_gardener):
    """401 ``OTP_REQUIRED``: same status, body and headers, one password hash each, one failure
    each, so the answer says nothing about the password."""
    user, _, _ = two_factor_gardener
    hash_count_reset()
    right = api_token(client_factory())
    wrong = api_token(client_factory(), password="not-the-password")
    assert hash_count() == 2
    assert right.status_code == 401 and right.json()["code"] == "OTP_REQUIRED"
    assert right["Content-Type"] == "application/problem+json"
    assert comparable(right) == comparable(wrong)
    assert failures_counted(user) == 2


def test_api_with_password_and_code_issues_tokens_once_per_code(client, two_factor_gardener):
    user, secret, codes = two_factor_gardener
    away_from_step_edge()
    code = code_of(secret)
    wrong_password = api_token(client, password="not-the-password", otp=code)
    assert wrong_password.status_code == 401
    issued = api_token(client, otp=code)  # not spent by the wrong password above
    assert issued.status_code == 200 and set(issued.json()) == {"access", "refresh", "token_type", "expires_in"}
    replayed = api_token(client, otp=code)
    assert replayed.status_code == 401
    assert comparable(replayed) == comparable(wrong_password)
    assert api_token(client, otp=codes[0]).status_code == 200
    assert api_token(client, otp=codes[0]).status_code == 401


def test_api_otp_field_is_validated(client, two_factor_gardener):
    for otp in (123456, "", None, "1" * 65):
        response = api_token(client, otp=otp)
        assert response.status_code == 400, otp
        assert response.json()["code"] == "INVALID_REQUEST"


def test_api_ignores_otp_for_an_account_without_two_factor(client, gardener):
    assert api_token(client, otp="123456").status_code == 200


# --- The half-signed-in state, everywhere -----------------------------------------------------


def _answer(client: Client, url: str, *, htmx: bool = False, method: str = "get") -> tuple:
    headers = {"HX-Request": "true"} if htmx else {}
    response = getattr(client, method)(url, headers=headers)
    location = response.headers.get("HX-Redirect") or response.headers.get("Location")
    return response.status_code, urlsplit(location).path if location else None


def _api_routes() -> list[str]:
    def walk(resolver, prefix):
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/"):
                yield route

    return list(walk(get_resolver(), ""))


@pytest.mark.django_db(transaction=True)
def test_after_the_password_step_every_url_answers_as_to_a_signed_out_visitor():
    """Walk the crawl's route registry (every page, fragment and POST-only URL) and every
    ``/api/`` pattern: a browser that passed only the password step gets exactly what a
    signed-out browser gets (the sign-in redirect, 401, 405...), never a signed-in answer and
    never a token cookie. The one exception is the second step itself."""
    world = make_world()  # committed: its sign-up, lock and reset emails go out
    user = UserFactory(username="twofa")
    enable_two_factor(user)
    half = Client(REMOTE_ADDR="198.51.100.7")
    assert half.post(LOGIN, {"username": "twofa", "password": DEFAULT_PASSWORD})["Location"] == SECOND_STEP
    signed_out = Client(REMOTE_ADDR="198.51.100.8")
    checked = 0
    for entry in REGISTRY:
        if entry.route == "accounts/login/two-factor/":
            continue
        url = entry.url(world)
        htmx = entry.kind is FRAGMENT
        assert _answer(half, url, htmx=htmx) == _answer(signed_out, url, htmx=htmx), url
        checked += 1
    api_routes = _api_routes()
    assert {"api/me/", "api/dashboard/stats/"} <= set(api_routes)
    for route in api_routes:
        for method in ("get", "post"):
            assert _answer(half, f"/{route}", method=method) == _answer(signed_out, f"/{route}", method=method), route
    assert _answer(half, "/api/me/") == (401, None)
    assert SESSION_KEY not in half.session
    assert not any(half.cookies.get(name) for name in COOKIES)
    assert checked > 60


# --- Settings: re-authentication, set-up, recovery codes, turning off ------------------------


@pytest.fixture
def rosa_client(client, gardener):
    client.force_login(gardener)
    return client


def confirm_password(client, password=DEFAULT_PASSWORD):
    return client.post(f"{SETTINGS}confirm-password/", {"password": password})


def test_changes_need_a_recently_confirmed_password(rosa_client, gardener, settings):
    page = rosa_client.get(SETTINGS)
    assert page.status_code == 200 and "Confirm your password" in page.content.decode()
    for action in ("setup", "disable", "recovery-codes", "enable"):
        response = rosa_client.post(f"{SETTINGS}{action}/", {"code": "123456"})
        assert response.status_code == 303 and response["Location"] == SETTINGS
    assert two_factor.SESSION_SETUP_KEY not in rosa_client.session
    assert confirm_password(rosa_client).status_code == 303
    assert rosa_client.post(f"{SETTINGS}setup/").status_code == 303
    assert two_factor.SESSION_SETUP_KEY in rosa_client.session
    session = rosa_client.session
    session[two_factor.SESSION_REAUTH_KEY] -= settings.TWO_FACTOR_REAUTH_SECONDS + 1
    session.save()
    secret = session[two_factor.SESSION_SETUP_KEY]["secret"]
    rosa_client.post(f"{SETTINGS}enable/", {"code": code_of(secret)})
    assert not TotpDevice.objects.filter(user=gardener).exists()


def test_a_wrong_confirmation_password_counts_on_the_sign_in_lockout(rosa_client, gardener):
    for attempt in range(10):
        response = confirm_password(rosa_client, password=f"wrong-{attempt}")
        assert response.status_code == 200 and "not your password" in response.content.decode()
    assert confirm_password(rosa_client).status_code == 429
    assert not two_factor.password_recently_confirmed(session=rosa_client.session)


def test_set_up_shows_a_qr_code_and_the_key_and_a_first_code_turns_it_on(rosa_client, gardener):
    """The whole set-up: the key (QR code and text) lives in the session until a first code
    from it confirms; then two-factor sign-in is on and the 10 recovery codes are shown once."""
    confirm_password(rosa_client)
    rosa_client.post(f"{SETTINGS}setup/")
    secret = rosa_client.session[two_factor.SESSION_SETUP_KEY]["secret"]
    page = rosa_client.get(SETTINGS).content.decode()
    assert '<svg role="img"' in page and two_factor.secret_for_typing(secret) in page
    assert not TotpDevice.objects.filter(user=gardener).exists()
    wrong = rosa_client.post(f"{SETTINGS}enable/", {"code": "000000" if code_of(secret) != "000000" else "111111"})
    assert wrong.status_code == 200 and "does not match" in wrong.content.decode()
    assert not TotpDevice.objects.filter(user=gardener).exists()
    away_from_step_edge()
    code = code_of(secret)
    shown = rosa_client.post(f"{SETTINGS}enable/", {"code": code})
    assert shown.status_code == 200 and shown["Cache-Control"].startswith("max-age=0")
    codes = re.findall(r"<code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</code>", shown.content.decode())
    assert len(codes) == 10
    assert TotpDevice.objects.get(user=gardener).secret == secret
    assert two_factor.SESSION_SETUP_KEY not in rosa_client.session
    assert "10 recovery codes left" in rosa_client.get(SETTINGS).content.decode()
    # The code that confirmed the set-up cannot sign in; a recovery code shown can.
    browser = Client()
    password_step(browser)
    assert browser.post(SECOND_STEP, {"code": code}).status_code == 200
    assert browser.post(SECOND_STEP, {"code": codes[9]}).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(rosa_client, gardener):
    _, old_codes = enable_two_factor(gardener)
    confirm_password(rosa_client)
    response = rosa_client.post(f"{SETTINGS}recovery-codes/")
    assert response.status_code == 200 and "old ones no longer work" in response.content.decode()
    assert not two_factor.second_factor_verify(user=fresh(gardener), code=old_codes[0])
    assert RecoveryCode.objects.filter(user=gardener).count() == 10


def test_turning_it_off_deletes_the_authenticator_and_codes(rosa_client, gardener):
    enable_two_factor(gardener)
    confirm_password(rosa_client)
    response = rosa_client.post(f"{SETTINGS}disable/", follow=True)
    assert "Two-factor sign-in is off" in response.content.decode()
    assert not TotpDevice.objects.filter(user=gardener).exists()
    assert not RecoveryCode.objects.filter(user=gardener).exists()
    browser = Client()
    assert password_step(browser)["Location"] == "/dashboard/"


def test_the_settings_page_costs_two_statements_whatever_the_data(
    client, gardener, rows_per_table, django_assert_num_queries
):
    """The session's user and the status (a join counting unused recovery codes), the same with
    1 or 500 rows per related table (the recovery codes among them)."""
    from tests.conftest import populate_gardener

    populate_gardener(gardener, rows=rows_per_table)
    enable_two_factor(gardener)
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=gardener, code_hash=f"{index:064x}") for index in range(rows_per_table)
    )
    client.force_login(gardener)
    client.get("/healthz")
    client.get(SETTINGS)
    with django_assert_num_queries(2):
        page = client.get(SETTINGS)
    assert f"{10 + rows_per_table} recovery codes left" in page.content.decode()


def test_each_change_emails_the_owner(rosa_client, gardener, django_capture_on_commit_callbacks):
    """Turning it on, new recovery codes and turning it off each send one notice to the account's
    address, with a reset link (OWASP ASVS 4.0 2.2.3)."""
    from django.core import mail

    confirm_password(rosa_client)
    rosa_client.post(f"{SETTINGS}setup/")
    secret = rosa_client.session[two_factor.SESSION_SETUP_KEY]["secret"]
    away_from_step_edge()
    with django_capture_on_commit_callbacks(execute=True):
        assert rosa_client.post(f"{SETTINGS}enable/", {"code": code_of(secret)}).status_code == 200
        assert rosa_client.post(f"{SETTINGS}recovery-codes/").status_code == 200
        assert rosa_client.post(f"{SETTINGS}disable/").status_code == 303
    assert [message.subject for message in mail.outbox] == [
        "Two-factor sign-in is on for your account",
        "New recovery codes for your account",
        "Two-factor sign-in is off for your account",
    ]
    assert all(message.to == ["rosa@example.com"] for message in mail.outbox)
    assert "http://testserver/accounts/password_reset/" in mail.outbox[2].body


def test_the_second_step_page_costs_no_sql_whatever_the_data(
    client, two_factor_gardener, rows_per_table, django_assert_num_queries
):
    """The second step's page reads only the session (from the cache): 0 statements with 1 or 500
    rows per related table."""
    from tests.conftest import populate_gardener

    user, _, _ = two_factor_gardener
    populate_gardener(user, rows=rows_per_table)
    password_step(client)
    with django_assert_num_queries(0):
        page = client.get(SECOND_STEP)
    assert page.status_code == 200 and "Enter your authentication code" in page.content.decode()
