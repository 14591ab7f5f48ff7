"""The care calendar feed (issue 14; SPEC "HTTP contract": ``/plants/care/calendar/<token>.ics``):
a gardener's enabled care tasks as an iCalendar object (RFC 5545) written with the ``icalendar``
library, for calendar apps to subscribe to.

The URL is a capability: whoever holds the token reads the feed, with no session (calendar apps
send no cookies). The token is 256 random bits (``services.CALENDAR_TOKEN_BYTES``), found by an
equality lookup on its unique index. That comparison is not constant-time, but it is no usable
timing oracle: the token is stored in clear only because the care cards page shows the link again
(so it cannot be a hash), guessing needs all 43 characters, and any per-prefix timing difference
of a B-tree comparison is drowned by the network and the rest of the request. A wrong, malformed
or reset token answers the site's 404 page; the converter below refuses anything that is not
URL-safe base64 of a plausible length before any SQL.

Choices a calendar app sees:

- One ``VEVENT`` per enabled task, ``UID`` ``care-task-<id>@<host>`` (stable across requests and
  resets), an all-day ``DTSTART`` (``VALUE=DATE``) on the task's next due date (a date in the
  gardener's time zone, hence floating, as all-day dates are) and ``RRULE:FREQ=DAILY;
  INTERVAL=<days>``. A task due only in the growing season adds ``BYMONTH`` with that season's
  months in the gardener's hemisphere (``schedule``), so the calendar skips the months off season.
  Each poll re-reads the due dates, so a task marked done moves in the calendar at the next poll.
- ``DTSTAMP`` and ``LAST-MODIFIED`` are when the task or its card last changed (RFC 5545
  3.8.7.2: without ``METHOD``, ``DTSTAMP`` is the last revision in the store), so the body is the
  same from one poll to the next while nothing changed.
- The alarm: ``TRIGGER:PT9H``, relative to the start of the all-day event, i.e. 09:00 on the due
  day in the calendar's own zone. This is what Apple Calendar writes for its "On day of event
  (9 AM)" all-day alert and Thunderbird honours too; a negative trigger (``-PT15H``) would ring
  the evening before. Some apps (Google Calendar, Outlook) ignore alarms in subscribed calendars
  and use their own default notifications; nothing in the feed can change that.
- ``REFRESH-INTERVAL`` and ``X-PUBLISHED-TTL`` (RFC 7986) suggest polling every 6 hours.
"""

from datetime import UTC, timedelta

from django.db.models import Q
from icalendar import Alarm, Calendar, Event, vDuration

from apps.accounts.models import User
from apps.core.ratelimit import limit_key

from ..models import PlantSpecies
from . import schedule
from .models import CareCalendarFeed, CareTask

PRODID = "-//Plant Community Portal//Care calendar//EN"
ALARM_TRIGGER = timedelta(hours=9)  # 09:00 local on the due day (see the module docstring)
REFRESH_INTERVAL = timedelta(hours=6)

# Resets and creations of the calendar link per gardener and hour: enough for any real use
# (a leaked link is reset once), few enough that a script cannot churn the table.
CALENDAR_LINK_CHANGES_PER_HOUR = 10


def calendar_limit_key(*, user_id: int) -> str:
    """The Redis key counting ``user_id``'s calendar link changes (``CALENDAR_LINK_CHANGES_PER_HOUR``),
    for account deletion to remove."""
    return limit_key("care-calendar:user", str(user_id))


# URL-safe base64 (RFC 4648 section 5) without padding; the tokens we issue are 43 characters.
TOKEN_REGEX = r"[A-Za-z0-9_-]{32,64}"


class CalendarTokenConverter:
    """Path converter ``<care_calendar_token:token>``: matches only URL-safe base64 of 32 to 64
    characters, so a NUL byte, non-ASCII text or a 10,000-character path never reaches the view
    (the resolver answers the site's 404)."""

    regex = TOKEN_REGEX

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


_FEED_FIELDS = ("id", "token", "owner_id", "owner__id", "owner__username", "owner__time_zone", "owner__home_latitude")
_TASK_FIELDS = (
    "id",
    "kind",
    "interval_days",
    "growing_season_only",
    "next_due_on",
    "updated_at",
    "care_card__id",
    "care_card__nickname",
    "care_card__updated_at",
    "care_card__species__id",
    "care_card__species__scientific_name",
    "care_card__species__primary_common_name",
    "care_card__species__light",
    "care_card__species__humidity",
    "care_card__species__temperature_min_c",
    "care_card__species__temperature_max_c",
    "care_card__species__toxic_to_cats",
    "care_card__species__toxic_to_dogs",
    "care_card__species__toxic_to_people",
)


