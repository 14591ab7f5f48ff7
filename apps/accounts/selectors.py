"""Reads about accounts."""

from datetime import UTC, datetime

from django.core import signing
from django.db.models import Exists, Q, QuerySet

from . import lockout
from .models import RevokedTokenFamily, TrustLevel, User

EMAIL_CONFIRMATION_SALT = "accounts.email-confirmation"
EMAIL_CONFIRMATION_MAX_AGE_SECONDS = 3 * 24 * 3600


def user_for_email_confirmation(*, token: str) -> User | None:
    """The account whose current email address ``token`` confirms, or ``None``.

    ``token`` is the signed value of a confirmation link (``services.email_confirmation_token``,
    salted ``EMAIL_CONFIRMATION_SALT``). ``None`` when it is tampered with, older than
    ``EMAIL_CONFIRMATION_MAX_AGE_SECONDS`` (3 days), or names an address the account no longer
    has. One statement at most; writes nothing, so the confirmation page's GET can use it.
    """
    try:
        data = signing.loads(token, salt=EMAIL_CONFIRMATION_SALT, max_age=EMAIL_CONFIRMATION_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user = User.objects.filter(pk=data.get("uid")).first()
    if user is None or user.email.lower() != data.get("email"):
        return None
    return user


def trust_progress_for_user(*, user: User) -> dict:
    """Where ``user`` stands on the trust ladder (SPEC "Domain": basic 5 posts / 7 days, trusted
    25 / 30, veteran 100 / 90). Reads only the user row already loaded: no SQL.

    Returns ``{"level", "next_level", "posts_needed", "days_needed"}``; at the top level
    ``next_level`` is ``None`` and both needs are 0. The requirements come from
    ``settings.TRUST_LEVEL_REQUIREMENTS``.
    """
    next_level = TrustLevel(user.trust_level).next_level
    if next_level is None:
        return {"level": user.trust_level, "next_level": None, "posts_needed": 0, "days_needed": 0}
    needs = next_level.requirements
    return {
        "level": str(user.trust_level),
        "next_level": next_level.value,
        "posts_needed": max(needs["approved_posts"] - user.approved_post_count, 0),
        "days_needed": max(needs["account_age_days"] - user.account_age_days, 0),
    }


def time_left_text(*, seconds: int) -> str:
    """How long a lock has left, as moderators read it: ``"under a minute"`` below 60 s, whole
    minutes below an hour (``"59 min"``, rounded down, like a countdown), then hours and minutes
    (``"1 h"``, ``"1 h 30 min"``). ``seconds`` is a whole number of seconds (``Retry-After``)."""
    if seconds < 60:
        return "under a minute"
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def lockout_rows() -> list[dict]:
    """The rows of ``/moderation/lockouts/``: every account lock in force, longest remaining
    first, each ``{"key", "user", "display", "label", "time_left"}``. ``user`` is the locked
    ``User`` (``id``, ``username``, ``email`` loaded) or ``None`` for a name that matches no
    account, whose typed (case-folded) name is ``display``; ``label`` names the row for screen
    readers (the username, or ``the unknown name “…”``); ``time_left`` is ``time_left_text``.

    One Redis ``SCAN`` pass (``apps.accounts.lockout.current_locks``) and one SQL statement for the
    accounts. Raises ``redis.RedisError`` when Redis fails.
    """
    locks = lockout.current_locks()
    user_ids = [lock.user_id for lock in locks if lock.user_id]
    users = {user.pk: user for user in User.objects.filter(pk__in=user_ids).only("id", "username", "email")}
    rows = []
    for lock in locks:
        user = users.get(lock.user_id)
        rows.append(
            {
                "key": lock.key,
                "user": user,
                "display": lock.display,
                "label": user.username if user else f"the unknown name “{lock.display}”",
                "time_left": time_left_text(seconds=lock.retry_after),
            }
        )
    return rows


def lock_account_label(*, key: str) -> str:
    """Who a lock's counter key is about, for messages: the username for ``user:<id>`` (one
    query), ``"an unknown name"`` for a ``name:`` key (its typed name lives only in the lock),
    ``"a former member"`` for an id whose account is gone."""
    user_id = lockout.lock_key_user_id(key)
    if user_id is None:
        return "an unknown name"
    username = User.objects.filter(pk=user_id).values_list("username", flat=True).first()
    return username or "a former member"


def token_user_queryset(claims: dict) -> QuerySet[User]:
    """The active user of verified token ``claims`` (``tokens.decode``: ``sub``, ``fam``,
    ``fiat``) whose family is neither revoked durably (a ``RevokedTokenFamily`` row) nor
    started before the user's ``tokens_valid_after`` (password change, deactivation).

    Returns an unevaluated queryset of at most one user, so callers add what they need
    (``exists()`` for refresh; ``first()`` for API authentication, whose row carries the
    moderator flag): one query, the same one token authentication needs anyway (SPEC "Query
    budgets": refresh at most 1 statement).
    """
    started = datetime.fromtimestamp(float(claims["fiat"]), tz=UTC)
    return User.objects.filter(pk=int(claims["sub"]), is_active=True).filter(
        Q(tokens_valid_after__isnull=True) | Q(tokens_valid_after__lt=started),
        ~Exists(RevokedTokenFamily.objects.filter(family_id=claims["fam"])),
    )
