"""Benchmark-sized demo data: ``manage.py seed_demo --scale small|large`` (PostgreSQL only).

``large`` is the size a popular community reaches (issue "Performance at scale"): 100,000
gardeners, 100,000 topics with 1,000,000 posts, 1,000,000 identification requests (each with a
photo; identified and needs-help ones with 1-3 machine suggestions, some with a community one
and votes) and 50,000 care cards. ``small`` is the same shape at 1/50 for ``make bench``.

Shape (all drawn from ``random.Random(f"{seed}:{part}")``, so a seed gives the same rows; times
are relative to the run):

- Skew: the demo ``gardener`` writes a fixed share of the replies and identification
  requests (``ScaleSizes.top_share``, 1 %: about 10,000 of each at the large scale), so the
  most active gardener is always the same account. Everyone else is drawn by rank from a
  power law, ``rank = 1 + floor((A - 1) * u ** p)`` with ``u`` uniform, over the ``A``
  gardeners who ever do that kind of thing (most gardeners never post), with ``p`` chosen so
  that the busiest of them writes a quarter of the gardener's share: a few hundred busy
  gardeners, then a long tail of quiet ones.
- History: gardeners joined over the last 3 years; forum and identification history covers
  the last 2 years, a little busier recently; a row is never older than its author's account,
  a reply never older than its topic. Replies arrive log-normally after the topic (median 10
  hours); a few topics are busy (hundreds of posts), most have a handful.
- Rules: trust levels follow SPEC "Domain" from the approved posts and account age, computed
  in SQL after the load; a gardener still at level ``new`` has their posts of the last 2 days
  in the review queue; 0.3 % of replies are deleted.

Speed (the issue asks for under 15 minutes on two cores): one precomputed password hash for
every generated gardener (argon2 costs ~0.1 s a hash), the 8-image Pillow pool of the demo
seed shared by all requests, a few hundred texts rendered once and reused, ids assigned in
Python (in time order, as a live site would) so every table is written once with PostgreSQL
``COPY`` (psycopg's ``cursor.copy``, a sender thread overlapping generation and the server),
the secondary indexes of the big tables dropped for the load and built once afterwards,
foreign-key triggers off for the load when the role may do that and every foreign key checked
afterwards by one anti-join per key, and the maintained counters recomputed by two set-based
``UPDATE``s (every user, every forum; topics are written with theirs) instead of per-row
correlated subqueries (at the large scale ``user_counters_recount()`` takes ~40 s and
``forum_counters_recount()`` ~20 s on two busy cores, against ~12 s for both here); a sample is
then checked against the services' own ``user_counters_recount``. ``VACUUM (ANALYZE)`` ends the run so the
planner sees the sizes and index-only scans work, as they would on a settled database.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.db.models import NOT_PROVIDED
from django.utils import timezone

from apps.accounts.models import TRUST_LEVEL_ORDER, TrustLevel, User
from apps.core.models import ModerationAction
from apps.forum.markdown import render_markdown
from apps.forum.models import Forum, Post, Report, Topic
from apps.plants.models import (
    CareCardStatus,
    IdentificationStatus,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    PlantSpecies,
    SavedCareInstructions,
    SuggestionSource,
    SuggestionVote,
)

from .accounts import GARDENER, MODERATOR, MODERATORS_GROUP, NEWBIE, OTHER_PASSWORD, SeedSizes, _Member
from .images import image_pool_store
from .texts import (
    CARE_NOTES,
    CITIES,
    FORUM_WEIGHTS,
    FORUMS,
    FREE_TEXT_NAMES,
    NICKNAMES,
    PESTS,
    PINNED_THEME,
    REQUEST_NOTES,
    SPOTS_SHORT,
    USERNAME_STEMS,
    _mid_sentence,
)

DAY = 86_400.0
MEMBERSHIP_DAYS = 3 * 365
HISTORY_DAYS = 2 * 365
REVIEW_WINDOW_DAYS = 2  # a level-"new" gardener's posts this recent still wait for a moderator
PROGRESS_EVERY = 10_000


@dataclass(frozen=True)
class ScaleSizes:
    """Rows of each kind for one ``--scale``. ``posts`` includes each topic's opening post.
    ``text_templates`` is how many topic texts (an opening post and its replies) are written
    and rendered once, then reused."""

    name: str
    users: int
    topics: int
    posts: int
    requests: int
    care_cards: int
    text_templates: int
    top_share: float = 0.01  # of replies and requests written by the gardener (topics: half)

    @property
    def planned_rows(self) -> int:
        """Rough total of rows written (photos ~ requests, suggestions ~ 1.8 per request,
        votes ~ 0.6 per request): the progress bar's total."""
        return self.users + self.topics + self.posts + int(self.requests * 4.4) + self.care_cards


SCALES: dict[str, ScaleSizes] = {
    "small": ScaleSizes("small", users=2_000, topics=2_000, posts=20_000, requests=20_000, care_cards=1_000,
                        text_templates=120),
    "large": ScaleSizes("large", users=100_000, topics=100_000, posts=1_000_000, requests=1_000_000,
                        care_cards=50_000, text_templates=500),
}

# Share of all gardeners who ever write each kind of row, and the share of those rows the most
# active gardener (rank 0, the demo ``gardener``) writes, relative to ``ScaleSizes.top_share``.
POPULATION = {"replies": 0.35, "topics": 0.25, "requests": 0.60, "care_cards": 0.30, "votes": 0.50}
TOP_SHARE = {"replies": 1.0, "topics": 0.5, "requests": 1.0, "care_cards": 1.0, "votes": 0.1}  # x scale.top_share


class ScaleUnavailable(Exception):
    """The database cannot take a scaled seed (not PostgreSQL); ``str`` says why and what to do."""


