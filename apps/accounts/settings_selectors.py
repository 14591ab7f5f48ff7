"""Reads of the settings pages: the active sessions list and pending email changes."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.core import signing
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from apps.core.middleware import SESSION_AUTH_AT_KEY, SESSION_RENEWED_AT_KEY

from .devices import families_last_seen
from .models import RevokedTokenFamily, User, UserSession

EMAIL_CHANGE_SALT = "accounts.email-change"


@dataclass(frozen=True)
class ActiveSession:
    """One row of the sessions page. ``last_seen`` is ``None`` when it cannot be known right now
    (a token family while Redis is unreachable)."""

    pk: int
    kind: str
    device: str
    ip_network: str
    signed_in_at: datetime
    last_seen: datetime | None
    is_current: bool


def _newest_first(row: ActiveSession):
    return (row.is_current, row.last_seen or row.signed_in_at)


def _from_unix(seconds) -> datetime | None:
    return datetime.fromtimestamp(float(seconds), tz=UTC) if seconds else None


def active_sessions_for_user(*, user: User, current_session_key: str | None) -> dict:
    """The signed-in browsers and usable API token families of ``user`` (the loaded, signed-in
    user), for ``/accounts/settings/sessions/``: ``{"browsers": [ActiveSession], "apps":
    [ActiveSession]}``, this browser first (``is_current``), then by last seen, newest first.

    One SQL statement (the records, each browser's session row joined, a revoked family found
    by ``EXISTS``) and one Redis ``MGET`` (when the families were last seen). A browser is
    listed while its session row is unexpired, still signed in as ``user`` with the current
    password (Django's session auth hash) and within ``SESSION_ABSOLUTE_LIFETIME_SECONDS`` of
    sign-in; its "last seen" is the session's own renewal time (``SESSION_RENEWED_AT_KEY``,
    written at most once a minute by ``apps.core.middleware.SessionRenewalMiddleware``). A
    family is listed while it is not revoked, not refused by ``tokens_valid_after`` and younger
    than ``JWT_REFRESH_FAMILY_MAX_AGE_SECONDS``; its last seen is its last refresh (Redis),
    else its sign-in.
    """
    now = timezone.now()
    family_oldest = now - timedelta(seconds=settings.JWT_REFRESH_FAMILY_MAX_AGE_SECONDS)
    usable_family = Q(session__isnull=True, signed_in_at__gt=family_oldest) & ~Q(
        Exists(RevokedTokenFamily.objects.filter(family_id=OuterRef("family_id")))
    )
    if user.tokens_valid_after is not None:
        usable_family &= Q(signed_in_at__gt=user.tokens_valid_after)
    records = list(
        UserSession.objects.filter(user=user)
        .filter(Q(session__expire_date__gt=now) | usable_family)
        .select_related("session")
        .order_by("-signed_in_at", "-pk")
    )
    auth_hash = user.get_session_auth_hash()
    oldest_sign_in = time.time() - settings.SESSION_ABSOLUTE_LIFETIME_SECONDS
    browsers, apps = [], []
    for record in records:
        if record.session_id:
            data = record.session.get_decoded()
            if (
                str(data.get(SESSION_KEY)) != str(user.pk)
                or not constant_time_compare(str(data.get(HASH_SESSION_KEY, "")), auth_hash)
                or data.get(SESSION_AUTH_AT_KEY, time.time()) < oldest_sign_in
            ):
                continue
            browsers.append(
                ActiveSession(
                    pk=record.pk,
                    kind=record.kind,
                    device=record.device,
                    ip_network=record.ip_network,
                    signed_in_at=record.signed_in_at,
                    last_seen=max(
                        _from_unix(data.get(SESSION_RENEWED_AT_KEY)) or record.signed_in_at, record.signed_in_at
                    ),
                    is_current=record.session_id == current_session_key,
                )
            )
        else:
            apps.append(record)
    seen = families_last_seen(family_ids=[record.family_id for record in apps])
    app_rows = [
        ActiveSession(
            pk=record.pk,
            kind=record.kind,
            device=record.device,
            ip_network=record.ip_network,
            signed_in_at=record.signed_in_at,
            last_seen=None if seen is None else (_from_unix(seen.get(record.family_id)) or record.signed_in_at),
            is_current=False,
        )
        for record in apps
    ]
    return {
        "browsers": sorted(browsers, key=_newest_first, reverse=True),
        "apps": sorted(app_rows, key=_newest_first, reverse=True),
    }


@dataclass(frozen=True)
class EmailChange:
    """A pending email change named by a confirmation link: whose, and to which address."""

    user: User
    new_email: str


def password_fingerprint(user: User) -> str:
    """A short keyed digest of ``user``'s password hash, put in email-change links so that a
    password change (what the old address's owner is told to do) voids every pending link, as
    Django's reset tokens do with the same hash."""
    return salted_hmac(EMAIL_CHANGE_SALT, user.password, algorithm="sha256").hexdigest()[:24]


def email_change_for_token(*, token: str) -> EmailChange | None:
    """The pending change a confirmation link's ``token`` names (``settings_services.
    email_change_token``), or ``None`` when it is tampered with, older than
    ``EMAIL_CHANGE_MAX_AGE_SECONDS`` (24 h), for an inactive or deleted account, for an account
    whose address changed since (a used link) or whose password changed since. One statement;
    writes nothing, so the confirmation page's GET can use it."""
    try:
        data = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=settings.EMAIL_CHANGE_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(key), str) for key in ("old", "new", "pw")):
        return None
    user = User.objects.filter(pk=data.get("uid"), is_active=True).first()
    if user is None or user.email.lower() != data["old"]:
        return None
    if not constant_time_compare(password_fingerprint(user), data["pw"]):
        return None
    return EmailChange(user=user, new_email=data["new"])
