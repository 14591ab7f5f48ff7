"""How a gardener's name is shown anywhere on the site: a link to their profile, a
placeholder for a former member, and a generated avatar when they uploaded none.

Core knows no user model: these take a username (a string, or ``None`` for an account that is
gone) and reverse the profile URL by its name, ``"profile"`` (``portal/urls.py``).
"""

import hashlib

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# The name an erased account is given (``apps.accounts.data_services.account_erase``); its
# profile answers 404, so such a name is shown without a link.
ANONYMOUS_PREFIX = "deleted-gardener-"
FORMER_MEMBER = "A former member"

# Background colours of generated avatars: mid-dark tones on which white initials keep a
# contrast ratio of at least 4.5:1 (WCAG 2.2 SC 1.4.3).
AVATAR_COLOURS = (
    "#2e6b3a",
    "#1f5f7a",
    "#6b3a8a",
    "#8a3a3a",
    "#5a5a1f",
    "#3a4f8a",
    "#7a4a1f",
    "#1f6b63",
)


def is_former_member(username: str | None) -> bool:
    """``True`` for ``None``, an empty name or an erased account's ``deleted-gardener-…`` name."""
    return not username or username.casefold().startswith(ANONYMOUS_PREFIX)


def profile_url(username: str) -> str:
    """``/u/<username>/``; raises ``NoReverseMatch`` for a name the URL cannot carry."""
    return reverse("profile", kwargs={"username": username})


def user_link(username: str | None, css_class: str = "user-link") -> SafeString:
    """An escaped ``<a>`` to the gardener's profile. Without a link: "A former member" for
    ``None`` (the account row is gone) and an erased account's anonymous
    ``deleted-gardener-…`` name as it is (its posts stay under that name; its profile is a
    404)."""
    if is_former_member(username):
        return format_html('<span class="former-member">{}</span>', username or FORMER_MEMBER)
    try:
        url = profile_url(username)
    except NoReverseMatch:
        return format_html("<span>{}</span>", username)
    return format_html('<a href="{}" class="{}">{}</a>', url, css_class, username)


def avatar_colour(username: str) -> str:
    """A colour from ``AVATAR_COLOURS`` chosen by a stable hash of the case-folded username
    (SHA-256, not Python's per-process ``hash``), so a gardener keeps one colour everywhere."""
    digest = hashlib.sha256(username.casefold().encode("utf-8", "surrogatepass")).digest()
    return AVATAR_COLOURS[digest[0] % len(AVATAR_COLOURS)]


def avatar_initials(name: str) -> str:
    """Up to two letters: the first letters of the first two words of ``name`` (words split on
    spaces, ``.``, ``_``, ``-``, ``+``), upper-cased; ``"?"`` when there are none."""
    words = [word for word in "".join(c if c.isalnum() else " " for c in name).split() if word]
    letters = "".join(word[0] for word in words[:2]) or "?"
    return letters.upper()[:2]


def avatar_svg(*, username: str, display_name: str = "", size_px: int = 96) -> SafeString:
    """An inline SVG avatar: the initials of ``display_name`` (else ``username``) in white on
    ``avatar_colour(username)``; decorative (``aria-hidden``), the name is always shown beside
    it. Every value is escaped."""
    initials = avatar_initials(display_name or username)
    return format_html(
        '<svg class="avatar avatar-generated" width="{size}" height="{size}" viewBox="0 0 100 100" '
        'aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">'
        '<rect width="100" height="100" rx="50" fill="{colour}"/>'
        '<text x="50" y="50" dy="0.35em" text-anchor="middle" font-family="sans-serif" font-size="40" '
        'fill="#ffffff">{initials}</text></svg>',
        size=size_px,
        colour=avatar_colour(username),
        initials=initials,
    )


def user_links(usernames: list[str | None], more: int = 0) -> SafeString:
    """Names joined as a sentence, each linked (``user_link``): "ana", "ana and ben", "ana,
    ben, cleo and 2 others"; "Someone" for none. Escaped."""
    parts = [user_link(name) for name in usernames]
    if more:
        parts.append(format_html("{} other{}", more, "s" if more != 1 else ""))
    if not parts:
        return format_html("{}", "Someone")
    if len(parts) == 1:
        return parts[0]
    return format_html("{} and {}", format_html_join(", ", "{}", ((part,) for part in parts[:-1])), parts[-1])
