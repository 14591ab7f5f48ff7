"""Settings for ``make bench``: the production settings, fed by the environment ``run.py``
sets (PostgreSQL ``BENCH_DATABASE_URL``, Redis db 14, throwaway secrets, ``DEBUG`` off), with
these changes for a loopback benchmark:

- ``ROOT_URLCONF`` adds the naive baseline and the floor views (``benchmarks/urls.py``);
- no HTTPS redirect (gunicorn listens on plain HTTP on 127.0.0.1; cookies are still Secure);
- static files through ``StaticFilesStorage``, so no ``collectstatic`` manifest is needed;
- for the load phase, two switches from the environment (``benchmarks/harness/config.py``):
  ``BENCH_DB_CONNECTIONS`` chooses the connection handling (``health-checks``, the production
  settings; ``pool``, psycopg's pool; ``persistent``, no health checks) and
  ``BENCH_PANEL_CACHE`` (``on``/``off``) sets the panel cache's setting when it exists.
"""

import os

from benchmarks.harness.config import CONNECTION_ENV, PANEL_CACHE_ENV, PANEL_CACHE_SETTING
from portal.settings.production import *  # noqa: F403 (settings extend the production settings)
from portal.settings.production import DATABASES, TIME_ZONE_EXEMPT_PATH_PREFIXES

ROOT_URLCONF = "benchmarks.urls"
SECURE_SSL_REDIRECT = False
DEMO_DATA_ALLOWED = True  # the benchmark database is its own scratch database
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# The no-SQL floor stays SQL-free: the gardener's time zone (apps.accounts.middleware) would
# otherwise look the user up for it, making it a second signed-in floor.
TIME_ZONE_EXEMPT_PATH_PREFIXES = (*TIME_ZONE_EXEMPT_PATH_PREFIXES, "/bench/floor")

_connections = os.environ.get(CONNECTION_ENV, "health-checks")
if _connections == "pool":
    # Django's pool (psycopg_pool): a connection is taken per request and given back at its end;
    # CONN_MAX_AGE must be 0 with it. One sync gunicorn worker uses one connection at a time.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": 2, "timeout": 10}
elif _connections == "persistent":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if os.environ.get(PANEL_CACHE_ENV) in ("on", "off") and PANEL_CACHE_SETTING in globals():
    globals()[PANEL_CACHE_SETTING] = os.environ[PANEL_CACHE_ENV] == "on"

# whitenoise warns that STATIC_ROOT (collectstatic's output) is missing; the benchmark serves
# no static files.
import warnings  # noqa: E402 (kept beside the one setting it serves)

warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