@dataclass
class ScaledSeedResult:
    """What :func:`scaled_data_seed` did: ``rows`` written per table, ``seconds`` per step,
    the most active gardener and a quiet one (usernames), and how the counters were checked."""

    scale: ScaleSizes
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    most_active: str = GARDENER.username
    quiet: str | None = None
    foreign_keys_checked: int = 0
    counters_checked_users: int = 0
    fk_triggers_disabled: bool = False
    indexes_rebuilt: int = 0
    other_password: str = OTHER_PASSWORD
    accounts: tuple = (GARDENER, MODERATOR, NEWBIE)


def ensure_postgresql() -> None:
    """Raise :class:`ScaleUnavailable` unless the default database is PostgreSQL."""
    if connection.vendor != "postgresql":
        raise ScaleUnavailable(
            f"--scale small/large writes millions of rows with PostgreSQL COPY and set-based updates; "
            f"this database is {connection.vendor} ({settings.DATABASES['default']['NAME']}). Point DATABASE_URL at a "
            "PostgreSQL database of its own, e.g. `createdb -h 127.0.0.1 -U postgres portal_bench` and "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench, then migrate and run it again."
        )


def scaled_seed_present() -> str | None:
    """The scale whose data the database holds (``"small"``, ``"large"``), read from the
    comment :func:`scaled_data_seed` puts on the ``accounts_user`` table, or ``None``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(%s::regclass, 'pg_class')", [User._meta.db_table])
        comment = (cursor.fetchone() or [None])[0] or ""
    if not comment.startswith("seed_demo --scale "):
        return None
    scale = comment.split()[2]
    return scale if scale in SCALES and User.objects.filter(username__iexact=GARDENER.username).exists() else None


# --- The run ------------------------------------------------------------------------------


def scaled_data_seed(
    *,
    scale: ScaleSizes,
    seed: int,
    now: datetime | None = None,
    on_step: Callable[[str], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
    vacuum: bool = True,
) -> ScaledSeedResult:
    """Write ``scale``'s data into an empty PostgreSQL database (no demo data; see
    :func:`scaled_data_flush`) in one transaction, then ``VACUUM (ANALYZE)`` the tables
    (``vacuum=False`` skips that, e.g. inside a test's transaction).

    ``on_step(label)`` is called before each step, ``on_rows(n)`` after every batch of rows
    written (a progress bar). Raises :class:`ScaleUnavailable` on another database, and
    ``RuntimeError`` when a foreign key check or the counter check finds a wrong row (the
    transaction is rolled back).
    """
    ensure_postgresql()
    builder = _ScaledBuilder(scale=scale, seed=seed, now=now or timezone.now(), on_rows=on_rows or (lambda n: None))
    result = builder.result
    steps: Sequence[tuple[str, Callable[[], None]]] = (
        ("Hashing the 4 demo passwords", builder.hash_passwords),
        ("Drawing the image pool and writing the text pool", builder.prepare_pools),
        (f"Writing {scale.users:,} gardeners", builder.write_users),
        (f"Writing forums, {scale.topics:,} topics and {scale.posts:,} posts", builder.write_forum),
        (f"Writing {scale.requests:,} identification requests, photos, suggestions and votes", builder.write_requests),
        (f"Writing {scale.care_cards:,} care cards", builder.write_care_cards),
        ("Writing moderation log and reports", builder.write_moderation),
        ("Building the secondary indexes dropped for the load", builder.build_indexes),
        ("Checking every foreign key (one anti-join each)", builder.check_foreign_keys),
        ("Recounting counters and trust levels (set-based)", builder.recount),
        ("Checking counters against user_counters_recount", builder.check_counters),
    )
    with transaction.atomic():
        builder.begin()
        for label, step in steps:
            if on_step is not None:
                on_step(label)
            started = time.perf_counter()
            step()
            result.seconds[label] = time.perf_counter() - started
        builder.finish()
    if vacuum:
        if on_step is not None:
            on_step("VACUUM (ANALYZE) of the seeded tables")
        started = time.perf_counter()
        builder.vacuum_analyze()
        result.seconds["VACUUM (ANALYZE)"] = time.perf_counter() - started
    result.quiet = quiet_gardener_username()
    return result


def quiet_gardener_username() -> str | None:
    """A quiet gardener, picked the same way every time: of the generated accounts with at
    least one identification request, post, topic and care card, the one with the fewest
    requests and posts (then the lowest id)."""
    return (
        User.objects.exclude(username__in=[GARDENER.username, MODERATOR.username, NEWBIE.username])
        .filter(is_superuser=False, identification_request_count__gte=1, post_count__gte=1, topic_count__gte=1,
                care_card_count__gte=1)
        .order_by(models.F("identification_request_count") + models.F("post_count"), "id")
        .values_list("username", flat=True)
        .first()
    )


BIG_MODELS = (Topic, Post, PlantIdentificationRequest, PlantPhoto, IdentificationSuggestion, SuggestionVote)
SEEDED_MODELS = (
    User, Forum, Topic, Post, Report, ModerationAction, PlantIdentificationRequest, PlantPhoto,
    IdentificationSuggestion, SuggestionVote, SavedCareInstructions,
)


def _content_models() -> list[type[models.Model]]:
    """Every model of the forum and plants apps except the species catalog: the rows a flush
    truncates. New models there are included without a change here."""
    found = []
    for label in ("forum", "plants"):
        found += [m for m in django_apps.get_app_config(label).get_models() if m is not PlantSpecies]
    return found


def scaled_data_flush() -> dict[str, int]:
    """Delete demo data fast enough for a million rows: ``TRUNCATE`` of every forum and
    plants table but the species catalog, then delete the moderation log entries not written
    by a superuser, rows of other tables that point at a non-superuser (group memberships,
    admin log...), and every non-superuser account. Returns ``{"table": rows deleted}``
    (``-1`` for a truncated table). PostgreSQL only."""
    ensure_postgresql()
    deleted: dict[str, int] = {}
    quote = connection.ops.quote_name
    tables = [m._meta.db_table for m in _content_models()]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(quote(t) for t in tables))
        deleted |= dict.fromkeys(tables, -1)
        cursor.execute(
            f"DELETE FROM {quote(ModerationAction._meta.db_table)} WHERE actor_id IS NULL OR actor_id IN "
            f"(SELECT id FROM {quote(User._meta.db_table)} WHERE NOT is_superuser)"
        )
        deleted[ModerationAction._meta.db_table] = cursor.rowcount
        # Whatever else points at an account (found in the catalog, so tables other engineers
        # add are covered): delete the rows of the accounts that go.
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, a.attname
            FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND c.confrelid = %s::regclass
            """,
            [User._meta.db_table],
        )
        done = set(tables) | {ModerationAction._meta.db_table}
        for table, column in cursor.fetchall():
            if table.strip('"') in done:
                continue
            cursor.execute(
                f"DELETE FROM {table} WHERE {quote(column)} IN "
                f"(SELECT id FROM {quote(User._meta.db_table)} WHERE NOT is_superuser)"
            )
            deleted[table] = deleted.get(table, 0) + cursor.rowcount
        cursor.execute(f"DELETE FROM {quote(User._meta.db_table)} WHERE NOT is_superuser")
        deleted[User._meta.db_table] = cursor.rowcount
        cursor.execute(f"COMMENT ON TABLE {quote(User._meta.db_table)} IS NULL")
    return deleted


