"""The bulk-load envelope around the writing steps, as ``pg_restore`` does it: work memory
raised, foreign-key triggers off (when the role may) and the big tables' secondary indexes
dropped for the load (``begin``); the indexes built once (``build_indexes``); every foreign key
checked by one anti-join each (``check_foreign_keys``); sequences moved past the ids written
and the run noted on the users table (``finish``); ``VACUUM (ANALYZE)`` after the commit."""

from __future__ import annotations

from django.db import connection, models

from apps.accounts.models import User
from apps.core.models import ModerationAction
from apps.forum.models import Forum, Post, Report, Topic
from apps.plants.models import (
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    SavedCareInstructions,
    SuggestionVote,
)

from .base import _ScaledBase

BIG_MODELS = (Topic, Post, PlantIdentificationRequest, PlantPhoto, IdentificationSuggestion, SuggestionVote)
SEEDED_MODELS = (
    User,
    Forum,
    Topic,
    Post,
    Report,
    ModerationAction,
    PlantIdentificationRequest,
    PlantPhoto,
    IdentificationSuggestion,
    SuggestionVote,
    SavedCareInstructions,
)


class _LoadSteps(_ScaledBase):
    """``begin`` and ``finish`` (around the transaction's steps), the steps "Building the
    secondary indexes dropped for the load" and "Checking every foreign key", and the vacuum."""

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
                [
                    f"seed_demo --scale {self.scale.name} --seed {self.seed} at "
                    f"{self.now_dt.isoformat(timespec='seconds')}"
                ],
            )

    def vacuum_analyze(self) -> None:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for model in SEEDED_MODELS:
                cursor.execute(f"VACUUM (ANALYZE) {quote(model._meta.db_table)}")

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
                        raise RuntimeError(
                            f"{orphans} rows of {model._meta.db_table}.{f.column} point at no {target.db_table} row"
                        )
                    checked += 1
        self.result.foreign_keys_checked = checked
