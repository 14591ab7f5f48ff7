"""Who may do what in the forum (STYLE: ``check_<verb>_<object>_permission`` raises
``PermissionDenied``; SPEC "Domain" gives the trust-level rules)."""

from django.core.exceptions import PermissionDenied

from apps.accounts.models import TRUST_LEVEL_ORDER, TrustLevel, User
from apps.core.permissions import is_moderator

from .models import Post, Topic

NEW_USER_MAX_LINKS = 2


def level_at_least(user: User, level: str) -> bool:
    """True when ``user``'s trust level is ``level`` or higher."""
    return TRUST_LEVEL_ORDER.index(user.trust_level) >= TRUST_LEVEL_ORDER.index(level)


def check_post_permission(user: User) -> None:
    """Any active gardener with a confirmed email may write (SPEC "Sign-up": unconfirmed
    gardeners can sign in but not post)."""
    if not user.is_active:
        raise PermissionDenied("This account cannot post.")
    if not user.is_email_confirmed:
        raise PermissionDenied("Confirm your email address to post in the forum: use the link we emailed you.")


def check_reply_permission(user: User, topic: Topic) -> None:
    """Replying needs posting rights and an open topic (moderators may reply to locked ones)."""
    check_post_permission(user)
    if topic.is_locked and not is_moderator(user):
        raise PermissionDenied("This topic is locked: no new replies.")


def check_attach_image_permission(user: User) -> None:
    """Images in posts from trust level basic up (SPEC "Domain")."""
    if not level_at_least(user, TrustLevel.BASIC) and not is_moderator(user):
        raise PermissionDenied("Images in posts are open from trust level Basic.")


def link_limit_error(user: User, html: str) -> str | None:
    """A message when a ``new`` gardener's rendered post has more than 2 links, else ``None``."""
    if user.trust_level != TrustLevel.NEW or is_moderator(user):
        return None
    if "<img" in html:
        return "Images in posts are open from trust level Basic."
    links = html.count("<a ")
    if links > NEW_USER_MAX_LINKS:
        return f"New members may include at most {NEW_USER_MAX_LINKS} links in a post ({links} found)."
    return None


def publishes_at_once(user: User) -> bool:
    """``new`` gardeners' posts and topics wait in the review queue; ``basic`` and up publish."""
    return user.trust_level != TrustLevel.NEW or is_moderator(user)


def check_edit_post_permission(user: User, post: Post) -> None:
    """Authors edit and delete their own posts; moderators any."""
    if post.is_deleted or (post.poster_id != user.pk and not is_moderator(user)):
        raise PermissionDenied("You can only change your own posts.")


def check_report_post_permission(user: User, post: Post) -> None:
    """Trust level basic and up may report others' posts."""
    if post.poster_id == user.pk:
        raise PermissionDenied("You cannot report your own post.")
    if not level_at_least(user, TrustLevel.BASIC) and not is_moderator(user):
        raise PermissionDenied("Reporting is open from trust level Basic.")


def check_moderate_topic_permission(user: User) -> None:
    """Lock, unlock, pin and unpin: moderators."""
    if not is_moderator(user):
        raise PermissionDenied("Only moderators can do this.")


def check_move_topic_permission(user: User) -> None:
    """Moving topics between forums: moderators and ``veteran`` gardeners (SPEC "Domain")."""
    if not (is_moderator(user) or user.trust_level == TrustLevel.VETERAN):
        raise PermissionDenied("Moving topics is open to moderators and Veteran gardeners.")
