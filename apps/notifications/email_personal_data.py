"""The personal data of notification emails (issue 11 "Your data", issue 12): a gardener's
email choices and the record of their daily digests. Registered from
``NotificationsConfig.ready()`` (see ``apps.accounts.personal_data``); the notifications
themselves are the list's source, not this one.

Exported: every choice (kind, delivery) and every digest (local date, when made and sent, how
many notifications it listed). Erased with the account: both (they say nothing anyone else needs).
"""

from apps.accounts.models import User
from apps.accounts.personal_data import ErasurePart, ExportPart, PersonalDataSource, rows_of

from .models import NotificationDigest, NotificationPreference


def notification_email_export(user: User) -> ExportPart:
    """Two queries, none per row."""
    return ExportPart(
        rows={
            "notifications.NotificationPreference": rows_of(
                NotificationPreference.objects.filter(user=user), "kind", "delivery"
            ),
            "notifications.NotificationDigest": rows_of(
                NotificationDigest.objects.filter(user=user),
                "local_date",
                "created_at",
                "sent_at",
                "notification_count",
            ),
        }
    )


def notification_email_erase(user: User) -> ErasurePart:
    """Runs inside the account deletion's transaction: deletes the choices and digests."""
    NotificationPreference.objects.filter(user=user).delete()
    NotificationDigest.objects.filter(user=user).delete()
    return ErasurePart()


NOTIFICATION_EMAIL_SOURCE = PersonalDataSource(
    name="notification_email",
    exported=("notifications.NotificationPreference.user", "notifications.NotificationDigest.user"),
    derived={},
    indirect={},
    export=notification_email_export,
    erase=notification_email_erase,
)
