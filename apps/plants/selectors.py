"""Reads for plant pages and dashboard panels. Every selector returns evaluated data."""

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.postgres.search import TrigramWordSimilarity
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import ASin, Cast, Coalesce, Cos, Greatest, Least, NullIf, Power, Radians, Sin, Sqrt
from django.utils import timezone

from apps.accounts.models import User
from apps.core import geo
from apps.core.db import SubqueryCount
from apps.core.precompiled import PrecompiledModels, PrecompiledValues

from .care import schedule, wording
from .consensus import consensus_holds
from .models import (
    CareTask,
    CareTaskDone,
    CareTaskKind,
    IdentificationStatus,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    PlantSpecies,
    SavedCareInstructions,
    SuggestionSource,
    SuggestionVote,
)

REQUEST_LIST_FIELDS = (
    "id",
    "owner_id",
    "status",
    "created_at",
    "thumbnail",
    "notes",
    "accepted_suggestion_id",
    "species__primary_common_name",
    "species__scientific_name",
    "species__slug",
)


def _age(*, now: datetime, column: str) -> ExpressionWrapper:
    """``now - column`` as an interval (a duration)."""
    return ExpressionWrapper(Value(now, output_field=DateTimeField()) - F(column), output_field=DurationField())


class _WeeksAgo(Func):
    """Whole weeks between ``now`` and a timestamp column, rounded down: ``floor((now -
    column) / 1 week)`` as an integer (negative for a timestamp after ``now``). Exact to the
    microsecond on both databases: PostgreSQL's ``EXTRACT(EPOCH FROM interval)`` is numeric,
    and SQLite's datetime difference (Django's ``django_timestamp_diff``) is whole
    microseconds."""

    output_field = IntegerField()
    WEEK_SECONDS = 7 * 24 * 3600

    def __init__(self, *, now: datetime, column: str):
        super().__init__(_age(now=now, column=column))

    def as_postgresql(self, compiler, connection, **extra_context):
        template = f"FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / {self.WEEK_SECONDS})::integer"
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Integer division truncates towards zero: only a future row (negative age) differs
        # from floor, and every such row falls in the newest week anyway.
        template = f"(%(expressions)s / {self.WEEK_SECONDS * 1_000_000})"
        return self.as_sql(compiler, connection, template=template, **extra_context)


class _WeekPhase(Func):
    """Seconds into the current whole week of age, ``(now - column) mod 1 week`` (0 <= x <
    604,800), as a float: when a row's week bucket next moves (issue 13's panel cache)."""

    output_field = FloatField()

    def __init__(self, *, now: datetime, column: str):
        super().__init__(_age(now=now, column=column))

    def as_postgresql(self, compiler, connection, **extra_context):
        template = f"MOD(EXTRACT(EPOCH FROM %(expressions)s), {_WeeksAgo.WEEK_SECONDS})::float"
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # "%%%%": the template's formatting leaves "%%", which the backend reads as one "%".
        week_micros = _WeeksAgo.WEEK_SECONDS * 1_000_000
        template = f"(((%(expressions)s) %%%% {week_micros}) / 1000000.0)"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def _weekly_searches_query(*, owner_id: int, since: datetime, now: datetime):
    return (
        PlantIdentificationRequest.objects.filter(owner_id=owner_id, created_at__gt=since)
        .annotate(weeks_ago=_WeeksAgo(now=now, column="created_at"))
        .values("weeks_ago")
        .annotate(searches=Count("*"), phase=Max(_WeekPhase(now=now, column="created_at")))
        .order_by()
    )


# Compiled once per process (``apps.core.precompiled``): the same statement for every gardener.
_WEEKLY_SEARCHES = PrecompiledValues(_weekly_searches_query, owner_id=int, since=datetime, now=datetime)


def plant_stats_for_user(*, user: User, now: datetime | None = None) -> dict:
    """The ``plant-stats`` panel and the ``plant_stats`` part of ``/api/dashboard/stats/``.

    ``user`` must be a loaded ``User`` row: its maintained counters give the all-time totals
    (identified plants, searches, care cards) without counting rows. One SQL statement then
    counts the searches of each of the last ``DASHBOARD_SPARKLINE_WEEKS`` (12) weeks: one
    ``GROUP BY`` over the window (bounded by the ``(owner, created_at)`` index) on the number
    of whole weeks before ``now`` (``_WeeksAgo``), at most 12 rows, the missing weeks filled
    with 0 here (issue 13: one simple expression instead of 13 filtered counts, which cost
    about 2.7 ms to build before any SQL ran).

    Week ``i`` (oldest first) holds ``window_start + i weeks < created_at <= window_start +
    (i + 1) weeks``; the newest also holds anything after ``now``. "This week" is the last 7
    days, rolling (SPEC), which is exactly the newest week. Returns ``{"total_identified",
    "total_searches", "searches_this_week", "saved_care_cards", "weekly_searches": [int,
    ...oldest first]}``.
    """
    return plant_stats_with_changes_at(user=user, now=now)[0]


