"""Local development: the embedded default unless DATABASE_URL / REDIS_URL are set."""

from .base import *  # noqa: F401,F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)
