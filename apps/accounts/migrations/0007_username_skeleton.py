"""Usernames that look alike are one name (issue 11): ``User.username_skeleton`` holds
``username_confusable_key(username)`` under a unique constraint.

Existing accounts get their key here, oldest first: when two existing names already look alike,
the account with the lowest id keeps the key and the others are left with NULL (a unique
constraint allows any number of NULLs). Those accounts keep working and keep their names; they
get a key when their username changes. Nobody is renamed behind their back; the migration
prints how many accounts were left without a key so an operator can look at them.
Tested in ``tests/accounts/test_username_confusables.py``.
"""

from django.db import migrations, models

from apps.accounts.models import username_confusable_key

BATCH_SIZE = 2000


def _fill_keys(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    taken: set[str] = set()
    batch = []
    left_without = 0
    for user in User.objects.only("id", "username").order_by("id").iterator(chunk_size=BATCH_SIZE):
        key = username_confusable_key(user.username)
        if key in taken:
            left_without += 1
            continue
        taken.add(key)
        user.username_skeleton = key
        batch.append(user)
        if len(batch) >= BATCH_SIZE:
            User.objects.bulk_update(batch, ["username_skeleton"])
            batch = []
    User.objects.bulk_update(batch, ["username_skeleton"])
    if left_without:
        print(f"\n  {left_without} account(s) whose username looks like an older account's were left without a key.")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_data_export"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_skeleton",
            field=models.TextField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(_fill_keys, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                fields=("username_skeleton",), name="accounts_user_username_skeleton_uniq"
            ),
        ),
    ]