def plant_stats_with_changes_at(*, user: User, now: datetime | None = None) -> tuple[dict, datetime | None]:
    """``(plant_stats_for_user(...), changes_at)`` from the same single statement: ``changes_at``
    is when the stats next change with time alone (issue 13's panel cache): a search moves on
    at every whole week of its age and leaves the window after 12, so that moment is ``now + 1
    week - max(age mod 1 week)`` over the searches in the window; ``None`` when it holds none."""
    now = now or timezone.now()
    weeks = settings.DASHBOARD_SPARKLINE_WEEKS
    rows = _WEEKLY_SEARCHES.rows(owner_id=user.pk, since=now - timedelta(weeks=weeks), now=now)
    weekly = [0] * weeks
    for row in rows:
        # created_at > now - 12 weeks, so weeks_ago <= 11; after now it is below 0.
        weekly[weeks - 1 - max(row["weeks_ago"], 0)] += row["searches"]
    phase = max((row["phase"] for row in rows), default=None)
    changes_at = None if phase is None else now + timedelta(seconds=_WeeksAgo.WEEK_SECONDS - phase)
    stats = {
        "total_identified": user.identified_plant_count,
        "total_searches": user.identification_request_count,
        "searches_this_week": weekly[-1],
        "saved_care_cards": user.care_card_count,
        "weekly_searches": weekly,
    }
    return stats, changes_at


def _top_suggestion():
    # The accepted suggestion first, then the most agreed with, then the most probable.
    accepted_first = Case(When(request__accepted_suggestion_id=F("pk"), then=Value(0)), default=Value(1))
    return IdentificationSuggestion.objects.filter(request=OuterRef("pk")).order_by(
        accepted_first, "-vote_count", F("probability").desc(nulls_last=True), "id"
    )


def _build_requests_with_top_suggestion():
    """Requests with their species and their top suggestion's name and probability, built
    from scratch (the expressions resolved anew each time)."""
    top = _top_suggestion()
    return (
        PlantIdentificationRequest.objects.select_related("species")
        .only(*REQUEST_LIST_FIELDS)
        .annotate(
            accepted_free_text=F("accepted_suggestion__free_text_name"),
            top_suggestion_name=Subquery(
                top.annotate(name=Coalesce(NullIf("species__primary_common_name", Value("")), "free_text_name")).values(
                    "name"
                )[:1]
            ),
            top_suggestion_probability=Subquery(top.values("probability")[:1]),
        )
    )


@functools.cache
def _requests_with_top_suggestion_template():
    # Built on first use, not at import, so that the app registry is surely ready. Never
    # evaluated itself (callers get clones), so it never holds a result cache.
    return _build_requests_with_top_suggestion()


def _requests_with_top_suggestion():
    """``_build_requests_with_top_suggestion()``, as a clone of one template built once per
    process: querysets are immutable, and cloning the annotated query costs about 0.1 ms where
    resolving its expressions again cost about 0.8 ms per panel render (issue 13). The fetch
    mode is applied per call, so a changed ``PORTAL_DEFAULT_FETCH_MODE`` still holds."""
    return _requests_with_top_suggestion_template().fetch_mode(settings.PORTAL_DEFAULT_FETCH_MODE)


@dataclass(frozen=True)
class RequestCursor:
    """Keyset position in a gardener's previous searches: the last row shown."""

    created_at: datetime
    pk: int

    def encode(self) -> str:
        return f"{self.created_at.isoformat()}_{self.pk}"

    @classmethod
    def decode(cls, raw: str) -> "RequestCursor":
        """Parse ``"<iso datetime>_<id>"``; raises ``ValueError`` when malformed."""
        stamp, _, pk = raw.rpartition("_")
        created_at = datetime.fromisoformat(stamp)
        if timezone.is_naive(created_at):
            raise ValueError("cursor time must carry a UTC offset")
        try:
            created_at = created_at.astimezone(UTC)
        except OverflowError:
            raise ValueError("cursor time out of range") from None
        if not 1 <= int(pk) <= 2**63 - 1:
            raise ValueError("cursor id out of range")
        return cls(created_at=created_at, pk=int(pk))


