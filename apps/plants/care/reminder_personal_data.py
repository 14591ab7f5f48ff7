"""The care reminder's personal data (issue 11 "Your data", issue 14): the record of the daily
care reminder emails. Registered from ``PlantsConfig.ready()`` (see
``apps.accounts.personal_data``); the reminder hour itself is a column of the user row, in the
accounts app's profile export (``care_reminder_hour``).

Exported: every reminder claimed for the gardener (local date, when claimed and sent). Erased
with the account: all of them (they say nothing anyone else needs). A user row deleted outright
(the admin) takes them too: the foreign key is ``ON DELETE CASCADE``.
"""

from apps.accounts.models import User
from apps.accounts.personal_data import ErasurePart, ExportPart, PersonalDataSource, rows_of

from .models import CareReminderSent


def care_reminders_export(user: User) -> ExportPart:
    """One query, none per row."""
    return ExportPart(
        rows={
            "plants.CareReminderSent": rows_of(
                CareReminderSent.objects.filter(user=user), "local_date", "created_at", "sent_at"
            )
        }
    )


def care_reminders_erase(user: User) -> ErasurePart:
    """Runs inside the account deletion's transaction: deletes the reminder records."""
    CareReminderSent.objects.filter(user=user).delete()
    return ErasurePart()


CARE_REMINDERS_SOURCE = PersonalDataSource(
    name="care_reminders",
    exported=("plants.CareReminderSent.user",),
    derived={},
    indirect={},
    export=care_reminders_export,
    erase=care_reminders_erase,
)
