"""WSGI entry for tests that serve the site from a real server process (gunicorn) under the
settings named by ``DJANGO_SETTINGS_MODULE``, production included.

The only change from ``portal.wsgi``: static files use the plain storage, because the tests run
no ``collectstatic`` and production's manifest storage needs its manifest (as in
``tests/core/test_cookie_names.py``)."""

import django
from django.conf import settings

django.setup()
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

from django.core.wsgi import get_wsgi_application  # noqa: E402 (after the storage swap, which must come first)

application = get_wsgi_application()
