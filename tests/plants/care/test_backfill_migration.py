"""Migration ``plants.0012_care_tasks_for_existing_cards``: cards saved before care tasks existed
get the five default tasks a new card gets (intervals from the species, first due one interval
after the owner's local today, fertilizing in the season of the owner's hemisphere); cards that
have tasks keep theirs, and a second run adds nothing."""

from decimal import Decimal
from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.plants.care import defaults, schedule, services
from apps.plants.models import CareTask, PlantSpecies
from tests import factories

pytestmark = pytest.mark.django_db
MIGRATION = import_module("apps.plants.migrations.0012_care_tasks_for_existing_cards")


def _run_backfill():
    """The migration's function with the historical models it sees (the state just before it);
    it changes no schema, so it runs on today's tables inside the test's transaction."""
    loader = MigrationExecutor(connection).loader
    state_apps = loader.project_state(("plants", "0012_care_tasks_for_existing_cards"), at_end=False).apps
    with connection.schema_editor() as schema_editor:
        MIGRATION.care_tasks_backfill(state_apps, schema_editor)


def test_migration_depends_on_the_care_task_tables():
    assert ("plants", "0011_care_tasks") in MIGRATION.Migration.dependencies


def test_old_cards_get_the_default_tasks_and_new_ones_keep_theirs():
    north = factories.UserFactory(time_zone="America/New_York")
    south = factories.UserFactory(
        time_zone="Australia/Sydney", home_latitude=Decimal("-33.8"), home_longitude=Decimal("151.2")
    )
    monstera = PlantSpecies.objects.get(scientific_name="Monstera deliciosa")
    old_north = factories.CareCardFactory(owner=north, species=monstera)
    old_south = factories.CareCardFactory(owner=south, species=monstera)
    kept = factories.CareCardFactory(owner=north, species=PlantSpecies.objects.exclude(pk=monstera.pk).first())
    services.care_tasks_create_defaults(card=kept, owner=north)
    CareTask.objects.filter(care_card=kept, kind="water").update(interval_days=3)
    before = dict(CareTask.objects.filter(care_card=kept).values_list("kind", "interval_days"))

    _run_backfill()

    expected = {
        d.kind: (d.interval_days, d.is_enabled, d.growing_season_only) for d in defaults.task_defaults(monstera)
    }
    for card, owner in ((old_north, north), (old_south, south)):
        rows = CareTask.objects.filter(care_card=card)
        assert {t.kind: (t.interval_days, t.is_enabled, t.growing_season_only) for t in rows} == expected
        assert set(rows.values_list("owner_id", flat=True)) == {owner.pk}
        today = schedule.local_today(owner.time_zone)
        southern = schedule.is_southern(owner.home_latitude)
        for task in rows:
            assert task.next_due_on == schedule.next_due_on(
                after=today,
                interval_days=task.interval_days,
                growing_season_only=task.growing_season_only,
                southern=southern,
            )
    assert dict(CareTask.objects.filter(care_card=kept).values_list("kind", "interval_days")) == before

    count = CareTask.objects.count()
    _run_backfill()
    assert CareTask.objects.count() == count == 15


def test_nothing_to_do_is_fine():
    _run_backfill()
    assert not CareTask.objects.exists()
