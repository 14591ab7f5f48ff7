"""Production settings: refuse to start without the services and secrets SPEC requires.

SPEC "Stack": the settings refuse to start (ImproperlyConfigured) without PostgreSQL
(``DATABASE_URL``), Redis (``REDIS_URL``), ``SECRET_KEY`` and a ``JWT_SECRET_KEY`` that differs
from ``SECRET_KEY`` and has at least 50 characters. The check runs whatever ``DEBUG`` says: a
production process switched to ``DEBUG=true`` to look at an error must not quietly fall back to
the insecure local keys of ``base``, SQLite or the per-process security store.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403 (Django settings layer on the base settings)
from .base import DATABASE_URL, DATABASES, LOCAL_JWT_SECRET_KEY, LOCAL_SECRET_KEY, REDIS_URL
from .env import env_bool, env_int, env_str

DEBUG = env_bool("DEBUG", False)

# No ``if not DEBUG`` around these: DEBUG is about error pages, never about which keys sign
# sessions and tokens or which database and security store the process uses.
SECRET_KEY = env_str("SECRET_KEY")
JWT_SECRET_KEY = env_str("JWT_SECRET_KEY")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in production (whatever DEBUG says).")
if len(SECRET_KEY) < 50:
    # Django's own deployment check (security.W009) asks for at least 50 characters.
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long in production (whatever DEBUG says).")
if {SECRET_KEY, JWT_SECRET_KEY} & {LOCAL_SECRET_KEY, LOCAL_JWT_SECRET_KEY}:
    raise ImproperlyConfigured("SECRET_KEY and JWT_SECRET_KEY must not be the published local keys of base.py.")
if not JWT_SECRET_KEY or len(JWT_SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "JWT_SECRET_KEY must be set and at least 50 characters long in production (whatever DEBUG says)."
    )
if JWT_SECRET_KEY == SECRET_KEY:
    raise ImproperlyConfigured("JWT_SECRET_KEY must differ from SECRET_KEY.")
if not DATABASE_URL or DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must be set and point at PostgreSQL in production (whatever DEBUG says).")
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set in production (whatever DEBUG says).")

# seed_demo writes accounts with published passwords and --flush deletes every member: refused
# unless this says the database is a scratch one (the benchmark's settings do).
DEMO_DATA_ALLOWED = env_bool("DEMO_DATA_ALLOWED", False)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", True) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
if not DEBUG:
    # SPEC "Sign-in, tokens and lockout": with DEBUG off the cookies carry the __Host- prefix,
    # which a browser accepts only with Secure, Path=/ and no Domain (RFC 6265bis section
    # 4.1.3.2), so no subdomain or plain-http page can set or overwrite them. The refresh
    # cookie is scoped to /api/auth/, so it can only be __Secure- (section 4.1.3.1). With
    # DEBUG on, as in local runs and tests, the plain names of base.py stay.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    JWT_ACCESS_COOKIE = "__Host-access_token"
    JWT_REFRESH_COOKIE = "__Secure-refresh_token"

# Email (Django 6.1 MAILERS): SMTP by default, credentials from the environment only. Each
# backend takes only its own options (Django refuses unknown ones with InvalidMailer), so the
# SMTP options go to the SMTP backend alone and a console or locmem EMAIL_BACKEND gets none.
_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_email_backend = env_str("EMAIL_BACKEND", _SMTP_BACKEND)
if _email_backend == _SMTP_BACKEND:
    _email_options = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 587),
        "username": env_str("EMAIL_HOST_USER", "") or None,
        "password": env_str("EMAIL_HOST_PASSWORD", "") or None,
        "use_tls": env_bool("EMAIL_USE_TLS", True),
        "timeout": env_int("EMAIL_TIMEOUT_SECONDS", 10),
    }
elif _email_backend == "django.core.mail.backends.filebased.EmailBackend":
    _email_options = {"file_path": env_str("EMAIL_FILE_PATH", "")}
else:
    _email_options = {}
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _email_options}}
