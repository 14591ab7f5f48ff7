"""The state every step of a scaled seed shares, and the two tools every step uses: one
``random.Random`` per part (``rng``) and the ``COPY`` writer (``_copy``). The steps are mixins
on ``_ScaledBase`` in ``pools.py``, ``users.py``, ``forum.py``, ``plants.py``, ``load.py`` and
``counters.py``; ``builder.py`` puts them together and runs them in order."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from django.db import connection, models
from django.db.models import NOT_PROVIDED
from psycopg.copy import QueuedLibpqWriter

from apps.plants.models import PlantSpecies

from .draw import _Ranked, _User
from .sizes import DAY, HISTORY_DAYS, PROGRESS_EVERY, ScaledSeedResult, ScaleSizes


class _ScaledBase:
    """Holds a scaled run's plan between steps; each attribute below is set by the step named
    beside it and read by later ones."""

    # Set by ``prepare_pools`` (pools.py).
    images: list[tuple[str, str, int, int]]  # (thumbnail name, photo name, width, height)
    templates: list[tuple[str, str, str, list[tuple[str, str]]]]  # (forum slug, subject, opening, replies)
    templates_by_forum: dict[str, list[int]]
    pinned_template: tuple[str, str, str]  # (subject, source, html)
    request_notes: list[str]
    care_notes: dict[str, list[str]]  # care-card status -> notes
    # Set by ``write_users`` (users.py).
    gardener: _User
    moderator: _User
    newbie: _User
    ranks: list[int]  # user ids, most active first
    user_by_id: dict[int, _User]
    draw: dict[str, _Ranked]  # kind of row ("replies", "topics", ...) -> who writes it
    # Set by ``write_forum`` (forum.py).
    topic_ids: list[int]
    post_sample: list[int]
    pinned_topics: list[tuple[int, float]]  # (topic id, created)

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

    def _when(self, rng: random.Random, author: _User, *, after: float | None = None) -> float:
        """A time in the author's life and the history window (after ``after``), busier lately."""
        start = max(author.joined, self.now - HISTORY_DAYS * DAY, after or 0.0)
        return start + (self.now - start) * rng.random() ** 0.8

    def _copy(self, model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple]) -> int:
        """``COPY`` ``rows`` (tuples in the order of ``columns``, database column names) into
        ``model``'s table; every other concrete column gets its field default (a column added
        later by a migration keeps working). Returns the number of rows written."""
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
        sql = (
            f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in (*columns, *extra_columns))}) FROM STDIN"
        )
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
