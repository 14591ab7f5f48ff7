"""Notification pages: the header badge (polled over htmx), the grouped list, mark-all-read,
and "open" (a POST), which marks a topic's notifications read on the way to its latest
notified post."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from . import notifications

BADGE_TEMPLATE = "forum/notifications.html#badge"


def _render_badge(request: HttpRequest, unread_count: int) -> HttpResponse:
    return render(request, BADGE_TEMPLATE, {"unread_count": unread_count})


@require_GET
@never_cache
def notification_badge(request: HttpRequest) -> HttpResponse:
    """``/forum/notifications/badge/``: the header's unread badge as a fragment.

    Signed out: 286 with an empty body, which tells htmx to stop polling (htmx docs,
    "Polling"), instead of a redirect to the sign-in page that would land inside the header.
    ``?seen=<n>`` is the count the browser already shows (sent back by the badge's
    ``hx-vals``); when nothing changed the answer is 204, which htmx does not swap, so the
    ``aria-live`` region is not re-announced every minute. Two statements: the user lookup and
    one count (``notifications.unread_notification_count``)."""
    if not request.user.is_authenticated:
        return HttpResponseStopPolling()
    unread_count = notifications.unread_notification_count(user=request.user)
    if request.GET.get("seen") == str(unread_count):
        return HttpResponse(status=204)
    return _render_badge(request, unread_count)


@require_GET
@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """``/forum/notifications/``: the gardener's notifications grouped per topic, unread
    topics first, then recently read ones. An htmx request (the list refreshing itself on the
    ``notificationsRead`` event) gets only the ``groups`` fragment. Three statements."""
    groups = notifications.notification_groups_for_user(user=request.user)
    context = {
        "unread_groups": [group for group in groups if group.is_unread],
        "read_groups": [group for group in groups if not group.is_unread],
    }
    template = "forum/notifications.html#groups" if request.htmx else "forum/notifications.html"
    return render(request, template, context)


@require_POST
@login_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    """``POST /forum/notifications/read-all/``: mark every notification of the gardener read.

    A plain form POST is redirected back to the list with a message; an htmx POST gets the
    updated badge (to swap into the header) and the ``notificationsRead`` event, on which the
    list refreshes itself (STYLE "Templates and HTMX": ``HX-Trigger`` after a write)."""
    notifications.notifications_mark_all_read(user=request.user)
    if request.htmx:
        # Everything is read as of the UPDATE; anything newer shows at the next poll.
        return trigger_client_event(_render_badge(request, 0), "notificationsRead")
    messages.success(request, "All notifications are marked read.")
    return redirect("forum:notifications")


@require_POST
@login_required
def notification_open(request: HttpRequest, topic_id: int) -> HttpResponse:
    """``POST /forum/notifications/<topic_id>/open/``: mark the gardener's notifications of
    that topic read and answer 303 to the permalink of the latest notified post.

    ``topic_id`` is the topic's primary key (int, from the URL). POST only: a GET answers 405
    (the site's page) and changes nothing, because SPEC "Bad input" says a GET never changes
    state; as a GET, any page that embeds the address (an image in a post,
    ``![.](/forum/notifications/3/open/)``) would mark a reader's notifications read. The
    notifications page shows each entry as a form whose button looks like a link, so it works
    without JavaScript and from the keyboard; the CSRF token is checked like any form's. 404
    when the gardener has no (still visible) notification in that topic, so nobody learns
    anything about someone else's notifications. Signed out: redirected to sign-in."""
    post_id = notifications.latest_notified_post_id(user=request.user, topic_id=topic_id)
    if post_id is None:
        raise Http404("No notification for this topic.")
    notifications.notifications_mark_topic_read(user=request.user, topic_id=topic_id)
    # 303 See Other: the answer to a POST is read with a GET (RFC 9110 section 15.4.4).
    return HttpResponseRedirect(reverse("forum:post-permalink", kwargs={"pk": post_id}), status=303)