def _newest_first(queryset, *, limit: int, after: RequestCursor | None):
    """``queryset`` newest first after the cursor ``after`` (keyset on ``(created_at, id)``,
    no OFFSET scan), one row more than ``limit`` (to learn whether a next page exists)."""
    if after is not None:
        queryset = queryset.filter(Q(created_at__lt=after.created_at) | Q(created_at=after.created_at, id__lt=after.pk))
    return queryset.order_by("-created_at", "-id")[: limit + 1]


def _page_and_cursor(rows: list, *, limit: int) -> tuple[list, RequestCursor | None]:
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, RequestCursor(created_at=rows[-1].created_at, pk=rows[-1].pk)


def _newest_first_page(
    queryset, *, limit: int, after: RequestCursor | None
) -> tuple[list[PlantIdentificationRequest], RequestCursor | None]:
    """One page of ``queryset`` newest first, after the cursor ``after`` (keyset pagination on
    ``(created_at, id)``, no OFFSET scan), in one statement: ``(rows, next_cursor)``,
    ``next_cursor`` ``None`` on the last page."""
    return _page_and_cursor(list(_newest_first(queryset, limit=limit, after=after)), limit=limit)


def _own_requests_page_query(*, owner_id: int, limit: int, after: RequestCursor | None):
    return _newest_first(_requests_with_top_suggestion().filter(owner_id=owner_id), limit=limit, after=after)


@functools.cache
def _first_page_statement(limit: int) -> PrecompiledModels:
    """A gardener's first page of requests (the previous-searches panel, My searches),
    compiled once per process and limit (``apps.core.precompiled``)."""
    return PrecompiledModels(
        lambda *, owner_id: _own_requests_page_query(owner_id=owner_id, limit=limit, after=None), owner_id=int
    )


@functools.cache
def _later_page_statement(limit: int) -> PrecompiledModels:
    """A later page (after a keyset cursor), compiled once per process and limit."""

    def build(*, owner_id, after_created_at, after_pk):
        after = RequestCursor(created_at=after_created_at, pk=after_pk)
        return _own_requests_page_query(owner_id=owner_id, limit=limit, after=after)

    return PrecompiledModels(build, owner_id=int, after_created_at=datetime, after_pk=int)


def identification_requests_for_user(
    *, user: User, limit: int, after: RequestCursor | None = None
) -> tuple[list[PlantIdentificationRequest], RequestCursor | None]:
    """A page of ``user``'s identification requests, newest first, in one SQL statement.

    Each row carries its species (``select_related``) and its top suggestion's name and
    probability (``top_suggestion_name``, ``top_suggestion_probability``; most votes, then
    highest probability). Keyset pagination on ``(created_at, id)`` reads only the page from
    the owner's index whatever the depth (no OFFSET scan). Returns ``(rows, next_cursor)``;
    ``next_cursor`` is ``None`` on the last page.
    """
    if after is None:
        rows = _first_page_statement(limit).rows(owner_id=user.pk, fetch_mode=settings.PORTAL_DEFAULT_FETCH_MODE)
    else:
        rows = _later_page_statement(limit).rows(
            owner_id=user.pk,
            after_created_at=after.created_at,
            after_pk=after.pk,
            fetch_mode=settings.PORTAL_DEFAULT_FETCH_MODE,
        )
    return _page_and_cursor(rows, limit=limit)


CARE_CARD_FIELDS = (
    "id",
    "owner_id",
    "nickname",
    "personal_notes",
    "status",
    "is_favourite",
    "updated_at",
    "species__slug",
    "species__primary_common_name",
    "species__scientific_name",
)


def care_cards_for_user(*, user: User, limit: int | None = None) -> list[SavedCareInstructions]:
    """``user``'s care cards, most recently updated first, each with its species; one statement."""
    queryset = (
        SavedCareInstructions.objects.filter(owner=user)
        .select_related("species")
        .only(*CARE_CARD_FIELDS)
        .order_by("-updated_at", "-id")
    )
    if limit is not None:
        queryset = queryset[:limit]
    return list(queryset)


CARE_HISTORY_LIMIT = 10
CARE_TASK_ORDER = {kind: index for index, kind in enumerate(CareTaskKind.values)}
# The page's cards add the species' short care facts.
CARE_CARD_PAGE_FIELDS = (
    *CARE_CARD_FIELDS,
    "species__id",
    "species__light",
    "species__watering_interval_days",
    "species__humidity",
    "species__temperature_min_c",
    "species__temperature_max_c",
    "species__toxic_to_cats",
    "species__toxic_to_dogs",
    "species__toxic_to_people",
)


