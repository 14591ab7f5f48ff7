"""Reads for the notification settings page (``/accounts/settings/notifications/``, issue 12)."""

from .models import NOTIFICATION_DELIVERY_DEFAULTS, NotificationKind, NotificationPreference


def notification_preferences_of(*, user_id: int) -> dict[str, str]:
    """``user_id``'s email choice for every kind: ``{kind value: delivery value}`` in
    ``NotificationKind`` order, a kind with no ``NotificationPreference`` row at its default
    (``NOTIFICATION_DELIVERY_DEFAULTS``). One query."""
    chosen = dict(NotificationPreference.objects.filter(user_id=user_id).values_list("kind", "delivery"))
    return {kind: chosen.get(kind, NOTIFICATION_DELIVERY_DEFAULTS[kind]) for kind in NotificationKind.values}
