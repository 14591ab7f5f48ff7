"""Query helpers shared by selectors and services."""

from collections.abc import Iterable, Sequence
from itertools import batched

from django.db import connection, models

# Rows per INSERT statement of ``insert_new_returning_pks`` (well under PostgreSQL's 65,535
# parameters for a few columns).
INSERT_BATCH_SIZE = 500


class SubqueryCount(models.Subquery):
    """``(SELECT COUNT(*) FROM (<queryset>))`` as a scalar expression.

    Lets a selector put several counts into one statement (``annotate``/``aggregate`` on an
    outer query) instead of one ``COUNT`` query each. ``queryset`` may use ``OuterRef``.
    """

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = models.IntegerField()

    def __init__(self, queryset, **extra):
        super().__init__(queryset.values("pk").order_by(), **extra)


def insert_new_returning_pks(
    model: type[models.Model], *, fields: Sequence[str], rows: Iterable[Sequence], unique_fields: Sequence[str]
) -> list[int]:
    """INSERT ``rows`` (each a sequence of values for ``fields``, model field names such as
    ``"user"`` for a foreign key, given its primary key) into ``model``'s table with
    ``ON CONFLICT (unique_fields) DO NOTHING RETURNING <pk>``; the primary keys of the rows this
    call inserted, in no particular order.

    This is the claim of a once-only job (a daily email per person and local date): the unique
    constraint over ``unique_fields`` picks one winner when two runs claim the same key at the
    same moment (PostgreSQL makes the second wait for the first transaction, then skips), and
    ``RETURNING`` names only this call's own rows. Django's ``bulk_create(ignore_conflicts=True)``
    returns no primary keys, hence the SQL. PostgreSQL and SQLite (3.35+) both speak it. Values
    go through each field's ``get_db_prep_save``, so dates and aware datetimes are stored as
    the ORM would. One statement per ``INSERT_BATCH_SIZE`` rows."""
    rows = list(rows)
    if not rows:
        return []
    meta = model._meta
    quote = connection.ops.quote_name
    model_fields = [meta.get_field(name) for name in fields]
    columns = ", ".join(quote(field.column) for field in model_fields)
    conflict = ", ".join(quote(meta.get_field(name).column) for name in unique_fields)
    placeholders = "(" + ", ".join(["%s"] * len(model_fields)) + ")"
    inserted = []
    with connection.cursor() as cursor:
        for chunk in batched(rows, INSERT_BATCH_SIZE):
            params = [
                field.get_db_prep_save(value, connection)
                for row in chunk
                for field, value in zip(model_fields, row, strict=True)
            ]
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([placeholders] * len(chunk))} "
                f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {quote(meta.pk.column)}",
                params,
            )
            inserted.extend(row[0] for row in cursor.fetchall())
    return inserted


def unsent_claims_lock(model: type[models.Model], *, pks: Iterable[int]) -> list:
    """The rows of ``model`` (a once-only job's claim with a ``user`` foreign key and a
    ``sent_at`` time, e.g. a daily email's) among ``pks`` that are not sent yet, with their
    user loaded, in primary-key order, locked ``FOR UPDATE SKIP LOCKED`` (only the claim rows,
    not the users) until the current transaction ends. A row another worker holds is skipped,
    so a task delivered twice, or run by two workers, sends each claim once. Call it inside
    ``transaction.atomic()``. One query."""
    return list(
        model.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("user")
        .filter(pk__in=pks, sent_at__isnull=True)
        .order_by("pk")
    )
