"""Sign-in, sign-out, tokens and lockout, as services the form, the API and the admin share.

SPEC "Sign-in, tokens and lockout". Every sign-in attempt, whatever door it comes through,
runs ``sign_in_attempt``: find the account (one indexed query), reserve an attempt with the
lockout monitor, check the password (exactly one hash, also for unknown and inactive names),
record the outcome. Redis failures surface as ``SecurityUnavailable`` so callers fail closed.

Token families: ``tokens_start`` at sign-in, ``refresh_token_rotate`` for every rotation and
``token_family_revoke`` for sign-out and the revoke endpoint. A revoked family is recorded in
the database (``RevokedTokenFamily``) by ``_family_revocation_record`` only, whichever path
revoked it (one writer, whatever the door), and in Redis for the fast path (``tokens``).
"""

import logging
import time
import unicodedata
from collections.abc import Callable

import redis
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.template.loader import render_to_string
from django.urls import reverse

from apps.core.mail import send_mail_after_commit
from apps.core.middleware import SESSION_AUTH_AT_KEY

from . import lockout, tokens, two_factor
from .lockout import SignInLocked
from .models import RevokedTokenFamily, User, UserSession

logger = logging.getLogger(__name__)

SESSION_FAMILY_KEY = "_jwt_family"


def canonical_login_name(raw: str) -> str:
    """Return the spelling-independent form of a sign-in name.

    ``raw`` is what the gardener typed. Surrounding spaces are dropped and the text is put in
    Unicode NFKC form (as Django's ``AbstractBaseUser.normalize_username`` does); letter case is
    left to the ``iexact`` lookup. Raises nothing.
    """
    return unicodedata.normalize("NFKC", raw or "").strip()


class InvalidCredentials(Exception):
    """Wrong password, unknown name or inactive account: deliberately indistinguishable."""


class OTPRequired(InvalidCredentials):
    """A two-factor account was asked for without a code, whether or not the password was right
    (the token API's 401 ``OTP_REQUIRED``). A subclass of ``InvalidCredentials``, so a door that
    knows nothing of two-factor sign-in (Django's ``authenticate()``, the admin's sign-in)
    refuses it like a wrong password."""


class PasswordOrCodeWrong(InvalidCredentials):
    """A two-factor account's password and code were given and one of them (not saying which)
    is wrong."""


class PendingSignInStale(InvalidCredentials):
    """The pending second step no longer stands: the account is gone or inactive, has no
    two-factor sign-in any more, or its password changed after the password step."""


class SecondFactorRequired(Exception):
    """The password of a two-factor account was right; its second step is due. Raised only to
    callers that ask for it (``defer_second_factor=True``: the sign-in form). ``user`` is the
    account."""

    def __init__(self, user: "User"):
        super().__init__("second factor required")
        self.user = user


class SecurityUnavailable(Exception):
    """The security store (Redis) cannot be reached; sign-in and tokens must fail closed."""


def user_find_for_sign_in(*, name: str) -> User | None:
    """The account a typed sign-in name refers to: by email when it contains ``@``, else by
    username, case-insensitively (``UPPER(...)`` index lookups). One query."""
    field = "email__iexact" if "@" in name else "username__iexact"
    # The authenticator comes in the same statement: whether the account needs a second step.
    return User.objects.select_related("totp_device").filter(**{field: name}).first() if name else None


def _send_lock_email(*, user: User, account: lockout.AccountKey, base_url: str) -> None:
    if not user.email or not user.is_active:
        return
    try:
        token = lockout.unlock_token_create(key=account.key)
    except redis.RedisError:
        logger.exception("could not create an unlock token for %s", account.key)
        return
    body = render_to_string(
        "accounts/email/account_locked.txt",
        {
            "user": user,
            "base_url": base_url,
            "unlock_path": reverse("accounts:unlock", kwargs={"token": token}),
            "reset_path": reverse("password_reset"),
            "minutes": settings.LOCKOUT_DURATION_SECONDS // 60,
        },
    )
    send_mail_after_commit(subject="Your Plant Community Portal account is locked", body=body, to=[user.email])


