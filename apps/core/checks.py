"""System checks of the core app."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from .redis import security_store_is_shared


@register(Tags.security, deploy=False)
def security_store_shared_check(app_configs, **kwargs):
    """core.E001: with DEBUG off, the lockout monitor and token state must live in a Redis that
    every process shares; the in-process store of the embedded default counts per process, so
    N workers would allow N times the guesses (SPEC "Sign-in, tokens and lockout")."""
    if settings.DEBUG or security_store_is_shared():
        return []
    return [
        Error(
            "The security store is in-process: set REDIS_URL so every process shares the lockout "
            "counters and token state.",
            id="core.E001",
        )
    ]
