"""Two-factor sign-in: TOTP codes (RFC 6238, computed by pyotp), single-use recovery codes, the
set-up QR code, and the session state of the second step and of a recent password confirmation.

README "Two-factor sign-in". The reads and writes of the two tables (``TotpDevice``,
``RecoveryCode``) live here and nowhere else; the lockout-counted checks that call them are
``signin_services.sign_in_attempt`` (password plus code, the token API) and
``signin_services.second_factor_check`` (the sign-in form's second step, account deletion).

Replay (RFC 6238 section 5.2, "the verifier MUST NOT accept the second attempt of the OTP after
the successful validation has been issued for the first OTP"): a code is accepted by one
conditional ``UPDATE ... SET last_used_step = s WHERE last_used_step < s``. PostgreSQL
re-checks that condition on the row a concurrent request has just updated, so of N parallel
requests with the same code exactly one changes the row.
"""

import base64
import hashlib
import re
import secrets
import time

import pyotp
import segno
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from apps.core.mail import send_mail_after_commit

from .models import RecoveryCode, TotpDevice, User

TOTP_DIGITS = 6  # RFC 4226 section 5.3 (and what authenticator apps default to)
TOTP_STEP_SECONDS = 30  # RFC 6238 section 5.2's recommended time step
RECOVERY_CODE_BYTES = 10  # 80 random bits, written as 16 base32 characters

_TOTP_CODE_RE = re.compile(r"\A[0-9]{6}\Z")
_RECOVERY_CODE_RE = re.compile(r"\A[a-z2-7]{16}\Z")

# Session keys (the session is server-side: ``cached_db``).
SESSION_PENDING_KEY = "_two_factor_pending"  # {"user_id", "at", "next"}: password verified, code not yet
SESSION_REAUTH_KEY = "_password_confirmed_at"  # Unix time the password was last confirmed
SESSION_SETUP_KEY = "_two_factor_setup"  # {"user_id", "secret"}: a set-up waiting for its first code


# --- TOTP -----------------------------------------------------------------------------------


def totp_secret_new() -> str:
    """A new shared key: 32 base32 characters, 160 random bits (RFC 4226 section 4 asks for
    at least 128 and recommends 160), from ``secrets`` through pyotp."""
    return pyotp.random_base32()


def totp_provisioning_uri(*, secret: str, username: str) -> str:
    """The ``otpauth://totp/<issuer>:<username>?secret=...&issuer=...`` URI authenticator apps
    read from the QR code (Google Authenticator's key URI format; SHA-1, 6 digits and 30 s are
    its defaults, so they are not spelled out). ``settings.TOTP_ISSUER`` names the site."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=settings.TOTP_ISSUER)


def totp_qr_svg(*, uri: str, title: str) -> SafeString:
    """The QR code of ``uri`` as inline SVG markup (segno), with a white quiet zone so dark
    themes do not hide it, ``role="img"`` and ``title`` as its accessible name. No ``style``
    attribute and no ``data:`` URI, so the page's Content-Security-Policy needs nothing new."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", title=title, svgclass="qr-code")
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))


