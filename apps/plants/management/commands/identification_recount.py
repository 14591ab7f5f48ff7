"""``manage.py identification_recount [--check]``: recompute every suggestion's vote counters
from its votes and file every vote under its suggestion's request (``apps.plants.recount``), or
with ``--check`` report drift and exit 1 if any."""

from django.core.management.base import BaseCommand, CommandError

from apps.plants.recount import (
    suggestion_vote_drift,
    suggestion_votes_recount,
    vote_request_drift,
    vote_requests_repair,
)

SHOWN = 50


class Command(BaseCommand):
    help = "Recompute suggestion vote counters from the votes; --check only reports drift (exit 1)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Report drift without changing anything.")

    def handle(self, *args, check: bool = False, **options):
        misfiled = vote_request_drift()
        if misfiled:
            # Repaired before the counters: the consensus counts read the vote's request.
            self.stdout.write(f"{len(misfiled)} vote(s) filed under another request than their suggestion's.")
            if not check:
                vote_requests_repair()
        drift = suggestion_vote_drift()
        if check:
            if misfiled and not drift:
                raise CommandError(f"{len(misfiled)} vote(s) misfiled.", returncode=1)
            if not drift:
                self.stdout.write("No drift: every suggestion's vote counters equal its votes.")
                return
            for item in drift[:SHOWN]:
                self.stdout.write(str(item))
            if len(drift) > SHOWN:
                self.stdout.write(f"... and {len(drift) - SHOWN} more")
            raise CommandError(f"{len(drift)} counter(s) drifted from the votes.", returncode=1)
        suggestion_votes_recount()
        self.stdout.write(f"Recounted; {len(drift)} counter(s) had drifted and are repaired.")
