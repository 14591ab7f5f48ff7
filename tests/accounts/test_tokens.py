"""JWT sign-in cookies, the token API, rotation, reuse detection and revocation, on real Redis."""

import time

import jwt
import pytest
from django.conf import settings
from django.urls import reverse

from apps.accounts import tokens
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def _obtain(client, name="rosa", password=DEFAULT_PASSWORD):
    response = client.post(
        "/api/auth/token/", {"username": name, "password": password}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _refresh(client, token, **extra):
    return client.post("/api/auth/token/refresh/", {"refresh": token}, content_type="application/json", **extra)


def _me(client, access):
    return client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {access}")


def test_sign_in_form_sets_the_two_token_cookies(client, gardener):
    """HttpOnly cookies, access on / for 15 minutes, refresh on /api/auth/ for 7 days,
    SameSite=Lax, Secure with DEBUG off."""
    response = client.post("/accounts/login/", {"username": "rosa", "password": DEFAULT_PASSWORD})
    access, refresh = response.cookies["access_token"], response.cookies["refresh_token"]
    assert access["path"] == "/" and int(access["max-age"]) == 900
    assert refresh["path"] == "/api/auth/" and int(refresh["max-age"]) == 7 * 24 * 3600
    for cookie in (access, refresh):
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["secure"]
    assert tokens.decode(access.value, expected_type="access")["sub"] == str(gardener.pk)
    assert _me(client, access.value).json() == {"username": "rosa", "email": "rosa@example.com", "trust_level": "new"}


def test_token_endpoint_answers_spec_shape(client, gardener):
    body = _obtain(client, "ROSA@example.com")
    assert set(body) == {"access", "refresh", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    claims = tokens.decode(body["refresh"], expected_type="refresh")
    assert {"type", "sub", "jti", "fam", "iat", "exp", "fexp"} <= set(claims)


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"username": "rosa"}', b'{"username": 3, "password": "x"}', b""]
)
def test_token_endpoint_rejects_malformed_bodies_with_400(client, body):
    response = client.post("/api/auth/token/", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()) == {"type", "title", "status", "detail", "code"}


def test_stats_api_accepts_bearer_and_access_cookie(client, gardener):
    pair = _obtain(client)
    assert client.get("/api/dashboard/stats/", HTTP_AUTHORIZATION=f"Bearer {pair['access']}").status_code == 200
    client.cookies["access_token"] = pair["access"]
    assert client.get("/api/dashboard/stats/").status_code == 200


