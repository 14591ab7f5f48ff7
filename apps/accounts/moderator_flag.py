"""The moderator flag on the user row (``User.is_moderator_flag``), kept equal to "holds
``core.use_moderation_tools`` directly or through a group" (issue 13, section 3).

Every signed-in request loads the user row anyway, so ``apps.core.permissions.is_moderator``
reads the flag and the session's user lookup needs no ``EXISTS`` over permissions. The flag
is written only here: the receivers below recompute it, in the same transaction, for the
users that each change of group membership or permissions can affect:

- ``User.groups`` (either side: ``user.groups.add(group)``, ``group.user_set.remove(user)``);
- ``User.user_permissions`` (either side);
- ``Group.permissions`` (either side: every member of the groups involved);
- the deletion of a ``Group`` or a ``Permission`` (its rows in the join tables go with it;
  a ``ContentType``'s deletion cascades to its permissions, which sends the same signals).

Writes that bypass Django's signals (SQL, ``bulk_create`` on a join table) are caught by
``manage.py moderator_flag_recount --check`` and repaired by the same command without it.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import F, Q
from django.db.models.signals import m2m_changed, post_delete, pre_delete
from django.dispatch import receiver

from apps.core.permissions import moderator_flag_expression

from .models import User

_PENDING = "_moderator_flag_user_ids"


def moderator_flags_refresh(*, user_ids=None) -> int:
    """Recompute ``is_moderator_flag`` from the permission tables.

    ``user_ids``: an iterable of user ids (``None``: every user). One ``UPDATE`` with an
    ``EXISTS`` subquery (nothing when ``user_ids`` is empty). Returns the number of rows
    updated. Raises only what the database raises.
    """
    if user_ids is None:
        users = User._default_manager.all()
    else:
        user_ids = list(user_ids)
        if not user_ids:
            return 0
        users = User._default_manager.filter(pk__in=user_ids)
    return users.update(is_moderator_flag=moderator_flag_expression())


def moderator_flag_drift() -> list[dict]:
    """The users whose stored flag differs from the truth: ``[{"id", "username",
    "is_moderator_flag", "holds_permission"}]``, by id. Empty when the flag is right."""
    return list(
        User._default_manager.annotate(holds_permission=moderator_flag_expression())
        .filter(~Q(is_moderator_flag=F("holds_permission")))
        .order_by("pk")
        .values("id", "username", "is_moderator_flag", "holds_permission")
    )


def _members(group_ids) -> list[int]:
    return list(User._default_manager.filter(groups__in=list(group_ids)).values_list("pk", flat=True).distinct())


def _holders(permission: Permission) -> list[int]:
    return list(
        User._default_manager.filter(Q(user_permissions=permission) | Q(groups__permissions=permission))
        .values_list("pk", flat=True)
        .distinct()
    )


def _changed(*, instance, action: str, affected) -> None:
    """The common shape of the m2m receivers: ``affected()`` lists the user ids a change can
    touch; for ``clear`` it is read before the rows go (``pre_clear``), else after."""
    if action == "pre_clear":
        setattr(instance, _PENDING, affected())
    elif action == "post_clear":
        moderator_flags_refresh(user_ids=getattr(instance, _PENDING, []))
    elif action in ("post_add", "post_remove"):
        moderator_flags_refresh(user_ids=affected())


@receiver(m2m_changed, sender=User.groups.through)
def user_groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """``user.groups`` (forward: ``instance`` is the user) or ``group.user_set`` (reverse:
    ``pk_set`` holds user ids; ``clear`` means every member)."""
    if reverse:
        _changed(
            instance=instance,
            action=action,
            affected=lambda: list(pk_set or ()) if action != "pre_clear" else _members([instance.pk]),
        )
    else:
        _changed(instance=instance, action=action, affected=lambda: [instance.pk])
    _instance_sync(instance, action)


@receiver(m2m_changed, sender=User.user_permissions.through)
def user_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """``user.user_permissions`` (forward) or ``permission.user_set`` (reverse: ``pk_set``
    holds user ids)."""
    if reverse:
        _changed(
            instance=instance,
            action=action,
            affected=lambda: (
                list(pk_set or ()) if action != "pre_clear" else list(instance.user_set.values_list("pk", flat=True))
            ),
        )
    else:
        _changed(instance=instance, action=action, affected=lambda: [instance.pk])
    _instance_sync(instance, action)


@receiver(m2m_changed, sender=Group.permissions.through)
def group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """``group.permissions`` (forward: every member of the group) or ``permission.group_set``
    (reverse: the members of the groups in ``pk_set``; ``clear``: of every group that held
    the permission)."""
    if reverse:
        _changed(
            instance=instance,
            action=action,
            affected=lambda: (
                _members(pk_set or ())
                if action != "pre_clear"
                else _members(instance.group_set.values_list("pk", flat=True))
            ),
        )
    else:
        _changed(instance=instance, action=action, affected=lambda: _members([instance.pk]))


@receiver(pre_delete, sender=Group)
def group_delete_prepare(sender, instance, **kwargs):
    """Remember the members before the group's join rows go with it."""
    setattr(instance, _PENDING, _members([instance.pk]))


@receiver(pre_delete, sender=Permission)
def permission_delete_prepare(sender, instance, **kwargs):
    """Remember who held the permission (directly or through a group) before its rows go."""
    setattr(instance, _PENDING, _holders(instance))


@receiver(post_delete, sender=Group)
@receiver(post_delete, sender=Permission)
def group_or_permission_deleted(sender, instance, **kwargs):
    moderator_flags_refresh(user_ids=getattr(instance, _PENDING, []))


def _instance_sync(instance, action: str) -> None:
    """After a forward change on a ``User`` instance, load its new flag onto the instance, so
    the caller's object says what its row says (one small ``SELECT``)."""
    if isinstance(instance, User) and action in ("post_add", "post_remove", "post_clear"):
        instance.is_moderator_flag = (
            User._default_manager.filter(pk=instance.pk).values_list("is_moderator_flag", flat=True).first() or False
        )
