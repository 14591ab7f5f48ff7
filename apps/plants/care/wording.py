"""How a care task's schedule reads on a page (issue 14): "due today", "overdue by 2 days",
"in 5 days", "in season from 1 Mar". Pure functions over local dates, no SQL; the dates are
the gardener's own (``schedule.local_today``), so "today" is their today, not the server's."""

from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format

from . import schedule


@dataclass(frozen=True)
class DueStatus:
    """``words``: the phrase shown ("overdue by 2 days"); ``state``: ``"overdue"``, ``"today"``,
    ``"later"``, ``"season"`` (a seasonal task waiting for the growing season) or ``"off"``
    (switched off), for styling and tests; ``days``: ``next_due_on - today`` in whole days."""

    words: str
    state: str
    days: int


def _days(count: int) -> str:
    return f"{count} day{'' if count == 1 else 's'}"


def day_words(day: date, *, today: date) -> str:
    """A due date as the care pages write it: "3 Dec", with the year when it lies more than half
    a year from ``today`` ("29 Nov 2028"), so a date a year or more away never reads as this
    week, while the next few months need no year."""
    return date_format(day, "j M" if abs((day - today).days) <= 182 else "j M Y")


def every_words(interval_days: int) -> str:
    """ "every day", "every 7 days" (``interval_days`` >= 1)."""
    return "every day" if interval_days == 1 else f"every {interval_days} days"


def due_status(
    *,
    next_due_on: date,
    today: date,
    is_enabled: bool = True,
    growing_season_only: bool = False,
    southern: bool = False,
) -> DueStatus:
    """The due phrase of a task next due on ``next_due_on`` for a gardener whose local date is
    ``today``. A task due on or before today is due whatever the season (the ``care-due`` rule,
    ``next_due_on <= today``); a seasonal task due later while today lies outside the growing
    season of the gardener's hemisphere (``southern``) reads "in season from <date>"."""
    days = (next_due_on - today).days
    if not is_enabled:
        return DueStatus("switched off", "off", days)
    if days < 0:
        return DueStatus(f"overdue by {_days(-days)}", "overdue", days)
    if days == 0:
        return DueStatus("due today", "today", days)
    if growing_season_only and not schedule.in_growing_season(today, southern=southern):
        return DueStatus(f"in season from {day_words(next_due_on, today=today)}", "season", days)
    if days == 1:
        return DueStatus("due tomorrow", "later", days)
    if days > 60:
        return DueStatus(f"in {_days(days)} ({day_words(next_due_on, today=today)})", "later", days)
    return DueStatus(f"in {_days(days)}", "later", days)
