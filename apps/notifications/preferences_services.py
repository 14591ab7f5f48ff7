"""Writes of the notification settings page (``/accounts/settings/notifications/``, issues 12
and 14)."""

import enum
from collections.abc import Mapping

from django.db import transaction
from django.db.models import Case, Value, When

from apps.accounts.models import User

from .models import Notification, NotificationDelivery, NotificationKind, NotificationPreference
from .preferences_selectors import notification_preferences_of


class Keep(enum.Enum):
    """``KEEP``: leave a setting as it is (``notification_preferences_set``'s default for the
    care reminder, so callers that save only the kinds do not turn it off)."""

    KEEP = "keep"


@transaction.atomic
def notification_preferences_set(
    *, user: User, choices: Mapping[str, str], care_reminder_hour: int | None | Keep = Keep.KEEP
) -> list[str]:
    """Save ``user``'s email choice for every kind: ``choices`` maps each ``NotificationKind``
    value to a ``NotificationDelivery`` value (validated by the form; raises ``ValueError`` for
    a missing kind or an unknown value, changing nothing). Returns the kinds whose choice
    changed.

    ``care_reminder_hour`` (issue 14): the local hour 0-23 of the daily care reminder, ``None``
    to turn it off, ``Keep.KEEP`` (default) to leave it; stored on ``User.care_reminder_hour``
    (one UPDATE, only when it changes; ``user`` is updated in memory too). Raises
    ``ValueError`` for another hour, changing nothing.

    Every kind gets a row (one upsert), so what the gardener saw and saved stays as it is if a
    default changes later. A change applies to what is still waiting as well as to what comes
    next: notifications of a changed kind still waiting for an email (not emailed, in no digest,
    unread) take the new choice, except that a change sends no burst of old news: rows made
    while the kind was site-only stay site-only, and waiting visible rows moved to "email at
    once" become site-only (held ones are emailed when shown). Statements: the current
    choices, the upsert, one UPDATE when a kind changed and one when the reminder hour did."""
    if set(choices) != set(NotificationKind.values) or not set(choices.values()) <= set(NotificationDelivery.values):
        raise ValueError("choices needs one valid delivery for every notification kind")
    if not (care_reminder_hour is Keep.KEEP or care_reminder_hour is None or care_reminder_hour in range(24)):
        raise ValueError("care_reminder_hour must be an hour 0-23 or None")
    if care_reminder_hour is not Keep.KEEP and care_reminder_hour != user.care_reminder_hour:
        User.objects.filter(pk=user.pk).update(care_reminder_hour=care_reminder_hour)
        user.care_reminder_hour = care_reminder_hour
    before = notification_preferences_of(user_id=user.pk)
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user=user, kind=kind, delivery=choices[kind]) for kind in NotificationKind.values],
        update_conflicts=True,
        unique_fields=["user", "kind"],
        update_fields=["delivery"],
    )
    changed = [kind for kind in NotificationKind.values if before[kind] != choices[kind]]
    if changed:
        whens = []
        for kind in changed:
            if choices[kind] == NotificationDelivery.IMMEDIATE:
                whens.append(When(kind=kind, is_visible=False, then=Value(NotificationDelivery.IMMEDIATE)))
                whens.append(When(kind=kind, then=Value(NotificationDelivery.SITE)))
            else:
                whens.append(When(kind=kind, then=Value(choices[kind])))
        Notification.objects.filter(
            recipient=user, kind__in=changed, emailed_at__isnull=True, digest__isnull=True, read_at__isnull=True
        ).exclude(email_delivery=NotificationDelivery.SITE).update(email_delivery=Case(*whens))
    return changed
