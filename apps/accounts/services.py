"""Account writes: sign-up, email confirmation and moderators clearing sign-in locks."""

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.mail import send_mail_after_commit

from . import lockout
from .models import TrustLevel, User, trust_level_reached
from .selectors import EMAIL_CONFIRMATION_SALT, user_for_email_confirmation


@dataclass(frozen=True)
class SignUpOutcome:
    """What the sign-up service did; the view shows the same page whatever it is."""

    created: bool
    user: User | None


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    send_mail_after_commit(subject=subject, body=render_to_string(template, context), to=[to])


def email_confirmation_token(*, user: User) -> str:
    """Return a signed, expiring token that confirms ``user``'s current email address."""
    return signing.dumps({"uid": user.pk, "email": user.email.lower()}, salt=EMAIL_CONFIRMATION_SALT)


def user_sign_up(*, username: str, email: str, password: str, base_url: str) -> SignUpOutcome:
    """Create an account and email a confirmation link, without revealing what is taken.

    ``username`` and ``email`` are already validated and normalized; ``base_url`` is the scheme
    and host for links (``https://portal.example``). When the email already belongs to an
    account, nothing is created and its owner is told someone tried (SPEC "HTTP contract":
    sign-up "always answers 'check your email'"). When only the username is taken, the new
    address is told to pick another name. Emails go out after commit. Raises nothing for taken
    names; the database's case-insensitive unique constraints settle races.
    """
    if User.objects.filter(email__iexact=email).exists():
        # The same password hash a new account costs, so the answer's timing does not tell
        # that the email is taken (OWASP ASVS 2.2.1 / 3.2 spirit).
        make_password(password)
        _send(
            to=email,
            subject="Someone tried to sign up with your email",
            template="accounts/email/signup_existing.txt",
            context={"base_url": base_url, "reset_path": reverse("password_reset")},
        )
        return SignUpOutcome(created=False, user=None)
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError:
        _send(
            to=email,
            subject="Choose another username",
            template="accounts/email/signup_username_taken.txt",
            context={"base_url": base_url, "username": username, "signup_path": reverse("accounts:signup")},
        )
        return SignUpOutcome(created=False, user=None)
    email_confirmation_send(user=user, base_url=base_url)
    return SignUpOutcome(created=True, user=user)


def email_confirmation_send(*, user: User, base_url: str) -> None:
    """Email ``user`` a confirmation link for their current address (a new signed token, valid
    3 days; earlier links keep working until they expire). ``base_url`` is the scheme and host
    for the link (``https://portal.example``). Sent after commit. Sign-up sends it, and so does
    "Resend the confirmation email" (issue 15; the view rate-limits it)."""
    confirm_path = reverse("accounts:confirm-email", kwargs={"token": email_confirmation_token(user=user)})
    _send(
        to=user.email,
        subject="Confirm your email for the Plant Community Portal",
        template="accounts/email/confirm_email.txt",
        context={"base_url": base_url, "user": user, "confirm_path": confirm_path},
    )


def user_confirm_email(*, token: str) -> User | None:
    """Confirm the email named by ``token``; return the user, or ``None`` when the token is
    invalid, expired (3 days) or for an address the account no longer has
    (``selectors.user_for_email_confirmation``). Idempotent. Called by the POST of the
    confirmation page only: a GET never changes state (SPEC "Bad input")."""
    user = user_for_email_confirmation(token=token)
    if user is None:
        return None
    if user.email_confirmed_at is None:
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])
    return user


def lockout_clear_by_moderator(*, key: str, moderator: User, reason: str) -> bool:
    """Clear the sign-in lock on the counter key ``key`` (``user:<id>`` or ``name:<hash>``,
    already validated by ``LockoutClearForm``) for ``moderator`` and record it in the audit log
    (``lockout.clear``, target ``"account"``/``key``; ``reason`` at most 500 characters, may be
    empty). Returns True when a lock was in force and is now cleared; False when there was
    none (it had ended, or another moderator cleared it first): then nothing is recorded.

    SPEC "Sign-in, tokens and lockout" (moderators can see and clear locks) and the audit rule
    that the row and the action commit together or not at all. Redis cannot take part in the
    database transaction, so the order is chosen to leave the fewest ways apart:

    1. In one durable transaction, ``audit_record`` inserts the row first;
    2. then, still inside it and as its last step, one atomic Redis script deletes the lock and
       its failure count and says whether the lock existed (``lock_clear``: the existence check
       and the clear are one step, so two moderators clearing at once record one row);
    3. the transaction commits, or rolls back when there was no lock.

    Clearing after the commit (``transaction.on_commit``) would be the other order, but then a
    Redis failure, the outage this project plans for, would leave a committed row that says a
    lock was cleared while it is still in force. In this order any failure before the clear
    (the insert, Redis unreachable) rolls the row back and leaves the lock. What remains: the
    commit itself failing after Redis cleared the lock (the database connection lost in that
    instant; the owner can then sign in and the clear is not recorded), or a Redis timeout
    after the server ran the script (same outcome). Both are far rarer than a Redis outage.

    ``durable=True`` makes sure the block is the real commit and not a savepoint inside a
    caller's transaction (``RuntimeError`` otherwise). Raises ``redis.RedisError`` when Redis
    fails; nothing is recorded then, and the view answers "temporarily unavailable".
    """
    with transaction.atomic(durable=True):
        audit_record(actor=moderator, action="lockout.clear", target_type="account", target_id=key, reason=reason)
        cleared = lockout.lock_clear(key=key)
        if not cleared:
            transaction.set_rollback(True)
    return cleared