def _care_tasks_queryset() -> QuerySet[CareTask]:
    """Care tasks, each with its last ``CARE_HISTORY_LIMIT`` done dates (``recent_done``,
    newest first) in one more statement for any number of tasks: a sliced prefetch, which
    Django runs as ``ROW_NUMBER() OVER (PARTITION BY task_id ...)`` over the ``(task, -done_on,
    -id)`` index, so a task with years of history still costs at most 10 rows."""
    history = CareTaskDone.objects.only("id", "task_id", "done_on").order_by("-done_on", "-id")
    return CareTask.objects.only(
        "id",
        "care_card_id",
        "kind",
        "interval_days",
        "growing_season_only",
        "is_enabled",
        "next_due_on",
        "last_done_on",
    ).prefetch_related(Prefetch("done_history", queryset=history[:CARE_HISTORY_LIMIT], to_attr="recent_done"))


def care_tasks_describe(tasks: list[CareTask], *, user: User) -> dict[str, list[CareTask]]:
    """``tasks`` (loaded with ``_care_tasks_queryset``) as a card shows them: ``{"on": [...],
    "off": [...]}``, the switched-on and switched-off tasks, each in ``CareTaskKind`` order.
    Each task gets ``due`` (a ``wording.DueStatus`` against ``user``'s local today and
    hemisphere) and ``every`` ("every 7 days"). No SQL; ``user`` must be a loaded row
    (``time_zone``, ``home_latitude``)."""
    today = schedule.local_today(user.time_zone)
    southern = schedule.is_southern(user.home_latitude)
    described: dict[str, list[CareTask]] = {"on": [], "off": []}
    for task in sorted(tasks, key=lambda task: CARE_TASK_ORDER.get(task.kind, len(CARE_TASK_ORDER))):
        task.due = wording.due_status(
            next_due_on=task.next_due_on,
            today=today,
            is_enabled=task.is_enabled,
            growing_season_only=task.growing_season_only,
            southern=southern,
        )
        task.every = wording.every_words(task.interval_days)
        described["on" if task.is_enabled else "off"].append(task)
    return described


def care_tasks_for_card(*, card: SavedCareInstructions, user: User) -> dict[str, list[CareTask]]:
    """The tasks of ``card`` (one of ``user``'s own: the caller checked), described as by
    ``care_tasks_describe``, with their recent history; two statements."""
    tasks = list(_care_tasks_queryset().filter(care_card=card, owner=user))
    return care_tasks_describe(tasks, user=user)


def _toxic_to(species: PlantSpecies) -> str:
    """ "cats, dogs and people", "dogs", or "" when the catalog marks the species toxic to none."""
    names = [name for name in ("cats", "dogs", "people") if getattr(species, f"toxic_to_{name}")]
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def care_cards_page_for_user(*, user: User) -> list[SavedCareInstructions]:
    """Everything ``/plants/care-cards/`` shows, in four statements whatever the number of
    cards, tasks or done dates (the user lookup not counted): the cards, the tasks, the tasks'
    history (``_care_tasks_queryset``).

    Each card (most recently updated first) has its species with the short care facts, and:
    ``tasks`` (``care_tasks_describe``), ``toxic_to`` ("cats and dogs", "" when none) and
    ``photo``: ``{"url", "alt", "by"}`` or ``None``. The photo is chosen in SQL: the gardener's
    own photo of the plant (the thumbnail of their newest identified request of that species),
    otherwise the newest community photo of the species (``community_photos_of``: shown by its
    owner, active account; its thumbnail, else the photo; ``by`` is the photographer's
    username), otherwise none. ``user`` must be a loaded row."""
    image = Coalesce(NullIf(F("request__thumbnail"), Value("")), F("image"), output_field=CharField())
    own = (
        PlantIdentificationRequest.objects.filter(
            owner=OuterRef("owner_id"), species=OuterRef("species_id"), status=IdentificationStatus.IDENTIFIED
        )
        .exclude(thumbnail="")
        .order_by(F("identified_at").desc(nulls_last=True), "-id")
    )
    community = community_photos_of(OuterRef("species_id")).order_by(
        F("request__identified_at").desc(nulls_last=True), F("request__id").desc()
    )
    cards = list(
        SavedCareInstructions.objects.filter(owner=user)
        .select_related("species")
        .only(*CARE_CARD_PAGE_FIELDS)
        .annotate(
            own_photo=Subquery(own.values("thumbnail")[:1]),
            community_photo=Subquery(community.values(name=image)[:1]),
            community_photo_by=Subquery(community.values("request__owner__username")[:1]),
        )
        .prefetch_related(Prefetch("care_tasks", queryset=_care_tasks_queryset(), to_attr="task_list"))
        .order_by("-updated_at", "-id")
    )
    for card in cards:
        name = card.nickname or card.species.display_name
        if card.own_photo:
            card.photo = {"url": default_storage.url(card.own_photo), "alt": f"Your photo of {name}", "by": None}
        elif card.community_photo:
            card.photo = {
                "url": default_storage.url(card.community_photo),
                "alt": f"{card.species.display_name}, photographed by {card.community_photo_by}",
                "by": card.community_photo_by,
            }
        else:
            card.photo = None
        card.toxic_to = _toxic_to(card.species)
        card.tasks = care_tasks_describe(card.task_list, user=user)
    return cards