# --- Helpers ------------------------------------------------------------------------------


def _power_exponent(population: int, top_share: float) -> float:
    """``p`` such that rank 0 of ``floor(population * u ** p)`` is drawn with probability
    ``top_share`` (``P(u ** p < 1 / population) = population ** (-1 / p)``); at least 1."""
    if population <= 1:
        return 1.0
    return max(1.0, math.log(population) / -math.log(top_share))


class _Ranked:
    """Draw an author: the gardener (rank 0) with probability ``top_share``, else a rank of
    the power law over ranks 1 to ``population - 1`` whose first rank gets a quarter of the
    gardener's share, so the gardener is the most active by a wide margin at any size."""

    def __init__(self, ranks: list[int], population: int, top_share: float) -> None:
        self.ranks = ranks
        self.population = max(2, min(population, len(ranks)))
        self.top_share = top_share
        self.power = _power_exponent(self.population - 1, top_share / 4)

    def draw(self, rng: random.Random) -> int:
        if rng.random() < self.top_share:
            return self.ranks[0]
        return self.ranks[1 + int((self.population - 1) * rng.random() ** self.power)]


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@dataclass(slots=True)
class _User:
    id: int
    joined: float
    posts_before_review: int = 0  # posts older than the review window (approved)


@dataclass(slots=True)
class _TopicRow:
    id: int
    forum_id: int
    poster: int
    created: float
    template: int
    approved: bool
    pinned: bool = False
    locked: bool = False
    post_count: int = 0
    last_post_at: float = 0.0
    last_post_key: tuple = (0.0, 0)
    last_poster: int | None = None


