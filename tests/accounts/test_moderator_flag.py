"""The moderator flag on the user row (issue 13, section 3): ``User.is_moderator_flag`` equals
"holds ``core.use_moderation_tools`` directly or through a group" after every change of group
membership or permissions, whichever side of the relation it is made from; ``is_moderator``
reads it, so a demoted moderator loses the tools on the next request; and
``manage.py moderator_flag_recount --check`` proves the flag (and fails on drift)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.accounts.moderator_flag import moderator_flag_drift
from apps.accounts.panel_versions import panel_versions_bump
from apps.core.permissions import MODERATORS_GROUP, is_moderator
from tests import factories

pytestmark = pytest.mark.django_db


def _permission() -> Permission:
    return Permission.objects.get(content_type__app_label="core", codename="use_moderation_tools")


def _other_permission() -> Permission:
    return Permission.objects.get(content_type__app_label="auth", codename="view_group")


def _flag(user) -> bool:
    return User.objects.values_list("is_moderator_flag", flat=True).get(pk=user.pk)


def _holds(user) -> bool:
    """The truth as Django's own permission machinery tells it, on a fresh row."""
    return User.objects.get(pk=user.pk).has_perm("core.use_moderation_tools")


def test_group_membership_from_either_side():
    """Joining or leaving the moderators group, from the user's side or the group's, and
    ``clear()`` on both sides, set the flag; the instance whose relation changed says so too."""
    group = Group.objects.get(name=MODERATORS_GROUP)
    rosa, ivy = factories.UserFactory.create_batch(2)
    rosa.groups.add(group)
    assert _flag(rosa) and rosa.is_moderator_flag and is_moderator(rosa)
    group.user_set.add(ivy)
    assert _flag(ivy)
    group.user_set.remove(rosa)
    assert not _flag(rosa) and _flag(ivy)
    rosa.groups.add(group)
    group.user_set.clear()
    assert not _flag(rosa) and not _flag(ivy)
    ivy.groups.add(group)
    ivy.groups.clear()
    assert not _flag(ivy) and not ivy.is_moderator_flag
    assert moderator_flag_drift() == []


def test_direct_permission_and_group_permissions_from_either_side():
    """A direct permission (either side), a permission given to or taken from a group (either
    side, ``clear()`` included) set the flag of exactly the users concerned."""
    permission = _permission()
    helpers = Group.objects.create(name="helpers")
    rosa, ivy, fern = factories.UserFactory.create_batch(3)
    rosa.user_permissions.add(permission)
    assert _flag(rosa)
    permission.user_set.remove(rosa)
    assert not _flag(rosa)
    permission.user_set.add(rosa)
    permission.user_set.clear()
    assert not _flag(rosa)
    helpers.user_set.add(ivy, fern)
    assert not _flag(ivy)
    helpers.permissions.add(_other_permission())
    assert not _flag(ivy)
    helpers.permissions.add(permission)
    assert _flag(ivy) and _flag(fern) and not _flag(rosa)
    permission.group_set.remove(helpers)
    assert not _flag(ivy)
    permission.group_set.add(helpers)
    assert _flag(fern)
    permission.group_set.clear()
    assert not _flag(fern) and not _flag(ivy)
    helpers.permissions.add(permission)
    helpers.permissions.clear()
    assert not _flag(ivy)
    assert moderator_flag_drift() == []


def test_deleting_a_group_a_permission_or_its_content_type():
    """The join rows that go with a deleted group, permission or content type (a cascade, no
    ``m2m_changed``) take the flag with them; a user who still holds the permission another
    way keeps it."""
    permission = _permission()
    helpers = Group.objects.create(name="helpers")
    helpers.permissions.add(permission)
    rosa, ivy = factories.UserFactory.create_batch(2)
    rosa.groups.add(helpers)
    ivy.groups.add(helpers)
    ivy.user_permissions.add(permission)
    helpers.delete()
    assert not _flag(rosa) and _flag(ivy)
    Group.objects.get(name=MODERATORS_GROUP).user_set.add(rosa)
    assert _flag(rosa)
    ContentType.objects.get(app_label="core", model=permission.content_type.model).delete()
    assert not _flag(rosa) and not _flag(ivy)
    assert moderator_flag_drift() == []


