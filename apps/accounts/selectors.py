"""Reads about accounts."""

from django.conf import settings
from django.core import signing

from .models import TRUST_LEVEL_ORDER, User

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
    position = TRUST_LEVEL_ORDER.index(user.trust_level)
    if position + 1 >= len(TRUST_LEVEL_ORDER):
        return {"level": user.trust_level, "next_level": None, "posts_needed": 0, "days_needed": 0}
    next_level = TRUST_LEVEL_ORDER[position + 1]
    needs = settings.TRUST_LEVEL_REQUIREMENTS[next_level.value]
    return {
        "level": str(user.trust_level),
        "next_level": next_level.value,
        "posts_needed": max(needs["approved_posts"] - user.approved_post_count, 0),
        "days_needed": max(needs["account_age_days"] - user.account_age_days, 0),
    }