class _ScaledBuilder:
    """One scaled seeding run; the steps are called in order by :func:`scaled_data_seed`."""

    def __init__(self, *, scale: ScaleSizes, seed: int, now: datetime, on_rows: Callable[[int], None]) -> None:
        self.scale = scale
        self.seed = seed
        self.now_dt = now
        self.now = now.timestamp()
        self.on_rows = on_rows
        self.result = ScaledSeedResult(scale=scale, seed=seed)
        self.species = sorted(PlantSpecies.objects.all(), key=lambda s: s.scientific_name)
        if not self.species:
            raise ValueError("The species catalog is empty; run migrations (or load_species_catalog) first.")
        self.species_ids = [s.pk for s in self.species]
        self.hashes: dict[str, str] = {}
        self.users: list[_User] = []
        self.fk_disabled = False
        self.deferred_indexes: list[tuple[str, str]] = []  # (name, CREATE INDEX statement)

    def rng(self, part: str) -> random.Random:
        return random.Random(f"{self.seed}:{self.scale.name}:{part}")

    def _next_id(self, model: type[models.Model]) -> int:
        return (model.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1

    # Transaction set-up -----------------------------------------------------------------

    def begin(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                # Foreign keys are triggers; a bulk load runs without them (as pg_restore
                # --disable-triggers does) and check_foreign_keys verifies every key after.
                cursor.execute("SET LOCAL session_replication_role = replica")
                self.fk_disabled = True
            # Secondary indexes of the big tables (those not backing a primary key or unique
            # constraint) are dropped for the load and built once at the end: one sort each
            # instead of a million random inserts. DDL is transactional: a failure restores them.
            cursor.execute(
                """
                SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                FROM pg_index i
                WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                ORDER BY 1
                """,
                [[m._meta.db_table for m in BIG_MODELS]],
            )
            self.deferred_indexes = cursor.fetchall()
            for name, _definition in self.deferred_indexes:
                cursor.execute(f"DROP INDEX {name}")
        self.result.fk_triggers_disabled = self.fk_disabled

    def build_indexes(self) -> None:
        """Build the secondary indexes dropped for the load (``CREATE INDEX`` as migrations
        defined them, read back with ``pg_get_indexdef``)."""
        with connection.cursor() as cursor:
            for _name, definition in self.deferred_indexes:
                cursor.execute(definition)
        self.result.indexes_rebuilt = len(self.deferred_indexes)

    def finish(self) -> None:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            if self.fk_disabled:
                cursor.execute("SET LOCAL session_replication_role = origin")
            for model in SEEDED_MODELS:
                table = quote(model._meta.db_table)
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))",
                    [model._meta.db_table],
                )
            cursor.execute(
                f"COMMENT ON TABLE {quote(User._meta.db_table)} IS %s",
                [f"seed_demo --scale {self.scale.name} --seed {self.seed} at {self.now_dt.isoformat(timespec='seconds')}"],
            )

    def vacuum_analyze(self) -> None:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for model in SEEDED_MODELS:
                cursor.execute(f"VACUUM (ANALYZE) {quote(model._meta.db_table)}")

    # COPY -------------------------------------------------------------------------------

    def _copy(self, model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple]) -> int:
        """``COPY`` ``rows`` (tuples in the order of ``columns``, database column names) into
        ``model``'s table; every other concrete column gets its field default (a column added
        later by a migration keeps working). Returns the number of rows written."""
        from psycopg.copy import QueuedLibpqWriter

        extra_columns, extra_values = [], []
        for f in model._meta.concrete_fields:
            if f.column in columns or f.db_default is not NOT_PROVIDED:
                continue
            if f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            elif f.blank and f.empty_strings_allowed:
                value = ""
            else:
                raise ValueError(f"{model.__name__}.{f.name} has no default; the scaled seed must set it.")
            extra_columns.append(f.column)
            extra_values.append(f.get_db_prep_save(value, connection))
        extra = tuple(extra_values)
        quote = connection.ops.quote_name
        sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in (*columns, *extra_columns))}) FROM STDIN"
        written = 0
        with connection.cursor() as wrapper:
            cursor = wrapper.cursor
            with cursor.copy(sql, writer=QueuedLibpqWriter(cursor)) as copy:
                write = copy.write_row
                for row in rows:
                    write(row + extra if extra else row)
                    written += 1
                    if written % PROGRESS_EVERY == 0:
                        self.on_rows(PROGRESS_EVERY)
        self.on_rows(written % PROGRESS_EVERY)
        self.result.rows[model._meta.db_table] = self.result.rows.get(model._meta.db_table, 0) + written
        return written

    # Steps ------------------------------------------------------------------------------

    def hash_passwords(self) -> None:
        for password in (GARDENER.password, MODERATOR.password, NEWBIE.password, OTHER_PASSWORD):
            self.hashes[password] = make_password(password)

    def prepare_pools(self) -> None:
        """The 8 shared images, and texts rendered once: ``text_templates`` topics (subject,
        opening post, 6 replies), request notes and care-card notes."""
        self.images = image_pool_store(rng=self.rng("images")) if self.scale.requests else []
        # The demo builder's text helpers need a builder; borrow one (nothing is saved).
        from .builder import _DemoBuilder

        demo = _DemoBuilder(sizes=SeedSizes(), seed=self.seed, now=self.now_dt)
        demo.forums_by_slug = {slug: Forum(name=name, slug=slug) for name, slug, _ in FORUMS}
        rng = self.rng("texts")
        nobody = _Member(user=User(username="someone"), weight=1.0, joined=self.now_dt)
        slugs = [slug for _, slug, _ in FORUMS]
        rendered: dict[str, str] = {}

        def html(source: str) -> str:
            if source not in rendered:
                rendered[source] = render_markdown(source)
            return rendered[source]

        self.templates: list[tuple[str, str, str, list[tuple[str, str]]]] = []  # (forum slug, subject, opening, replies)
        self.templates_by_forum: dict[str, list[int]] = {slug: [] for slug in slugs}
        for index in range(self.scale.text_templates):
            slug = slugs[index % len(slugs)]
            plan = demo._new_topic(rng, forum_slug=slug, poster=nobody, created=self.now_dt, used=set())
            opening = plan.posts[0].source
            replies = []
            for position in range(6):
                source = demo._reply_source(rng, plan, by_author=position == 5)
                replies.append((source, html(source)))
            self.templates.append((slug, plan.topic.subject, opening, [(opening, html(opening)), *replies]))
            self.templates_by_forum[slug].append(index)
        demo.topics.clear()
        welcome = demo._new_topic(
            rng, forum_slug="show-and-tell", poster=nobody, created=self.now_dt, used=set(), theme=PINNED_THEME,
            subject="Welcome to the Plant Community Portal: start here",
            source="Welcome! Be kind, say where your plant lives, and read the "
            "[species catalog](/plants/species/) for general care guidance.",
        )
        self.pinned_template = (welcome.topic.subject, welcome.posts[0].source, html(welcome.posts[0].source))
        self.request_notes = []
        for _ in range(400):
            context = demo._context(rng, rng.choice(self.species))
            self.request_notes.append(rng.choice(REQUEST_NOTES).format(**context))
        self.care_notes = {
            status: [
                text.format(spot_short=spot, interval=7, days=days, pest=pest)
                for text in texts for spot in SPOTS_SHORT[:3] for days, pest in ((5, PESTS[0]), (12, PESTS[2]))
            ]
            for status, texts in CARE_NOTES.items()
        }

    def write_users(self) -> None:
        rng = self.rng("users")
        total = self.scale.users
        first_id = self._next_id(User)
        now = self.now
        # Named accounts first: the gardener (rank 0, the most active), the moderator (rank 3),
        # the newbie (joined 3.4 days ago, a few rows of its own, outside the ranking).
        named = [
            (GARDENER, now - 1000 * DAY), (MODERATOR, now - 1090 * DAY), (NEWBIE, now - 3.4 * DAY),
        ]
        numbers = list(range(1, total * 3 + 1))
        rng.shuffle(numbers)

        def rows() -> Iterator[tuple]:
            for index in range(total):
                user_id = first_id + index
                if index < len(named):
                    account, joined = named[index]
                    username, password = account.username, account.password
                else:
                    # Recent years busier: more gardeners joined lately.
                    joined = now - MEMBERSHIP_DAYS * DAY * rng.random() ** 0.7
                    username = f"{USERNAME_STEMS[numbers[index] % len(USERNAME_STEMS)]}_{numbers[index]}"
                    password = OTHER_PASSWORD
                self.users.append(_User(id=user_id, joined=joined))
                last_login = joined + (now - joined) * (0.6 + 0.4 * rng.random())
                is_moderator = username == MODERATOR.username
                yield (
                    user_id, self.hashes[password], _dt(last_login), False,
                    "Robin" if username == GARDENER.username else "", "Gardener" if username == GARDENER.username else "",
                    is_moderator, True, _dt(joined), username, f"{username}@example.com", TrustLevel.NEW.value,
                    is_moderator, _dt(joined + rng.uniform(120, 5400)), 0, 0, 0, 0, 0, 0,
                )

        self._copy(
            User,
            ("id", "password", "last_login", "is_superuser", "first_name", "last_name", "is_staff", "is_active",
             "date_joined", "username", "email", "trust_level", "trust_level_set_by_moderator", "email_confirmed_at",
             "approved_post_count", "post_count", "topic_count", "identification_request_count",
             "identified_plant_count", "care_card_count"),
            rows(),
        )
        self.gardener, self.moderator, self.newbie = self.users[0], self.users[1], self.users[2]
        Group.objects.get_or_create(name=MODERATORS_GROUP)[0].user_set.add(self.moderator.id)
        # Ranks: the gardener first, the moderator fourth, everyone else shuffled.
        others = [u.id for u in self.users[3:]]
        rng.shuffle(others)
        self.ranks = [self.gardener.id, *others[:2], self.moderator.id, *others[2:]]
        self.user_by_id = {u.id: u for u in self.users}
        count = len(self.ranks)
        self.draw = {
            kind: _Ranked(self.ranks, int(count * POPULATION[kind]), TOP_SHARE[kind] * self.scale.top_share)
            for kind in POPULATION
        }

    def _when(self, rng: random.Random, author: _User, *, after: float | None = None) -> float:
        """A time in the author's life and the history window (after ``after``), busier lately."""
        start = max(author.joined, self.now - HISTORY_DAYS * DAY, after or 0.0)
        return start + (self.now - start) * rng.random() ** 0.8

    def write_forum(self) -> None:
        rng = self.rng("forum")
        now = self.now
        forums = Forum.objects.bulk_create(
            Forum(name=name, slug=slug, description=description, position=index)
            for index, (name, slug, description) in enumerate(FORUMS, start=1)
        )
        self.result.rows[Forum._meta.db_table] = len(forums)
        forum_ids = [forum.pk for forum in forums]
        slug_of = {forum.pk: forum.slug for forum in forums}
        topics_total = max(self.scale.topics, len(forums) + 2)
        replies_total = max(self.scale.posts - topics_total, 0)

        # Topics: two pinned house-rules topics per forum by the moderator, the newbie's one in
        # the review queue, the rest by rank.
        plans: list[tuple[float, int, int, int, bool, bool]] = []  # (created, forum, poster, template, pinned, by newbie)
        for forum_id in forum_ids:
            for _ in range(2):
                plans.append((now - (HISTORY_DAYS - rng.uniform(0, 5)) * DAY, forum_id, self.moderator.id, -1, True, False))
        plans.append((now - 0.7 * DAY, forum_ids[0], self.newbie.id, self.templates_by_forum[slug_of[forum_ids[0]]][0], False, True))
        cum = list(itertools.accumulate(FORUM_WEIGHTS))
        while len(plans) < topics_total:
            poster = self.user_by_id[self.draw["topics"].draw(rng)]
            forum_id = forum_ids[bisect.bisect_right(cum, rng.random() * cum[-1])]
            template = rng.choice(self.templates_by_forum[slug_of[forum_id]])
            plans.append((self._when(rng, poster), forum_id, poster.id, template, False, False))
        plans.sort(key=lambda plan: plan[0])
        first_topic = self._next_id(Topic)
        topics = [
            _TopicRow(id=first_topic + i, forum_id=f, poster=p, created=c, template=t, approved=True, pinned=pin)
            for i, (c, f, p, t, pin, _) in enumerate(plans)
        ]
        newbie_topics = {t.id for t in topics if t.poster == self.newbie.id}

        # Replies: a topic drawn by weight (a few busy threads), a poster by rank, a time after
        # both the topic and the poster's sign-up.
        weights = list(itertools.accumulate(
            0.0 if t.id in newbie_topics else min(rng.paretovariate(1.3), 300.0) for t in topics
        ))
        posts: list[tuple[float, int, int, int, bool]] = []  # (created, topic index, poster, text index, deleted)
        for index, topic in enumerate(topics):
            posts.append((topic.created, index, topic.poster, 0, False))
        newbie_replies = 2
        welcome_index = max(i for i, t in enumerate(topics) if t.pinned)
        for n in range(replies_total):
            index = bisect.bisect_right(weights, rng.random() * weights[-1])
            index = min(index, len(topics) - 1)
            topic = topics[index]
            if n < newbie_replies:
                poster = self.newbie
                created = now - rng.uniform(0.1, 2.0) * DAY
                index = welcome_index
                created = max(created, topics[index].created + 60)
            else:
                poster = self.user_by_id[self.draw["replies"].draw(rng)]
                delay = math.exp(rng.gauss(math.log(10 * 3600), 1.6))
                created = topic.created + delay
                if created >= now:
                    created = topic.created + (now - topic.created) * rng.random()
                if poster.joined > created:
                    created = poster.joined + (now - poster.joined) * rng.random()
            posts.append((created, index, poster.id, 1 + rng.randrange(6), rng.random() < 0.003))
        posts.sort(key=lambda post: post[0])

        # Level "new" at the end of the load (SPEC: 5 approved posts and 7 days for basic):
        # such a gardener's posts of the last 2 days still wait in the review queue.
        review_from = now - REVIEW_WINDOW_DAYS * DAY
        for created, _, poster, _, deleted in posts:
            if created < review_from and not deleted:
                self.user_by_id[poster].posts_before_review += 1
        basic = settings.TRUST_LEVEL_REQUIREMENTS["basic"]

        def still_new(user: _User) -> bool:
            if user.id == self.moderator.id:
                return False
            return user.posts_before_review < basic["approved_posts"] or now - user.joined < basic["account_age_days"] * DAY

        first_post = self._next_id(Post)
        post_rows: list[tuple] = []
        for offset, (created, index, poster, text, deleted) in enumerate(posts):
            topic = topics[index]
            post_id = first_post + offset
            opening = text == 0
            approved = not (created >= review_from and still_new(self.user_by_id[poster]))
            if opening:
                topic.approved = approved
            elif not topic.approved:
                approved = approved and topic.approved
            if topic.template < 0 and opening:
                source, html = self.pinned_template[1], self.pinned_template[2]
            elif topic.template < 0:
                source, html = self.templates[topic.id % len(self.templates)][3][text]
            else:
                source, html = self.templates[topic.template][3][text]
            if approved and not deleted:
                topic.post_count += 1
                key = (created, post_id)
                if key > topic.last_post_key:
                    topic.last_post_key, topic.last_poster = key, poster
            post_rows.append((post_id, topic.id, poster, source, html, opening, _dt(created), approved, False, deleted))
        old = [t for t in topics if not t.pinned and t.created < now - 400 * DAY]
        for topic in rng.sample(old, min(len(old), max(2, len(topics) // 200))):
            topic.locked = True

        def topic_rows() -> Iterator[tuple]:
            for t in topics:
                subject = self.pinned_template[0] if t.template < 0 else self.templates[t.template][1]
                last_post_at = t.last_post_key[0] if t.post_count else t.created
                # No public post: the topic's own time and poster (apps.forum.recount's definition).
                last_poster = t.last_poster if t.post_count else t.poster
                yield (t.id, t.forum_id, t.poster, subject, _dt(t.created), t.approved, t.locked, t.pinned, False,
                       _dt(last_post_at), last_poster, t.post_count)

        self._copy(
            Topic,
            ("id", "forum_id", "poster_id", "subject", "created_at", "is_approved", "is_locked", "is_pinned",
             "is_deleted", "last_post_at", "last_poster_id", "post_count"),
            topic_rows(),
        )
        self._copy(
            Post,
            ("id", "topic_id", "poster_id", "source", "html", "is_opening_post", "created_at", "is_approved",
             "is_hidden", "is_deleted"),
            post_rows,
        )
        self.topic_ids = [t.id for t in topics]
        self.post_sample = [row[0] for row in post_rows[-5000:] if row[7] and not row[9] and not row[5]]
        self.pinned_topics = [(t.id, t.created) for t in topics if t.pinned]
        del post_rows, posts

    def _request_status(self, rng: random.Random, created: float) -> str:
        if self.now - created < 3600:
            return rng.choice([IdentificationStatus.PENDING, IdentificationStatus.PROCESSING, IdentificationStatus.IDENTIFIED]).value
        roll = rng.random()
        status = IdentificationStatus.IDENTIFIED if roll < 0.68 else IdentificationStatus.NEEDS_HELP if roll < 0.88 else IdentificationStatus.FAILED
        return status.value

    def write_requests(self) -> None:
        """Requests in time order, each written with its photo, suggestions and votes; in
        chunks, so four ``COPY`` streams take turns and memory stays bounded."""
        rng = self.rng("identifications")
        now = self.now
        owners: list[tuple[float, int]] = [(now - 1.1 * DAY, self.newbie.id)]
        while len(owners) < self.scale.requests:
            owner = self.user_by_id[self.draw["requests"].draw(rng)]
            owners.append((self._when(rng, owner), owner.id))
        owners.sort()
        next_request = self._next_id(PlantIdentificationRequest)
        next_photo = self._next_id(PlantPhoto)
        next_suggestion = self._next_id(IdentificationSuggestion)
        next_vote = self._next_id(SuggestionVote)
        voters = self.draw["votes"]
        species_ids = self.species_ids
        chunk = 50_000
        for start in range(0, len(owners), chunk):
            requests, photos, suggestions, votes = [], [], [], []
            for created, owner_id in owners[start:start + chunk]:
                request_id = next_request
                next_request += 1
                status = IdentificationStatus.NEEDS_HELP.value if owner_id == self.newbie.id else self._request_status(rng, created)
                thumb, photo, width, height = self.images[rng.randrange(len(self.images))]
                made = []  # (suggestion row, species)
                if status in (IdentificationStatus.IDENTIFIED, IdentificationStatus.NEEDS_HELP):
                    identified = status == IdentificationStatus.IDENTIFIED
                    source = (SuggestionSource.PLANT_ID if rng.random() < 0.5 else SuggestionSource.PLANTNET).value
                    count = rng.randint(1, 3)
                    community = (identified and rng.random() < 0.2) or (not identified and rng.random() < 0.6)
                    picked = rng.sample(species_ids, count)
                    for position, species_id in enumerate(picked):
                        if community and position == count - 1 and count > 1:
                            break
                        if identified and not community and position == 0:
                            probability = round(rng.uniform(0.72, 0.99), 4)
                        else:
                            probability = round(rng.uniform(0.03, 0.45) / (position + 1), 4)
                        when = min(now, created + rng.uniform(4, 40))
                        made.append([next_suggestion, request_id, species_id, "", probability, source, None,
                                     rng.choices((0, 1, 2), weights=(6, 2, 1))[0], when])
                        next_suggestion += 1
                    if community:
                        for _attempt in range(6):
                            helper = voters.draw(rng)
                            if helper != owner_id and self.user_by_id[helper].joined < created:
                                break
                        else:
                            helper = self.moderator.id
                        when = created + (now - created) * rng.random() ** 3
                        species_id, name = (rng.choice(species_ids), "") if identified or rng.random() < 0.5 else (None, rng.choice(FREE_TEXT_NAMES))
                        made.append([next_suggestion, request_id, species_id, name, None, SuggestionSource.COMMUNITY.value,
                                     helper, rng.randint(2, 5) if identified else rng.randint(0, 3), when])
                        next_suggestion += 1
                accepted_id = species = identified_at = None
                for row in made:
                    wanted, taken = row[7], {owner_id, row[6]}
                    voted = 0
                    for _ in range(wanted):
                        for _attempt in range(6):
                            voter = voters.draw(rng)
                            if voter not in taken and self.user_by_id[voter].joined < row[8]:
                                taken.add(voter)
                                voted += 1
                                votes.append((next_vote, row[0], voter, True, _dt(row[8] + (now - row[8]) * rng.random() ** 2)))
                                next_vote += 1
                                break
                    row[7] = voted
                if status == IdentificationStatus.IDENTIFIED and made:
                    community_rows = [r for r in made if r[5] == SuggestionSource.COMMUNITY.value and r[2] is not None]
                    best = community_rows[0] if community_rows else max(made, key=lambda r: r[4] or 0)
                    accepted_id, species = best[0], best[2]
                    identified_at = _dt(min(now, max(best[8], created) + rng.uniform(60, 5400)))
                for row in made:
                    suggestions.append((row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], 0, _dt(row[8])))
                lat = lon = None
                exact = False
                if rng.random() < 0.4:
                    city_lat, city_lon = CITIES[rng.randrange(len(CITIES))]
                    exact = rng.random() < 0.3
                    places = Decimal("0.00001") if exact else Decimal("0.01")
                    lat = Decimal(f"{city_lat + rng.uniform(-0.08, 0.08):.5f}").quantize(places)
                    lon = Decimal(f"{city_lon + rng.uniform(-0.08, 0.08):.5f}").quantize(places)
                requests.append((
                    request_id, owner_id, self.request_notes[rng.randrange(len(self.request_notes))], thumb, lat, lon,
                    exact, status, _dt(created), identified_at, accepted_id, species,
                ))
                photos.append((next_photo, request_id, photo, 0, width, height))
                next_photo += 1
            self._copy(
                PlantIdentificationRequest,
                ("id", "owner_id", "notes", "thumbnail", "latitude", "longitude", "location_is_exact", "status",
                 "created_at", "identified_at", "accepted_suggestion_id", "species_id"),
                requests,
            )
            self._copy(PlantPhoto, ("id", "request_id", "image", "position", "width", "height"), photos)
            self._copy(
                IdentificationSuggestion,
                ("id", "request_id", "species_id", "free_text_name", "probability", "source", "suggested_by_id",
                 "vote_count", "disagree_count", "created_at"),
                suggestions,
            )
            self._copy(SuggestionVote, ("id", "suggestion_id", "voter_id", "agrees", "created_at"), votes)

    def write_care_cards(self) -> None:
        rng = self.rng("care-cards")
        now = self.now
        statuses = list(CareCardStatus)
        weights = [10, 12, 35, 15, 12, 6]
        owned: dict[int, set[int]] = {}
        cards: list[tuple] = []
        next_id = self._next_id(SavedCareInstructions)
        names = {s.pk: s.display_name for s in self.species}
        forced = [(self.newbie.id, CareCardStatus.PLANNING.value)]
        attempts = 0
        while len(cards) < self.scale.care_cards and attempts < self.scale.care_cards * 20:
            attempts += 1
            if forced:
                owner_id, status = forced.pop()
            else:
                owner_id = self.draw["care_cards"].draw(rng)
                status = rng.choices(statuses, weights=weights)[0].value
            taken = owned.setdefault(owner_id, set())
            if len(taken) >= len(self.species_ids):
                continue
            species_id = rng.choice(self.species_ids)
            while species_id in taken:
                species_id = rng.choice(self.species_ids)
            taken.add(species_id)
            created = self._when(rng, self.user_by_id[owner_id], after=now - 300 * DAY)
            updated = created + (now - created) * rng.random()
            nickname = rng.choice(NICKNAMES).format(name=_mid_sentence(names[species_id]))[:80]
            notes = rng.choice(self.care_notes[CareCardStatus(status)]) if rng.random() < 0.85 else ""
            cards.append((next_id, owner_id, species_id, nickname, notes, status, rng.random() < 0.25, _dt(created), _dt(updated)))
            next_id += 1
        cards.sort(key=lambda card: card[7])
        self._copy(
            SavedCareInstructions,
            ("id", "owner_id", "species_id", "nickname", "personal_notes", "status", "is_favourite", "created_at",
             "updated_at"),
            cards,
        )

    def write_moderation(self) -> None:
        rng = self.rng("moderation")
        actions = [
            ModerationAction(actor_id=self.moderator.id, action="topic.pin", target_type="topic", target_id=str(topic_id),
                             reason="House rules and how-to")
            for topic_id, _ in self.pinned_topics
        ]
        ModerationAction.objects.bulk_create(actions)
        self.result.rows[ModerationAction._meta.db_table] = len(actions)
        reports = []
        for post_id in rng.sample(self.post_sample, min(20, len(self.post_sample))):
            reporter = self.draw["replies"].draw(rng)
            reports.append(Report(post_id=post_id, reporter_id=reporter, reason=Report.Reason.OFF_TOPIC,
                                  detail="Not really about plants.", created_at=self.now_dt - timedelta(hours=rng.uniform(1, 40))))
        Report.objects.bulk_create(reports, ignore_conflicts=True)
        self.result.rows[Report._meta.db_table] = len(reports)

    def check_foreign_keys(self) -> None:
        """Every foreign key of the seeded tables points at a row: one hash anti-join per key
        (the load ran without the per-row trigger checks)."""
        quote = connection.ops.quote_name
        checked = 0
        with connection.cursor() as cursor:
            for model in SEEDED_MODELS:
                for f in model._meta.concrete_fields:
                    if not isinstance(f, models.ForeignKey):
                        continue
                    target = f.related_model._meta
                    cursor.execute(
                        f"SELECT COUNT(*) FROM {quote(model._meta.db_table)} c WHERE c.{quote(f.column)} IS NOT NULL "
                        f"AND NOT EXISTS (SELECT 1 FROM {quote(target.db_table)} p "
                        f"WHERE p.{quote(f.target_field.column)} = c.{quote(f.column)})"
                    )
                    orphans = cursor.fetchone()[0]
                    if orphans:
                        raise RuntimeError(f"{orphans} rows of {model._meta.db_table}.{f.column} point at no {target.db_table} row")
                    checked += 1
        self.result.foreign_keys_checked = checked

    def recount(self) -> None:
        """The maintained counters, from the rows, by set-based statements: one ``UPDATE``
        for every user (the same definitions as ``user_counters_recount``, which runs six
        correlated subqueries per user), trust levels by SPEC's rules in the same statement,
        and the forums' counters and last activity (the topics' were written exact)."""
        req = settings.TRUST_LEVEL_REQUIREMENTS
        q = connection.ops.quote_name
        user, post, topic = q(User._meta.db_table), q(Post._meta.db_table), q(Topic._meta.db_table)
        request, card = q(PlantIdentificationRequest._meta.db_table), q(SavedCareInstructions._meta.db_table)
        levels = TRUST_LEVEL_ORDER[::-1][:-1]  # veteran, trusted, basic
        case = " ".join(
            f"WHEN COALESCE(p.approved, 0) >= {int(req[level.value]['approved_posts'])} AND "
            f"u.date_joined <= %(now)s - interval '{int(req[level.value]['account_age_days'])} days' THEN '{level.value}'"
            for level in levels
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH p AS (
                    SELECT poster_id AS id, COUNT(*) FILTER (WHERE NOT is_deleted) AS posts,
                           COUNT(*) FILTER (WHERE NOT is_deleted AND is_approved) AS approved
                    FROM {post} GROUP BY poster_id
                ), t AS (
                    SELECT poster_id AS id, COUNT(*) AS topics FROM {topic} WHERE NOT is_deleted GROUP BY poster_id
                ), r AS (
                    SELECT owner_id AS id, COUNT(*) AS requests,
                           COUNT(*) FILTER (WHERE status = %(identified)s) AS identified
                    FROM {request} GROUP BY owner_id
                ), c AS (
                    SELECT owner_id AS id, COUNT(*) AS cards FROM {card} GROUP BY owner_id
                )
                UPDATE {user} AS target SET
                    post_count = COALESCE(p.posts, 0),
                    approved_post_count = COALESCE(p.approved, 0),
                    topic_count = COALESCE(t.topics, 0),
                    identification_request_count = COALESCE(r.requests, 0),
                    identified_plant_count = COALESCE(r.identified, 0),
                    care_card_count = COALESCE(c.cards, 0),
                    trust_level = CASE WHEN u.trust_level_set_by_moderator THEN u.trust_level {case} ELSE 'new' END
                FROM {user} AS u
                    LEFT JOIN p ON p.id = u.id LEFT JOIN t ON t.id = u.id
                    LEFT JOIN r ON r.id = u.id LEFT JOIN c ON c.id = u.id
                WHERE target.id = u.id AND NOT u.is_superuser
                """,
                {"identified": IdentificationStatus.IDENTIFIED.value, "now": self.now_dt},
            )
            cursor.execute(f"UPDATE {user} SET trust_level = %s WHERE id = %s", [TrustLevel.VETERAN.value, self.moderator.id])
        self._forum_counters()

    def _forum_counters(self) -> None:
        """``Forum`` counters and last activity as ``forum_counters_recount`` defines them
        (visible topics; post totals from the topics' counters; the latest topic with
        posts), one grouped statement instead of per-forum subqueries over every topic."""
        q = connection.ops.quote_name
        forum, topic = q(Forum._meta.db_table), q(Topic._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {forum} AS f SET topic_count = COALESCE(s.topics, 0), post_count = COALESCE(s.posts, 0),
                    last_topic_id = l.id, last_poster_id = l.last_poster_id, last_post_at = l.last_post_at
                FROM {forum} AS f2
                LEFT JOIN (
                    SELECT forum_id, COUNT(*) AS topics, SUM(post_count) AS posts FROM {topic}
                    WHERE is_approved AND NOT is_hidden AND NOT is_deleted GROUP BY forum_id
                ) s ON s.forum_id = f2.id
                LEFT JOIN LATERAL (
                    SELECT id, last_poster_id, last_post_at FROM {topic} t
                    WHERE t.forum_id = f2.id AND t.is_approved AND NOT t.is_hidden AND NOT t.is_deleted
                    ORDER BY t.last_post_at DESC, t.id DESC LIMIT 1
                ) l ON TRUE
                WHERE f.id = f2.id
                """
            )

    def check_counters(self) -> None:
        """Run the services' own recount (``user_counters_recount``, ``forum_counters_recount``
        on one topic's worth of definitions) on a sample and compare: the set-based statements
        must agree with the app's definitions. A disagreement fails the seed."""
        from apps.accounts.services import user_counters_recount

        fields = ("post_count", "approved_post_count", "topic_count", "identification_request_count",
                  "identified_plant_count", "care_card_count", "trust_level")
        rng = self.rng("check")
        sample = {self.gardener.id, self.moderator.id, self.newbie.id, *rng.sample(self.ranks, min(200, len(self.ranks)))}
        sample |= set(self.ranks[:20])
        before = {row["id"]: row for row in User.objects.filter(pk__in=sample).values("id", *fields)}
        user_counters_recount(user_ids=sorted(sample))
        after = {row["id"]: row for row in User.objects.filter(pk__in=sample).values("id", *fields)}
        wrong = [uid for uid in sample if before[uid] != after[uid]]
        if wrong:
            raise RuntimeError(
                f"The set-based recount disagrees with user_counters_recount for {len(wrong)} of {len(sample)} users, "
                f"e.g. {before[wrong[0]]} vs {after[wrong[0]]}; update apps/core/seeding/large.py."
            )
        self._check_forums()
        self.result.counters_checked_users = len(sample)

    def _check_forums(self) -> None:
        """Forum and topic fields: compare with ``apps.forum.recount``'s definitions for every
        forum and a sample of topics (read-only: the definitions' expressions in a SELECT)."""
        from apps.forum.recount import forum_expectations, topic_expectations

        sample = self.rng("check-topics").sample(self.topic_ids, min(300, len(self.topic_ids)))
        for model, rows, expectations in (
            ("Topic", Topic.objects.filter(pk__in=sample), topic_expectations()),
            ("Forum", Forum.objects.all(), forum_expectations()),
        ):
            annotated = rows.annotate(**{f"expected_{name}": value for name, value in expectations.items()})
            for row in annotated.values("id", *expectations, *[f"expected_{name}" for name in expectations]):
                if any(row[name] != row[f"expected_{name}"] for name in expectations):
                    raise RuntimeError(f"{model} fields disagree with apps.forum.recount: {row}")