# --- Trust levels ---------------------------------------------------------------------------


def trust_level_promote(*, user_id: int, now=None) -> str | None:
    """Raise ``user_id``'s trust level to the highest one their approved posts and account age
    reach (``trust_level_reached``; SPEC "Domain": basic 5 / 7 days, trusted 25 / 30, veteran
    100 / 90). Never lowers a level and never overrides one a moderator set. Audited
    (``trust.promote``, no actor). ``now`` (an aware datetime) defaults to the current time.
    Returns the new level's value or ``None``. Call inside a transaction (the user row is
    locked)."""
    now = now or timezone.now()
    user = (
        User.objects.select_for_update()
        .only("id", "trust_level", "trust_level_set_by_moderator", "approved_post_count", "date_joined")
        .get(pk=user_id)
    )
    if user.trust_level_set_by_moderator:
        return None
    reached = trust_level_reached(
        current=user.trust_level,
        approved_posts=user.approved_post_count,
        account_age_days=(now - user.date_joined).days,
    )
    if reached == user.trust_level:
        return None
    User.objects.filter(pk=user_id).update(trust_level=reached, panel_version=F("panel_version") + 1)
    audit_record(
        actor=None,
        action="trust.promote",
        target_type="user",
        target_id=user_id,
        reason=f"Automatic: {user.trust_level} -> {reached}",
        metadata={"from": user.trust_level, "to": str(reached)},
    )
    return str(reached)


def trust_levels_update_all(*, now=None) -> int:
    """The daily pass for account age (``manage.py update_trust_levels``, cron): promote every
    user who now qualifies, one short transaction each. Reads only candidates (below veteran,
    not moderator-set, with at least the smallest post requirement). Returns how many were
    promoted."""
    now = now or timezone.now()
    smallest = min(level.requirements["approved_posts"] for level in TrustLevel if level > TrustLevel.NEW)
    candidates = (
        User.objects.filter(trust_level_set_by_moderator=False, approved_post_count__gte=smallest)
        .exclude(trust_level=TrustLevel.VETERAN)
        .values_list("id", flat=True)
    )
    promoted = 0
    for user_id in candidates.iterator():
        with transaction.atomic():
            promoted += trust_level_promote(user_id=user_id, now=now) is not None
    return promoted


def trust_level_set_by_moderator(*, user_id: int, level: str, moderator: User, reason: str = "") -> bool:
    """A moderator sets ``user_id``'s trust level to ``level`` (a ``TrustLevel`` value), up or
    down. The level is then marked as set by a moderator, so automatic promotion
    (``trust_level_promote``, the daily pass) never changes it again (SPEC "Domain"; Discourse's
    "locked trust level"). Audited as ``trust.set`` with the old and new level; ``reason`` at most
    500 characters. Returns False, changing nothing, when the level is already ``level``.
    Raises ``ValueError`` for an unknown level and ``User.DoesNotExist`` for an unknown id."""
    new_level = TrustLevel(level)
    with transaction.atomic():
        user = User.objects.select_for_update().only("id", "trust_level").get(pk=user_id)
        if user.trust_level == new_level:
            User.objects.filter(pk=user_id).update(trust_level_set_by_moderator=True)
            return False
        User.objects.filter(pk=user_id).update(
            trust_level=new_level, trust_level_set_by_moderator=True, panel_version=F("panel_version") + 1
        )
        audit_record(
            actor=moderator,
            action="trust.set",
            target_type="user",
            target_id=user_id,
            reason=reason,
            metadata={"from": str(user.trust_level), "to": str(new_level)},
        )
    return True
