"""``manage.py data_exports_purge``: remove the files of data exports whose 24 hours are over
(cron, hourly; the deferred purge task covers backends that can defer)."""

from django.core.management.base import BaseCommand

from apps.accounts.data_services import data_exports_purge


class Command(BaseCommand):
    help = "Remove the files of expired data exports (issue 11, 'Your data')."

    def handle(self, *args, **options):
        purged = data_exports_purge()
        self.stdout.write(f"Purged {purged} expired data export(s).")
