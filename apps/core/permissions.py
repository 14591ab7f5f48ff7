"""Permission checks shared by every app (STYLE: ``check_<verb>_<object>_permission``)."""

from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q

MODERATION_PERMISSION = "core.use_moderation_tools"
# The group that grants it, created with the permission by migration ``core.0003`` (which keeps
# its own copy of the name: migrations never import app code).
MODERATORS_GROUP = "moderators"


def is_moderator(user) -> bool:
    """True for active users with the moderation permission (the ``moderators`` group grants
    it) and superusers.

    Answered from the user row (issue 13): ``is_moderator_flag``, which the accounts app keeps
    equal to "holds the permission directly or through a group" on every change of group
    membership or permissions (``apps.accounts.moderator_flag``). The row is loaded fresh by
    every request's user lookup, so a demoted moderator loses the tools on the next request and
    the check costs no statement. A user object without the column loaded (``only()``) falls
    back to one query, remembered on the object."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    if "is_moderator_flag" not in user.get_deferred_fields():
        return user.is_moderator_flag
    cached = getattr(user, "_is_moderator", None)
    if cached is None:
        cached = user._is_moderator = _moderator_permissions(user_ref=user.pk).exists()
    return cached


def _moderator_permissions(*, user_ref):
    app_label, codename = MODERATION_PERMISSION.split(".")
    return Permission.objects.filter(
        Q(user=user_ref) | Q(group__user=user_ref), content_type__app_label=app_label, codename=codename
    )


def moderator_flag_expression():
    """An ``Exists`` expression, for a query over users, that is true when the row's user holds
    the moderation permission directly or through a group (superusers are checked apart). The
    accounts app computes the stored moderator flag with it, and its recount checks it."""
    return Exists(_moderator_permissions(user_ref=OuterRef("pk")))


def check_moderate_permission(user) -> None:
    """Raise ``PermissionDenied`` (403) unless ``user`` is a moderator."""
    if not is_moderator(user):
        raise PermissionDenied("Only moderators can do this.")
