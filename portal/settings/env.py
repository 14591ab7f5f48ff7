"""Typed reads of environment variables, in the spirit of cookiecutter-django's settings.

Every reader takes the variable's name and a default; a value that cannot be parsed raises
``ImproperlyConfigured`` naming the variable, so a typo fails at start-up rather than later.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the variable ``name`` stripped of surrounding spaces, or ``default`` when unset."""
    value = os.environ.get(name)
    return default if value is None else value.strip()


def env_bool(name: str, default: bool = False) -> bool:
    """Return ``name`` as a boolean (1/0, true/false, yes/no, on/off; case-insensitive).

    Raises ``ImproperlyConfigured`` for any other value.
    """
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}.")


def env_int(name: str, default: int) -> int:
    """Return ``name`` as an integer; raises ``ImproperlyConfigured`` when it is not one."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Return ``name`` split on commas, blanks dropped; ``default`` (or ``[]``) when unset."""
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]
