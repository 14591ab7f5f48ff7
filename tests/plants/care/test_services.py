"""Care task services (issue 14): defaults from the species, done, snooze, edit."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from apps.plants.care import schedule, services
from apps.plants.care.defaults import task_defaults, watering_interval_days
from apps.plants.models import CareTask, CareTaskDone, PlantSpecies
from apps.plants.services import care_card_toggle
from tests.factories import CareCardFactory, SpeciesFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_watering_follows_light_and_humidity():
    base = SpeciesFactory.build(watering_interval_days=10, light="bright_indirect", humidity="medium")
    sunny_dry = SpeciesFactory.build(watering_interval_days=10, light="full_sun", humidity="high")
    shady = SpeciesFactory.build(watering_interval_days=10, light="low", humidity="low")
    assert watering_interval_days(base) == 10
    assert watering_interval_days(sunny_dry) < 10 < watering_interval_days(shady)


def test_defaults_cover_every_kind_and_switch_off_what_the_table_omits():
    cactus = SpeciesFactory.build(category=PlantSpecies.Category.HOUSEPLANT, humidity="low")
    rows = {row.kind: row for row in task_defaults(cactus)}
    assert set(rows) == {"water", "fertilize", "mist", "repot", "prune"}
    assert not rows["mist"].is_enabled and rows["water"].is_enabled
    assert rows["fertilize"].growing_season_only and not rows["water"].growing_season_only


def test_saving_a_card_creates_its_tasks_once():
    owner, species = UserFactory(), SpeciesFactory()
    card = care_card_toggle(owner=owner, species=species)
    assert CareTask.objects.filter(care_card=card).count() == 5
    assert services.care_tasks_create_defaults(card=card, owner=owner) == 0
    assert CareTask.objects.filter(care_card=card, owner=owner).count() == 5


def test_done_moves_the_due_date_and_keeps_history():
    owner = UserFactory(time_zone="Australia/Sydney")
    card = CareCardFactory(owner=owner)
    services.care_tasks_create_defaults(card=card, owner=owner)
    task = CareTask.objects.get(care_card=card, kind="water")
    today = schedule.local_today(owner.time_zone)
    task = services.care_task_done(task=task, owner=owner)
    assert task.next_due_on == today + timedelta(days=task.interval_days)
    services.care_task_done(task=task, owner=owner)  # the same day again: one entry
    earlier = services.care_task_done(task=task, owner=owner, done_on=today - timedelta(days=3))
    assert earlier.next_due_on == today + timedelta(days=task.interval_days)  # not moved back
    assert CareTaskDone.objects.filter(task=task).count() == 2
    with pytest.raises(ValidationError):
        services.care_task_done(task=task, owner=owner, done_on=today + timedelta(days=1))
    assert CareTaskDone.objects.filter(task=task).count() == 2


def test_snooze_counts_from_today_for_an_overdue_task():
    owner = UserFactory(time_zone="America/New_York")
    card = CareCardFactory(owner=owner)
    services.care_tasks_create_defaults(card=card, owner=owner)
    task = CareTask.objects.get(care_card=card, kind="water")
    today = schedule.local_today(owner.time_zone)
    CareTask.objects.filter(pk=task.pk).update(next_due_on=today - timedelta(days=4))
    assert services.care_task_snooze(task=task, owner=owner, days=3).next_due_on == today + timedelta(days=3)
    with pytest.raises(ValidationError):
        services.care_task_snooze(task=task, owner=owner, days=2)


def test_update_validates_the_interval():
    owner = UserFactory()
    card = CareCardFactory(owner=owner)
    services.care_tasks_create_defaults(card=card, owner=owner)
    task = CareTask.objects.get(care_card=card, kind="mist")
    saved = services.care_task_update(task=task, owner=owner, interval_days=3, is_enabled=True)
    assert saved.is_enabled and saved.next_due_on == schedule.local_today(owner.time_zone) + timedelta(days=3)
    with pytest.raises(ValidationError):
        services.care_task_update(task=task, owner=owner, interval_days=0, is_enabled=True)


def test_a_switched_off_task_is_neither_done_nor_snoozed():
    owner = UserFactory()
    card = CareCardFactory(owner=owner)
    services.care_tasks_create_defaults(card=card, owner=owner)
    task = CareTask.objects.get(care_card=card, kind="water")
    services.care_task_update(task=task, owner=owner, interval_days=7, is_enabled=False)
    before = CareTask.objects.filter(pk=task.pk).values().get()
    for change in (
        lambda: services.care_task_done(task=task, owner=owner),
        lambda: services.care_task_snooze(task=task, owner=owner, days=3),
    ):
        with pytest.raises(ValidationError, match="switched off"):
            change()
    assert CareTask.objects.filter(pk=task.pk).values().get() == before
    assert not CareTaskDone.objects.filter(task=task).exists()


def test_moving_home_to_the_other_hemisphere_re_dates_fertilizing():
    """Found by review: a gardener who sets a Sydney home location in December kept a
    fertilizing date of 1 March (the northern season); it now follows the southern one."""
    from decimal import Decimal

    from apps.accounts.settings_services import profile_update

    owner = UserFactory(time_zone="Australia/Sydney")
    card = CareCardFactory(owner=owner)
    services.care_tasks_create_defaults(card=card, owner=owner)
    fertilize = CareTask.objects.get(care_card=card, kind="fertilize")
    water = CareTask.objects.get(care_card=card, kind="water")
    today = schedule.local_today(owner.time_zone)
    expected_north = schedule.next_due_on(
        after=today, interval_days=fertilize.interval_days, growing_season_only=True, southern=False
    )
    assert fertilize.next_due_on == expected_north
    profile_update(
        user=owner,
        display_name="",
        time_zone=owner.time_zone,
        home_latitude=Decimal("-33.8"),
        home_longitude=Decimal("151.2"),
    )
    fertilize.refresh_from_db()
    assert fertilize.next_due_on == schedule.next_due_on(
        after=today, interval_days=fertilize.interval_days, growing_season_only=True, southern=True
    )
    assert schedule.in_growing_season(fertilize.next_due_on, southern=True)
    assert CareTask.objects.get(pk=water.pk).next_due_on == water.next_due_on  # not seasonal: untouched
    # Back north (no home location counts as northern).
    profile_update(user=owner, display_name="", time_zone=owner.time_zone, home_latitude=None, home_longitude=None)
    fertilize.refresh_from_db()
    assert fertilize.next_due_on == expected_north