def species_search(*, query: str = "", limit: int = 200, viewer: User | None = None) -> list[PlantSpecies]:
    """Catalog species matching ``query`` (a common or scientific name, or part of one), best
    match first, in one statement. On PostgreSQL trigram similarity ranks the matches and
    forgives typos ("monstra"); elsewhere a case-insensitive substring match. With a signed-in
    ``viewer`` each row carries ``is_saved`` (a care card exists)."""
    queryset = PlantSpecies.objects.all()
    query = " ".join(query.replace("\x00", " ").split())[:100]
    if viewer is not None and viewer.is_authenticated:
        queryset = queryset.annotate(
            is_saved=Exists(SavedCareInstructions.objects.filter(owner=viewer, species=OuterRef("pk")))
        )
    if not query:
        return list(queryset.order_by("primary_common_name")[:limit])
    contains = (
        Q(primary_common_name__icontains=query)
        | Q(scientific_name__icontains=query)
        | Q(common_names__icontains=query)
        | Q(family__iexact=query)
    )
    if connection.vendor == "postgresql":
        queryset = queryset.annotate(
            similarity=Greatest(
                TrigramWordSimilarity(query, "primary_common_name"), TrigramWordSimilarity(query, "scientific_name")
            )
        ).filter(contains | Q(similarity__gte=0.45))
        return list(queryset.order_by("-similarity", "primary_common_name")[:limit])
    return list(queryset.filter(contains).order_by("primary_common_name")[:limit])


SPECIES_COMMUNITY_PHOTOS_LIMIT = 12


def community_photos() -> QuerySet[PlantPhoto]:
    """Every community photo, unordered: the first photo of each identified request whose owner
    allows it (``show_on_species_pages``) and whose account is active. The one rule the species
    page, the care cards page and the public home share (issue 12, issue 14, issue 15)."""
    return PlantPhoto.objects.filter(
        position=0,
        request__status=IdentificationStatus.IDENTIFIED,
        request__show_on_species_pages=True,
        request__owner__is_active=True,
    )


def community_photos_of(species) -> QuerySet[PlantPhoto]:
    """The community photos (``community_photos``) of ``species`` (a ``PlantSpecies``, its id,
    or an ``OuterRef`` to one), unordered."""
    return community_photos().filter(request__species=species)


# What a shown community photo reads: the photo, its request's thumbnail and identification
# time, the owner's username; never the request's location.
COMMUNITY_PHOTO_FIELDS = (
    "id",
    "request_id",
    "image",
    "width",
    "height",
    "request__id",
    "request__thumbnail",
    "request__identified_at",
    "request__owner_id",
    "request__owner__id",
    "request__owner__username",
)
RECENTLY_IDENTIFIED_LIMIT = 6


def recently_identified_plants(*, limit: int = RECENTLY_IDENTIFIED_LIMIT) -> list[PlantPhoto]:
    """The ``limit`` (default 6) newest community photos (``community_photos``: the owner
    allows species-page photos and is active), newest identification first, in one statement.
    Each photo has ``request`` with its thumbnail, ``identified_at``, the owner's username and
    the species' names and slug joined. No location is read: this is shown to signed-out
    visitors (issue 15)."""
    return list(
        community_photos()
        .filter(request__species__isnull=False)
        .select_related("request", "request__owner", "request__species")
        .only(
            *COMMUNITY_PHOTO_FIELDS,
            "request__species_id",
            "request__species__id",
            "request__species__slug",
            "request__species__scientific_name",
            "request__species__primary_common_name",
        )
        .order_by("-request__identified_at", "-request__id")[:limit]
    )


