"""``manage.py moderator_flag_recount [--check]``: recompute every user's moderator flag from
the permission tables (``apps.accounts.moderator_flag``), or with ``--check`` report the users
whose flag differs from the truth and exit 1 if any."""

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.moderator_flag import moderator_flag_drift, moderator_flags_refresh

SHOWN = 50


class Command(BaseCommand):
    help = "Recompute User.is_moderator_flag from groups and permissions; --check only reports drift (exit 1)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Report drift without changing anything.")

    def handle(self, *args, check: bool = False, **options):
        drift = moderator_flag_drift()
        if check:
            if not drift:
                self.stdout.write("No drift: every user's moderator flag equals its permissions.")
                return
            for item in drift[:SHOWN]:
                self.stdout.write(str(item))
            if len(drift) > SHOWN:
                self.stdout.write(f"... and {len(drift) - SHOWN} more")
            raise CommandError(
                f"{len(drift)} user(s) have a moderator flag that differs from their permissions.", returncode=1
            )
        moderator_flags_refresh()
        self.stdout.write(f"Recounted; {len(drift)} user(s) had a wrong moderator flag and are repaired.")
