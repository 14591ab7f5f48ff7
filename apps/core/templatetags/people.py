"""``{% load people %}``: ``{% user_link username %}`` (a link to the gardener's profile, or
"A former member") and ``{% avatar username display_name avatar_url %}``."""

from django import template
from django.utils.html import format_html

from apps.core import people

register = template.Library()


@register.simple_tag
def user_link(username, css_class="user-link"):
    """See ``apps.core.people.user_link``; ``username`` may be ``None`` (the account is gone)."""
    return people.user_link(username, css_class)


@register.simple_tag
def avatar(username, display_name="", avatar_url="", size_px=96):
    """The uploaded avatar (``avatar_url``) as an ``<img>``, or the generated initials SVG."""
    if avatar_url:
        return format_html('<img class="avatar" src="{}" alt="" width="{}" height="{}">', avatar_url, size_px, size_px)
    return people.avatar_svg(username=username, display_name=display_name, size_px=size_px)


@register.simple_tag
def user_links(usernames, more=0):
    """See ``apps.core.people.user_links``: several linked names as one phrase."""
    return people.user_links(list(usernames), more)
