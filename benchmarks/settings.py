"""Settings for ``make bench``: the production settings, fed by the environment ``run.py``
sets (PostgreSQL ``BENCH_DATABASE_URL``, Redis db 14, throwaway secrets, ``DEBUG`` off), with
three changes for a loopback benchmark:

- ``ROOT_URLCONF`` adds the naive baseline and the floor view (``benchmarks/urls.py``);
- no HTTPS redirect (gunicorn listens on plain HTTP on 127.0.0.1; cookies are still Secure);
- static files through ``StaticFilesStorage``, so no ``collectstatic`` manifest is needed.
"""

from portal.settings.production import *  # noqa: F403 (settings extend the production settings)

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

# whitenoise warns that STATIC_ROOT (collectstatic's output) is missing; the benchmark serves
# no static files.
import warnings  # noqa: E402 (kept beside the one setting it serves)

warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