def test_saving_a_stale_instance_keeps_the_flag():
    """``save()`` never writes the flag: an instance loaded before a promotion, saved after it
    (a profile edit), leaves the promotion in place, and the other columns are saved."""
    rosa = factories.UserFactory()
    stale = User.objects.get(pk=rosa.pk)
    Group.objects.get(name=MODERATORS_GROUP).user_set.add(rosa)
    stale.display_name = "Rosa"
    stale.save()
    assert _flag(rosa)
    assert User.objects.get(pk=rosa.pk).display_name == "Rosa"


def test_saving_a_stale_instance_keeps_the_panel_version():
    """``save()`` never writes ``panel_version`` either: a stale instance saved after a bump
    would take the version back, and an earlier cached panel would be served again."""
    rosa = factories.UserFactory()
    stale = User.objects.get(pk=rosa.pk)
    panel_versions_bump(user_ids=[rosa.pk])
    bumped = User.objects.get(pk=rosa.pk).panel_version
    stale.display_name = "Rosa"
    stale.save()
    assert User.objects.get(pk=rosa.pk).panel_version == bumped


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "join",
                "leave",
                "join_from_group",
                "leave_from_group",
                "clear_members",
                "grant_group",
                "revoke_group",
                "grant_group_from_permission",
                "revoke_group_from_permission",
                "clear_group_permissions",
                "grant_user",
                "revoke_user",
                "grant_user_from_permission",
                "clear_user_permissions",
                "delete_group",
                "create_group",
            ]
        ),
        st.integers(0, 3),  # a user
        st.integers(0, 2),  # a group
        st.booleans(),  # the moderation permission, or another one
    ),
    max_size=25,
)


USER_ONLY = {"grant_user", "revoke_user", "grant_user_from_permission", "clear_user_permissions"}


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPERATIONS)
def test_the_flag_equals_the_truth_after_any_sequence_of_changes(operations):
    """Random sequences of membership and permission changes (both sides of each relation,
    ``clear()``, deleting and creating groups): after every step each user's flag equals a
    pure-Python model of who holds the permission, and Django's ``has_perm`` agrees."""
    with transaction.atomic():
        moderation, other = _permission(), _other_permission()
        users = factories.UserFactory.create_batch(4)
        groups = [Group.objects.create(name=f"g{index}") for index in range(3)]
        members = {index: set() for index in range(3)}  # group index -> user indexes
        group_permissions = {index: set() for index in range(3)}  # group index -> "mod" / "other"
        direct = {index: set() for index in range(4)}  # user index -> "mod" / "other"
        for action, u, g, is_moderation in operations:
            user, group = users[u], groups[g]
            permission, name = (moderation, "mod") if is_moderation else (other, "other")
            if group is None and action not in USER_ONLY:
                if action == "create_group":
                    groups[g] = Group.objects.create(name=f"g{g}-again")
                continue
            if action == "join":
                user.groups.add(group)
                members[g].add(u)
            elif action == "leave":
                user.groups.remove(group)
                members[g].discard(u)
            elif action == "join_from_group":
                group.user_set.add(user)
                members[g].add(u)
            elif action == "leave_from_group":
                group.user_set.remove(user)
                members[g].discard(u)
            elif action == "clear_members":
                group.user_set.clear()
                members[g].clear()
            elif action == "grant_group":
                group.permissions.add(permission)
                group_permissions[g].add(name)
            elif action == "revoke_group":
                group.permissions.remove(permission)
                group_permissions[g].discard(name)
            elif action == "grant_group_from_permission":
                permission.group_set.add(group)
                group_permissions[g].add(name)
            elif action == "revoke_group_from_permission":
                permission.group_set.remove(group)
                group_permissions[g].discard(name)
            elif action == "clear_group_permissions":
                group.permissions.clear()
                group_permissions[g].clear()
            elif action == "grant_user":
                user.user_permissions.add(permission)
                direct[u].add(name)
            elif action == "revoke_user":
                user.user_permissions.remove(permission)
                direct[u].discard(name)
            elif action == "grant_user_from_permission":
                permission.user_set.add(user)
                direct[u].add(name)
            elif action == "clear_user_permissions":
                user.user_permissions.clear()
                direct[u].clear()
            elif action == "delete_group":
                group.delete()
                groups[g] = None
                members[g], group_permissions[g] = set(), set()
            for index, someone in enumerate(users):
                expected = "mod" in direct[index] or any(
                    index in members[k] and "mod" in group_permissions[k] for k in members
                )
                assert _flag(someone) is expected, (action, index)
                assert _holds(someone) is expected
        assert moderator_flag_drift() == []
        transaction.set_rollback(True)


