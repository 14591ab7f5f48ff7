"""The forum's old notification addresses (before issue 12 moved the list to
``apps.notifications``), kept as permanent redirects so bookmarks, open tabs polling the old
badge and forms rendered before the move keep working.

GETs answer 301 (the page, the badge; the query string, e.g. the badge's ``seen``, is kept);
POSTs answer 308, which a browser repeats as the same POST, body and CSRF token included, at
the new address (RFC 9110 section 15.4.9). The CSRF check runs here first like on any POST,
so a forged POST is refused before it is redirected.
"""

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling


def _moved(request: HttpRequest, to: str) -> HttpResponse:
    query = request.META.get("QUERY_STRING", "")
    location = f"{to}?{query}" if query else to
    if request.method == "POST":
        return HttpResponsePermanentRedirect(location, status=308)
    return HttpResponsePermanentRedirect(location)


@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """``/forum/notifications/``: 301 to ``/notifications/``."""
    return _moved(request, reverse("notifications:list"))


@require_GET
def notification_badge(request: HttpRequest) -> HttpResponse:
    """``/forum/notifications/badge/``: 301 to ``/notifications/badge/`` (``?seen`` kept).

    An htmx poll from a tab opened before the move gets 286 (htmx's "stop polling") instead:
    the site turns a redirect answered to htmx into ``HX-Redirect``, a full navigation, which
    would leave the reader on the bare badge fragment. The next page that tab loads carries
    the new badge."""
    if request.htmx:
        return HttpResponseStopPolling()
    return _moved(request, reverse("notifications:badge"))


@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    """``POST /forum/notifications/read-all/``: 308 to ``/notifications/read-all/``."""
    return _moved(request, reverse("notifications:read-all"))


@require_POST
def notification_open(request: HttpRequest, topic_id: int) -> HttpResponse:
    """``POST /forum/notifications/<topic_id>/open/``: 308 to the topic's group,
    ``/notifications/forum.topic:<topic_id>/open/``."""
    return _moved(request, reverse("notifications:open", args=[f"forum.topic:{topic_id}"]))