def species_detail(*, slug: str, viewer: User | None, photo_limit: int = SPECIES_COMMUNITY_PHOTOS_LIMIT) -> dict | None:
    """One species by slug and its community photos, in two statements; ``None`` when there is
    no such species.

    Returns ``{"species": PlantSpecies, "community_photos": [PlantPhoto, ...]}``. The species
    carries ``is_saved`` for a signed-in viewer and ``gardener_count``: how many distinct
    active gardeners have an identified request of it (issue 12). The community photos are the first
    photo of each identified request of the species whose owner allows it
    (``show_on_species_pages``) and whose account is active (a deactivated or deleted
    gardener's photos never show), newest identification first, at most ``photo_limit``; each
    has ``request`` with its thumbnail, ``identified_at`` and the owner's username joined. No
    location is read: a species page never shows where a plant was.
    """
    identified = PlantIdentificationRequest.objects.filter(
        species=OuterRef("pk"), status=IdentificationStatus.IDENTIFIED
    )
    # Deactivated and deleted accounts are not counted, as their photos are not shown; a gardener
    # who keeps their photo off the page still identified the plant and counts.
    gardeners = (
        identified.filter(owner__is_active=True)
        .order_by()
        .values("species")
        .annotate(n=Count("owner", distinct=True))
        .values("n")
    )
    queryset = PlantSpecies.objects.filter(slug=slug).annotate(gardener_count=Coalesce(Subquery(gardeners), 0))
    if viewer is not None and viewer.is_authenticated:
        queryset = queryset.annotate(
            is_saved=Exists(SavedCareInstructions.objects.filter(owner=viewer, species=OuterRef("pk")))
        )
    species = queryset.first()
    if species is None:
        return None
    photos = list(
        community_photos_of(species)
        .select_related("request", "request__owner")
        .only(*COMMUNITY_PHOTO_FIELDS)
        .order_by("-request__identified_at", "-request__id")[:photo_limit]
    )
    return {"species": species, "community_photos": photos}


