"""``manage.py send_notification_digests``: claim and queue the daily notification digests
that are due (cron, hourly; issue 12). Safe to run twice, or on two machines at once: the
(gardener, local date) unique constraint lets one run send each day's digest."""

from django.core.management.base import BaseCommand

from apps.notifications.delivery import notification_digests_claim


class Command(BaseCommand):
    help = "Queue today's notification digest for every gardener whose local time is past 08:00 (run hourly)."

    def handle(self, *args, **options):
        claimed = notification_digests_claim()
        self.stdout.write(f"Queued {len(claimed)} notification digest(s).")
