"""The benchmark database: migrated, seeded once per scale (``seed_demo --scale``), and its
table sizes."""

from __future__ import annotations

import time

from django.core.management import call_command
from django.db import connection

# The tables whose exact row counts the report prints (the seed's main tables).
DATA_TABLES = (
    "accounts_user",
    "forum_topic",
    "forum_post",
    "plants_plantidentificationrequest",
    "plants_plantphoto",
    "plants_identificationsuggestion",
    "plants_suggestionvote",
    "plants_savedcareinstructions",
)


def prepare_data(scale: str, *, reseed: bool) -> float:
    """Migrate, and seed ``scale`` unless the database holds it. Returns seconds spent seeding.
    A large seed takes minutes (7-8 on two cores); it happens once, later runs reuse it."""
    from apps.accounts.models import User
    from apps.demo.seeding import scaled

    call_command("migrate", verbosity=0, interactive=False)
    present = scaled.scaled_seed_present()
    if present == scale and not reseed:
        print(f"Database holds --scale {scale} (seeded earlier); reusing it.")
        return 0.0
    print(f"Seeding --scale {scale}" + (f" (replacing {present or 'other data'})" if User.objects.exists() else ""))
    started = time.perf_counter()
    call_command("seed_demo", scale=scale, flush=User.objects.exists(), verbosity=1)
    return time.perf_counter() - started


def table_rows(*, exact: tuple[str, ...] = ()) -> dict[str, int]:
    """Rows per table: the planner's estimate (``reltuples``), exact ``COUNT(*)`` for ``exact``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' AND relnamespace = "
            "'public'::regnamespace"
        )
        sizes = dict(cursor.fetchall())
        for table in exact:
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            sizes[table] = cursor.fetchone()[0]
    return sizes


def postgresql_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]
