"""Local development: the embedded default unless DATABASE_URL / REDIS_URL are set."""

from .base import *  # noqa: F403 (Django settings layer on the base settings)
from .base import STORAGES as BASE_STORAGES
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)

# Local runs with DEBUG off still serve static files straight from the source folders (no
# collectstatic needed); production uses the compressed, hashed manifest.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "data_exports": BASE_STORAGES["data_exports"],
}
