"""Settings every environment shares. Environment variables are read through ``env.py``.

The embedded default (SPEC "Stack"): with no ``DATABASE_URL`` the site uses SQLite, and with no
``REDIS_URL`` the local-memory cache, so a fresh clone runs with nothing else installed.
"""

from pathlib import Path

import dj_database_url
from django.db import models
from django.utils.csp import CSP

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# ``manage.py seed_demo`` may run (production.py turns it off).
DEMO_DATA_ALLOWED = True

# Published keys for development only; production.py refuses them.
LOCAL_SECRET_KEY = "insecure-local-only-key-change-me-in-production-0123456789"
LOCAL_JWT_SECRET_KEY = "insecure-local-only-jwt-key-change-me-in-production-0123456789abcdef"
SECRET_KEY = env_str("SECRET_KEY", LOCAL_SECRET_KEY)
JWT_SECRET_KEY = env_str("JWT_SECRET_KEY", LOCAL_JWT_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_htmx",
    "django_tasks_db",
    "apps.core",
    "apps.accounts",
    "apps.notifications",
    "apps.plants",
    "apps.forum",
    "apps.dashboard",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # /healthz and /readyz answer here, before any session or user lookup (issue 11).
    "apps.core.middleware.HealthCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything that queries: a database outage answers 503, not 500 (issue 11).
    "apps.core.middleware.DatabaseUnavailableMiddleware",
    "apps.core.middleware.PrivateCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apps.core.middleware.SessionRenewalMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.middleware.SessionLifetimeMiddleware",
    "apps.accounts.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "apps.core.htmx.HtmxMiddleware",
    "apps.core.middleware.HtmxLoginRedirectMiddleware",
    "apps.core.middleware.MethodNotAllowedPageMiddleware",
    "apps.core.middleware.BadRequestPageMiddleware",
]
CSRF_FAILURE_VIEW = "apps.core.views.csrf_failure"
# Health probes may come over plain HTTP from a load balancer (SECURE_SSL_REDIRECT in production).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.moderation",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    # Persistent connections: a request should not pay for a new PostgreSQL connection.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / env_str("SQLITE_NAME", "db.sqlite3"),
            # Concurrent writers wait their turn instead of failing "database is locked" (a 503:
            # 14 of 18 simultaneous votes in issue 12's review): a transaction takes the write
            # lock when it begins (no deadlocked lock upgrade), and a busy writer is waited for
            # up to 20 s.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Read paths open no transaction (SPEC "Query budgets"); services use transaction.atomic.
ATOMIC_REQUESTS = False

# Fetch mode the project's managers apply (apps.core.models.PortalManager). Production keeps
# Django's FETCH_ONE; the test settings use FETCH_RAISE so a lazy load in a selector fails.
PORTAL_DEFAULT_FETCH_MODE = models.FETCH_ONE

