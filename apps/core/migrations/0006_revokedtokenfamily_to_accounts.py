"""``RevokedTokenFamily`` now belongs to ``accounts`` (see ``accounts.0003``): drop it from
``core``'s model state only; the table and its rows stay, owned by the ``accounts`` model."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_moderationaction_action_index"),
        ("accounts", "0003_revokedtokenfamily_from_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="RevokedTokenFamily")],
            database_operations=[],
        ),
    ]
