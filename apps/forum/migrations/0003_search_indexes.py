"""GIN indexes for forum search (apps.forum.search), PostgreSQL only.

Each index is on exactly the expression Django's ``SearchVector(<column>, config="english")``
compiles to, ``to_tsvector('english'::regconfig, COALESCE("<column>", ''))``: PostgreSQL uses an
expression index only for a query expression that matches it. The EXPLAIN test in
``tests/forum/test_search.py`` checks the two stay in step. On SQLite (the embedded default)
search is a plain ``icontains`` and this migration does nothing.

The indexes are not declared on the models (they are built from raw SQL here), so
``makemigrations`` never proposes to drop them.
"""

from django.db import migrations

INDEXES = [
    ("forum_post_source_fts", "forum_post", "source"),
    ("forum_topic_subject_fts", "forum_topic", "subject"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f"USING gin (to_tsvector('english'::regconfig, COALESCE(\"{column}\", '')))"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("forum", "0002_writing_moderation_notifications"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