def sign_in_attempt(
    *, name: str, password: str, ip: str, base_url: str, otp: str | None = None, defer_second_factor: bool = False
) -> User:
    """Check one sign-in attempt under the lockout monitor; return the user on success.

    ``name`` is a username or email as typed; ``ip`` the client IP (``apps.core.client_ip``);
    ``base_url`` the scheme and host for the unlock link in the lock email. Raises
    ``InvalidCredentials`` (wrong password, unknown name, inactive account alike: one password
    hash each, OWASP ASVS 2.2.1 / 3.2), ``SignInLocked`` (429 with ``retry_after`` seconds;
    same for unknown names), ``SecurityUnavailable`` when Redis fails.

    Two-factor accounts (README "Two-factor sign-in"); every outcome below is one attempt of the
    same lockout counter as a password:

    - ``otp`` given (the token API's ``otp`` field): the password and then the code (an
      authenticator code or a recovery code, ``two_factor.second_factor_verify``) must both be
      right; either wrong is one failure and ``PasswordOrCodeWrong`` (an ``InvalidCredentials``),
      the same answer for both.
      The code is not checked, so not spent, when the password is wrong.
    - no ``otp`` and ``defer_second_factor`` (the sign-in form): a right password raises
      ``SecondFactorRequired`` after releasing the attempt (``lockout.attempt_released``: not a
      failure, and earlier failures stay counted until the code is right); a wrong one is a
      failure as usual.
    - no ``otp`` otherwise (the token API without the field, ``authenticate()``): one failure
      and ``OTPRequired``, after the same one password hash, right password or wrong, so the
      answer tells nothing about the password.
    """
    typed = canonical_login_name(name)
    user = user_find_for_sign_in(name=typed)
    account = lockout.account_key(
        typed_name=typed, user_id=user.pk if user else None, username=user.username if user else None
    )
    try:
        attempt_id = lockout.attempt_begin(account=account, ip=ip)
    except SignInLocked as locked:
        if locked.lock_created and user is not None:
            _send_lock_email(user=user, account=account, base_url=base_url)
        raise
    except redis.RedisError as error:
        raise SecurityUnavailable(str(error)) from error

    def failed(error: InvalidCredentials) -> InvalidCredentials:
        if lockout.attempt_failed(account=account, ip=ip, attempt_id=attempt_id) and user is not None:
            _send_lock_email(user=user, account=account, base_url=base_url)
        return error

    try:
        if user is None:
            make_password(password)  # the same one hash a real check costs
            valid = False
        else:
            valid = user.check_password(password) and user.is_active
        two_factor_on = user is not None and two_factor.device_of(user) is not None
        if two_factor_on and otp is None and not defer_second_factor:
            raise failed(OTPRequired())
        if not valid:
            raise failed(PasswordOrCodeWrong() if two_factor_on and otp is not None else InvalidCredentials())
        if two_factor_on:
            if otp is None:
                lockout.attempt_released(account=account, ip=ip, attempt_id=attempt_id)
                raise SecondFactorRequired(user)
            if not two_factor.second_factor_verify(user=user, code=otp):
                raise failed(PasswordOrCodeWrong())
        lockout.attempt_succeeded(account=account, ip=ip, attempt_id=attempt_id)
    except redis.RedisError as error:
        raise SecurityUnavailable(str(error)) from error
    return user


def second_factor_attempt(*, user_id: int, verified_at: float, code: str, ip: str, base_url: str) -> User:
    """The sign-in form's second step: check ``code`` (an authenticator code or a recovery
    code) for the account ``user_id`` whose password was verified at Unix time ``verified_at``
    (``two_factor.pending_sign_in``), counted by the same lockout as the password
    (``second_factor_check``). Returns the user (the caller then runs ``login()``).

    Raises ``InvalidCredentials`` for a wrong, reused or malformed code, and its subclass
    ``PendingSignInStale`` for an account that is gone, inactive, without two-factor sign-in, or
    whose password changed after ``verified_at`` (the pending step no longer proves the
    password; nothing is counted then). Raises ``SignInLocked`` and ``SecurityUnavailable`` as
    ``sign_in_attempt`` does.
    """
    user = User.objects.select_related("totp_device").filter(pk=user_id, is_active=True).first()
    if (
        user is None
        or two_factor.device_of(user) is None
        or (user.tokens_valid_after is not None and user.tokens_valid_after.timestamp() > verified_at)
    ):
        raise PendingSignInStale()
    second_factor_check(user=user, code=code, ip=ip, base_url=base_url)
    return user


