"""Daily trust-level pass for account age: run from cron or a systemd timer, e.g.
``17 3 * * * cd /srv/portal && .venv/bin/python manage.py update_trust_levels``."""

from django.core.management.base import BaseCommand

from apps.accounts.services import trust_levels_update_all


class Command(BaseCommand):
    help = "Promote gardeners whose approved posts and account age now reach the next trust level (never demotes)."

    def handle(self, *args, **options):
        promoted = trust_levels_update_all()
        self.stdout.write(self.style.SUCCESS(f"Trust levels: {promoted} gardener(s) promoted."))
