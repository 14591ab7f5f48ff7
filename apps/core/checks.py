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


@register(Tags.security, deploy=False)
def cookie_prefix_check(app_configs, **kwargs):
    """core.E002: a cookie named ``__Host-...`` must be Secure, Path=/ and have no Domain, and
    one named ``__Secure-...`` must be Secure (RFC 6265bis section 4.1.3), or browsers drop it
    and nobody can sign in. Checks the session, CSRF and token cookies as the settings make
    them (the token cookies are Secure exactly when DEBUG is off,
    ``apps.accounts.signin_services.set_token_cookies``)."""
    cookies = [
        (
            "SESSION_COOKIE_NAME",
            settings.SESSION_COOKIE_NAME,
            settings.SESSION_COOKIE_SECURE,
            settings.SESSION_COOKIE_PATH,
            settings.SESSION_COOKIE_DOMAIN,
        ),
        (
            "CSRF_COOKIE_NAME",
            settings.CSRF_COOKIE_NAME,
            settings.CSRF_COOKIE_SECURE,
            settings.CSRF_COOKIE_PATH,
            settings.CSRF_COOKIE_DOMAIN,
        ),
        ("JWT_ACCESS_COOKIE", settings.JWT_ACCESS_COOKIE, not settings.DEBUG, "/", None),
        ("JWT_REFRESH_COOKIE", settings.JWT_REFRESH_COOKIE, not settings.DEBUG, settings.JWT_REFRESH_COOKIE_PATH, None),
    ]
    errors = []
    for setting, name, secure, path, domain in cookies:
        host_ok = not name.startswith("__Host-") or (secure and path == "/" and not domain)
        secure_ok = not name.startswith("__Secure-") or secure
        if not (host_ok and secure_ok):
            errors.append(
                Error(
                    f"{setting} is {name!r}: a __Host- cookie needs Secure, Path=/ and no Domain, "
                    "a __Secure- cookie needs Secure (RFC 6265bis section 4.1.3).",
                    id="core.E002",
                )
            )
    return errors
