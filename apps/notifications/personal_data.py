"""The notifications' personal data (issue 11, "Your data"): what an export holds and what
deleting an account removes. Registered from ``NotificationsConfig.ready()`` (see
``apps.accounts.personal_data``).

Exported: the gardener's visible notifications (kind, where they are listed and lead, the
short detail, when, read or not). Not exported: hidden ones (they point at held or hidden
content, e.g. the subject of a topic waiting for review, which the gardener may not see), and
who acted (``actor``: that is the other gardener's data; what they did is public content
that is theirs).

Erased: every notification of the gardener (hidden ones too). Notifications others received
about this gardener's actions stay; their ``actor`` becomes the anonymized account with the
rest of the gardener's public content.
"""

from apps.accounts.models import User
from apps.accounts.personal_data import ErasurePart, ExportPart, PersonalDataSource, rows_of

from .models import Notification


def notifications_export(user: User) -> ExportPart:
    """One query."""
    return ExportPart(
        rows={
            "notifications.Notification": rows_of(
                Notification.objects.filter(recipient=user, is_visible=True),
                "kind",
                "group_key",
                "group_title",
                "url",
                "target_key",
                "detail",
                "created_at",
                "read_at",
            )
        }
    )


def notifications_erase(user: User) -> ErasurePart:
    """Runs inside the account deletion's transaction: deletes the gardener's notifications."""
    Notification.objects.filter(recipient=user).delete()
    return ErasurePart()


NOTIFICATIONS_SOURCE = PersonalDataSource(
    name="notifications",
    exported=("notifications.Notification.recipient",),
    derived={
        "notifications.Notification.actor": "another gardener's notification that this one acted (replied, "
        "mentioned them, suggested a name): the recipient's data; the posts and suggestions are exported",
    },
    indirect={},
    export=notifications_export,
    erase=notifications_erase,
)
