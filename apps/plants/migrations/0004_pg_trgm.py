from django.db import migrations


def enable_trigram(apps, schema_editor):
    # Trigram similarity for the species search; PostgreSQL only (SQLite falls back to
    # icontains). Needs a role allowed to create extensions the first time.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


class Migration(migrations.Migration):
    dependencies = [("plants", "0003_suggestion_disagree_count")]

    operations = [migrations.RunPython(enable_trigram, migrations.RunPython.noop)]
