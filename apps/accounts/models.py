"""The custom user (case-insensitive username and email, trust level, activity counters,
profile settings), the durable record of revoked refresh token families and the record of each
signed-in browser and API token family (``UserSession``)."""

import secrets
import unicodedata
import zoneinfo
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.functions import Round, Upper
from django.utils import timezone

from apps.core import people
from apps.core.confusables import skeleton
from apps.core.models import PortalManager, PortalQuerySet
from apps.core.uploads import RandomName

from .tokens import user_families_revoke


class TrustLevel(models.TextChoices):
    """The trust ladder, lowest first (SPEC "Domain": levels rise automatically and never fall
    automatically). Orderable: ``TrustLevel(user.trust_level) >= TrustLevel.BASIC``; a plain
    stored value compares too (``"new" < TrustLevel.TRUSTED``). ``next_level`` is the level
    above (``None`` at the top) and ``requirements`` what reaching this level takes
    (``settings.TRUST_LEVEL_REQUIREMENTS``: approved posts and account age in days)."""

    NEW = "new", "New"
    BASIC = "basic", "Basic"
    TRUSTED = "trusted", "Trusted"
    VETERAN = "veteran", "Veteran"

    @property
    def rank(self) -> int:
        """0 for ``new`` up to 3 for ``veteran``."""
        return list(TrustLevel).index(self)

    @property
    def next_level(self) -> "TrustLevel | None":
        ladder = list(TrustLevel)
        return ladder[self.rank + 1] if self.rank + 1 < len(ladder) else None

    @property
    def requirements(self) -> dict:
        """``{"approved_posts": int, "account_age_days": int}``; ``new`` needs nothing."""
        return settings.TRUST_LEVEL_REQUIREMENTS.get(self.value, {"approved_posts": 0, "account_age_days": 0})

    def _compare(self, other) -> int:
        return self.rank - TrustLevel(other).rank

    def __lt__(self, other):
        return self._compare(other) < 0

    def __le__(self, other):
        return self._compare(other) <= 0

    def __gt__(self, other):
        return self._compare(other) > 0

    def __ge__(self, other):
        return self._compare(other) >= 0

    __hash__ = str.__hash__


def trust_level_reached(*, current: str, approved_posts: int, account_age_days: int) -> "TrustLevel":
    """The highest level ``approved_posts`` and ``account_age_days`` (whole days) reach, never
    below ``current`` (levels do not fall). SPEC "Domain": basic 5 / 7 days, trusted 25 / 30,
    veteran 100 / 90 (``settings.TRUST_LEVEL_REQUIREMENTS``). Pure: the promotion service, the
    daily pass and the demo seed all decide with it."""
    reached = TrustLevel(current)
    for level in TrustLevel:
        needs = level.requirements
        if (
            level > reached
            and approved_posts >= needs["approved_posts"]
            and account_age_days >= needs["account_age_days"]
        ):
            reached = level
    return reached


class PortalUserManager(UserManager.from_queryset(PortalQuerySet)):
    """Django's user manager plus the project's fetch mode (see ``apps.core.models``)."""

    def get_queryset(self):
        return super().get_queryset().fetch_mode(settings.PORTAL_DEFAULT_FETCH_MODE)

    def get_by_natural_key(self, username):
        """Find a user by username, any letter case (matches the ``UPPER`` unique index)."""
        return self.get(username__iexact=username)

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        """Django's ``create_superuser`` (``manage.py createsuperuser``), refusing a username
        that looks like an existing account's with ``ValidationError``, which the command
        prints as its error instead of the unique constraint's traceback."""
        if self.filter(username_skeleton=username_confusable_key(username)).exists():
            raise ValidationError({"username": USERNAME_LOOKS_TAKEN})
        return super().create_superuser(username, email, password, **extra_fields)


username_validator = RegexValidator(
    r"^[\w.+-]+\Z",
    "Use letters, digits and . + - _ only (no @ and no spaces).",
)

# The name a deleted account is given (``data_services.account_erase``); nobody may choose it,
# so no one can pose as a deleted gardener or take the name an erasure is about to use.
ANONYMOUS_PREFIX = people.ANONYMOUS_PREFIX