def secret_for_typing(secret: str) -> str:
    """``secret`` in groups of four characters, for typing into an app by hand."""
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def totp_matching_step(*, secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code ``code`` is, among the current step and
    ``settings.TOTP_DRIFT_STEPS`` (1) steps either side (clock drift, RFC 6238 section 5.2); the
    earliest when two match. ``None`` when ``code`` is not 6 digits or matches none. The codes
    are pyotp's (HMAC-SHA1, RFC 4226 truncation), compared in constant time. ``now`` is Unix
    time in seconds (the current time when ``None``)."""
    code = normalize_code(code)
    if not _TOTP_CODE_RE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time() if now is None else now)
    drift = settings.TOTP_DRIFT_STEPS
    for step in range(current - drift, current + drift + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def _totp_step_claim(*, user_id: int, step: int) -> bool:
    """Accept time step ``step`` for ``user_id``'s authenticator once: True for exactly one
    caller, False when this step or a later one was already accepted (a replay) or the device
    is gone. One ``UPDATE``."""
    unused = Q(last_used_step__isnull=True) | Q(last_used_step__lt=step)
    return TotpDevice.objects.filter(user_id=user_id).filter(unused).update(last_used_step=step) == 1


# --- Recovery codes -------------------------------------------------------------------------


def normalize_code(raw: str) -> str:
    """What was typed, without spaces and hyphens, lower case: ``" 1234 56"`` -> ``"123456"``,
    ``"ABCD-efgh-..."`` -> ``"abcdefgh..."``."""
    return re.sub(r"[\s-]+", "", raw or "").lower()


def recovery_code_new() -> str:
    """A new recovery code: 80 random bits as 16 lower-case base32 characters in four groups,
    ``"abcd-efgh-ijkl-mnop"`` (no 0/1/8/9, so nothing reads as O or l)."""
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode("ascii").lower()
    return "-".join(raw[index : index + 4] for index in range(0, 16, 4))


def recovery_code_hash(code: str) -> str:
    """SHA-256 (hex) of the normalized code: what ``RecoveryCode.code_hash`` stores. A fast hash
    suits 80-bit random codes (see ``RecoveryCode``)."""
    return hashlib.sha256(normalize_code(code).encode("utf-8")).hexdigest()


def _recovery_codes_replace(*, user: User) -> list[str]:
    codes = [recovery_code_new() for _ in range(settings.TWO_FACTOR_RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(RecoveryCode(user=user, code_hash=recovery_code_hash(code)) for code in codes)
    return codes


def _recovery_code_use(*, user_id: int, code: str) -> bool:
    """Spend one unused recovery code: True for exactly one caller (one conditional ``UPDATE``
    by the unique index)."""
    return (
        RecoveryCode.objects.filter(user_id=user_id, code_hash=recovery_code_hash(code), used_at__isnull=True).update(
            used_at=timezone.now()
        )
        == 1
    )


# --- The second factor ----------------------------------------------------------------------


def device_of(user: User) -> TotpDevice | None:
    """``user``'s authenticator, or ``None`` when two-factor sign-in is off. ``user`` must come
    from a query with ``select_related("totp_device")`` (``signin_services.user_find_for_sign_in``
    and the second step's own lookup): this reads nothing from the database."""
    try:
        return user.totp_device
    except ObjectDoesNotExist:
        return None


def second_factor_verify(*, user: User, code: str, now: float | None = None) -> bool:
    """Check and spend ``code``, a 6-digit authenticator code or a recovery code, for ``user``
    (loaded with ``select_related("totp_device")``). True exactly once per code: a TOTP code's
    time step is claimed (replays within and after its step are refused, RFC 6238 section
    5.2), a recovery code is marked used. False for anything else, including a code of another
    shape or an account without two-factor sign-in. At most one ``UPDATE``. Lockout counting is
    the caller's (``signin_services``)."""
    device = device_of(user)
    if device is None:
        return False
    normalized = normalize_code(code)
    if _TOTP_CODE_RE.match(normalized):
        step = totp_matching_step(secret=device.secret, code=normalized, now=now)
        return step is not None and _totp_step_claim(user_id=user.pk, step=step)
    if _RECOVERY_CODE_RE.match(normalized):
        return _recovery_code_use(user_id=user.pk, code=normalized)
    return False


# --- Turning it on and off ------------------------------------------------------------------

_CHANGE_SUBJECTS = {
    "enabled": "Two-factor sign-in is on for your account",
    "disabled": "Two-factor sign-in is off for your account",
    "recovery_codes": "New recovery codes for your account",
}


def _change_notify(*, user: User, change: str, base_url: str) -> None:
    """Email the account's address that its sign-in changed (OWASP ASVS 4.0 2.2.3: notify
    after updates to authentication details), after commit. ``change`` is a key of
    ``_CHANGE_SUBJECTS``."""
    if not user.email:
        return
    body = render_to_string(
        "accounts/email/two_factor_changed.txt",
        {"user": user, "change": change, "base_url": base_url, "reset_path": reverse("password_reset")},
    )
    send_mail_after_commit(subject=_CHANGE_SUBJECTS[change], body=body, to=[user.email])


class AlreadyEnabled(Exception):
    """Two-factor sign-in is already on (a second tab confirmed first)."""


def two_factor_enable(
    *, user: User, secret: str, code: str, now: float | None = None, base_url: str = ""
) -> list[str] | None:
    """Turn two-factor sign-in on for ``user`` with the shared key ``secret`` the set-up page
    showed, once ``code`` proves the app has it (a code of ``secret`` within the drift window).
    That code's time step counts as used, so it cannot sign in afterwards.

    Returns the 10 new recovery codes (plain text, to show once; only their hashes are kept),
    or ``None`` when ``code`` is wrong. Raises ``AlreadyEnabled`` when a device already exists
    (nothing changes then). One transaction: the device and its codes are written together; the
    owner is emailed after commit (``base_url``, scheme and host, for the reset link in it).
    """
    step = totp_matching_step(secret=secret, code=code, now=now)
    if step is None:
        return None
    try:
        with transaction.atomic():
            TotpDevice.objects.create(user=user, secret=secret, last_used_step=step)
            _change_notify(user=user, change="enabled", base_url=base_url)
            return _recovery_codes_replace(user=user)
    except IntegrityError:
        raise AlreadyEnabled() from None


def two_factor_disable(*, user: User, base_url: str = "") -> bool:
    """Turn two-factor sign-in off for ``user``: the authenticator and every recovery code are
    deleted, and the owner is emailed after commit. Returns True when it was on."""
    with transaction.atomic():
        deleted, _ = TotpDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        if deleted:
            _change_notify(user=user, change="disabled", base_url=base_url)
    return deleted > 0


def recovery_codes_regenerate(*, user: User, base_url: str = "") -> list[str] | None:
    """Replace ``user``'s recovery codes with 10 new ones (the old ones stop working) and return
    them in plain text, to show once; ``None`` when two-factor sign-in is off. The owner is
    emailed after commit."""
    with transaction.atomic():
        if not TotpDevice.objects.select_for_update().filter(user=user).exists():
            return None
        _change_notify(user=user, change="recovery_codes", base_url=base_url)
        return _recovery_codes_replace(user=user)


def two_factor_on(*, user: User) -> bool:
    """Whether ``user`` has two-factor sign-in on (a confirmed authenticator). One ``EXISTS``
    query."""
    return TotpDevice.objects.filter(user_id=user.pk).exists()


def two_factor_forget(*, user: User) -> None:
    """Delete ``user``'s authenticator and recovery codes without the notice email: the account
    is being deleted (``data_services.account_erase``), inside its transaction."""
    TotpDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()


def two_factor_status(*, user: User) -> dict:
    """``{"enabled": bool, "enabled_at": datetime | None, "recovery_codes_left": int}`` for the
    settings page. One query (the user row joined to its authenticator and counted codes)."""
    row = (
        User.objects.filter(pk=user.pk)
        .values("pk")
        .annotate(
            enabled_at=F("totp_device__confirmed_at"),
            codes_left=Count("recovery_codes", filter=Q(recovery_codes__used_at__isnull=True)),
        )
        .first()
    ) or {"enabled_at": None, "codes_left": 0}
    return {
        "enabled": row["enabled_at"] is not None,
        "enabled_at": row["enabled_at"],
        "recovery_codes_left": row["codes_left"],
    }


# --- Session state --------------------------------------------------------------------------


def pending_sign_in_start(*, session, user_id: int, next_url: str) -> None:
    """Remember in ``session`` that ``user_id``'s password was verified now and the second step
    is due (``next_url`` is where to go after it). Not a sign-in: no ``login()``, no token
    cookies. The caller rotates the session key first."""
    session[SESSION_PENDING_KEY] = {"user_id": user_id, "at": time.time(), "next": next_url}


def pending_sign_in(*, session) -> dict | None:
    """The pending second step (``{"user_id", "at", "next"}``) when it is younger than
    ``settings.TWO_FACTOR_PENDING_SECONDS`` (5 min), else ``None``."""
    pending = session.get(SESSION_PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > settings.TWO_FACTOR_PENDING_SECONDS:
        return None
    return pending


def pending_sign_in_clear(*, session) -> None:
    """Forget the pending second step."""
    session.pop(SESSION_PENDING_KEY, None)


def password_confirmed_record(*, session) -> None:
    """Record that the signed-in gardener has just typed their password again."""
    session[SESSION_REAUTH_KEY] = int(time.time())


def password_recently_confirmed(*, session) -> bool:
    """True when the password was confirmed within ``settings.TWO_FACTOR_REAUTH_SECONDS`` (10 min;
    OWASP ASVS 4.0 3.7.1: re-authenticate before sensitive account changes)."""
    confirmed_at = session.get(SESSION_REAUTH_KEY)
    return bool(confirmed_at) and time.time() - confirmed_at <= settings.TWO_FACTOR_REAUTH_SECONDS


def setup_secret(*, session, user: User, create: bool = False) -> str | None:
    """The shared key of ``user``'s set-up in progress (kept in the session until the first code
    confirms it, so an abandoned set-up leaves no row). ``create=True`` starts a new one."""
    if create:
        session[SESSION_SETUP_KEY] = {"user_id": user.pk, "secret": totp_secret_new()}
    state = session.get(SESSION_SETUP_KEY)
    if isinstance(state, dict) and state.get("user_id") == user.pk:
        return state.get("secret")
    return None


def setup_clear(*, session) -> None:
    """Forget the set-up in progress."""
    session.pop(SESSION_SETUP_KEY, None)