def second_factor_check(*, user: User, code: str, ip: str, base_url: str) -> None:
    """Check ``code`` (an authenticator code or a recovery code, spent when right:
    ``two_factor.second_factor_verify``) for ``user``, whose password was just verified, as one
    attempt of the sign-in lockout: a wrong code is one failure of the account's counter (and of
    the IP's), the 10th locks the account and sends the lock email; a right code ends the
    attempt as a successful sign-in, which clears the account's count. The sign-in form's
    second step and the account deletion (after ``current_password_check`` with
    ``second_factor_follows``) use it. ``user`` must come from a query with
    ``select_related("totp_device")`` (``two_factor.device_of``). Returns ``None`` when the code
    is right.

    Raises ``InvalidCredentials`` (wrong, reused or malformed code, or no two-factor sign-in),
    ``SignInLocked`` (429 with ``retry_after``), ``SecurityUnavailable`` (Redis down: fail
    closed). RFC 6238 section 5.2 (one use per code); OWASP ASVS 4.0 2.2.1.
    """
    _counted_check(
        user=user, ip=ip, base_url=base_url, check=lambda: two_factor.second_factor_verify(user=user, code=code)
    )


def current_password_check(
    *, user: User, password: str, ip: str, base_url: str, second_factor_follows: bool = False
) -> None:
    """Check the signed-in ``user``'s current password (a password change, an email change, the
    re-authentication before changing two-factor sign-in (OWASP ASVS 4.0 3.7.1), deleting the
    account, any step that asks for it again) under the same lockout monitor as sign-in: the
    attempt counts on the account's one counter (``user:<id>``) and on ``ip``'s, a wrong
    password is a failed sign-in, the 10th failure locks the account (sign-in too) and sends the
    one lock email with its unlock link, and a correct one clears the count (SPEC "Sign-in,
    tokens and lockout"; OWASP ASVS 4.0 2.2.1: anti-automation on every authentication check).

    ``second_factor_follows``: a code is checked next (``second_factor_check``), as on the
    sign-in form. A right password then only releases the attempt (``lockout.attempt_released``:
    neither failure nor success), so the account's earlier failures stay counted until the code
    is right and knowing the password gives no more code guesses.

    ``password`` as typed; ``ip`` the client IP (``apps.core.client_ip``); ``base_url`` the
    scheme and host for the unlock link. Returns ``None`` when the password is right. Raises
    ``InvalidCredentials`` (wrong, or the account was deactivated), ``SignInLocked`` (429 with
    ``retry_after`` seconds, right password or not) and ``SecurityUnavailable`` when Redis fails
    (callers fail closed: 503).
    """
    _counted_check(
        user=user,
        ip=ip,
        base_url=base_url,
        check=lambda: user.check_password(password) and user.is_active,
        release_only=second_factor_follows,
    )


def _counted_check(
    *, user: User, ip: str, base_url: str, check: Callable[[], bool], release_only: bool = False
) -> None:
    """One attempt of the sign-in lockout for a signed-in ``user`` whose credential ``check()``
    decides (the password again, a two-factor code): begun on the account's and ``ip``'s
    counters, a failure counted (the lock email when it locks), a success clearing the count, or
    with ``release_only`` neither (a second factor follows). Raises ``InvalidCredentials``,
    ``SignInLocked`` (the lock email sent when this attempt created the lock) and
    ``SecurityUnavailable`` when Redis fails."""
    account = lockout.account_key(typed_name=user.username, user_id=user.pk, username=user.username)
    try:
        attempt_id = lockout.attempt_begin(account=account, ip=ip)
    except SignInLocked as locked:
        if locked.lock_created:
            _send_lock_email(user=user, account=account, base_url=base_url)
        raise
    except redis.RedisError as error:
        raise SecurityUnavailable(str(error)) from error
    try:
        if not check():
            if lockout.attempt_failed(account=account, ip=ip, attempt_id=attempt_id):
                _send_lock_email(user=user, account=account, base_url=base_url)
            raise InvalidCredentials()
        if release_only:
            lockout.attempt_released(account=account, ip=ip, attempt_id=attempt_id)
        else:
            lockout.attempt_succeeded(account=account, ip=ip, attempt_id=attempt_id)
    except redis.RedisError as error:
        raise SecurityUnavailable(str(error)) from error


def tokens_start(*, user: User) -> tokens.TokenPair:
    """Start a refresh token family for a sign-in and return its first pair. Raises
    ``SecurityUnavailable`` (nothing issued) when Redis fails."""
    try:
        return tokens.family_start(user_id=user.pk)
    except redis.RedisError as error:
        raise SecurityUnavailable(str(error)) from error