class _SubqueryCountDistinct(Subquery):
    """``(SELECT COUNT(*) FROM (SELECT DISTINCT <field> ...))``: gardeners, not rows."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()

    def __init__(self, queryset, field_name: str, **extra):
        super().__init__(queryset.values(field_name).order_by().distinct(), **extra)


def _same_name(prefix: str = "") -> Q:
    """Rows (through ``prefix``) naming what the outer suggestion names: the same catalog
    species, or the same free text ignoring case (two providers may suggest one species)."""
    return Q(**{f"{prefix}species_id": OuterRef("species_id")}) | Q(
        **{f"{prefix}species__isnull": True, f"{prefix}free_text_name__iexact": OuterRef("free_text_name")}
    )


def _suggestion_name_key(suggestion: IdentificationSuggestion) -> tuple:
    if suggestion.species_id is not None:
        return ("species", suggestion.species_id)
    return ("text", suggestion.free_text_name.casefold())


def suggestions_with_consensus(queryset):
    """Annotate a query over one request's ``IdentificationSuggestion`` rows with the counts of
    ``apps.plants.consensus``, inside the same statement: ``supporters`` (gardeners whose
    current name is this row's name), ``namers`` (gardeners with any current name) and
    ``unnamed_dissent`` (gardeners disagreeing with this name without naming one). A gardener's
    current name is their one agreeing ``SuggestionVote`` on the request (a constraint)."""
    votes = SuggestionVote.objects.filter(request_id=OuterRef("request_id"))
    has_name = SuggestionVote.objects.filter(
        request_id=OuterRef("request_id"), voter_id=OuterRef("voter_id"), agrees=True
    )
    return queryset.annotate(
        supporters=SubqueryCount(votes.filter(_same_name("suggestion__"), agrees=True)),
        namers=SubqueryCount(votes.filter(agrees=True)),
        unnamed_dissent=_SubqueryCountDistinct(
            votes.filter(_same_name("suggestion__"), agrees=False).exclude(Exists(has_name)), "voter_id"
        ),
    )


def consensus_mark(suggestions: list[IdentificationSuggestion]) -> IdentificationSuggestion | None:
    """Set ``is_consensus`` on annotated ``suggestions`` (``suggestions_with_consensus``): true
    on the first row of the one name holding the consensus. Returns that row or ``None``."""
    found = None
    for suggestion in suggestions:
        holds = found is None and consensus_holds(
            supporters=suggestion.supporters, voters=suggestion.namers + suggestion.unnamed_dissent
        )
        suggestion.is_consensus = holds
        if holds:
            found = suggestion
    return found


def identification_request_consensus(*, request_id: int) -> IdentificationSuggestion | None:
    """The suggestion whose name holds the community consensus on request ``request_id``, or
    ``None``; one statement. Its ``name_key`` attribute identifies the name across rows."""
    rows = list(
        suggestions_with_consensus(IdentificationSuggestion.objects.filter(request_id=request_id))
        .select_related("species")
        .only(
            "id",
            "request_id",
            "species_id",
            "free_text_name",
            "species__primary_common_name",
            "species__scientific_name",
        )
        .order_by("-vote_count", F("probability").desc(nulls_last=True), "id")
    )
    found = consensus_mark(rows)
    if found is not None:
        found.name_key = _suggestion_name_key(found)
    return found


def identification_request_detail(*, id_request: PlantIdentificationRequest, viewer: User) -> dict:
    """Photos and suggestions of an already loaded request, in two statements. Each suggestion
    has its species and suggester joined, ``viewer_vote`` (``True`` agree, ``False``
    disagree, ``None``) and ``is_consensus`` (its name holds the community consensus,
    ``apps.plants.consensus``; on one row at most). Returns ``{"photos": [...],
    "suggestions": [...], "consensus": <suggestion or None>}``; sets ``id_request``'s
    ``top_suggestion_name`` for its title."""
    photos = list(
        id_request.photos.only("id", "request_id", "image", "position", "width", "height").order_by("position")
    )
    viewer_votes = SuggestionVote.objects.filter(suggestion=OuterRef("pk"), voter=viewer)
    suggestions = list(
        suggestions_with_consensus(IdentificationSuggestion.objects.filter(request=id_request))
        .select_related("species", "suggested_by")
        .only(
            "id",
            "request_id",
            "free_text_name",
            "probability",
            "source",
            "vote_count",
            "disagree_count",
            "created_at",
            "species__id",
            "species__slug",
            "species__primary_common_name",
            "species__scientific_name",
            "suggested_by__id",
            "suggested_by__username",
        )
        .annotate(viewer_vote=Subquery(viewer_votes.values("agrees")[:1]))
        .order_by("-vote_count", F("probability").desc(nulls_last=True), "id")
    )
    consensus = consensus_mark(suggestions)
    if suggestions:
        # The same top suggestion as the lists' (``_top_suggestion``), so the page's heading and
        # My searches give the request one title.
        top = suggestions[0]
        id_request.top_suggestion_name = (top.species.primary_common_name if top.species else "") or top.free_text_name
    return {"photos": photos, "suggestions": suggestions, "consensus": consensus}


def species_autocomplete(*, query: str, limit: int = 8) -> list[dict]:
    """Up to ``limit`` catalog species for the suggestion box's autocomplete:
    ``[{"scientific_name", "common_name"}]``, best match first; one statement."""
    if len(query.strip()) < 2:
        return []
    return [
        {"scientific_name": species.scientific_name, "common_name": species.primary_common_name}
        for species in species_search(query=query, limit=limit)
    ]


HELP_FILTER_UNSUGGESTED = "unsuggested"
HELP_FILTER_SECOND_OPINION = "second_opinion"
NEAR_ME_KM = 100


def _near_filter(*, latitude: float, longitude: float, km: float) -> tuple[Q, object]:
    """The bounding box of ``apps.core.geo.near_box`` as a ``Q`` (a cheap range test on the
    stored columns)
    and the exact great-circle distance to each row (haversine, kilometres) as an expression,
    which then drops the box's corners."""
    lat_min, lat_max, lon_min, lon_max = geo.near_box(latitude=latitude, longitude=longitude, km=km)
    box = Q(latitude__gte=lat_min, latitude__lte=lat_max)
    if lon_min is not None:
        box &= Q(longitude__gte=lon_min, longitude__lte=lon_max)
    lat1 = math.radians(latitude)
    lat2 = Radians(Cast("latitude", FloatField()))
    lon2 = Radians(Cast("longitude", FloatField()))
    half_dlat = (lat2 - Value(lat1)) / Value(2.0)
    half_dlon = (lon2 - Value(math.radians(longitude))) / Value(2.0)
    inner = Power(Sin(half_dlat), 2) + Value(math.cos(lat1)) * Cos(lat2) * Power(Sin(half_dlon), 2)
    # LEAST(1, ...) guards ASIN against rounding just above 1 for antipodal points.
    distance = Value(2 * geo.EARTH_RADIUS_KM) * ASin(Sqrt(Least(Value(1.0), inner)))
    return box, distance


def help_families() -> list[str]:
    """The plant families of the catalog, sorted, for the Help identify filter; one statement."""
    return list(PlantSpecies.objects.order_by("family").values_list("family", flat=True).distinct())


def identification_requests_needing_help(
    *,
    viewer: User,
    limit: int = 30,
    after: RequestCursor | None = None,
    suggestions: str = "",
    family: str = "",
    near: tuple[float, float] | None = None,
) -> tuple[list[PlantIdentificationRequest], RequestCursor | None]:
    """Other gardeners' requests the community can help with (``needs_help`` or ``failed``),
    newest first, with species, top suggestion and owner name; one statement, whatever the
    filters. Keyset pagination on ``(created_at, id)`` like ``identification_requests_for_user``
    (the partial index ``plants_request_needing_help``). Returns ``(rows, next_cursor)``.

    Filters (issue 12), each optional:

    - ``suggestions="unsuggested"``: no community suggestion yet (machine guesses may exist:
      no gardener has named it).
    - ``suggestions="second_opinion"``: community suggestions exist but none has two or more
      agreeing gardeners yet (``vote_count >= 2``), so one more opinion can settle it.
    - ``family``: a suggestion of any source names a catalog species of this family (exact
      name, any letter case).
    - ``near``: ``(latitude, longitude)`` in degrees; requests whose stored location (possibly
      rounded to 0.2°) is within ``NEAR_ME_KM`` (100 km), by a bounding box and then the exact
      haversine distance. Requests without a location are left out.
    """
    queryset = (
        _requests_with_top_suggestion()
        .filter(status__in=[IdentificationStatus.NEEDS_HELP, IdentificationStatus.FAILED])
        .exclude(owner=viewer)
        .select_related("owner")
        .only(*REQUEST_LIST_FIELDS, "owner__id", "owner__username")
    )
    community = IdentificationSuggestion.objects.filter(request=OuterRef("pk"), source=SuggestionSource.COMMUNITY)
    if suggestions == HELP_FILTER_UNSUGGESTED:
        queryset = queryset.filter(~Exists(community))
    elif suggestions == HELP_FILTER_SECOND_OPINION:
        queryset = queryset.filter(Exists(community), ~Exists(community.filter(vote_count__gte=2)))
    if family:
        queryset = queryset.filter(
            Exists(IdentificationSuggestion.objects.filter(request=OuterRef("pk"), species__family__iexact=family))
        )
    if near is not None:
        box, distance = _near_filter(latitude=near[0], longitude=near[1], km=NEAR_ME_KM)
        queryset = queryset.filter(box).alias(distance_km=distance).filter(distance_km__lte=NEAR_ME_KM)
    return _newest_first_page(queryset, limit=limit, after=after)


def gardener_suggestion_stats_annotations() -> dict:
    """Annotations for a ``User`` queryset (scalar subqueries on ``OuterRef("pk")``, so a
    profile reads them in the same statement as the user row), issue 12:

    - ``suggestions_made``: the gardener's community suggestions (names they put forward; an
      agreement with someone else's name is a vote, not a suggestion).
    - ``suggestions_accepted``: those that became their request's accepted name.
    - ``suggestions_decided``: those on requests that have since been identified (an accepted
      name exists), the base of the agreement rate.
    - ``suggestions_matched``: of the decided ones, those that match the accepted name (the
      accepted suggestion itself, or the same catalog species).

    The agreement rate is ``suggestions_matched / suggestions_decided`` (``None`` when nothing
    is decided yet): a simple, honest measure of how often a gardener's names turn out right.
    Community consensus is not counted as a decision, since it can still change. Each count is
    an index range on ``suggested_by``.
    """
    own = IdentificationSuggestion.objects.filter(suggested_by=OuterRef("pk"), source=SuggestionSource.COMMUNITY)
    decided = own.filter(request__accepted_suggestion__isnull=False)
    return {
        "suggestions_made": SubqueryCount(own),
        "suggestions_accepted": SubqueryCount(own.filter(request__accepted_suggestion=F("pk"))),
        "suggestions_decided": SubqueryCount(decided),
        "suggestions_matched": SubqueryCount(
            decided.filter(
                Q(request__accepted_suggestion=F("pk")) | Q(species__isnull=False, species=F("request__species"))
            )
        ),
    }
