"""Cookie names by environment (SPEC "Sign-in, tokens and lockout"): with DEBUG off the session,
CSRF and access cookies carry the ``__Host-`` prefix and the path-scoped refresh cookie
``__Secure-``; with DEBUG on and in tests the plain names stay."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from apps.core.checks import cookie_prefix_check

PROJECT = Path(__file__).resolve().parents[2]
NOT_INHERITED = {"DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
PREFIXED = {
    "SESSION_COOKIE_NAME": "__Host-sessionid",
    "CSRF_COOKIE_NAME": "__Host-csrftoken",
    "JWT_ACCESS_COOKIE": "__Host-access_token",
    "JWT_REFRESH_COOKIE": "__Secure-refresh_token",
}
PLAIN = {
    "SESSION_COOKIE_NAME": "sessionid",
    "CSRF_COOKIE_NAME": "csrftoken",
    "JWT_ACCESS_COOKIE": "access_token",
    "JWT_REFRESH_COOKIE": "refresh_token",
}

# Signs in through the form and the API with HTTPS requests under production settings. The
# static files storage is swapped for the plain one only because the test runs no
# collectstatic (the production manifest storage needs its manifest).
CYCLE = """
import json
import django
django.setup()
from django.conf import settings
settings.STORAGES = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
from django.test import Client
from apps.accounts.models import User

names = {key: getattr(settings, key) for key in %(keys)r}
User.objects.create_user(username="cookie-probe", email="probe@example.com", password="a-long-probe-password-2026")

def cookies(response):
    return {c.key: {"secure": bool(c["secure"]), "path": c["path"], "domain": c["domain"]}
            for c in response.cookies.values()}

# HTTPS as a TLS proxy in front of gunicorn forwards it (SECURE_PROXY_SSL_HEADER).
browser = Client(secure=True, headers={"X-Forwarded-Proto": "https"})
form = browser.get("/accounts/login/")
signin = browser.post("/accounts/login/", {"username": "cookie-probe", "password": "a-long-probe-password-2026"})
assert signin.status_code == 302, (signin.status_code, signin.content[:3000])
access_only = Client(secure=True, headers={"X-Forwarded-Proto": "https"})
access_only.cookies[settings.JWT_ACCESS_COOKIE] = browser.cookies[settings.JWT_ACCESS_COOKIE].value
me = access_only.get("/api/me/")
refreshed = browser.post("/api/auth/token/refresh/", "{}", content_type="application/json")
dashboard = browser.get("/dashboard/")
print(json.dumps({
    "names": names,
    "form": cookies(form), "signin": cookies(signin), "signin_status": signin.status_code,
    "me": [me.status_code, me.json().get("username")],
    "refresh": [refreshed.status_code, cookies(refreshed)],
    "dashboard": dashboard.status_code,
}))
"""


def _production(debug: str) -> dict:
    db = connection.settings_dict
    env = {
        **{key: value for key, value in os.environ.items() if key not in NOT_INHERITED},
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "DEBUG": debug,
        "SECRET_KEY": "s" * 60,
        "JWT_SECRET_KEY": "j" * 60,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "ALLOWED_HOSTS": "testserver",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    result = subprocess.run(
        [sys.executable, "-c", CYCLE % {"keys": sorted(PREFIXED)}],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_production_with_debug_off_uses_the_prefixed_names_through_a_sign_in():
    """Production settings, DEBUG off: a browser signing in over HTTPS gets ``__Host-csrftoken``,
    ``__Host-sessionid`` (and a rotated ``__Host-csrftoken``), ``__Host-access_token`` (all Secure,
    Path=/, no Domain) and
    ``__Secure-refresh_token`` (Secure, path /api/auth/); the API accepts the access cookie by its
    prefixed name, the refresh endpoint rotates by the prefixed refresh cookie and sets the
    pair again under the same names, and the session cookie keeps the browser signed in."""
    seen = _production("false")
    assert seen["names"] == PREFIXED
    assert seen["form"] == {"__Host-csrftoken": {"secure": True, "path": "/", "domain": ""}}
    assert seen["signin_status"] == 302
    assert seen["signin"] == {
        "__Host-csrftoken": {"secure": True, "path": "/", "domain": ""},  # rotated at sign-in
        "__Host-sessionid": {"secure": True, "path": "/", "domain": ""},
        "__Host-access_token": {"secure": True, "path": "/", "domain": ""},
        "__Secure-refresh_token": {"secure": True, "path": "/api/auth/", "domain": ""},
    }
    assert seen["me"] == [200, "cookie-probe"]
    status, refreshed = seen["refresh"]
    assert status == 200
    assert {"__Host-access_token", "__Secure-refresh_token"} <= set(refreshed) <= set(seen["signin"])
    assert seen["dashboard"] == 200


@pytest.mark.django_db(transaction=True)
def test_production_with_debug_on_keeps_the_plain_names():
    """DEBUG on (SPEC: the prefixes are for DEBUG off) keeps the plain names."""
    seen = _production("true")
    assert seen["names"] == PLAIN
    assert set(seen["signin"]) == {"csrftoken", "sessionid", "access_token", "refresh_token"}
    assert seen["me"] == [200, "cookie-probe"]


def test_tests_use_the_plain_names():
    """The test settings keep the plain names the tests read."""
    assert {key: getattr(settings, key) for key in PLAIN} == PLAIN
    assert cookie_prefix_check(None) == []


def test_a_prefixed_cookie_without_its_conditions_fails_the_system_check(settings):
    """core.E002: a ``__Host-`` session cookie that is not Secure (or has a Domain), or a
    ``__Secure-`` refresh cookie without Secure, would be dropped by browsers."""
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.SESSION_COOKIE_SECURE = False
    assert [error.id for error in cookie_prefix_check(None)] == ["core.E002"]
    settings.SESSION_COOKIE_SECURE = True
    settings.SESSION_COOKIE_DOMAIN = "portal.example"
    assert [error.id for error in cookie_prefix_check(None)] == ["core.E002"]
    settings.SESSION_COOKIE_DOMAIN = None
    assert cookie_prefix_check(None) == []
    settings.DEBUG = True
    settings.JWT_REFRESH_COOKIE = "__Secure-refresh_token"
    assert [error.id for error in cookie_prefix_check(None)] == ["core.E002"]