def session_tokens_remember(*, session, pair: tokens.TokenPair) -> None:
    """Remember the browser's token family and sign-in time in its (already rotated) session,
    so sign-out revokes exactly this browser's family and the absolute session lifetime can be
    enforced; the browser's ``UserSession`` record (made at sign-in) names the family too, so
    revoking the browser from the settings revokes its tokens. One ``UPDATE``."""
    session[SESSION_FAMILY_KEY] = pair.family_id
    session[SESSION_AUTH_AT_KEY] = int(time.time())
    if session.session_key:
        UserSession.objects.filter(session_id=session.session_key).update(family_id=pair.family_id)


def set_token_cookies(response, pair: tokens.TokenPair) -> None:
    """Set SPEC's two HttpOnly cookies: ``access_token`` (path ``/``) and ``refresh_token``
    (path ``/api/auth/``), ``SameSite=Lax``, ``Secure`` when ``DEBUG`` is off."""
    secure = not settings.DEBUG
    response.set_cookie(
        settings.JWT_ACCESS_COOKIE,
        pair.access,
        max_age=pair.expires_in,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=secure,
    )
    response.set_cookie(
        settings.JWT_REFRESH_COOKIE,
        pair.refresh,
        max_age=pair.refresh_expires_in,
        path=settings.JWT_REFRESH_COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=secure,
    )


def delete_token_cookies(response) -> None:
    """Remove both token cookies (same paths and attributes as they were set with)."""
    response.delete_cookie(settings.JWT_ACCESS_COOKIE, path="/", samesite="Lax")
    response.delete_cookie(settings.JWT_REFRESH_COOKIE, path=settings.JWT_REFRESH_COOKIE_PATH, samesite="Lax")


def _family_revocation_record(*, family_id: str) -> None:
    """Record that the refresh token family ``family_id`` is revoked, durably: the one writer
    of ``RevokedTokenFamily``. The token checks' one user query
    (``selectors.token_user_queryset``) refuses such a family, so the revocation holds through
    a Redis outage or restart. Idempotent (one row per family). Raises database errors only."""
    RevokedTokenFamily.objects.get_or_create(family_id=family_id)


def token_family_revoke(*, family_id: str) -> None:
    """Revoke one refresh token family (sign-out, ``/api/auth/token/revoke/``): its access and
    refresh tokens stop working at once. ``family_id`` is the token's ``fam`` claim.

    Recorded in the database first (durable), then in Redis (the fast path that refuses access
    tokens without SQL). Raises ``redis.RedisError`` when only the Redis copy failed; the
    database record already refuses the family then.
    """
    _family_revocation_record(family_id=family_id)
    tokens.family_revoke_in_redis(family_id=family_id)


def refresh_token_rotate(*, claims: dict) -> tokens.TokenPair:
    """Rotate the refresh token whose verified ``claims`` (``tokens.decode``) are given and
    return the successor pair (SPEC: every refresh rotates the pair; RFC 9700 4.14.2).

    Raises ``tokens.TokenReused`` for a replay outside the reuse interval: the rotation script
    has revoked the family in Redis, and it is recorded here in the database too. Raises
    ``tokens.TokenInvalid`` for a revoked family and ``redis.RedisError`` when the used-mark
    cannot be written (nothing issued: SPEC 503).
    """
    try:
        return tokens.refresh_rotate(claims=claims)
    except tokens.TokenReused:
        _family_revocation_record(family_id=claims["fam"])
        raise


def session_tokens_revoke(*, session) -> None:
    """Revoke the refresh token family of this browser (sign-out); other devices stay signed in.
    The database record is durable; a Redis failure is logged, not raised (signing out must
    always work), and the token checks' user query still refuses the family."""
    family_id = session.get(SESSION_FAMILY_KEY)
    if not family_id:
        return
    try:
        token_family_revoke(family_id=family_id)
    except redis.RedisError:
        logger.exception("could not revoke token family %s at sign-out", family_id)


def account_unlock_with_token(*, token: str) -> bool:
    """Redeem a one-time unlock link from the lock email. True when it unlocked; False when the
    token is unknown, expired or used. Raises ``SecurityUnavailable``."""
    try:
        return lockout.unlock_token_redeem(token=token) is not None
    except redis.RedisError as error:
        raise SecurityUnavailable(str(error)) from error
