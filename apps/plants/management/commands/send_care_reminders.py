"""``manage.py send_care_reminders``: claim and queue the daily care reminder emails that are
due (cron, hourly; issue 14). Safe to run twice, or on two machines at once: the (gardener,
local date) unique constraint of ``CareReminderSent`` lets one run send each day's reminder."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from apps.plants.care.reminders import care_reminders_claim


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--now must be an ISO 8601 date and time: {error}") from error
    if parsed.tzinfo is None:
        raise CommandError("--now needs a UTC offset, e.g. 2026-03-08T07:00:00+00:00")
    return parsed


class Command(BaseCommand):
    help = (
        "Queue today's care reminder for every gardener who opted in, whose local time is past their chosen "
        "hour and who has care tasks due (run hourly)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="The run's instant, ISO 8601 with a UTC offset (for tests and replays); default: the current time.",
        )

    def handle(self, *args, now=None, **options):
        claimed = care_reminders_claim(now=_instant(now) if now else None)
        self.stdout.write(f"Queued {len(claimed)} care reminder(s).")
