"""Permission checks shared by every app (STYLE: ``check_<verb>_<object>_permission``)."""

from django.core.exceptions import PermissionDenied

MODERATION_PERMISSION = "core.use_moderation_tools"


def is_moderator(user) -> bool:
    """True for active users with the moderation permission (the ``moderators`` group grants
    it) and superusers."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.has_perm(MODERATION_PERMISSION)))


def check_moderate_permission(user) -> None:
    """Raise ``PermissionDenied`` (403) unless ``user`` is a moderator."""
    if not is_moderator(user):
        raise PermissionDenied("Only moderators can do this.")
