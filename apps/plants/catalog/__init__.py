"""The species catalog the project writes itself (``species.json``) and its loader."""

import json
from pathlib import Path

from django.utils.text import slugify

CATALOG_PATH = Path(__file__).with_name("species.json")


def catalog_entries() -> list[dict]:
    """Return the catalog as a list of dicts (the keys of ``PlantSpecies`` fields)."""
    return json.loads(CATALOG_PATH.read_text(encoding="utf-8"))


def load_catalog(species_model) -> tuple[int, int]:
    """Create or update every catalog species through ``species_model`` (the real model or a
    migration's historical one). Idempotent: keyed on ``scientific_name``. Returns
    ``(created, updated)``."""
    created = updated = 0
    for entry in catalog_entries():
        defaults = dict(entry)
        scientific_name = defaults.pop("scientific_name")
        defaults["slug"] = slugify(scientific_name)
        defaults["primary_common_name"] = (entry["common_names"] or [scientific_name])[0]
        _, was_created = species_model.objects.update_or_create(scientific_name=scientific_name, defaults=defaults)
        created += was_created
        updated += not was_created
    return created, updated
