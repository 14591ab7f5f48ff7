"""Template context shared by every page."""

from django.http import HttpRequest

from .permissions import is_moderator


def moderation(request: HttpRequest) -> dict:
    """``user_is_moderator``: the same check that guards the moderators' pages
    (``is_moderator``), so the header's "Moderation" link shows exactly when those pages open.
    A callable, so pages that do not ask cost nothing; the flag is loaded with the signed-in
    user, so asking costs no query either."""
    return {"user_is_moderator": lambda: is_moderator(request.user)}
