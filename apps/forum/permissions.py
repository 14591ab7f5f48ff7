"""Who may see and do what in the forum.

STYLE "Where code lives": ``get_<object>_for_user`` returns what the user may see or raises
``Http404`` (visibility first, so a thing the user cannot see is a 404 before any permission
check), and ``check_<verb>_<object>_permission`` raises ``PermissionDenied``. Template flags
come from the same checks (``topic_permissions``, ``post_permissions``; Misago's
``check_permissions()`` pattern), so each rule is written once. SPEC "Domain" gives the
trust-level rules.
"""

import re

from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.accounts.models import TrustLevel, User
from apps.core.permissions import is_moderator

from . import selectors
from .models import Forum, Post, Topic

NEW_USER_MAX_LINKS = 2


# --- Getters (404 when not visible) ---------------------------------------------------------


def get_forum_for_user(*, slug: str, user: User | None) -> Forum:
    """Forum ``slug`` (every forum is visible) with the viewer's extra topic count; raises
    ``Http404`` when there is none."""
    forum = selectors.forum_for_viewer(slug=slug, viewer=user)
    if forum is None:
        raise Http404("No such forum.")
    return forum


def get_topic_for_user(*, pk: int, user: User | None) -> Topic:
    """Topic ``pk`` if ``user`` (``None`` when signed out) may see it
    (``Topic.objects.visible_to``); raises ``Http404`` otherwise."""
    topic = selectors.topic_for_viewer(pk=pk, viewer=user)
    if topic is None:
        raise Http404("No such topic.")
    return topic


def get_post_for_user(*, pk: int, user: User | None) -> Post:
    """Post ``pk`` if ``user`` may see it (``Post.objects.visible_to``, its topic included);
    raises ``Http404`` otherwise."""
    post = selectors.post_for_viewer(pk=pk, viewer=user)
    if post is None:
        raise Http404("No such post.")
    return post


# --- Checks (PermissionDenied) --------------------------------------------------------------


class EmailUnconfirmed(PermissionDenied):
    """Refused only because the gardener has not confirmed their email address yet: pages
    explain and offer to resend the link (issue 15) instead of a bare 403."""