def validate_username_not_reserved(value: str) -> None:
    """Refuse a username that starts with ``ANONYMOUS_PREFIX`` in any letter case
    (``ValidationError``, code ``reserved``)."""
    if value.casefold().startswith(ANONYMOUS_PREFIX):
        raise ValidationError("Names starting with “deleted-gardener-” are reserved.", code="reserved")


# SPEC "Domain" and issue 11: a home location is kept only to about 20 km. Latitudes and
# longitudes are stored on a 0.2° grid (0.2° of latitude is 22 km), so a finer position can
# never be stored; a check constraint holds the grid in the database too.
HOME_LOCATION_STEP = Decimal("0.2")
_GRID = 1 / HOME_LOCATION_STEP  # grid cells per degree


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name the system's tz database (or the ``tzdata`` package) knows,
    sorted, without the ``Factory`` and ``localtime`` pseudo-zones."""
    return tuple(sorted(zoneinfo.available_timezones() - {"Factory", "localtime"}))


def validate_time_zone(value: str) -> None:
    """Refuse a name that is not an IANA time zone (``ValidationError``)."""
    if value not in time_zone_names():
        raise ValidationError("Choose a time zone from the list.", code="invalid_time_zone")


USERNAME_UNAVAILABLE = "That username cannot be used."
# Shown to staff only (the admin, createsuperuser); sign-up never says a name is taken.
USERNAME_LOOKS_TAKEN = "That username looks like another account's; choose another."


def username_confusable_key(username: str) -> str:
    """The key two usernames share when they look alike, whatever their letter case: the
    Unicode TS #39 skeleton (``apps.core.confusables.skeleton``) of the NFKC form, case-folded,
    and the skeleton again. ``"gаrdener"`` (Cyrillic ``а``), ``"GАRDENER"``, ``"gardener"``
    and ``"ｇａｒｄｅｎｅｒ"`` (fullwidth, which NFKC turns to ASCII) all give ``"gardener"``;
    ``"Ian"`` and ``"lan"`` both give ``"lan"``.

    The order matters: the skeleton comes first because ``confusables.txt`` maps capitals too
    (``I`` -> ``l``), which case-folding first would lose (``I`` -> ``i``); the second skeleton
    maps what folding produced (Cyrillic ``А`` -> Latin ``A`` -> ``a``). Names that differ
    only in letter case are already one name (the ``UPPER(username)`` unique constraint).
    Pure; raises nothing."""
    return skeleton(skeleton(unicodedata.normalize("NFKC", username)).casefold())


# The counters kept on the user row (SPEC "Domain"), each defined by a recount
# (``apps.forum.recount``, ``apps.plants.recount``): read-only in the admin, part of the
# dashboard panel cache's key.
USER_COUNTERS = (
    "approved_post_count",
    "post_count",
    "topic_count",
    "identification_request_count",
    "identified_plant_count",
    "care_card_count",
)


class User(AbstractUser):
    """A gardener or moderator.

    ``username`` and ``email`` are unique whatever their letter case; both unique constraints
    are expression indexes on ``UPPER(...)``, which is exactly what Django's ``iexact`` lookup
    compiles to on PostgreSQL, so sign-in by email is an index lookup (SPEC "Query budgets").
    The ``*_count`` columns are counters kept by services with ``F()`` updates so that dashboard
    panels never count a gardener's rows.
    """

    username = models.CharField(
        "username",
        max_length=30,
        unique=True,
        validators=[username_validator],
        help_text="Up to 30 characters: letters, digits and . + - _ (no @).",
        error_messages={"unique": USERNAME_UNAVAILABLE},
    )
    # username_confusable_key(username), set by save(); unique, so no two accounts' names look
    # alike (issue 11). NULL only for an account that already collided when the column was
    # added (migration accounts.0004 gave the key to the oldest account) and kept its name.
    username_skeleton = models.TextField(null=True, blank=True, editable=False)
    email = models.EmailField("email address", max_length=254)
    trust_level = models.CharField(max_length=10, choices=TrustLevel.choices, default=TrustLevel.NEW)
    trust_level_set_by_moderator = models.BooleanField(
        default=False, help_text="A level a moderator set is kept: no automatic change overrides it."
    )
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    tokens_valid_after = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Token families started before this (a password change, a deactivation) are refused.",
    )

    # Profile settings (/accounts/settings/). ``display_name`` is shown beside the username, never
    # instead of it; ``time_zone`` is used for every date shown and for any daily email.
    # Database defaults too, so bulk loads that write rows in SQL (the large demo seed's COPY)
    # need not know these columns.
    display_name = models.CharField(max_length=50, blank=True, default="", db_default="")
    avatar = models.FileField(upload_to=RandomName("avatars"), blank=True, max_length=200, default="", db_default="")
    # The local hour (0-23, in ``time_zone``) of the daily care reminder email (issue 14); ``None``:
    # no reminders (opt-in, on the notification settings page).
    care_reminder_hour = models.PositiveSmallIntegerField(
        null=True, blank=True, default=None, validators=[MaxValueValidator(23)]
    )
    time_zone = models.CharField(max_length=64, default="UTC", db_default="UTC", validators=[validate_time_zone])
    home_latitude = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        help_text="Degrees, on a 0.2° grid (about 20 km).",
    )
    home_longitude = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
        help_text="Degrees, on a 0.2° grid (about 20 km).",
    )

    approved_post_count = models.PositiveIntegerField(default=0)
    post_count = models.PositiveIntegerField(default=0)
    topic_count = models.PositiveIntegerField(default=0)
    identification_request_count = models.PositiveIntegerField(default=0)
    identified_plant_count = models.PositiveIntegerField(default=0)
    care_card_count = models.PositiveIntegerField(default=0)
    # Dashboard panel content version (issue 13): every service that changes what one of this
    # gardener's panels shows adds 1 in its own transaction (``panel_versions_bump``), so the
    # cached panel fragments, keyed by it, are never stale. Loaded with the row by the session's
    # user lookup, so a cache hit needs no SQL of its own.
    panel_version = models.PositiveBigIntegerField(default=0, db_default=0)

    # True when the user holds ``core.use_moderation_tools`` directly or through a group (issue
    # 13: the moderator check is answered from the row every signed-in request loads). Kept by
    # the receivers of ``apps.accounts.moderator_flag`` on every change of group membership or
    # permissions; ``manage.py moderator_flag_recount --check`` proves it equals the truth.
    # Superusers and ``is_active`` are checked apart (``apps.core.permissions.is_moderator``).
    # ``save()`` never writes it, so a stale instance cannot undo a promotion or demotion.
    is_moderator_flag = models.BooleanField(default=False, db_default=False, editable=False)

    objects = PortalUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Upper("username"), name="accounts_user_username_upper_uniq"),
            models.UniqueConstraint(Upper("email"), name="accounts_user_email_upper_uniq"),
            # The home location is both coordinates or neither, in range, on the 0.2° grid.
            models.CheckConstraint(
                condition=Q(home_latitude__isnull=True, home_longitude__isnull=True)
                | Q(
                    # Spelled out: a CHECK passes when its expression is NULL.
                    home_latitude__isnull=False,
                    home_longitude__isnull=False,
                    home_latitude__gte=-90,
                    home_latitude__lte=90,
                    home_longitude__gte=-180,
                    home_longitude__lte=180,
                    home_latitude=Round(F("home_latitude") * _GRID) / _GRID,
                    home_longitude=Round(F("home_longitude") * _GRID) / _GRID,
                ),
                name="accounts_user_home_location_coarse",
            ),
            models.UniqueConstraint(fields=["username_skeleton"], name="accounts_user_username_skeleton_uniq"),
        ]
        indexes = [
            # Moderators' member list: one trust level, newest members first (first page).
            models.Index(fields=["trust_level", "date_joined"], name="accounts_user_trust_joined"),
        ]

    def __str__(self):
        return self.username

    @classmethod
    def from_db(cls, db, field_names, values, *, fetch_mode=None):
        instance = super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        instance._loaded_is_active = instance.__dict__.get("is_active")
        instance._loaded_username = instance.__dict__.get("username")
        return instance

    def clean(self):
        """Django's cleaning (the username in NFKC form, the email normalized), then refuse a
        username that looks like another account's (``username_confusable_key``). Run by model
        forms such as the admin's; sign-up relies on the unique constraint instead, so its
        answer never tells that a name is taken. Raises ``ValidationError`` on ``username``."""
        super().clean()
        if not self.username:
            return
        lookalike = User.objects.filter(username_skeleton=username_confusable_key(self.username))
        if self.pk is not None:
            lookalike = lookalike.exclude(pk=self.pk)
        if lookalike.exists():
            raise ValidationError({"username": USERNAME_LOOKS_TAKEN})

    def save(self, *args, **kwargs):
        """Save; when the password changed or the account was deactivated, refuse every token
        family started before now (SPEC "Sign-in, tokens and lockout": password change and
        deactivation revoke all the user's families).

        The rule is durable: ``tokens_valid_after`` is written in this same row and checked by
        the one query that token authentication and refresh already run, so it holds even if
        Redis is down or loses its data. After commit, the families are also revoked in Redis
        (``tokens.user_families_revoke``, the fast path that refuses access tokens before any
        SQL).

        Why here and not in the services that change passwords: most of those paths are
        Django's own and call ``save()`` directly (``PasswordChangeForm`` and
        ``SetPasswordForm`` behind the password change and reset views, the admin's password
        and ``is_active`` fields, ``manage.py changepassword``). A service-level trigger would
        miss them; ``save()`` is the one place every path goes through.
        """
        adding = self._state.adding
        self._username_skeleton_refresh(adding=adding, kwargs=kwargs)
        password_changed = self._password is not None
        deactivated = not self.is_active and getattr(self, "_loaded_is_active", True) is not False
        revoke = not adding and (password_changed or deactivated)
        if revoke:
            self.tokens_valid_after = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "tokens_valid_after"}
        if not adding and not kwargs.get("force_insert") and kwargs.get("update_fields") is None:
            # The moderator flag belongs to its receivers (``apps.accounts.moderator_flag``) and
            # the panel version to ``panel_versions_bump`` (an F() increment): every other
            # column is written as usual, those two never from a possibly stale instance (an
            # older panel version written back would make an earlier cached panel current
            # again). Django itself saves the loaded fields this way when some are deferred.
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [
                field.attname
                for field in self._meta.concrete_fields
                if not field.primary_key
                and not field.generated
                and field.attname not in deferred
                and field.attname not in ("is_moderator_flag", "panel_version")
            ]
        super().save(*args, **kwargs)
        self._loaded_is_active = self.is_active
        if revoke:
            changed_at = self.tokens_valid_after.timestamp()
            transaction.on_commit(lambda: user_families_revoke(user_id=self.pk, started_before=changed_at), robust=True)

    def _username_skeleton_refresh(self, *, adding: bool, kwargs: dict) -> None:
        """Set ``username_skeleton`` for a new account or a changed username (the unique
        constraint then refuses a lookalike with ``IntegrityError``). An unchanged username
        keeps its stored key, so an account left without one by the migration still saves."""
        update_fields = kwargs.get("update_fields")
        if (update_fields is not None and "username" not in update_fields) or "username" in self.get_deferred_fields():
            return
        if adding or self.username != getattr(self, "_loaded_username", None):
            self.username_skeleton = username_confusable_key(self.username)
            self._loaded_username = self.username
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "username_skeleton"}

    @property
    def account_age_days(self) -> int:
        """Whole days since the account was created (UTC)."""
        return max((timezone.now() - self.date_joined).days, 0)

    @property
    def is_email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def home_hemisphere(self) -> str | None:
        """``"north"`` or ``"south"`` for the care schedules' seasons (the equator counts as
        north), ``None`` without a home location."""
        if self.home_latitude is None:
            return None
        return "north" if self.home_latitude >= 0 else "south"


class RevokedTokenFamily(models.Model):
    """A refresh token family revoked by sign-out, the revoke endpoint or a detected reuse,
    kept in the database so the revocation survives a Redis outage or restart (Redis holds the
    fast-path copy). Written only by ``signin_services._family_revocation_record``. Rows older
    than ``JWT_REFRESH_FAMILY_MAX_AGE_SECONDS`` are useless and may be pruned.

    It was ``core``'s until sign-in security moved to ``accounts``: the table keeps its old
    name, and migration ``accounts.0003`` moved the model state and its content type without
    touching the rows."""

    family_id = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(auto_now_add=True)

    objects = PortalManager()

    class Meta:
        db_table = "core_revokedtokenfamily"


class TotpDevice(models.Model):
    """A gardener's authenticator app for two-factor sign-in (RFC 6238 TOTP: HMAC-SHA1, 6 digits,
    30-second steps, what every authenticator app reads from an ``otpauth://`` QR code).

    The row exists only once set-up was confirmed with a first code: its presence is what "two-factor
    sign-in is on" means. ``secret`` is the shared key in base32 (160 bits, RFC 4226 section 4),
    kept readable because the server must compute the codes (as django-otp keeps its keys).
    ``last_used_step`` is the time step (Unix time // 30) of the last accepted code: a code is
    accepted only for a later step, in one conditional ``UPDATE``, so a code is never accepted
    twice, even from parallel requests (RFC 6238 section 5.2). Written only by
    ``apps.accounts.two_factor``.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device")
    secret = models.CharField(max_length=64)
    last_used_step = models.BigIntegerField(null=True, blank=True)
    confirmed_at = models.DateTimeField(default=timezone.now)

    objects = PortalManager()

    def __str__(self):
        return f"authenticator of user #{self.user_id}"


class RecoveryCode(models.Model):
    """One of a gardener's single-use recovery codes, used in place of an authenticator code.

    Only the SHA-256 of the code is stored (``code_hash``, 64 hex digits). The codes are 80 random
    bits, so a fast hash is enough: stretching (Django's password hashers) protects guessable
    human passwords, and it would make each check cost ten slow hashes, one per stored code. With
    the hash a code is found by the unique index, and ``used_at`` is set in one conditional
    ``UPDATE``, so each code works exactly once. Written only by ``apps.accounts.two_factor``.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = PortalManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="accounts_recoverycode_user_hash_uniq")
        ]

    def __str__(self):
        return f"recovery code of user #{self.user_id}"


class UserSession(models.Model):
    """One signed-in browser or one API refresh token family, for the gardener's "Active
    sessions" settings page (issue 11).

    A browser row points at its Django session (``session``, deleted with it by the database:
    sign-out, revocation, ``clearsessions``) and names the token family started with it; an API
    row (``session`` empty) is one ``/api/auth/token/`` sign-in, i.e. one refresh token family.
    ``device`` is the browser or client family and OS read from the user agent at sign-in;
    ``ip_network`` the client address coarsened to its /24 (IPv4) or /48 (IPv6), never the
    address itself. "Last seen" is not stored here: a browser's is the session's own
    once-a-minute renewal time, a token family's lives in Redis (``devices``), so no request
    writes this table after sign-in.
    """

    class Kind(models.TextChoices):
        BROWSER = "browser", "Browser"
        API = "api", "App or API token"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DB_CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    session = models.OneToOneField(Session, null=True, blank=True, on_delete=models.DB_CASCADE, related_name="+")
    family_id = models.CharField(max_length=64, blank=True)
    device = models.CharField(max_length=120)
    ip_network = models.CharField(max_length=49, blank=True)
    signed_in_at = models.DateTimeField(default=timezone.now)

    objects = PortalManager()

    class Meta:
        indexes = [models.Index(fields=["user", "signed_in_at"], name="accounts_usersession_user_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="browser", session__isnull=False) | Q(kind="api", session__isnull=True),
                name="accounts_usersession_kind_matches_session",
            ),
            models.UniqueConstraint(
                fields=["family_id"], condition=~Q(family_id=""), name="accounts_usersession_family_uniq"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of user {self.user_id}: {self.device}"


def _export_public_id() -> str:
    return secrets.token_urlsafe(32)


class DataExport(models.Model):
    """One "export everything about you" ZIP (issue 11, "Your data"): asked for on
    ``/accounts/settings/data/``, built by the ``data_export_build`` task, downloadable by its
    owner only through ``/accounts/settings/data/export/<public_id>/`` until ``expires_at`` (24 h
    after it was built), then its file is removed (``personal_data.data_exports_purge``).

    ``public_id`` is 32 random bytes (256 bits, url-safe): the link cannot be guessed, and the
    view checks the owner as well. ``file_name`` is the ZIP's name in the ``data_exports``
    storage (not served as media)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports")
    public_id = models.CharField(max_length=64, unique=True, default=_export_public_id)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)

    objects = PortalManager()

    class Meta:
        indexes = [
            models.Index(fields=["user", "-requested_at"], name="accounts_export_user_recent"),
            models.Index(fields=["expires_at"], condition=models.Q(status="ready"), name="accounts_export_expiring"),
        ]

    def __str__(self):
        return f"Data export #{self.pk}"
