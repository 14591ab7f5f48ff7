from django.core.management.base import BaseCommand

from apps.plants.catalog import load_catalog
from apps.plants.models import PlantSpecies


class Command(BaseCommand):
    help = "Create or update the species catalog from apps/plants/catalog/species.json (idempotent)."

    def handle(self, *args, **options):
        created, updated = load_catalog(PlantSpecies)
        self.stdout.write(self.style.SUCCESS(f"Species catalog: {created} created, {updated} updated."))
