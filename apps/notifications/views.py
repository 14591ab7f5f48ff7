"""Notification pages: the header badge (polled over htmx), the grouped list, mark-all-read,
and "open" (a POST), which marks a group's notifications read on the way to its latest
notification's page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from . import selectors, services

BADGE_TEMPLATE = "notifications/list.html#badge"


def _render_badge(request: HttpRequest, unread_count: int) -> HttpResponse:
    return render(request, BADGE_TEMPLATE, {"unread_count": unread_count})


@require_GET
@never_cache
def notification_badge(request: HttpRequest) -> HttpResponse:
    """``/notifications/badge/``: the header's unread badge as a fragment.

    Signed out: 286 with an empty body, which tells htmx to stop polling (htmx docs,
    "Polling"), instead of a redirect to the sign-in page that would land inside the header.
    ``?seen=<n>`` is the count the browser already shows (sent back by the badge's
    ``hx-vals``); when nothing changed the answer is 204, which htmx does not swap, so the
    ``aria-live`` region is not re-announced every minute. Two statements: the user lookup and
    one count (``selectors.unread_notification_count``). A plain browser navigation (no
    ``HX-Request``) is redirected to ``/notifications/``, never shown the bare fragment (SPEC
    "HTTP contract"; issue 15)."""
    if not request.htmx:
        return redirect("notifications:list")
    if not request.user.is_authenticated:
        return HttpResponseStopPolling()
    unread_count = selectors.unread_notification_count(user=request.user)
    if request.GET.get("seen") == str(unread_count):
        return HttpResponse(status=204)
    return _render_badge(request, unread_count)


@require_GET
@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """``/notifications/``: the gardener's notifications grouped per topic or identification
    request, unread groups first, then recently read ones. An htmx request (the list
    refreshing itself on the ``notificationsRead`` event) gets only the ``groups`` fragment.
    Four statements: the user lookup and ``selectors.notification_groups_for_user``'s three."""
    groups = selectors.notification_groups_for_user(user=request.user)
    context = {
        "unread_groups": [group for group in groups if group.is_unread],
        "read_groups": [group for group in groups if not group.is_unread],
    }
    template = "notifications/list.html#groups" if request.htmx else "notifications/list.html"
    return render(request, template, context)


@require_POST
@login_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    """``POST /notifications/read-all/``: mark every notification of the gardener read.

    A plain form POST is redirected back to the list with a message; an htmx POST gets the
    updated badge (to swap into the header) and the ``notificationsRead`` event, on which the
    list refreshes itself (STYLE "Templates and HTMX": ``HX-Trigger`` after a write)."""
    services.notifications_mark_all_read(user=request.user)
    if request.htmx:
        # Everything is read as of the UPDATE; anything newer shows at the next poll.
        return trigger_client_event(_render_badge(request, 0), "notificationsRead")
    messages.success(request, "All notifications are marked read.")
    return redirect("notifications:list")


@require_POST
@login_required
def notification_open(request: HttpRequest, group_key: str) -> HttpResponse:
    """``POST /notifications/<group_key>/open/``: mark the gardener's notifications of that
    group (``"forum.topic:12"``, ``"plants.request:34"``) read and answer 303 to the latest
    notification's url.

    POST only: a GET answers 405 and changes nothing (SPEC "Bad input": a GET never changes
    state; as a GET, an image in a post pointing here would mark a reader's notifications
    read). The list shows each entry as a form whose button looks like a link. 404 when the
    gardener has no visible notification in that group (any other string too), so nobody
    learns anything about someone else's notifications. Signed out: redirected to sign-in.
    Three statements: the user lookup, the latest url, one UPDATE."""
    url = selectors.latest_notification_url(user=request.user, group_key=group_key)
    if url is None:
        raise Http404("No notification here.")
    services.notifications_mark_group_read(user=request.user, group_key=group_key)
    # 303 See Other: the answer to a POST is read with a GET (RFC 9110 section 15.4.4).
    return HttpResponseRedirect(url, status=303)
