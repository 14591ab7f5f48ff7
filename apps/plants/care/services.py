"""Care task services (issue 14): every change goes through here, locks what it changes, and
bumps the owner's dashboard panel version in the same transaction (issue 13's cache rule)."""

import secrets
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.panel_versions import panel_versions_bump

from ..models import PlantSpecies, SavedCareInstructions
from . import defaults, schedule
from .models import MAX_INTERVAL_DAYS, SNOOZE_DAYS, CareCalendarFeed, CareTask, CareTaskDone

# How far back a gardener may date a "done" (a forgotten entry from last month is fine; a
# typo for another year is not).
DONE_ON_MAX_DAYS_BACK = 365


def care_tasks_create_defaults(*, card: SavedCareInstructions, owner: User, today: date | None = None) -> int:
    """Give ``card`` (owned by ``owner``, a loaded row) the five
    default tasks of its species (``defaults.task_defaults``), each first due one interval after
    ``today`` (default: the owner's local date). Kinds the card already has are left as they
    are (``ON CONFLICT DO NOTHING`` settles a concurrent call). Returns the number of tasks
    created (by this call, unless a concurrent one won the race for some kind)."""
    today = today or schedule.local_today(owner.time_zone)
    southern = schedule.is_southern(owner.home_latitude)
    species = PlantSpecies.objects.only(*defaults.SPECIES_FIELDS).get(pk=card.species_id)
    rows = [
        CareTask(
            care_card=card,
            owner_id=card.owner_id,
            kind=task.kind,
            interval_days=task.interval_days,
            is_enabled=task.is_enabled,
            growing_season_only=task.growing_season_only,
            next_due_on=schedule.next_due_on(
                after=today,
                interval_days=task.interval_days,
                growing_season_only=task.growing_season_only,
                southern=southern,
            ),
        )
        for task in defaults.task_defaults(species)
    ]
    with transaction.atomic():
        present = set(CareTask.objects.filter(care_card=card).values_list("kind", flat=True))
        rows = [row for row in rows if row.kind not in present]
        if rows:
            CareTask.objects.bulk_create(rows, ignore_conflicts=True)
            panel_versions_bump(user_ids=[card.owner_id])
    return len(rows)


def _locked(task: CareTask) -> CareTask:
    locked = CareTask.objects.select_for_update().get(pk=task.pk)
    locked.updated_at = timezone.now()
    return locked


def _refuse_switched_off(task: CareTask) -> None:
    if not task.is_enabled:
        raise ValidationError("This task is switched off: switch it on first.", code="switched_off")


def care_task_done(*, task: CareTask, owner: User, done_on: date | None = None) -> CareTask:
    """Record ``task`` (of ``owner``'s card) as done on ``done_on`` (the owner's local date;
    default today) and move its next due date to one interval after the latest done date (in
    the growing season when the task is seasonal). Marking an earlier date than the last one
    adds it to the history without moving the due date back; the same date twice is one entry.

    Raises ``ValidationError`` for a date in the future or more than ``DONE_ON_MAX_DAYS_BACK``
    days ago, or a task switched off (nothing changes). Returns the task as saved."""
    today = schedule.local_today(owner.time_zone)
    done_on = done_on or today
    if done_on > today:
        raise ValidationError("A task can't be done on a date that hasn't come yet.", code="future")
    if done_on < today - timedelta(days=DONE_ON_MAX_DAYS_BACK):
        raise ValidationError(f"Choose a date within the last {DONE_ON_MAX_DAYS_BACK} days.", code="too_old")
    with transaction.atomic():
        locked = _locked(task)
        _refuse_switched_off(locked)
        CareTaskDone.objects.bulk_create([CareTaskDone(task=locked, done_on=done_on)], ignore_conflicts=True)
        if locked.last_done_on is None or done_on > locked.last_done_on:
            locked.last_done_on = done_on
            locked.next_due_on = schedule.next_due_on(
                after=done_on,
                interval_days=locked.interval_days,
                growing_season_only=locked.growing_season_only,
                southern=schedule.is_southern(owner.home_latitude),
            )
        locked.save(update_fields=["last_done_on", "next_due_on", "updated_at"])
        panel_versions_bump(user_ids=[locked.owner_id])
    return locked


