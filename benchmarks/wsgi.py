"""gunicorn entry point for the load phase of ``make bench``: ``portal.wsgi`` with the
benchmark settings (the portal plus the naive baseline and the two floors, ``/bench/floor`` and
``/bench/signed-in``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

from portal.wsgi import application  # noqa: F401 (gunicorn's entry point)