# --- Cache and sessions ---------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
REDIS_SOCKET_TIMEOUT_SECONDS = float(env_str("REDIS_SOCKET_TIMEOUT_SECONDS", "0.5"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT_SECONDS,
                "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT_SECONDS,
                # The default cache is a convenience, not a source of truth: when Redis is down
                # a read is a miss and a write is dropped, so cached_db sessions fall back to
                # the database instead of failing. Security counters never use this cache.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Django's cached_db, whose key rotation keeps the browser's "Active sessions" record.
SESSION_ENGINE = "apps.accounts.session_store"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE_SECONDS", 14 * 24 * 3600)
# A session's expiry is pushed forward at most once a minute (apps.core.middleware).
SESSION_RENEWAL_INTERVAL_SECONDS = env_int("SESSION_RENEWAL_INTERVAL_SECONDS", 60)
# Background polls (the notification badge) must not keep an idle session alive.
SESSION_RENEWAL_EXEMPT_PATHS = ("/notifications/badge/", "/forum/notifications/badge/")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["apps.accounts.backends.UsernameOrEmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:index"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Email ----------------------------------------------------------------------------------
# Django 6.1 configures email through MAILERS (EMAIL_BACKEND is deprecated). Console by default,
# so a fresh clone prints sign-up and reset emails in the terminal.
MAILERS = {"default": {"BACKEND": env_str("EMAIL_BACKEND", "apps.core.mail.ReadableConsoleBackend")}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Plant Community Portal <no-reply@localhost>")
# Scheme and host for links in emails sent with no request at hand (a task, a cron command:
# notification emails and digests). Set it to the public address in production.
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
# The daily notification digest goes on the first run of send_notification_digests at or after
# this hour (0-23) in the gardener's time zone (issue 12).
NOTIFICATION_DIGEST_LOCAL_HOUR = env_int("NOTIFICATION_DIGEST_LOCAL_HOUR", 8)

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Data exports (issue 11, "Your data") are personal archives: a storage of their own, outside
# MEDIA_ROOT, so nothing serves them but the owner-checked download view.
DATA_EXPORTS_ROOT = Path(env_str("DATA_EXPORTS_ROOT", str(BASE_DIR / "private" / "data_exports")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    "data_exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_EXPORTS_ROOT, "base_url": None},
    },
}

# --- Tasks ----------------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Security headers -----------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Portal rules ---------------------------------------------------------------------------
# Trust levels (SPEC "Domain"): approved posts and account age in days for each level.
TRUST_LEVEL_REQUIREMENTS = {
    "basic": {"approved_posts": 5, "account_age_days": 7},
    "trusted": {"approved_posts": 25, "account_age_days": 30},
    "veteran": {"approved_posts": 100, "account_age_days": 90},
}
DASHBOARD_RECENT_ACTIVITY_LIMIT = 8
DASHBOARD_PREVIOUS_SEARCHES_LIMIT = 5
DASHBOARD_CARE_CARDS_LIMIT = 5
# Care tasks the due-today panel lists (oldest due first); the rest read "and N more".
DASHBOARD_CARE_DUE_LIMIT = 10
DASHBOARD_SPARKLINE_WEEKS = 12
# Dashboard panel fragments cached per gardener (issue 13, apps.dashboard.panel_cache); each
# entry also expires when its text would change with time, and at the latest after this long
# (an upper bound for anything time-limited in the HTML, such as signed media URLs).
DASHBOARD_PANEL_CACHE = env_bool("DASHBOARD_PANEL_CACHE", True)
DASHBOARD_PANEL_CACHE_MAX_SECONDS = env_int("DASHBOARD_PANEL_CACHE_MAX_SECONDS", 3600)
PLANT_REQUESTS_PAGE_SIZE = env_int("PLANT_REQUESTS_PAGE_SIZE", 20)
FORUM_TOPICS_PAGE_SIZE = 25
FORUM_POSTS_PAGE_SIZE = 20
PORTAL_PHOTOS_DIR = Path(env_str("PORTAL_PHOTOS_DIR", str(BASE_DIR.parent / "shared" / "data" / "photos")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
SERVE_MEDIA = env_bool("SERVE_MEDIA", False)

# --- Sign-in protection (SPEC "Sign-in, tokens and lockout"; all limits are settings) ------
LOCKOUT_FAILURE_LIMIT = env_int("LOCKOUT_FAILURE_LIMIT", 10)
LOCKOUT_WINDOW_SECONDS = env_int("LOCKOUT_WINDOW_SECONDS", 15 * 60)
LOCKOUT_DURATION_SECONDS = env_int("LOCKOUT_DURATION_SECONDS", 60 * 60)
IP_SIGNIN_FAILURE_LIMIT = env_int("IP_SIGNIN_FAILURE_LIMIT", 50)
IP_SIGNIN_WINDOW_SECONDS = env_int("IP_SIGNIN_WINDOW_SECONDS", 15 * 60)
IP_SIGNIN_BLOCK_SECONDS = env_int("IP_SIGNIN_BLOCK_SECONDS", 15 * 60)
SIGNUP_LIMIT_PER_IP = env_int("SIGNUP_LIMIT_PER_IP", 5)
SIGNUP_WINDOW_SECONDS = env_int("SIGNUP_WINDOW_SECONDS", 60 * 60)
PASSWORD_RESET_LIMIT_PER_IP = env_int("PASSWORD_RESET_LIMIT_PER_IP", 5)
PASSWORD_RESET_LIMIT_PER_EMAIL = env_int("PASSWORD_RESET_LIMIT_PER_EMAIL", 3)
PASSWORD_RESET_WINDOW_SECONDS = env_int("PASSWORD_RESET_WINDOW_SECONDS", 60 * 60)
# "Resend the confirmation email" (issue 15): per signed-in gardener.
CONFIRMATION_RESEND_LIMIT_PER_USER = env_int("CONFIRMATION_RESEND_LIMIT_PER_USER", 3)
CONFIRMATION_RESEND_WINDOW_SECONDS = env_int("CONFIRMATION_RESEND_WINDOW_SECONDS", 60 * 60)
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# --- Two-factor sign-in (RFC 6238 TOTP; README "Two-factor sign-in") ----------------------------
TOTP_ISSUER = env_str("TOTP_ISSUER", "Plant Community Portal")
# Codes of the time steps just before and after the current one are accepted too (clock drift;
# RFC 6238 section 5.2 recommends at most one step of tolerance).
TOTP_DRIFT_STEPS = 1
TWO_FACTOR_RECOVERY_CODE_COUNT = 10
# After the password step the second step must come within this time, or sign-in starts again.
TWO_FACTOR_PENDING_SECONDS = env_int("TWO_FACTOR_PENDING_SECONDS", 5 * 60)
# Turning two-factor sign-in on or off and new recovery codes need the password confirmed this recently.
TWO_FACTOR_REAUTH_SECONDS = env_int("TWO_FACTOR_REAUTH_SECONDS", 10 * 60)

# --- JWTs (PyJWT, HS256) ----------------------------------------------------------------------
JWT_ALGORITHM = "HS256"
JWT_ISSUER = env_str("JWT_ISSUER", "plant-community-portal")
JWT_ACCESS_TOKEN_LIFETIME_SECONDS = env_int("JWT_ACCESS_TOKEN_LIFETIME_SECONDS", 15 * 60)
JWT_REFRESH_TOKEN_LIFETIME_SECONDS = env_int("JWT_REFRESH_TOKEN_LIFETIME_SECONDS", 7 * 24 * 3600)
# A refresh token family (one sign-in) lives at most this long, however often it rotates.
JWT_REFRESH_FAMILY_MAX_AGE_SECONDS = env_int("JWT_REFRESH_FAMILY_MAX_AGE_SECONDS", 30 * 24 * 3600)
JWT_REFRESH_REUSE_INTERVAL_SECONDS = env_int("JWT_REFRESH_REUSE_INTERVAL_SECONDS", 10)
JWT_ACCESS_COOKIE = "access_token"
JWT_REFRESH_COOKIE = "refresh_token"
JWT_REFRESH_COOKIE_PATH = "/api/auth/"

# --- Account settings (issue 11) --------------------------------------------------------------
# An email-change link is valid this long; at most this many changes asked for per gardener per
# window; at most this many avatar uploads an hour (counted before decoding).
EMAIL_CHANGE_MAX_AGE_SECONDS = env_int("EMAIL_CHANGE_MAX_AGE_SECONDS", 24 * 3600)
EMAIL_CHANGE_LIMIT_PER_USER = env_int("EMAIL_CHANGE_LIMIT_PER_USER", 5)
EMAIL_CHANGE_WINDOW_SECONDS = env_int("EMAIL_CHANGE_WINDOW_SECONDS", 60 * 60)
AVATAR_UPLOADS_PER_HOUR = env_int("AVATAR_UPLOADS_PER_HOUR", 10)
# Requests that never show a date in the gardener's time zone: the user's time zone is not
# looked up for them, so the token endpoints and health checks keep their SQL budgets.
TIME_ZONE_EXEMPT_PATH_PREFIXES = ("/api/", "/healthz", "/readyz", "/static/", "/media/")

# A signed-in session ends after this long whatever the activity (the sliding inactivity
# timeout is SESSION_COOKIE_AGE, renewed at most once a minute).
SESSION_ABSOLUTE_LIFETIME_SECONDS = env_int("SESSION_ABSOLUTE_LIFETIME_SECONDS", 30 * 24 * 3600)

# --- Plant identification providers (used only when their API keys are set) ----------------
PLANT_ID_API_KEY = env_str("PLANT_ID_API_KEY", "")
PLANT_ID_API_URL = env_str("PLANT_ID_API_URL", "https://api.plant.id/v3/identification")
PLANT_ID_TIMEOUT_SECONDS = float(env_str("PLANT_ID_TIMEOUT_SECONDS", "35"))
PLANTNET_API_KEY = env_str("PLANTNET_API_KEY", "")
PLANTNET_API_URL = env_str("PLANTNET_API_URL", "https://my-api.plantnet.org/v2/identify/all")
PLANTNET_TIMEOUT_SECONDS = float(env_str("PLANTNET_TIMEOUT_SECONDS", "20"))
# Circuit breaker per provider: this many consecutive failures open it for the cool-down.
IDENTIFICATION_BREAKER_FAILURES = env_int("IDENTIFICATION_BREAKER_FAILURES", 5)
IDENTIFICATION_BREAKER_COOLDOWN_SECONDS = env_int("IDENTIFICATION_BREAKER_COOLDOWN_SECONDS", 60)
IDENTIFICATION_CACHE_SECONDS = env_int("IDENTIFICATION_CACHE_SECONDS", 24 * 3600)
# A machine suggestion at least this probable, for a catalog species, identifies the plant.
IDENTIFICATION_AUTO_ACCEPT_PROBABILITY = float(env_str("IDENTIFICATION_AUTO_ACCEPT_PROBABILITY", "0.85"))
IDENTIFICATION_REQUESTS_PER_HOUR = env_int("IDENTIFICATION_REQUESTS_PER_HOUR", 100)
# A machine run still "processing" this long after it started has died (the worker waits at
# most the slowest provider's timeout plus 5 s): `identification_requeue` runs it again, at most
# IDENTIFICATION_MACHINE_MAX_ATTEMPTS runs in all, then marks it failed for the community.
IDENTIFICATION_PROCESSING_DEADLINE_SECONDS = env_int("IDENTIFICATION_PROCESSING_DEADLINE_SECONDS", 180)
IDENTIFICATION_MACHINE_MAX_ATTEMPTS = env_int("IDENTIFICATION_MACHINE_MAX_ATTEMPTS", 3)
# The request page asks for its status after this many seconds while the machine runs, each
# wait 1.5 times the last, up to the maximum; it stops once the status settles.
IDENTIFICATION_STATUS_POLL_SECONDS = float(env_str("IDENTIFICATION_STATUS_POLL_SECONDS", "5"))
IDENTIFICATION_STATUS_POLL_MAX_SECONDS = float(env_str("IDENTIFICATION_STATUS_POLL_MAX_SECONDS", "60"))
IDENTIFICATION_STATUS_POLL_GROWTH = 1.5

# --- Your data (issue 11): exports and account deletion -------------------------------------
# An export stays downloadable this long after it is built, then its file is removed.
DATA_EXPORT_LIFETIME_SECONDS = env_int("DATA_EXPORT_LIFETIME_SECONDS", 24 * 3600)
# At most one export per gardener in this window (failed ones do not count).
DATA_EXPORT_INTERVAL_SECONDS = env_int("DATA_EXPORT_INTERVAL_SECONDS", 24 * 3600)

# --- Write throttles (SPEC "Bad input"; apps.core.throttle) ---------------------------------
# Per gardener, by trust level: action -> [(count, window_seconds), ...]; every window must hold.
# "post" is topics and replies together. Moderators are exempt. Guided by Discourse's defaults
# (config/site_settings.yml, "rate_limits"): a new user's post every 30 s
# (rate_limit_new_user_create_post), others every 5 s (rate_limit_create_post); 20 flags and
# 50 likes a day (max_flags_per_day, max_likes_per_day), times 1.5 / 2 / 3 for the higher levels
# (tl2/tl3/tl4_additional_*_per_day_multiplier). The hourly and per-minute caps are ours (the
# issue's "10 an hour" for new gardeners). README "Write throttles" has the table.
_MINUTE, _HOUR, _DAY = 60, 3600, 86400
WRITE_THROTTLES = {
    "new": {
        "post": [(1, 30), (10, _HOUR), (20, _DAY)],
        "suggestion": [(1, 30), (10, _HOUR), (20, _DAY)],
        "report": [(4, _MINUTE), (20, _DAY)],
        "vote": [(10, _MINUTE), (50, _DAY)],
    },
    "basic": {
        "post": [(1, 5), (30, _HOUR)],
        "suggestion": [(1, 5), (30, _HOUR)],
        "report": [(6, _MINUTE), (30, _DAY)],
        "vote": [(15, _MINUTE), (75, _DAY)],
    },
    "trusted": {
        "post": [(1, 5), (60, _HOUR)],
        "suggestion": [(1, 5), (60, _HOUR)],
        "report": [(8, _MINUTE), (40, _DAY)],
        "vote": [(20, _MINUTE), (100, _DAY)],
    },
    "veteran": {
        "post": [(1, 5), (120, _HOUR)],
        "suggestion": [(1, 5), (120, _HOUR)],
        "report": [(12, _MINUTE), (60, _DAY)],
        "vote": [(30, _MINUTE), (150, _DAY)],
    },
}

# forum_post_poster_live carries ``is_opening_post`` as an INCLUDE column so PostgreSQL answers
# the forum-stats counts from the index alone (issue 13); SQLite (the embedded default) builds
# the same index without it, which changes speed, not results.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
