"""``{% settings_nav "key" %}``: the settings area's sub-navigation with ``key``'s entry marked
as the current page (``apps.accounts.settings_nav``)."""

from django import template

from apps.accounts.settings_nav import SETTINGS_NAV

register = template.Library()


@register.inclusion_tag("accounts/_settings_nav.html")
def settings_nav(current: str) -> dict:
    """The entries of ``SETTINGS_NAV`` as ``{"label", "href", "current"}``; no SQL."""
    return {"entries": [{"label": e.label, "href": e.href, "current": e.key == current} for e in SETTINGS_NAV]}
