"""Permission checks shared by every app (STYLE: ``check_<verb>_<object>_permission``)."""

from django.core.exceptions import PermissionDenied

MODERATION_PERMISSION = "core.use_moderation_tools"


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
        from django.contrib.auth.models import Permission
        from django.db.models import Q

        app_label, codename = MODERATION_PERMISSION.split(".")
        cached = Permission.objects.filter(
            Q(user=user) | Q(group__user=user), content_type__app_label=app_label, codename=codename
        ).exists()
        user._is_moderator = cached
    return cached


def check_moderate_permission(user) -> None:
    """Raise ``PermissionDenied`` (403) unless ``user`` is a moderator."""
    if not is_moderator(user):
        raise PermissionDenied("Only moderators can do this.")
