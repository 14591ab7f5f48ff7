"""The daily care reminder email (issue 14): opt-in on the notification settings page
(``accounts.User.care_reminder_hour``, a local hour 0-23; ``None`` = off).

``manage.py send_care_reminders`` (cron, hourly) calls ``care_reminders_claim``; it mirrors the
notification digest (``apps.notifications.delivery``) and shares its pieces: who may be emailed
(``email_recipients`` / ``recipient_can_receive``), the local-hour rule
(``apps.core.localtime.local_date_from_hour``) and the claim (``apps.core.db.insert_new_returning_pks``).

- **Who**: a gardener with a reminder hour, active, with a confirmed address, whose local clock
  (``time_zone``, zoneinfo; UTC when unknown) reads that hour or later at the run's instant, and
  who has an enabled care task due on or before their local date (due today or overdue).
- **Once a day**: each is claimed by INSERTing ``CareReminderSent(user, local_date)`` with
  ``ON CONFLICT DO NOTHING RETURNING``; the unique constraint is the idempotence key, so a second
  run that local day, or a run on another machine at the same moment, claims nothing. So the
  email goes on the first run at or after the chosen hour (07:59 no, 08:00 or 09:10 yes for 08),
  on a DST day too: a 02:00 that the spring-forward skips is reached by the 03:00 run, a 01:00
  that the fall-back repeats is claimed by its first occurrence.
- **Nothing due, no claim**: a gardener with nothing due gets no email and no row, so a task
  that becomes due later that same local day (an edited interval) is reminded by a later run
  that day; the table records emails, not empty checks.
- **Send**: after the commit a task per ``REMINDER_BATCH_SIZE`` claims sends one email each,
  listing the tasks still due at send time (plant, task, how overdue), with links to the care
  cards page and to the settings page to turn it off, and marks ``sent_at``. A claim whose tasks
  were all done meanwhile, or whose gardener is no longer active or confirmed, sends nothing
  and stays unsent (that day is over for them). A mail server failure is logged and leaves the
  claim unsent.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from itertools import batched

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.core.db import insert_new_returning_pks, unsent_claims_lock
from apps.core.localtime import local_date_from_hour
from apps.notifications.delivery import (
    absolute_url,
    email_recipients,
    emails_send_each,
    notification_settings_link,
    recipient_can_receive,
)

from .models import CareReminderSent, CareTask, CareTaskKind

# How many reminders one task sends (its statements are a constant per batch, not per gardener).
REMINDER_BATCH_SIZE = 200

# The latest local date anywhere on Earth is at most one day after UTC's (UTC+14, Kiribati), so
# no task due after that can be due today for anyone; it bounds the SQL before the per-zone check.
MAX_DAYS_AHEAD_OF_UTC = 1


def _enabled_tasks():
    return CareTask.objects.filter(is_enabled=True)


def care_reminders_due(*, now: datetime) -> dict[int, date]:
    """Gardeners whose care reminder is due at ``now`` (aware): reminder hour set, active with
    a confirmed address, local clock at or after their hour, and an enabled task due on or
    before their local date. Returns ``{user_id: local_date}``; one query (the earliest due
    date per gardener read from the ``(owner, next_due_on)`` index of enabled tasks)."""
    latest_local_date = now.astimezone(UTC).date() + timedelta(days=MAX_DAYS_AHEAD_OF_UTC)
    earliest_due = _enabled_tasks().filter(owner=OuterRef("pk")).order_by("next_due_on").values("next_due_on")[:1]
    candidates = (
        email_recipients()
        .filter(care_reminder_hour__isnull=False)
        .annotate(earliest_due=Subquery(earliest_due))
        .filter(earliest_due__lte=latest_local_date)
        .order_by("pk")
        .values_list("pk", "time_zone", "care_reminder_hour", "earliest_due")
    )
    due = {}
    for user_id, zone_name, hour, earliest in candidates:
        local_date = local_date_from_hour(now=now, time_zone=zone_name, hour=hour)
        if local_date is not None and earliest <= local_date:
            due[user_id] = local_date
    return due


def care_reminders_claim(*, now: datetime | None = None) -> list[int]:
    """Claim today's care reminder of every gardener it is due for (``care_reminders_due``) and
    queue the emails; the claimed ``CareReminderSent`` primary keys.

    In one transaction, INSERT the (user, local date) rows, the unique constraint deciding
    between concurrent runs; after the commit, ``care_reminders_task`` is enqueued per
    ``REMINDER_BATCH_SIZE`` claims. Running it again the same local day claims nothing for a
    gardener who already has that day's row. Statements: 1 (who is due), then 1 per 500
    gardeners due, then one enqueue per batch. ``now`` (aware) defaults to the current time."""
    now = now or timezone.now()
    due = care_reminders_due(now=now)
    if not due:
        return []
    with transaction.atomic():
        claimed = insert_new_returning_pks(
            CareReminderSent,
            fields=("user", "local_date", "created_at", "sent_at"),
            rows=[(user_id, local_date, now, None) for user_id, local_date in sorted(due.items())],
            unique_fields=("user", "local_date"),
        )
        for batch in batched(sorted(claimed), REMINDER_BATCH_SIZE):
            transaction.on_commit(partial(care_reminders_task.enqueue, list(batch)), robust=True)
    return claimed


def _plant_name(task: CareTask) -> str:
    card = task.care_card
    return card.nickname or card.species.primary_common_name or card.species.scientific_name


def _overdue_text(days: int) -> str:
    if days <= 0:
        return "due today"
    return "overdue by 1 day" if days == 1 else f"overdue by {days} days"


def care_reminder_items(tasks: Iterable[CareTask], *, local_date: date) -> list[dict]:
    """The lines of one reminder: for each task of ``tasks`` (with ``care_card__species``
    loaded) due on or before ``local_date``, ``{"plant", "task", "overdue_days", "when"}``,
    most overdue first, then by plant name and task (``CareTaskKind`` order). ``when`` reads
    "due today", "overdue by 1 day" or "overdue by 3 days"."""
    due = sorted(
        (row for row in tasks if row.next_due_on <= local_date),
        key=lambda row: (row.next_due_on, _plant_name(row).casefold(), CareTaskKind.values.index(row.kind)),
    )
    return [
        {
            "plant": _plant_name(row),
            "task": row.get_kind_display(),
            "overdue_days": (local_date - row.next_due_on).days,
            "when": _overdue_text((local_date - row.next_due_on).days),
        }
        for row in due
    ]


def care_reminders_send(*, reminder_ids: Iterable[int], now: datetime | None = None) -> int:
    """Send each unsent care reminder of ``reminder_ids`` (``CareReminderSent`` primary keys):
    one email to its gardener listing their enabled tasks due on or before the claim's local
    date (``care_reminder_items``), with links to the care cards page and to the notification
    settings page (to turn the reminder off). Marks each sent ``sent_at = now``. A claim whose
    gardener has nothing due any more, turned the reminder off, or is no longer active or
    confirmed sends nothing and stays unsent.

    The claims are locked while sent (``FOR UPDATE SKIP LOCKED``), so a task delivered twice
    sends each once. Statements per call, whatever the batch size: the locked read (with the
    user), the due tasks (with card and species), one UPDATE. Returns how many emails were
    sent."""
    ids = sorted(set(reminder_ids))
    if not ids:
        return 0
    now = now or timezone.now()
    settings_link = notification_settings_link()
    care_cards_link = absolute_url(reverse("plants:care-card-list"))
    with transaction.atomic():
        reminders = unsent_claims_lock(CareReminderSent, pks=ids)
        reminders = [
            row for row in reminders if recipient_can_receive(row.user) and row.user.care_reminder_hour is not None
        ]
        if not reminders:
            return 0
        tasks_of: dict[int, list[CareTask]] = defaultdict(list)
        for row in (
            _enabled_tasks()
            .select_related("care_card__species")
            .filter(
                owner__in=[reminder.user_id for reminder in reminders],
                next_due_on__lte=max(reminder.local_date for reminder in reminders),
            )
            .order_by("owner_id", "next_due_on", "pk")
        ):
            tasks_of[row.owner_id].append(row)
        messages = []
        for reminder in reminders:
            items = care_reminder_items(tasks_of.get(reminder.user_id, []), local_date=reminder.local_date)
            if not items:
                continue
            body = render_to_string(
                "plants/email/care_reminder.txt",
                {
                    "user": reminder.user,
                    "local_date": reminder.local_date,
                    "items": items,
                    "count": len(items),
                    "hour": f"{reminder.user.care_reminder_hour:02d}:00",
                    "care_cards_link": care_cards_link,
                    "settings_link": settings_link,
                },
            )
            noun = "task" if len(items) == 1 else "tasks"
            subject = f"Plant care today: {len(items)} {noun} due ({reminder.local_date:%d %b %Y})"
            messages.append(
                (reminder.pk, EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [reminder.user.email]))
            )
        sent = set(emails_send_each(messages))
        if sent:
            CareReminderSent.objects.filter(pk__in=sent).update(sent_at=now)
    return len(sent)


@task
def care_reminders_task(reminder_ids: list[int]) -> int:
    """``care_reminders_send`` for ``reminder_ids``; returns how many emails were sent. Safe to
    deliver twice (a sent claim is marked and locked while it is sent)."""
    return care_reminders_send(reminder_ids=reminder_ids)
