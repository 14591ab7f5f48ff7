"""Care task reads (issue 14)."""

import functools
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import Func, IntegerField, Subquery
from django.utils.formats import date_format

from apps.accounts.models import User
from apps.core.precompiled import PrecompiledModels

from . import wording
from .models import CareTask

# What the due-today panel reads of each task (FETCH_RAISE in tests: nothing else is touched).
DUE_FIELDS = (
    "id",
    "owner_id",
    "kind",
    "next_due_on",
    "care_card__nickname",
    "care_card__species__primary_common_name",
    "care_card__species__scientific_name",
)


@dataclass(frozen=True)
class DueTasks:
    """The ``care-due`` panel's data: ``tasks`` due on or before ``today`` (oldest due first,
    at most the selector's ``limit``), ``due_count`` (all of them, shown or not), and ``next``,
    the first task due after ``today`` when none is due (``None`` otherwise, or when the
    gardener has no enabled task at all)."""

    today: date
    tasks: list[CareTask]
    due_count: int
    next: CareTask | None

    @property
    def more(self) -> int:
        """Due tasks beyond those listed."""
        return self.due_count - len(self.tasks)


def _due_query(*, owner_id: int, today: date, limit: int):
    # COUNT(*) over the gardener's due tasks, without GROUP BY (Func, not an aggregate, so
    # Django adds none): one row, 0 when none is due.
    due_count = (
        CareTask.objects.filter(owner_id=owner_id, is_enabled=True, next_due_on__lte=today)
        .order_by()
        .annotate(n=Func(function="COUNT", template="COUNT(*)", output_field=IntegerField()))
        .values("n")
    )
    return (
        CareTask.objects.filter(owner_id=owner_id, is_enabled=True)
        .select_related("care_card__species")
        .only(*DUE_FIELDS)
        .annotate(due_count=Subquery(due_count, output_field=IntegerField()))
        .order_by("next_due_on", "id")[:limit]
    )


@functools.cache
def _due_statement(limit: int) -> PrecompiledModels:
    """The ``care-due`` statement for one limit, compiled once per process
    (``apps.core.precompiled``, issue 13)."""
    return PrecompiledModels(functools.partial(_due_query, limit=limit), owner_id=int, today=date)


def care_tasks_due_for_user(*, user: User, today: date, limit: int) -> DueTasks:
    """``user``'s enabled care tasks due on or before ``today`` (the gardener's local date,
    ``schedule.local_today(user.time_zone)``; due dates are local dates, ``CareTask``), oldest
    due first (then by id), each with its card's nickname and species names; and, when nothing
    is due, the next task due.

    One statement whatever the number of tasks: the first ``limit`` (>= 1) enabled tasks by
    ``(next_due_on, id)`` read in order from the partial index ``plants_caretask_owner_due``
    ``(owner, next_due_on, id) WHERE is_enabled`` (no sort), split in Python into the due ones
    and the first later one; the number of due tasks comes along as an uncorrelated scalar
    subquery (PostgreSQL runs it once, an index-only range scan of the same index bounded by
    ``today``), so "and N more" is exact without a second statement. The statement is compiled
    once per process (``apps.core.precompiled``).

    Each returned task also carries ``plant_name`` (the card's nickname, else the species'
    common or scientific name), ``next_due_words`` ("Thu 3 Dec", "Wed 29 Nov 2028":
    ``wording.day_words``) and ``overdue_days`` (whole local days past due: 0 when due
    today, negative for ``next``)."""
    rows = _due_statement(limit).rows(owner_id=user.pk, today=today, fetch_mode=settings.PORTAL_DEFAULT_FETCH_MODE)
    for row in rows:
        card = row.care_card
        row.plant_name = card.nickname or card.species.display_name
        row.overdue_days = (today - row.next_due_on).days
        # The care pages' one rule for writing a date (the year only when over half a year away).
        row.next_due_words = f"{date_format(row.next_due_on, 'D')} {wording.day_words(row.next_due_on, today=today)}"
    tasks = [row for row in rows if row.next_due_on <= today]
    later = [row for row in rows if row.next_due_on > today]
    return DueTasks(
        today=today,
        tasks=tasks,
        due_count=rows[0].due_count if rows else 0,
        next=later[0] if later and not tasks else None,
    )
