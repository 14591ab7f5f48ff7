"""What the database can take and holds: PostgreSQL or not, which scale was seeded, and the
fast flush (``TRUNCATE``) that deletes a scaled seed."""

from __future__ import annotations

from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection, models, transaction

from apps.accounts.models import User
from apps.core.models import ModerationAction
from apps.plants.models import PlantSpecies

from ..accounts import GARDENER
from .sizes import SCALES, ScaleUnavailable


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
