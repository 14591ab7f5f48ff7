"""Give every care card saved before care tasks existed (issue 14) its five default tasks, as a
new card gets them (``care.services.care_tasks_create_defaults``): intervals from the species'
care facts and the generic table (``care.defaults.task_defaults``, which only reads the species
row's attributes, so the historical row serves), each first due one interval after the owner's
local today, fertilizing moved into the growing season of the owner's hemisphere
(``care.schedule``). Cards that already have a task of a kind keep it (``ON CONFLICT DO
NOTHING``); running it again adds nothing. Reversing it removes nothing: a task may have
history by then."""

from django.db import migrations
from django.utils import timezone

BATCH_SIZE = 2000


def care_tasks_backfill(apps, schema_editor):
    from apps.plants.care import defaults, schedule

    card_model = apps.get_model("plants", "SavedCareInstructions")
    task_model = apps.get_model("plants", "CareTask")
    species_model = apps.get_model("plants", "PlantSpecies")
    user_model = apps.get_model("accounts", "User")
    using = schema_editor.connection.alias
    without_tasks = card_model.objects.using(using).filter(care_tasks__isnull=True)
    cards = list(without_tasks.order_by("id").values_list("id", "owner_id", "species_id"))
    species_rows = species_model.objects.using(using).only("id", *defaults.SPECIES_FIELDS)
    tasks_of = {row.pk: defaults.task_defaults(row) for row in species_rows}
    now = timezone.now()
    owners = {
        pk: (schedule.local_today(time_zone, now=now), schedule.is_southern(latitude))
        for pk, time_zone, latitude in user_model.objects.using(using)
        .filter(pk__in=without_tasks.values("owner_id"))
        .values_list("pk", "time_zone", "home_latitude")
    }
    batch = []
    for card_id, owner_id, species_id in cards:
        today, southern = owners[owner_id]
        for task in tasks_of[species_id]:
            batch.append(
                task_model(
                    care_card_id=card_id,
                    owner_id=owner_id,
                    kind=str(task.kind),
                    interval_days=task.interval_days,
                    is_enabled=task.is_enabled,
                    growing_season_only=task.growing_season_only,
                    next_due_on=schedule.next_due_on(
                        after=today,
                        interval_days=task.interval_days,
                        growing_season_only=task.growing_season_only,
                        southern=southern,
                    ),
                    created_at=now,
                    updated_at=now,
                )
            )
        if len(batch) >= BATCH_SIZE:
            task_model.objects.using(using).bulk_create(batch, ignore_conflicts=True)
            batch = []
    task_model.objects.using(using).bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("plants", "0011_care_tasks"),
        ("accounts", "0010_user_care_reminder_hour"),
    ]

    operations = [migrations.RunPython(care_tasks_backfill, migrations.RunPython.noop, elidable=True)]