def care_task_snooze(*, task: CareTask, owner: User, days: int) -> CareTask:
    """Put ``task`` off by ``days`` (one of ``SNOOZE_DAYS``: 1, 3 or 7) counted from today or from
    its due date, whichever is later: an overdue task snoozed by 1 day is due tomorrow. Nothing
    goes into the history. Raises ``ValidationError`` for another number of days or a task
    switched off."""
    if days not in SNOOZE_DAYS:
        raise ValidationError(f"Snooze for {', '.join(map(str, SNOOZE_DAYS))} days.", code="snooze_days")
    today = schedule.local_today(owner.time_zone)
    with transaction.atomic():
        locked = _locked(task)
        _refuse_switched_off(locked)
        locked.next_due_on = max(locked.next_due_on, today) + timedelta(days=days)
        locked.save(update_fields=["next_due_on", "updated_at"])
        panel_versions_bump(user_ids=[locked.owner_id])
    return locked


def care_task_update(*, task: CareTask, owner: User, interval_days: int, is_enabled: bool) -> CareTask:
    """Change ``task``'s interval (days, 1..``MAX_INTERVAL_DAYS``) and whether it is switched on.
    A new interval counts from the last done date (or from today when never done), so shortening
    it can make the task due at once. Raises ``ValidationError`` for an interval out of range."""
    if not 1 <= interval_days <= MAX_INTERVAL_DAYS:
        raise ValidationError(f"Choose between 1 and {MAX_INTERVAL_DAYS} days.", code="interval")
    with transaction.atomic():
        locked = _locked(task)
        changed = locked.interval_days != interval_days or (is_enabled and not locked.is_enabled)
        locked.interval_days, locked.is_enabled = interval_days, is_enabled
        if changed:
            locked.next_due_on = schedule.next_due_on(
                after=locked.last_done_on or schedule.local_today(owner.time_zone),
                interval_days=interval_days,
                growing_season_only=locked.growing_season_only,
                southern=schedule.is_southern(owner.home_latitude),
            )
        locked.save(update_fields=["interval_days", "is_enabled", "next_due_on", "updated_at"])
        panel_versions_bump(user_ids=[locked.owner_id])
    return locked


# 32 random bytes, URL-safe base64 without padding: 43 characters, 256 bits (OWASP ASVS 4.0
# 3.5.2 / 2.9: a capability URL needs at least 128 bits; ``secrets`` is the CSPRNG).
CALENDAR_TOKEN_BYTES = 32


def _calendar_token() -> str:
    return secrets.token_urlsafe(CALENDAR_TOKEN_BYTES)


def care_calendar_feed_create(*, owner: User) -> CareCalendarFeed:
    """The calendar feed of ``owner`` (``/plants/care/calendar/<token>.ics``): the existing one,
    else a new one with a fresh token (``CALENDAR_TOKEN_BYTES`` random bytes, 43 URL-safe
    characters). Idempotent: a double click or two tabs get the same token (the one-to-one
    constraint settles a race, ``ON CONFLICT DO NOTHING`` then a read). No panel shows the feed,
    so no panel version changes. Raises nothing for a valid user."""
    CareCalendarFeed.objects.bulk_create(
        [CareCalendarFeed(owner=owner, token=_calendar_token())], ignore_conflicts=True
    )
    return CareCalendarFeed.objects.only("id", "owner_id", "token", "created_at").get(owner=owner)


def care_calendar_feed_reset(*, owner: User) -> CareCalendarFeed:
    """Give ``owner``'s calendar feed a new token (creating the feed when there is none), so
    the old link answers 404 from now on and calendars subscribed to it stop updating. Returns
    the feed with its new token. One ``UPDATE`` (or the create), no lock needed: the last of
    two concurrent resets wins and both old tokens are dead."""
    token = _calendar_token()
    with transaction.atomic():
        updated = CareCalendarFeed.objects.filter(owner=owner).update(token=token, created_at=timezone.now())
        if not updated:
            return care_calendar_feed_create(owner=owner)
    return CareCalendarFeed.objects.only("id", "owner_id", "token", "created_at").get(owner=owner)


def care_tasks_follow_hemisphere(*, owner: User, southern: bool) -> int:
    """Re-date ``owner``'s growing-season-only tasks (fertilizing) for the hemisphere they now
    live in (``southern``; accounts' ``home_hemisphere_changed``): each becomes due one interval
    after its last done date (or today, when never done), moved into the new growing season.
    Returns the number of tasks re-dated; bumps the panel version when any."""
    today = schedule.local_today(owner.time_zone)
    with transaction.atomic():
        tasks = list(CareTask.objects.select_for_update().filter(owner=owner, growing_season_only=True))
        for task in tasks:
            task.next_due_on = schedule.next_due_on(
                after=task.last_done_on or today,
                interval_days=task.interval_days,
                growing_season_only=True,
                southern=southern,
            )
            task.updated_at = timezone.now()
        CareTask.objects.bulk_update(tasks, ["next_due_on", "updated_at"])
        if tasks:
            panel_versions_bump(user_ids=[owner.pk])
    return len(tasks)