def care_calendar_feed_by_token(*, token: str) -> CareCalendarFeed | None:
    """The feed whose token is exactly ``token`` (a string the converter let through), with
    its owner's username, time zone and home latitude loaded; ``None`` for no such feed or an
    owner who is deactivated. One statement (the unique index on ``token``)."""
    return (
        CareCalendarFeed.objects.select_related("owner")
        .only(*_FEED_FIELDS)
        .filter(Q(token=token) & Q(owner__is_active=True))
        .first()
    )


def care_calendar_feed_of(*, user: User) -> CareCalendarFeed | None:
    """``user``'s feed (its token and when it was made) or ``None`` when they have none yet. One
    statement."""
    return CareCalendarFeed.objects.only("id", "owner_id", "token", "created_at").filter(owner=user).first()


def care_calendar_tasks(*, owner_id: int) -> list[CareTask]:
    """The enabled care tasks of the gardener ``owner_id``, each with its card and the card's
    species (the facts the event description shows), soonest due first. One statement, over the
    ``(owner, next_due_on)`` partial index of enabled tasks."""
    return list(
        CareTask.objects.filter(owner_id=owner_id, is_enabled=True)
        .select_related("care_card__species")
        .only(*_TASK_FIELDS)
        .order_by("next_due_on", "id")
    )


def species_facts_short(species: PlantSpecies) -> str:
    """The care facts of ``species`` in one line, e.g. "Bright, indirect light · humidity
    medium · 16 to 27 °C · toxic to cats and dogs" (or "not known to be toxic")."""
    toxic = [name for name, flag in (("cats", species.toxic_to_cats), ("dogs", species.toxic_to_dogs)) if flag]
    if species.toxic_to_people:
        toxic.append("people")
    toxicity = f"toxic to {' and '.join(toxic)}" if toxic else "not known to be toxic"
    return " · ".join(
        [
            species.get_light_display(),
            f"humidity {species.get_humidity_display().lower()}",
            f"{species.temperature_min_c} to {species.temperature_max_c} °C",
            toxicity,
        ]
    )


def task_summary(task: CareTask) -> str:
    """The event title: the task kind and the plant, "Water Monty" (the card's nickname, else
    the species' common name, else its scientific name)."""
    card = task.care_card
    plant = card.nickname or card.species.primary_common_name or card.species.scientific_name
    return f"{task.get_kind_display()} {plant}"


def _description(task: CareTask, *, cards_url: str, southern: bool) -> str:
    species = task.care_card.species
    every = "every day" if task.interval_days == 1 else f"every {task.interval_days} days"
    if task.growing_season_only:
        every += f", {'September to March' if southern else 'March to September'} only (growing season)"
    return "\n".join(
        [
            f"{task_summary(task)}: {every}.",
            f"{species.display_name} ({species.scientific_name}): {species_facts_short(species)}.",
            "The care facts are general guidance; adjust them to your plant and your home.",
            f"Mark it done on your care cards: {cards_url}",
        ]
    )


def care_calendar_ics(*, owner: User, tasks: list[CareTask], host: str, cards_url: str) -> bytes:
    """The iCalendar object (RFC 5545, UTF-8 bytes with CRLF line ends, folded at 75 octets by
    ``icalendar``) of ``owner``'s ``tasks`` (from ``care_calendar_tasks``): one recurring
    all-day event with a 09:00 alarm per task, as the module docstring describes. ``host``
    ("plants.example") makes the UIDs; ``cards_url`` is the absolute URL of the care cards page.
    No task: a calendar with no event (RFC 5545 asks for at least one component, but calendar
    apps and the ``icalendar`` parser take an empty one as "nothing scheduled", which is what it
    is; a made-up placeholder event would be worse). Sends no SQL (everything it reads is loaded)."""
    southern = schedule.is_southern(owner.home_latitude)
    season = sorted(schedule.SOUTHERN_GROWING_MONTHS if southern else schedule.NORTHERN_GROWING_MONTHS)
    name = f"Plant care — {owner.username}"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", owner.time_zone)
    calendar.add("refresh-interval", vDuration(REFRESH_INTERVAL), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    for task in tasks:
        summary = task_summary(task)
        changed = max(task.updated_at, task.care_card.updated_at).astimezone(UTC)
        rule = {"freq": "daily", "interval": task.interval_days}
        if task.growing_season_only:
            rule["bymonth"] = season
        event = Event()
        event.add("uid", f"care-task-{task.pk}@{host}")
        event.add("dtstamp", changed)
        event.add("last-modified", changed)
        event.add("summary", summary)
        event.add("dtstart", task.next_due_on)  # a date: VALUE=DATE, an all-day event
        event.add("rrule", rule)
        event.add("description", _description(task, cards_url=cards_url, southern=southern))
        event.add("url", cards_url)
        event.add("transp", "TRANSPARENT")  # a reminder, not busy time
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", ALARM_TRIGGER)
        event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()
