"""The moderator flag on the user row (issue 13): the column, then its value for every existing
account, computed as ``apps.accounts.moderator_flag`` keeps it (holds
``core.use_moderation_tools`` directly or through a group)."""

from django.db import migrations, models
from django.db.models import Exists, OuterRef, Q


def flags_compute(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Permission = apps.get_model("auth", "Permission")
    holds = Permission.objects.filter(
        Q(user=OuterRef("pk")) | Q(group__user=OuterRef("pk")),
        content_type__app_label="core",
        codename="use_moderation_tools",
    )
    User.objects.update(is_moderator_flag=Exists(holds))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_user_panel_version"),
        ("core", "0003_moderators_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="is_moderator_flag",
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.RunPython(flags_compute, migrations.RunPython.noop),
    ]
