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
    it) and superusers. One query (direct or group permission), remembered on the user object
    for the rest of the request."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_is_moderator", None)
    if cached is None:
        cached = _moderator_permissions(user_ref=user.pk).exists()
        user._is_moderator = cached
    return cached


def _moderator_permissions(*, user_ref):
    app_label, codename = MODERATION_PERMISSION.split(".")
    return Permission.objects.filter(
        Q(user=user_ref) | Q(group__user=user_ref), content_type__app_label=app_label, codename=codename
    )


def moderator_flag_expression():
    """An ``Exists`` expression, for a query over users, that is true when the row's user holds
    the moderation permission directly or through a group (superusers are checked apart).
    The auth backend annotates the session's user lookup with it."""
    return Exists(_moderator_permissions(user_ref=OuterRef("pk")))


def check_moderate_permission(user) -> None:
    """Raise ``PermissionDenied`` (403) unless ``user`` is a moderator."""
    if not is_moderator(user):
        raise PermissionDenied("Only moderators can do this.")


def first_user_with_moderator_flag(users):
    """The first user of the queryset ``users`` (or ``None``) with the moderator flag loaded in
    the same statement, so ``is_moderator`` costs no query later in the request. Used by the
    session and token user lookups (SPEC "Query budgets": "the user lookup" is one statement)."""
    user = users.annotate(_moderator_flag=moderator_flag_expression()).first()
    if user is not None:
        user._is_moderator = user.is_active and (user.is_superuser or user._moderator_flag)
    return user
