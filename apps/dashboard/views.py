"""The dashboard shell, its panels (HTML fragments) and the stats API."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.accounts.api_auth import api_auth_required
from apps.accounts.selectors import trust_progress_for_user
from apps.core.permissions import check_moderate_permission, is_moderator
from apps.forum.permissions import new_member_limits
from apps.forum.selectors import forum_stats_with_changes_at, review_queue_counts
from apps.plants.care.schedule import local_today
from apps.plants.care.selectors import care_tasks_due_for_user
from apps.plants.selectors import care_cards_for_user, identification_requests_for_user, plant_stats_with_changes_at

from . import panel_cache
from .selectors import (
    dashboard_stats_for_user,
    gardener_profile,
    public_home,
    recent_activity_for_user,
)
from .sparkline import sparkline

logger = logging.getLogger(__name__)

TEMPLATE = "dashboard/index.html"


def _plant_stats(request, now):
    stats, changes_at = plant_stats_with_changes_at(user=request.user, now=now)
    return {"stats": stats, "sparkline": sparkline(stats["weekly_searches"]), "changes_at": changes_at}


def _forum_stats(request, now):
    stats, changes_at = forum_stats_with_changes_at(user=request.user, now=now)
    return {"stats": stats, "changes_at": changes_at}


def _recent_activity(request, now):
    return {"items": recent_activity_for_user(user=request.user)}


def _previous_searches(request, now):
    rows, _ = identification_requests_for_user(user=request.user, limit=settings.DASHBOARD_PREVIOUS_SEARCHES_LIMIT)
    return {"requests": rows, "total": request.user.identification_request_count}


def _care_cards(request, now):
    cards = care_cards_for_user(user=request.user, limit=settings.DASHBOARD_CARE_CARDS_LIMIT)
    return {"cards": cards, "total": request.user.care_card_count}


def _care_due(request, now):
    today = local_today(request.user.time_zone, now=now)
    due = care_tasks_due_for_user(user=request.user, today=today, limit=settings.DASHBOARD_CARE_DUE_LIMIT)
    # An htmx request sends the CSRF token in base.html's hx-headers: its forms need no field,
    # so its HTML may be cached (panel_cache). The page without JavaScript renders the field.
    return {
        "due": due,
        "csrf_field": not request.htmx,
        "next_url": f"{reverse('dashboard:index')}?all=1#panel-care-due",
    }


def _trust_progress(request, now):
    return {"progress": trust_progress_for_user(user=request.user), "limits": new_member_limits(request.user)}


def _moderation_queue(request, now):
    check_moderate_permission(request.user)
    return {"counts": review_queue_counts(viewer=request.user)}


# When a cached panel's text would next change with time alone (see ``panel_cache``): called on
# a miss with the request, the panel's context and the moment taken before the context was
# built (a boundary passed while building only makes the entry expire at once).
# Plant and forum stats read it from their own statement (``plant_stats_with_changes_at``,
# ``forum_stats_with_changes_at``): no second query on a miss.
def _stats_changes_at(request, context, now):
    return context.pop("changes_at")


def _recent_activity_changes_at(request, context, now):
    return panel_cache.relative_times_change_at((item["created"] for item in context["items"]), now=now)


def _previous_searches_changes_at(request, context, now):
    return panel_cache.relative_times_change_at((row.created_at for row in context["requests"]), now=now)


def _care_cards_changes_at(request, context, now):
    return None


def _care_due_changes_at(request, context, now):
    return panel_cache.local_midnight_after(context["due"].today, time_zone=request.user.time_zone)


def _trust_progress_changes_at(request, context, now):
    if not context["progress"]["days_needed"]:
        return None
    return panel_cache.account_age_changes_at(request.user, now=now)


@dataclass(frozen=True)
class Panel:
    """One dashboard panel: its partial in ``dashboard/index.html``, its heading, the function
    that builds its context from the request and its moment ``now``, the ``HX-Trigger`` events
    (STYLE "Templates and HTMX": ``<entity><PastVerb>``) after which it reloads itself, whether
    only moderators see it, and ``changes_at``: for a panel whose HTML is cached
    (``panel_cache``), when its text next changes with time alone (``(request, context, now) ->
    datetime | None``); ``None`` for a panel that is never cached (a panel whose text depends on
    the gardener's local date is also listed in ``panel_cache.LOCAL_DAY_PANELS``).
    ``has_forms``: it holds POST forms, so it is cached only when htmx requests it (the CSRF
    token then travels in a header; the page without JavaScript renders the forms with their
    token, uncached; ``panel_cache``)."""

    partial: str
    title: str
    builder: Callable[[HttpRequest, datetime], dict]
    events: tuple[str, ...] = ()
    moderators_only: bool = False
    changes_at: Callable[[HttpRequest, dict, datetime], datetime | None] | None = None
    has_forms: bool = False

    @property
    def trigger(self) -> str:
        """The panel's ``hx-trigger``: on load, and on each of its events anywhere on the page."""
        return ", ".join(["load", *(f"{event} from:body" for event in self.events)])


# Panel name (SPEC URL segment) -> panel. Which write refreshes which panel is this table's
# "events" column, not logic in the template.
# The moderators' review queue shows site-wide counts that no per-gardener version follows:
# it is never cached.
PANELS: dict[str, Panel] = {
    "care-due": Panel(
        "care_due",
        "Due today",
        _care_due,
        ("careTaskDone", "careCardSaved"),
        changes_at=_care_due_changes_at,
        has_forms=True,
    ),
    "plant-stats": Panel(
        "plant_stats",
        "Your plants",
        _plant_stats,
        ("plantIdentified", "careCardSaved"),
        changes_at=_stats_changes_at,
    ),
    "forum-stats": Panel("forum_stats", "Forum activity", _forum_stats, changes_at=_stats_changes_at),
    "recent-activity": Panel(
        "recent_activity",
        "Recent activity",
        _recent_activity,
        ("plantIdentified",),
        changes_at=_recent_activity_changes_at,
    ),
    "previous-searches": Panel(
        "previous_searches",
        "Previous searches",
        _previous_searches,
        ("plantIdentified",),
        changes_at=_previous_searches_changes_at,
    ),
    "care-cards": Panel("care_cards", "Care cards", _care_cards, ("careCardSaved",), changes_at=_care_cards_changes_at),
    "trust-progress": Panel("trust_progress", "Trust level", _trust_progress, changes_at=_trust_progress_changes_at),
    "moderation-queue": Panel(
        "moderation_queue",
        "Review queue",
        _moderation_queue,
        ("postApproved", "postRejected", "editApproved", "editRejected", "reportsResolved", "postDecided"),
        moderators_only=True,
    ),
}
MODERATOR_PANELS = {name for name, panel in PANELS.items() if panel.moderators_only}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """``/``: a signed-in gardener goes to the dashboard (a 302, as before issue 15); a signed-out
    visitor gets the public home: what the site is, Sign in and Sign up, the latest public
    topics and recently identified plants (``public_home``, two statements). A visitor without
    a session cookie costs no session or user lookup, and the page keeps its cacheable headers
    (``PrivateCacheMiddleware`` marks it private only when a session or token is involved)."""
    if request.user.is_authenticated:
        return redirect("dashboard:index")
    return render(request, "dashboard/home.html", public_home())


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The dashboard shell: renders at once; each panel then loads itself over htmx.

    ``?all=1`` renders every panel into the page on the server instead, for browsers without
    JavaScript (the shell's ``<noscript>`` links there).
    """
    moderator = is_moderator(request.user)
    panels = [
        {"name": name, "title": panel.title, "trigger": panel.trigger}
        for name, panel in PANELS.items()
        if moderator or not panel.moderators_only
    ]
    all_rendered = request.GET.get("all") == "1"
    if all_rendered:
        for panel_info in panels:
            panel_info["html"] = _render_panel(request, panel_info["name"]).content.decode()
    return render(request, TEMPLATE, {"panels": panels, "all_rendered": all_rendered})


def _render_panel(request: HttpRequest, name: str) -> HttpResponse:
    """Panel ``name``'s fragment: from the panel cache when it holds it (no SQL), else built,
    rendered and stored until its text would change (``panel_cache``). An error state is never
    stored."""
    panel = PANELS[name]
    key = None
    cacheable = panel.changes_at is not None and (request.htmx or not panel.has_forms)
    if cacheable and panel_cache.panel_cache_enabled():
        key = panel_cache.panel_cache_key(name=name, user=request.user)
        html = panel_cache.panel_cache_get(key)
        if html is not None:
            return HttpResponse(html)
    partial, title = panel.partial, panel.title
    now = timezone.now()
    try:
        context = panel.builder(request, now)
        changes_at = panel.changes_at(request, context, now) if key is not None else None
        context.pop("changes_at", None)
    except DatabaseError:
        logger.exception("dashboard panel %s failed", name)
        return render(request, f"{TEMPLATE}#panel_error", {"panel": {"name": name, "title": title}})
    context["panel"] = {"name": name, "title": title}
    response = render(request, f"{TEMPLATE}#{partial}", context)
    if key is not None:
        panel_cache.panel_cache_set(key, response.content.decode(), changes_at=changes_at)
    return response


@login_required
@require_GET
def panel(request: HttpRequest, name: str) -> HttpResponse:
    """One dashboard panel as an HTML fragment for an htmx request; a plain browser navigation
    is redirected to the whole dashboard with every panel rendered, at this panel
    (``/dashboard/?all=1#panel-<name>``, SPEC "HTTP contract").

    A panel whose data cannot be loaded answers 200 with an error state inside it, so htmx
    swaps it and the rest of the page keeps working (SPEC "HTTP contract").
    """
    if name not in PANELS:
        raise Http404("No such panel.")
    if PANELS[name].moderators_only:
        check_moderate_permission(request.user)
    if not request.htmx:
        return redirect(f"{reverse('dashboard:index')}?all=1#panel-{name}")
    return _render_panel(request, name)


@api_auth_required
@require_GET
def stats_api(request: HttpRequest) -> JsonResponse:
    """``GET /api/dashboard/stats/``: SPEC's JSON shape for the signed-in gardener."""
    return JsonResponse(dashboard_stats_for_user(user=request.user))


@require_GET
def profile(request: HttpRequest, username: str) -> HttpResponse:
    """``/u/<username>/``: a gardener's public profile (issue 12; SPEC "a gardener's public
    profile"). Public like Discourse's: signed-out visitors see it too, with public topics only
    and never an email or location. Unknown, deactivated and erased accounts answer 404. The
    username matches in any letter case. Three statements for a signed-in viewer with the user
    lookup (SPEC budget: 4)."""
    profile_data = gardener_profile(username=username[:150], viewer=request.user)
    if profile_data is None:
        raise Http404("No such gardener.")
    return render(request, "dashboard/profile.html", profile_data)
