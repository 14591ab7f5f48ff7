"""Production settings refuse to start without what SPEC "Stack" requires."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from portal.settings import base

PROJECT = Path(__file__).resolve().parents[2]
GOOD = {
    "DJANGO_SETTINGS_MODULE": "portal.settings.production",
    "SECRET_KEY": "s" * 60,
    "JWT_SECRET_KEY": "j" * 60,
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DEBUG": "false",
}


# Set by the e2e suite for Playwright's event loop; never part of a deployment.
NOT_INHERITED = {"DJANGO_ALLOW_ASYNC_UNSAFE"}


def _load(env: dict) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in GOOD and key not in NOT_INHERITED}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=PROJECT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_start_with_everything_set():
    result = _load(GOOD)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


MISSING = [
    ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
    ({"SECRET_KEY": "  "}, "SECRET_KEY must be set"),
    ({"SECRET_KEY": "x"}, "SECRET_KEY must be at least 50 characters"),
    ({"SECRET_KEY": "s" * 49}, "SECRET_KEY must be at least 50 characters"),
    ({"SECRET_KEY": base.LOCAL_SECRET_KEY}, "published local keys"),
    ({"JWT_SECRET_KEY": base.LOCAL_JWT_SECRET_KEY}, "published local keys"),
    ({"JWT_SECRET_KEY": None}, "JWT_SECRET_KEY must be set"),
    ({"JWT_SECRET_KEY": "short"}, "at least 50 characters"),
    ({"JWT_SECRET_KEY": "j" * 49}, "at least 50 characters"),
    ({"JWT_SECRET_KEY": "s" * 60}, "must differ from SECRET_KEY"),
    ({"DATABASE_URL": None}, "DATABASE_URL must be set and point at PostgreSQL"),
    ({"DATABASE_URL": ""}, "DATABASE_URL must be set and point at PostgreSQL"),
    ({"DATABASE_URL": "sqlite:////tmp/portal.sqlite3"}, "DATABASE_URL must be set and point at PostgreSQL"),
    ({"REDIS_URL": None}, "REDIS_URL must be set"),
    ({"REDIS_URL": ""}, "REDIS_URL must be set"),
]


@pytest.mark.parametrize("debug", ["false", "true"])
@pytest.mark.parametrize("change, message", MISSING)
def test_production_settings_refuse_to_start_without(change, message, debug):
    """Each missing or weak secret or service stops start-up with a clear
    ``ImproperlyConfigured``, and ``DEBUG=true`` does not skip the check (issue 10, item 8:
    it used to fall back to the insecure local keys)."""
    env = {key: value for key, value in {**GOOD, "DEBUG": debug, **change}.items() if value is not None}
    result = _load(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr


def test_production_settings_with_debug_on_use_the_given_keys():
    """With everything set, ``DEBUG=true`` starts, with the environment's keys and services
    (never ``base``'s insecure local defaults)."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.DEBUG, s.SECRET_KEY, s.JWT_SECRET_KEY, s.DATABASES['default']['ENGINE'], s.REDIS_URL)",
        ],
        cwd=PROJECT,
        env={
            **{k: v for k, v in os.environ.items() if k not in GOOD and k not in NOT_INHERITED},
            **GOOD,
            "DEBUG": "true",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "s" * 60,
        "j" * 60,
        "django.db.backends.postgresql",
        "redis://127.0.0.1:6379/0",
    ]


def test_check_deploy_is_clean_under_production_settings():
    """``manage.py check --deploy`` reports no issue with production settings."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=PROJECT,
        env={
            **{k: v for k, v in os.environ.items() if k not in GOOD and k not in NOT_INHERITED},
            **GOOD,
            "ALLOWED_HOSTS": "portal.example",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "JWT_SECRET_KEY": secrets.token_urlsafe(60),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def _run_in_production(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=PROJECT,
        env={
            **{k: v for k, v in os.environ.items() if k not in GOOD and k not in NOT_INHERITED},
            **GOOD,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "backend, sent",
    [
        ("django.core.mail.backends.console.EmailBackend", "Subject: probe"),
        ("apps.core.mail.ReadableConsoleBackend", "Subject: probe"),
        ("django.core.mail.backends.locmem.EmailBackend", "locmem 1"),
    ],
)
def test_production_settings_send_mail_through_a_non_smtp_backend(backend, sent):
    """Issue 11: with ``EMAIL_BACKEND`` set to the console backend, production settings failed
    every email ("Unknown options 'host' ..."): the SMTP options go to the SMTP backend only."""
    result = _run_in_production(
        "from django.core import mail\n"
        "mail.send_mail('probe', 'body', 'a@example.com', ['b@example.com'])\n"
        "print('locmem', len(getattr(mail, 'outbox', [])))",
        EMAIL_BACKEND=backend,
    )
    assert result.returncode == 0, result.stderr
    assert sent in result.stdout


def test_production_settings_give_the_smtp_backend_its_options():
    """The default SMTP backend still gets host, port, credentials, TLS and timeout from the
    environment."""
    result = _run_in_production(
        "from django.core.mail import mailers\n"
        "m = mailers['default']\n"
        "print(type(m).__name__, m.host, m.port, m.username, m.use_tls, m.timeout)",
        EMAIL_HOST="mail.example",
        EMAIL_PORT="2525",
        EMAIL_HOST_USER="portal",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["EmailBackend", "mail.example", "2525", "portal", "True", "10"]
