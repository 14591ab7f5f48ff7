"""``RevokedTokenFamily`` moved from ``core`` to ``accounts`` (issue 10) without losing a row, a
content type or a permission: migrations ``accounts.0003`` and ``core.0006`` run on a database
migrated to the state before them, holding a revoked family and a group permission on it."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.accounts.models import RevokedTokenFamily
from apps.accounts.selectors import token_user_queryset
from tests.factories import UserFactory

BEFORE = [("accounts", "0002_durable_token_revocation"), ("core", "0005_moderationaction_action_index")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader sees what is applied now


@pytest.mark.django_db(transaction=True)
def test_revoked_families_content_type_and_permissions_survive_the_move():
    """Rows written while the model was ``core.RevokedTokenFamily`` are read by
    ``accounts.RevokedTokenFamily`` (same table), still refuse their family's tokens, and the
    content type keeps its id under its new label, so a group's permission on it survives."""
    executor = _migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    assert "revokedtokenfamily" in old.all_models["core"]
    old_family = old.get_model("core", "RevokedTokenFamily")
    old_content_type = old.get_model("contenttypes", "ContentType")
    old_permission = old.get_model("auth", "Permission")
    old_group = old.get_model("auth", "Group")
    old_family.objects.create(family_id="f" * 32)
    content_type, _ = old_content_type.objects.get_or_create(app_label="core", model="revokedtokenfamily")
    permission, _ = old_permission.objects.get_or_create(
        content_type=content_type,
        codename="view_revokedtokenfamily",
        defaults={"name": "Can view revoked token family"},
    )
    group = old_group.objects.create(name="auditors")
    group.permissions.add(permission)

    _migrate(executor.loader.graph.leaf_nodes())

    ContentType.objects.clear_cache()
    moved = ContentType.objects.get_for_model(RevokedTokenFamily)
    assert (moved.pk, moved.app_label) == (content_type.pk, "accounts")
    assert not ContentType.objects.filter(app_label="core", model="revokedtokenfamily").exists()
    assert list(Group.objects.get(name="auditors").permissions.all()) == [Permission.objects.get(pk=permission.pk)]
    assert Permission.objects.get(pk=permission.pk).content_type_id == moved.pk
    assert RevokedTokenFamily._meta.db_table == "core_revokedtokenfamily"
    assert RevokedTokenFamily.objects.filter(family_id="f" * 32).exists()
    user = UserFactory()
    claims = {"sub": str(user.pk), "fam": "f" * 32, "fiat": 1.0}
    assert not token_user_queryset(claims).exists()
    assert token_user_queryset({**claims, "fam": "e" * 32}).exists()


@pytest.mark.django_db(transaction=True)
def test_the_move_can_be_unapplied_and_applied_again():
    """Going back puts the model state and the content type back under ``core`` (the rows
    never move); going forward again ends where a fresh database does. A content type that
    ``post_migrate`` created meanwhile under the target label (a migration done in two steps)
    gives way to the original, whose permission a group holds."""
    content_type = ContentType.objects.get_for_model(RevokedTokenFamily)
    permission = Permission.objects.get(content_type=content_type, codename="view_revokedtokenfamily")
    Group.objects.create(name="auditors").permissions.add(permission)
    RevokedTokenFamily.objects.create(family_id="a" * 32)
    fresh = ContentType.objects.create(app_label="core", model="revokedtokenfamily")
    Permission.objects.create(content_type=fresh, codename="view_revokedtokenfamily", name="Can view")

    executor = _migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    assert old.get_model("core", "RevokedTokenFamily").objects.filter(family_id="a" * 32).exists()
    old_content_type = old.get_model("contenttypes", "ContentType")
    assert list(old_content_type.objects.filter(model="revokedtokenfamily").values_list("pk", "app_label")) == [
        (content_type.pk, "core")
    ]
    _migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_model(RevokedTokenFamily).pk == content_type.pk
    assert list(Group.objects.get(name="auditors").permissions.all()) == [permission]
    assert RevokedTokenFamily.objects.filter(family_id="a" * 32).exists()
