"""``manage.py forum_recount [--check]``: recompute every forum counter and last-activity field
from the rows (``apps.forum.recount``), or with ``--check`` report drift and exit 1 if any."""

from django.core.management.base import BaseCommand, CommandError

from apps.forum.recount import forum_state_drift, forum_state_recount

SHOWN = 50


class Command(BaseCommand):
    help = "Recompute forum counters and last activity from the rows; --check only reports drift (exit 1)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Report drift without changing anything.")

    def handle(self, *args, check: bool = False, **options):
        drift = forum_state_drift()
        if check:
            if not drift:
                self.stdout.write("No drift: every topic, forum and user counter equals its recount.")
                return
            for item in drift[:SHOWN]:
                self.stdout.write(str(item))
            if len(drift) > SHOWN:
                self.stdout.write(f"... and {len(drift) - SHOWN} more")
            raise CommandError(f"{len(drift)} field(s) drifted from the recount.", returncode=1)
        forum_state_recount()
        self.stdout.write(f"Recounted; {len(drift)} field(s) had drifted and are repaired.")