def test_a_demoted_moderator_loses_the_tools_on_the_next_request(client):
    """Removed from the moderators group between two requests, a moderator gets 403 from
    ``/moderation/`` on the very next one (the flag is read from the row each request loads)."""
    moderator = factories.UserFactory(username="mod")
    Group.objects.get(name=MODERATORS_GROUP).user_set.add(moderator)
    client.force_login(moderator)
    assert client.get("/moderation/").status_code == 200
    Group.objects.get(name=MODERATORS_GROUP).user_set.remove(moderator)
    assert client.get("/moderation/").status_code == 403
    moderator.user_permissions.add(_permission())
    assert client.get("/moderation/").status_code == 200


def test_the_session_user_lookup_is_a_plain_primary_key_lookup(client):
    """The session's user lookup no longer asks the permission tables: its one statement
    reads ``accounts_user`` alone, and the moderator check after it sends nothing."""
    moderator = factories.UserFactory(username="mod")
    Group.objects.get(name=MODERATORS_GROUP).user_set.add(moderator)
    client.force_login(moderator)
    client.get("/healthz")
    client.get("/moderation/")
    with CaptureQueriesContext(connection) as captured:
        client.get("/moderation/")
    lookups = [q["sql"] for q in captured.captured_queries if 'FROM "accounts_user"' in q["sql"]]
    assert lookups, "the user lookup ran"
    assert "auth_permission" not in lookups[0]


def test_recount_check_finds_and_repairs_drift():
    """A membership written around Django's signals (a ``bulk_create`` on the join table) is
    drift: ``--check`` lists it and exits 1; the recount repairs it and ``--check`` passes."""
    rosa = factories.UserFactory()
    call_command("moderator_flag_recount", "--check")
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=rosa.pk, group_id=Group.objects.get(name=MODERATORS_GROUP).pk)]
    )
    assert moderator_flag_drift() == [
        {"id": rosa.pk, "username": rosa.username, "is_moderator_flag": False, "holds_permission": True}
    ]
    with pytest.raises(CommandError) as raised:
        call_command("moderator_flag_recount", "--check")
    assert raised.value.returncode == 1
    call_command("moderator_flag_recount")
    assert _flag(rosa)
    call_command("moderator_flag_recount", "--check")


BEFORE = [("accounts", "0007_username_skeleton")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_computes_the_flag_for_existing_accounts():
    """Accounts that were moderators before the column existed (through the group or
    directly) have the flag after migration ``accounts.0008``; the others do not."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    old_user, old_group = old.get_model("accounts", "User"), old.get_model("auth", "Group")
    old_permission = old.get_model("auth", "Permission")
    through_group = old_user.objects.create(username="viagroup", email="g@example.com")
    direct = old_user.objects.create(username="direct", email="d@example.com")
    old_user.objects.create(username="plain", email="p@example.com")
    through_group.groups.add(old_group.objects.get(name=MODERATORS_GROUP))
    direct.user_permissions.add(
        old_permission.objects.get(content_type__app_label="core", codename="use_moderation_tools")
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    flags = dict(User.objects.values_list("username", "is_moderator_flag"))
    assert flags == {"viagroup": True, "direct": True, "plain": False}
