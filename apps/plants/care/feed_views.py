"""The calendar feed's endpoints (issue 14): the feed itself (``feed.py`` builds it) and the two
POSTs of the care cards page's "calendar" section.

- ``GET /plants/care/calendar/<token>.ics``: no session; 404 (the site's page) for any token
  that is not a live one.
- ``POST /plants/care/calendar/create/`` and ``POST /plants/care/calendar/reset/``: signed in;
  a plain form POST answered by a flash message and ``303`` to the care cards page's calendar
  section (``#care-calendar``); over ``feed.CALENDAR_LINK_CHANGES_PER_HOUR``: 429 with
  ``Retry-After``, nothing changed.
"""

import logging

import redis
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.request import split_domain_port
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from apps.core.ratelimit import RateLimited, rate_limit_hit
from apps.core.responses import too_many_requests
from apps.core.throttle import wait_phrase

from . import feed, services

logger = logging.getLogger(__name__)


def _calendar_throttled(request: HttpRequest) -> HttpResponse | None:
    try:
        rate_limit_hit(
            limits=[(feed.calendar_limit_key(user_id=request.user.pk), feed.CALENDAR_LINK_CHANGES_PER_HOUR, 3600)]
        )
    except RateLimited as limited:
        detail = f"You changed your calendar link often just now. Try again in {wait_phrase(limited.retry_after)}."
        return too_many_requests(request, retry_after=limited.retry_after, detail=detail)
    except redis.RedisError:
        # Fail open: this limit stops churn, it guards no account (as the write throttles).
        logger.warning("calendar link limit skipped (Redis unavailable): user %s", request.user.pk, exc_info=True)
    return None


def _back_to_cards() -> HttpResponse:
    return HttpResponseRedirect(reverse("plants:care-card-list") + "#care-calendar", status=303)


def calendar_urls(request: HttpRequest, token: str) -> dict[str, str]:
    """``{"https": ..., "webcal": ...}``: the absolute feed URL for ``token`` as this request
    reached the site (https in production, behind ``SECURE_PROXY_SSL_HEADER``), and the same
    with the ``webcal://`` scheme, which calendar apps open as "subscribe"."""
    url = request.build_absolute_uri(reverse("plants:care-calendar-feed", kwargs={"token": token}))
    return {"https": url, "webcal": "webcal://" + url.split("://", 1)[1]}


@login_required
@require_POST
def care_calendar_create(request: HttpRequest) -> HttpResponse:
    """``POST /plants/care/calendar/create/``: make the gardener's calendar link (the same one
    again when it exists: a double click changes nothing), then 303 to the care cards page."""
    if limited := _calendar_throttled(request):
        return limited
    services.care_calendar_feed_create(owner=request.user)
    messages.success(request, "Your calendar link is ready. Add it to your calendar app.")
    return _back_to_cards()


@login_required
@require_POST
def care_calendar_reset(request: HttpRequest) -> HttpResponse:
    """``POST /plants/care/calendar/reset/``: give the gardener's calendar link a new token;
    the old link answers 404 from now on. 303 to the care cards page with a message."""
    if limited := _calendar_throttled(request):
        return limited
    services.care_calendar_feed_reset(owner=request.user)
    messages.success(
        request, "Your calendar link is new. Calendars subscribed to the old link stop updating: subscribe again."
    )
    return _back_to_cards()


@csrf_exempt  # read-only, no session: a POST gets 405 from require_safe, not the CSRF 403
@require_safe
def care_calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """``GET /plants/care/calendar/<token>.ics``: the feed's owner's enabled care tasks as
    iCalendar (``feed.care_calendar_ics``), for anyone holding the token; no session needed.
    No such token (wrong, reset, or its owner deactivated): the site's 404 page. Two statements:
    the feed with its owner, the tasks with their cards and species."""
    found = feed.care_calendar_feed_by_token(token=token)
    if found is None:
        raise Http404("No such calendar.")
    body = feed.care_calendar_ics(
        owner=found.owner,
        tasks=feed.care_calendar_tasks(owner_id=found.owner_id),
        host=split_domain_port(request.get_host())[0] or "localhost",
        cards_url=request.build_absolute_uri(reverse("plants:care-card-list")),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="plant-care.ics"'
    # A secret URL: no shared cache may keep it, and no search engine index it.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def care_calendar_context(request: HttpRequest) -> dict:
    """What ``plants/_care_calendar_link.html`` needs, for the signed-in gardener of
    ``request``: ``{"feed": CareCalendarFeed | None, "urls": calendar_urls(...) | None}``. One
    statement; it reads only (a link is made by the "Create calendar link" POST, never by
    showing the page)."""
    found = feed.care_calendar_feed_of(user=request.user)
    return {"feed": found, "urls": calendar_urls(request, found.token) if found else None}
