"""Put identification requests that got stuck (a worker died mid-run, an enqueue was lost)
back in the queue. Run every few minutes from cron or a timer, e.g.
``*/10 * * * * .venv/bin/python manage.py identification_requeue``."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from apps.plants.identification.providers import configured_providers
from apps.plants.identification.tasks import identification_enqueue
from apps.plants.models import IdentificationStatus, PlantIdentificationRequest


class Command(BaseCommand):
    help = "Re-enqueue identification requests left pending or processing for too long."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-minutes", type=int, default=10)

    def handle(self, *args, **options):
        cutoff = timezone.now() - timedelta(minutes=max(options["older_than_minutes"], 1))
        stuck = PlantIdentificationRequest.objects.filter(
            status__in=[IdentificationStatus.PENDING, IdentificationStatus.PROCESSING], created_at__lt=cutoff
        )
        if not configured_providers():
            moved = stuck.update(status=IdentificationStatus.NEEDS_HELP)
            self.stdout.write(f"No provider keys set: {moved} stuck request(s) handed to the community.")
            return
        ids = list(stuck.values_list("id", flat=True)[:1000])
        for request_id in ids:
            with transaction.atomic():
                PlantIdentificationRequest.objects.filter(pk=request_id).update(status=IdentificationStatus.PENDING)
                identification_enqueue(request_id=request_id)
        self.stdout.write(self.style.SUCCESS(f"Re-enqueued {len(ids)} stuck identification request(s)."))
