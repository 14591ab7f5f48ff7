"""Move ``RevokedTokenFamily`` from ``core`` to ``accounts`` without touching its rows (issue 10:
sign-in security that knows the user lives in ``accounts``; ``core`` knows no domain model).

The table keeps its name (``core_revokedtokenfamily``, set as ``db_table``), so only the model
state moves: ``accounts`` takes it here and ``core.0006`` lets go of it, both with
``SeparateDatabaseAndState`` and no database operation. The model's content type is relabelled
from ``core`` to ``accounts`` (its id, and so its permissions and any group or user holding
them, stay); on a fresh database it does not exist yet and ``post_migrate`` creates it.
Tested in ``tests/accounts/test_migrations.py``, both ways.
"""

from django.db import migrations, models


def _relabel(apps, *, old: str, new: str) -> None:
    """Give the model's content type the label ``new`` (keeping its id and permissions).

    When migrating in two steps (``migrate core 0005`` before ``migrate accounts 0002``, or the
    reverse), ``post_migrate`` runs while both apps hold the model and creates a fresh, empty
    content type under the other label. The older row is the one whose permissions groups and
    users were given, so it is kept and the fresh one (with the permissions made with it, held
    by nobody yet) is deleted.
    """
    ContentType = apps.get_model("contenttypes", "ContentType")
    moving = ContentType.objects.filter(app_label=old, model="revokedtokenfamily").first()
    if moving is None:
        return  # a fresh database: post_migrate creates the content type after the migrations
    ContentType.objects.filter(app_label=new, model="revokedtokenfamily").delete()
    moving.app_label = new
    moving.save(update_fields=["app_label"])


def content_type_to_accounts(apps, schema_editor):
    _relabel(apps, old="core", new="accounts")


def content_type_to_core(apps, schema_editor):
    _relabel(apps, old="accounts", new="core")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_durable_token_revocation"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0004_durable_token_revocation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RevokedTokenFamily",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("family_id", models.CharField(max_length=64, unique=True)),
                        ("revoked_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={"db_table": "core_revokedtokenfamily"},
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_accounts, content_type_to_core),
    ]
