"""Put identification requests that got stuck back in the queue. Run every few minutes from cron
or a timer, e.g. ``*/5 * * * * .venv/bin/python manage.py identification_requeue``.

- ``processing`` past its deadline (``processing_started_at`` +
  ``IDENTIFICATION_PROCESSING_DEADLINE_SECONDS``: the worker died mid-run): back to ``pending``
  and enqueued again, while it has had fewer than ``IDENTIFICATION_MACHINE_MAX_ATTEMPTS`` runs;
  after that ``failed`` (the community can still help) and the owner is told
  (``machine_failed``). The request page says it was retried (``machine_attempts`` > 1).
- ``pending`` for longer than ``--older-than-minutes`` (an enqueue was lost): enqueued again.
- No provider keys at all: both go to the community (``needs_help``).

Each move is a conditional UPDATE, so a run that finishes meanwhile keeps its result.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.panel_versions import panel_versions_bump
from apps.plants.identification.providers import configured_providers
from apps.plants.identification.service import machine_outcome_notify
from apps.plants.identification.tasks import identification_enqueue
from apps.plants.models import IdentificationStatus, PlantIdentificationRequest

BATCH = 1000
PENDING, PROCESSING = IdentificationStatus.PENDING, IdentificationStatus.PROCESSING


class Command(BaseCommand):
    help = "Re-enqueue identification requests whose machine run died or was never queued; fail them after retries."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-minutes", type=int, default=10)

    def handle(self, *args, **options):
        now = timezone.now()
        pending_cutoff = now - timedelta(minutes=max(options["older_than_minutes"], 1))
        deadline_cutoff = now - timedelta(seconds=settings.IDENTIFICATION_PROCESSING_DEADLINE_SECONDS)
        overdue = Q(status=PROCESSING) & (
            Q(processing_started_at__lt=deadline_cutoff)
            | Q(processing_started_at__isnull=True, created_at__lt=pending_cutoff)
        )
        lost = Q(status=PENDING, created_at__lt=pending_cutoff)
        stuck = PlantIdentificationRequest.objects.filter(overdue | lost)
        if not configured_providers():
            with transaction.atomic():
                # Their owners' dashboards show the status (issue 13).
                panel_versions_bump(user_ids=stuck.values("owner_id"))
                moved = stuck.update(status=IdentificationStatus.NEEDS_HELP)
            self.stdout.write(f"No provider keys set: {moved} stuck request(s) handed to the community.")
            return
        retried = failed = 0
        rows = list(stuck.order_by("id").values_list("id", "status", "machine_attempts", "owner_id")[:BATCH])
        for request_id, status, attempts, owner_id in rows:
            with transaction.atomic():
                still = PlantIdentificationRequest.objects.filter(pk=request_id, status=status)
                if status == PROCESSING:
                    still = still.filter(
                        Q(processing_started_at__lt=deadline_cutoff) | Q(processing_started_at__isnull=True)
                    )
                if status == PROCESSING and attempts >= settings.IDENTIFICATION_MACHINE_MAX_ATTEMPTS:
                    if still.update(status=IdentificationStatus.FAILED, processing_started_at=None):
                        panel_versions_bump(user_ids=[owner_id])
                        machine_outcome_notify(
                            request_id=request_id, owner_id=owner_id, status=IdentificationStatus.FAILED
                        )
                        failed += 1
                    continue
                if still.update(status=PENDING, processing_started_at=None):
                    panel_versions_bump(user_ids=[owner_id])
                    identification_enqueue(request_id=request_id)
                    retried += 1
        self.stdout.write(
            self.style.SUCCESS(f"Re-enqueued {retried} stuck identification request(s); {failed} failed after retries.")
        )