def test_stats_api_with_bearer_token_costs_four_statements(client, gardener, django_assert_num_queries):
    pair = _obtain(client)
    with django_assert_num_queries(4):
        response = client.get("/api/dashboard/stats/", HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert response.status_code == 200


def _forge(claims: dict, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or settings.JWT_SECRET_KEY, algorithm=algorithm)


def test_tampered_expired_unsigned_and_mistyped_tokens_are_refused(client, gardener):
    """Tampered signature, expired, ``alg: none``, another key, wrong type and garbage all get
    401 TOKEN_INVALID."""
    pair = _obtain(client)
    claims = tokens.decode(pair["access"], expected_type="access")
    header, payload, signature = pair["access"].split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    expired = _forge({**claims, "exp": int(time.time()) - 5})
    unsigned = jwt.encode({**claims}, None, algorithm="none")
    other_key = _forge(claims, key="another-secret-key-that-is-long-enough-0123456789")
    bad = [tampered, expired, unsigned, other_key, pair["refresh"], "garbage", "a.b.c"]
    for token in bad:
        response = _me(client, token)
        assert response.status_code == 401, token
        assert response.json()["code"] == "TOKEN_INVALID"
    assert _refresh(client, pair["access"]).status_code == 401
    assert client.get("/api/me/", HTTP_AUTHORIZATION="Basic abc").status_code == 401
    assert client.get("/api/me/").status_code == 401


def test_refresh_rotates_and_costs_one_statement(client, gardener, django_assert_num_queries):
    pair = _obtain(client)
    with django_assert_num_queries(1):
        response = _refresh(client, pair["refresh"])
    assert response.status_code == 200
    new = response.json()
    assert new["refresh"] != pair["refresh"] and new["access"] != pair["access"]
    assert _me(client, new["access"]).status_code == 200


def test_same_token_within_reuse_interval_returns_the_same_successor(client, gardener):
    """Parallel tabs and retries are safe: same pair while the successor is unused."""
    pair = _obtain(client)
    first = _refresh(client, pair["refresh"]).json()
    again = _refresh(client, pair["refresh"]).json()
    assert first == again


def test_replay_after_successor_was_used_revokes_the_family(client, gardener):
    """RFC 9700 4.14.2: a replay once the successor has been used revokes every token of the
    family, the attacker's and the victim's."""
    pair = _obtain(client)
    first = _refresh(client, pair["refresh"]).json()
    second = _refresh(client, first["refresh"]).json()
    replay = _refresh(client, pair["refresh"])
    assert replay.status_code == 401 and replay.json()["code"] == "TOKEN_REUSED"
    assert _refresh(client, second["refresh"]).status_code == 401
    assert _me(client, second["access"]).status_code == 401


def test_replay_after_the_reuse_interval_revokes_the_family(client, gardener, settings):
    settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS = 1
    pair = _obtain(client)
    first = _refresh(client, pair["refresh"]).json()
    time.sleep(1.2)
    assert _refresh(client, pair["refresh"]).json()["code"] == "TOKEN_REUSED"
    assert _me(client, first["access"]).status_code == 401


def test_family_lifetime_is_absolute(client, gardener, settings):
    """Rotation copies the family's expiry and never extends it."""
    settings.JWT_REFRESH_FAMILY_MAX_AGE_SECONDS = 2
    pair = _obtain(client)
    fexp = tokens.decode(pair["refresh"], expected_type="refresh")["fexp"]
    rotated = _refresh(client, pair["refresh"]).json()
    claims = tokens.decode(rotated["refresh"], expected_type="refresh")
    assert claims["fexp"] == fexp and claims["exp"] <= fexp
    time.sleep(2.2)
    assert _refresh(client, rotated["refresh"]).status_code == 401


def test_revoke_endpoint_is_204_for_anything_and_revokes_a_valid_family(client, gardener):
    pair = _obtain(client)
    assert (
        client.post("/api/auth/token/revoke/", {"refresh": "nonsense"}, content_type="application/json").status_code
        == 204
    )
    response = client.post("/api/auth/token/revoke/", {"refresh": pair["refresh"]}, content_type="application/json")
    assert response.status_code == 204
    assert (
        client.post(
            "/api/auth/token/revoke/", {"refresh": pair["refresh"]}, content_type="application/json"
        ).status_code
        == 204
    )
    assert _me(client, pair["access"]).status_code == 401
    assert _refresh(client, pair["refresh"]).status_code == 401


def test_sign_out_revokes_this_browser_family_only(client_factory, gardener):
    """Signing out in one browser revokes its tokens; another device stays signed in."""
    browser, phone = client_factory(), client_factory()
    browser.post("/accounts/login/", {"username": "rosa", "password": DEFAULT_PASSWORD})
    browser_access = browser.cookies["access_token"].value
    phone_pair = _obtain(phone)
    browser.post(reverse("accounts:logout"))
    assert _me(browser, browser_access).status_code == 401
    assert _me(phone, phone_pair["access"]).status_code == 200
    assert "access_token" in browser.cookies and browser.cookies["access_token"].value == ""


def test_password_change_revokes_all_families_and_other_sessions(
    client_factory, gardener, django_capture_on_commit_callbacks
):
    """Every token family of the user is revoked and other browsers are signed out; the
    browser that changed it stays signed in with fresh tokens."""
    here, elsewhere = client_factory(), client_factory()
    here.post("/accounts/login/", {"username": "rosa", "password": DEFAULT_PASSWORD})
    elsewhere.post("/accounts/login/", {"username": "rosa", "password": DEFAULT_PASSWORD})
    api_pair = _obtain(client_factory())
    with django_capture_on_commit_callbacks(execute=True):
        response = here.post(
            reverse("accounts:password-change"),
            {
                "old_password": DEFAULT_PASSWORD,
                "new_password1": "a-brand-new-passphrase-99",
                "new_password2": "a-brand-new-passphrase-99",
            },
        )
    assert response.status_code == 302
    assert _me(here, api_pair["access"]).status_code == 401
    assert _refresh(here, api_pair["refresh"]).status_code == 401
    assert here.get("/dashboard/").status_code == 200
    assert _me(here, here.cookies["access_token"].value).status_code == 200
    assert elsewhere.get("/dashboard/").status_code == 302


def test_deactivation_revokes_tokens_and_refresh(client, gardener, django_capture_on_commit_callbacks):
    """A deactivated user's refresh is refused (a revoked family, and the one SQL check)."""
    pair = _obtain(client)
    with django_capture_on_commit_callbacks(execute=True):
        gardener.is_active = False
        gardener.save()
    assert _refresh(client, pair["refresh"]).status_code == 401
    assert _me(client, pair["access"]).status_code == 401


def test_refresh_by_cookie_requires_csrf(gardener, client_factory):
    """The refresh cookie authenticates, so CSRF is checked; with the header it works."""
    browser = client_factory(enforce_csrf_checks=True)
    browser.get("/accounts/login/")
    csrf = browser.cookies["csrftoken"].value
    browser.post("/accounts/login/", {"username": "rosa", "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": csrf})
    refresh_cookie = browser.cookies["refresh_token"].value
    assert refresh_cookie
    rejected = browser.post("/api/auth/token/refresh/", b"{}", content_type="application/json")
    assert rejected.status_code == 403 and rejected.json()["code"] == "CSRF_FAILED"
    accepted = browser.post(
        "/api/auth/token/refresh/",
        b"{}",
        content_type="application/json",
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,
    )
    assert accepted.status_code == 200
    assert browser.cookies["refresh_token"].value != refresh_cookie


def test_unknown_user_in_a_valid_token_is_refused(client, gardener):
    pair = _obtain(client)
    gardener.delete()
    assert _me(client, pair["access"]).status_code == 401
    assert _refresh(client, pair["refresh"]).status_code == 401
