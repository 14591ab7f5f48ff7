"""Writes of the settings pages: the profile (display name, avatar, time zone, home location)
and email changes (issue 11)."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.core.geo import coarse_coordinate
from apps.core.mail import send_mail_after_commit
from apps.core.ratelimit import limit_key
from apps.core.uploads import stored_files_delete_on_commit

from .models import User
from .panel_versions import panel_versions_bump
from .settings_selectors import EMAIL_CHANGE_SALT, email_change_for_token, password_fingerprint
from .signals_sent import home_hemisphere_changed


def avatar_limit_key(*, user_id: int) -> str:
    """The Redis key of ``user_id``'s hourly avatar upload limit (``AVATAR_UPLOADS_PER_HOUR``)."""
    return limit_key("avatar:user", str(user_id))


def email_change_limit_key(*, user_id: int) -> str:
    """The Redis key of ``user_id``'s email-change request limit (``EMAIL_CHANGE_LIMIT_PER_USER``)."""
    return limit_key("email-change:user", str(user_id))


@transaction.atomic
def profile_update(
    *,
    user: User,
    display_name: str,
    time_zone: str,
    home_latitude: Decimal | None,
    home_longitude: Decimal | None,
    avatar: ContentFile | None = None,
    avatar_remove: bool = False,
) -> User:
    """Save ``user``'s profile settings, already validated (``settings_forms.ProfileForm``):
    ``display_name`` (at most 50 characters, may be empty), ``time_zone`` (an IANA name),
    ``home_latitude`` / ``home_longitude`` (degrees, both or neither), snapped here to the
    0.2° grid (about 20 km, ``apps.core.geo.coarse_coordinate``) so no finer position is ever
    stored; a database check constraint holds the grid too.

    ``avatar`` is the stored version made by the upload pipeline (``ProfileForm.avatar_process``:
    the photos' upload rules, the centre square at 256 px, a JPEG without metadata), saved
    under a random name (the field's ``RandomName("avatars")``). ``avatar_remove`` drops the
    current one. A replaced or removed file is deleted after commit
    (``apps.core.uploads.stored_files_delete_on_commit``). A home location moving to the other
    hemisphere (or none, which counts as northern) sends ``home_hemisphere_changed`` in the same
    transaction. Returns ``user``."""
    was_southern = user.home_latitude is not None and user.home_latitude < 0
    if home_latitude is not None and home_longitude is not None:
        user.home_latitude = coarse_coordinate(home_latitude)
        user.home_longitude = coarse_coordinate(home_longitude)
    else:
        user.home_latitude = user.home_longitude = None
    user.display_name = display_name
    user.time_zone = time_zone
    fields = ["display_name", "time_zone", "home_latitude", "home_longitude"]
    old_avatar = user.avatar.name
    if avatar is not None:
        user.avatar.save(avatar.name, avatar, save=False)
        fields.append("avatar")
    elif avatar_remove and old_avatar:
        user.avatar = ""
        fields.append("avatar")
    with transaction.atomic():
        user.save(update_fields=fields)
        # Dates and times on the dashboard panels are shown in the gardener's time zone (issue 13).
        panel_versions_bump(user_ids=[user.pk])
        southern = user.home_latitude is not None and user.home_latitude < 0
        if southern != was_southern:
            # Seasonal care (fertilizing) follows the growing season of the new hemisphere.
            home_hemisphere_changed.send(sender=User, user=user, southern=southern)
    if "avatar" in fields:
        stored_files_delete_on_commit([old_avatar])
    return user


def email_change_token(*, user: User, new_email: str) -> str:
    """A signed, expiring token (``EMAIL_CHANGE_MAX_AGE_SECONDS``) for moving ``user`` from their
    current address to ``new_email``; it also carries a digest of the password hash, so a
    password change voids it (``settings_selectors.email_change_for_token``)."""
    return signing.dumps(
        {"uid": user.pk, "old": user.email.lower(), "new": new_email, "pw": password_fingerprint(user)},
        salt=EMAIL_CHANGE_SALT,
    )


def email_change_request(*, user: User, new_email: str, base_url: str) -> None:
    """Start moving ``user`` to ``new_email`` (validated and normalized, not their current
    address; the current password already checked), answering the same whatever the address
    is (no enumeration: OWASP ASVS 4.0 2.5.2 / 3.x spirit, as sign-up does).

    The new address gets a confirmation link (``email_change_token``) when it belongs to no
    other account, else a message saying it already has one (and no link); the current address
    gets a notice naming the new one with a way to cancel (change the password). Nothing
    changes until the link is confirmed (``email_change_confirm``). Emails go after commit.
    ``base_url`` is the scheme and host for links."""
    hours = settings.EMAIL_CHANGE_MAX_AGE_SECONDS // 3600
    taken = User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists()
    if taken:
        send_mail_after_commit(
            subject="This address already has a Plant Community Portal account",
            body=render_to_string(
                "accounts/email/email_change_taken.txt",
                {"new_email": new_email, "base_url": base_url, "reset_path": reverse("password_reset")},
            ),
            to=[new_email],
        )
    else:
        token = email_change_token(user=user, new_email=new_email)
        send_mail_after_commit(
            subject="Confirm your new email for the Plant Community Portal",
            body=render_to_string(
                "accounts/email/email_change_confirm.txt",
                {
                    "user": user,
                    "new_email": new_email,
                    "hours": hours,
                    "base_url": base_url,
                    "confirm_path": reverse("accounts:settings-email-confirm", kwargs={"token": token}),
                },
            ),
            to=[new_email],
        )
    if user.email:
        send_mail_after_commit(
            subject="A change of your Plant Community Portal email address was asked for",
            body=render_to_string(
                "accounts/email/email_change_notice.txt",
                {
                    "user": user,
                    "new_email": new_email,
                    "hours": hours,
                    "base_url": base_url,
                    "password_change_path": reverse("accounts:password-change"),
                    "reset_path": reverse("password_reset"),
                },
            ),
            to=[user.email],
        )


@dataclass(frozen=True)
class EmailChangeOutcome:
    """``user`` whose address is now ``email``; ``applied`` False with ``reason`` ``"invalid"``
    (bad, expired, used or voided link) or ``"taken"`` (another account took the address since
    the link was sent)."""

    applied: bool
    reason: str = ""
    user: User | None = None
    email: str = ""


def email_change_confirm(*, token: str) -> EmailChangeOutcome:
    """Apply the email change a confirmation link names (POST of its page only: a GET never
    changes state, SPEC "Bad input"). The address becomes ``new`` and counts as confirmed
    (opening the link proved it). A link works once: the account's address no longer matches
    it afterwards. The unique index on ``UPPER(email)`` settles a race with a sign-up or another
    change (``"taken"``). Raises nothing for bad input."""
    change = email_change_for_token(token=token)
    if change is None:
        return EmailChangeOutcome(applied=False, reason="invalid")
    user = change.user
    if User.objects.filter(email__iexact=change.new_email).exclude(pk=user.pk).exists():
        return EmailChangeOutcome(applied=False, reason="taken", user=user)
    user.email = change.new_email
    user.email_confirmed_at = timezone.now()
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "email_confirmed_at"])
    except IntegrityError:
        return EmailChangeOutcome(applied=False, reason="taken", user=user)
    return EmailChangeOutcome(applied=True, user=user, email=change.new_email)