def check_post_permission(user: User) -> None:
    """Any active gardener with a confirmed email may write (SPEC "Sign-up": unconfirmed
    gardeners can sign in but not post). Raises ``PermissionDenied``, ``EmailUnconfirmed``
    (a subclass) for an active gardener whose address is unconfirmed."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied("This account cannot post.")
    if not user.is_email_confirmed:
        raise EmailUnconfirmed("Confirm your email address to post in the forum: use the link we emailed you.")


def check_reply_permission(user: User, topic: Topic) -> None:
    """Replying needs posting rights and an open topic (moderators may reply to locked ones)."""
    check_post_permission(user)
    if topic.is_locked and not is_moderator(user):
        raise PermissionDenied("This topic is locked: no new replies.")


def image_rule_message() -> str:
    """The sentence that says when photos in posts open, with the thresholds of
    ``settings.TRUST_LEVEL_REQUIREMENTS["basic"]`` (SPEC "Domain": 5 approved posts and 7 days)."""
    needs = TrustLevel.BASIC.requirements
    return (
        f"Photos in posts are open from trust level Basic ({needs['approved_posts']} approved posts "
        f"and an account {needs['account_age_days']} days old)."
    )


def check_attach_image_permission(user: User) -> None:
    """Images in posts from trust level basic up (SPEC "Domain"); moderators always."""
    if TrustLevel(user.trust_level) < TrustLevel.BASIC and not is_moderator(user):
        raise PermissionDenied(image_rule_message())


def image_refusal(user: User) -> str:
    """Why ``user`` may not attach a photo to a post (``check_attach_image_permission``'s
    message), or ``""`` when they may. Signed-out viewers get ``""``: they see no form."""
    if not user.is_authenticated:
        return ""
    try:
        check_attach_image_permission(user)
    except PermissionDenied as denied:
        return str(denied)
    return ""


# A link in sanitized HTML: an ``<a>`` that kept its ``href`` (nh3 drops a disallowed scheme's).
_LINK = re.compile(r"<a\s[^>]*\bhref=", re.IGNORECASE)


def link_limit_error(user: User, html: str) -> str | None:
    """A message when a ``new`` gardener's rendered post has more than 2 links or any image,
    else ``None`` (SPEC "Domain").

    ``html`` is ``markdown.render_markdown(source)`` without ``mentions``: every ``<a href>``
    counts, so Markdown links, autolinks (``<https://…>``) and bare URLs (linkified) alike;
    ``@name`` mentions of gardeners are not rendered as links there and do not count."""
    if TrustLevel(user.trust_level) > TrustLevel.NEW or is_moderator(user):
        return None
    if "<img" in html:
        return "Images in posts are open from trust level Basic."
    links = len(_LINK.findall(html))
    if links > NEW_USER_MAX_LINKS:
        return (
            f"New members may include at most {NEW_USER_MAX_LINKS} links in a post ({links} found; "
            "a web address typed out counts as a link)."
        )
    return None


def publishes_at_once(user: User) -> bool:
    """``new`` gardeners' posts and topics wait in the review queue; ``basic`` and up publish."""
    return TrustLevel(user.trust_level) > TrustLevel.NEW or is_moderator(user)


def new_member_limits(user: User) -> dict:
    """What a page tells a gardener about the limits of their level, from the rules above:
    ``{"held_for_review": bool, "max_links": int}`` (SPEC "Domain")."""
    return {"held_for_review": not publishes_at_once(user), "max_links": NEW_USER_MAX_LINKS}


def edit_needs_review(user: User, post: Post) -> bool:
    """A ``new`` gardener's edit of a post others can already see goes back to the review
    queue (the approved text stays public until a moderator decides); edits of held posts and
    everyone else's edits apply at once."""
    return post.is_approved and not publishes_at_once(user)


def check_edit_post_permission(user: User, post: Post) -> None:
    """Authors edit and delete their own posts; moderators any."""
    if not user.is_authenticated or post.is_deleted or (post.poster_id != user.pk and not is_moderator(user)):
        raise PermissionDenied("You can only change your own posts.")


def check_report_post_permission(user: User, post: Post) -> None:
    """Trust level basic and up may report others' public posts (held or already hidden posts
    are moderators' business already)."""
    if not user.is_authenticated:
        raise PermissionDenied("Sign in to report a post.")
    if post.poster_id == user.pk:
        raise PermissionDenied("You cannot report your own post.")
    if not post.is_approved or post.is_hidden:
        raise PermissionDenied("This post is already waiting for a moderator.")
    if TrustLevel(user.trust_level) < TrustLevel.BASIC and not is_moderator(user):
        raise PermissionDenied("Reporting is open from trust level Basic.")


def check_moderate_topic_permission(user: User) -> None:
    """Lock, unlock, pin and unpin: moderators."""
    if not is_moderator(user):
        raise PermissionDenied("Only moderators can do this.")


def check_move_topic_permission(user: User) -> None:
    """Moving topics between forums: moderators and ``veteran`` gardeners (SPEC "Domain")."""
    if not user.is_authenticated or not (is_moderator(user) or TrustLevel(user.trust_level) >= TrustLevel.VETERAN):
        raise PermissionDenied("Moving topics is open to moderators and Veteran gardeners.")


def _allowed(check, *args) -> bool:
    try:
        check(*args)
    except PermissionDenied:
        return False
    return True


def topic_permissions(user: User, topic: Topic) -> dict:
    """Template flags for a topic page, each from the check that guards its view:
    ``{"moderator", "reply", "move", "moderate", "reply_refusal"}`` (the message shown instead
    of the reply form, or ``""``)."""
    if not user.is_authenticated:
        return {"moderator": False, "reply": False, "move": False, "moderate": False, "reply_refusal": ""}
    refusal = ""
    try:
        check_reply_permission(user, topic)
    except PermissionDenied as denied:
        refusal = str(denied)
    return {
        "moderator": is_moderator(user),
        "reply": not refusal,
        "move": _allowed(check_move_topic_permission, user),
        "moderate": _allowed(check_moderate_topic_permission, user),
        "reply_refusal": refusal,
    }


def post_permissions(user: User, post: Post) -> dict:
    """Template flags for one post: ``{"edit", "report", "see_edit_rejection"}``, from
    ``check_edit_post_permission``, ``check_report_post_permission`` and the rule that a
    declined edit's reason is a note to its author only."""
    if not user.is_authenticated:
        return {"edit": False, "report": False, "see_edit_rejection": False}
    return {
        "edit": _allowed(check_edit_post_permission, user, post),
        "report": _allowed(check_report_post_permission, user, post),
        "see_edit_rejection": post.poster_id == user.pk,
    }
