"""Test settings: PostgreSQL and Redis always (SPEC "Query budgets" are PostgreSQL figures).

The test database is created by pytest-django from TEST_DATABASE_URL; Redis uses its own db
number so tests never touch what a running portal keeps in db 0.
"""

import dj_database_url
from django.db import models

from .base import *  # noqa: F403 (Django settings layer on the base settings)
from .base import CACHES, STORAGES
from .env import env_str

DEBUG = False
DATABASES = {
    "default": dj_database_url.parse(
        env_str("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal"),
        conn_max_age=0,
    )
}
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_portal")}
REDIS_URL = env_str("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
CACHES = {
    "default": {
        **CACHES.get("default", {}),
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "portal-test",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}
# A real (fast) hasher that counts hashes, so tests can assert one hash per sign-in attempt.
PASSWORD_HASHERS = ["tests.hashers.CountingMD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # The root conftest points this at a per-test folder, as it does MEDIA_ROOT.
    "data_exports": STORAGES["data_exports"],
}
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
# A lazy load inside a selector is a bug: make it fail loudly (SPEC "Query budgets").
PORTAL_DEFAULT_FETCH_MODE = models.FETCH_RAISE
# SPEC's query budgets are counted with panel caching off; tests of the cache turn it on.
DASHBOARD_PANEL_CACHE = False
SERVE_MEDIA = True
# Server processes started by cross-process tests write mail to files both can share.
if env_str("PORTAL_TEST_EMAIL_DIR"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": env_str("PORTAL_TEST_EMAIL_DIR")},
        }
    }
