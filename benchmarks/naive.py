"""The naive baseline: each benchmarked page computed the way a first Django version would,
rendered with the same template and the same context keys as ours, so the two answers are the
same HTML (``run.py`` checks that) and only the data access differs.

What "naive" means here, and nothing more (no extra work is added):

- a separate ``COUNT(*)`` for every figure instead of the maintained counters on the user,
  forum and topic rows, and instead of one conditional aggregate (the 12 sparkline weeks are
  12 counts);
- loops that touch foreign keys, loaded one row at a time (Django's default fetch mode
  ``FETCH_ONE``; no ``select_related``, ``prefetch_related`` or ``only``);
- ``Paginator`` with ``COUNT(*)`` and ``OFFSET`` instead of counters and keyset pagination;
- the top suggestion of a request chosen in Python from all its suggestions.

Kept under ``benchmarks/`` and routed only by ``benchmarks/urls.py``: the app never imports it.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import DatabaseError, models
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.api_auth import api_auth_required
from apps.accounts.models import RevokedTokenFamily, TrustLevel, User
from apps.core.permissions import check_moderate_permission, is_moderator
from apps.dashboard import views as dashboard_views
from apps.dashboard.sparkline import sparkline
from apps.dashboard.views import PANELS, TEMPLATE
from apps.forum.models import Forum, Post, Report, Topic
from apps.plants.care.schedule import local_today
from apps.plants.care.selectors import DueTasks
from apps.plants.models import IdentificationStatus, PlantIdentificationRequest, SavedCareInstructions
from apps.plants.selectors import RequestCursor

ONE = models.FETCH_ONE


def _requests(user):
    return PlantIdentificationRequest.objects.fetch_mode(ONE).filter(owner=user)


# --- Dashboard numbers ------------------------------------------------------------------


def _plant_numbers(user, now, *, weekly: bool) -> dict:
    stats = {
        "total_identified": _requests(user).filter(status=IdentificationStatus.IDENTIFIED).count(),
        "total_searches": _requests(user).count(),
        "searches_this_week": _requests(user).filter(created_at__gt=now - timedelta(days=7)).count(),
        "saved_care_cards": SavedCareInstructions.objects.filter(owner=user).count(),
    }
    if weekly:
        weeks = settings.DASHBOARD_SPARKLINE_WEEKS
        window_start = now - timedelta(weeks=weeks)
        counts = []
        for index in range(weeks):
            low = window_start + timedelta(weeks=index)
            bucket = _requests(user).filter(created_at__gt=low)
            if index < weeks - 1:
                bucket = bucket.filter(created_at__lte=low + timedelta(weeks=1))
            counts.append(bucket.count())
        stats["weekly_searches"] = counts
    return stats


def _forum_numbers(user, now) -> dict:
    since = now - timedelta(days=30)
    topics = Topic.objects.fetch_mode(ONE).filter(poster=user, is_deleted=False)
    posts = Post.objects.fetch_mode(ONE).filter(poster=user, is_deleted=False)
    return {
        "topics": topics.count(),
        "posts": posts.count(),
        "topics_last_30_days": topics.filter(created_at__gt=since).count(),
        "posts_last_30_days": posts.filter(created_at__gt=since).count(),
    }


def _trust_numbers(user) -> dict:
    """``trust_progress_for_user`` with the approved posts counted instead of read."""
    approved = Post.objects.filter(poster=user, is_deleted=False, is_approved=True).count()
    next_level = TrustLevel(user.trust_level).next_level
    if next_level is None:
        return {"level": user.trust_level, "next_level": None, "posts_needed": 0, "days_needed": 0}
    needs = next_level.requirements
    return {
        "level": str(user.trust_level),
        "next_level": next_level.value,
        "posts_needed": max(needs["approved_posts"] - approved, 0),
        "days_needed": max(needs["account_age_days"] - user.account_age_days, 0),
    }


def _recent_activity(user) -> list[dict]:
    """The latest topics, replies and requests, each list read newest first, merged in
    Python; forum names, topic subjects and species loaded per row."""
    limit = settings.DASHBOARD_RECENT_ACTIVITY_LIMIT
    items = []
    for topic in Topic.objects.fetch_mode(ONE).filter(poster=user, is_deleted=False).order_by("-created_at")[:limit]:
        items.append(
            {
                "type": "topic",
                "title": topic.subject,
                "created": topic.created_at,
                "forum_name": topic.forum.name,
                "status": None,
                "url": reverse("forum:topic-detail", kwargs={"pk": topic.pk}),
            }
        )
    replies = Post.objects.fetch_mode(ONE).filter(poster=user, is_deleted=False, is_opening_post=False)
    for post in replies.order_by("-created_at")[:limit]:
        items.append(
            {
                "type": "reply",
                "title": f"Re: {post.topic.subject}",
                "created": post.created_at,
                "forum_name": post.topic.forum.name,
                "status": None,
                "url": reverse("forum:post-permalink", kwargs={"pk": post.pk}),
            }
        )
    for id_request in _requests(user).order_by("-created_at")[:limit]:
        name = None
        if id_request.species_id is not None:
            name = id_request.species.primary_common_name or id_request.species.scientific_name
        if id_request.status == IdentificationStatus.IDENTIFIED and name:
            title = f"Identified: {name}"
        else:
            title = f"Identification request #{id_request.pk} ({IdentificationStatus(id_request.status).label.lower()})"
        items.append(
            {
                "type": "identification",
                "title": title,
                "created": id_request.created_at,
                "forum_name": None,
                "status": id_request.status,
                "url": reverse("plants:request-detail", kwargs={"pk": id_request.pk}),
            }
        )
    items.sort(key=lambda item: item["created"], reverse=True)
    return items[:limit]


def _with_top_suggestion(requests: list) -> list:
    """Give each request ``top_suggestion_name`` / ``_probability`` as ours does (the accepted
    one first, then most votes, then most probable), from all its suggestions."""
    for id_request in requests:
        suggestions = list(id_request.suggestions.all().fetch_mode(ONE))
        suggestions.sort(
            key=lambda s: (
                0 if s.pk == id_request.accepted_suggestion_id else 1,
                -s.vote_count,
                (0, -s.probability) if s.probability is not None else (1, 0),
                s.pk,
            )
        )
        top = suggestions[0] if suggestions else None
        if top is None:
            id_request.top_suggestion_name = id_request.top_suggestion_probability = None
            continue
        common = top.species.primary_common_name if top.species_id is not None else None
        id_request.top_suggestion_name = common or top.free_text_name
        id_request.top_suggestion_probability = top.probability
    return requests


# --- Dashboard panels -------------------------------------------------------------------


def _plant_stats(request):
    stats = _plant_numbers(request.user, timezone.now(), weekly=True)
    return {"stats": stats, "sparkline": sparkline(stats["weekly_searches"])}


def _forum_stats(request):
    return {"stats": _forum_numbers(request.user, timezone.now())}


def _recent(request):
    return {"items": _recent_activity(request.user)}


def _previous_searches(request):
    rows = list(_requests(request.user).order_by("-created_at", "-id")[: settings.DASHBOARD_PREVIOUS_SEARCHES_LIMIT])
    return {"requests": _with_top_suggestion(rows), "total": _requests(request.user).count()}


def _care_cards(request):
    cards = SavedCareInstructions.objects.fetch_mode(ONE).filter(owner=request.user).order_by("-updated_at", "-id")
    return {
        "cards": list(cards[: settings.DASHBOARD_CARE_CARDS_LIMIT]),
        "total": SavedCareInstructions.objects.filter(owner=request.user).count(),
    }


def _care_due(request):
    """Every card, then each card's enabled tasks (one query a card), due ones picked and
    sorted in Python."""
    user = request.user
    today = local_today(user.time_zone)
    tasks = []
    for card in SavedCareInstructions.objects.fetch_mode(ONE).filter(owner=user):
        for task in card.care_tasks.fetch_mode(ONE).filter(is_enabled=True):
            task.plant_name = card.nickname or card.species.display_name
            task.overdue_days = (today - task.next_due_on).days
            tasks.append(task)
    tasks.sort(key=lambda task: (task.next_due_on, task.pk))
    due = [task for task in tasks if task.next_due_on <= today]
    later = [task for task in tasks if task.next_due_on > today]
    return {
        "due": DueTasks(
            today=today,
            tasks=due[: settings.DASHBOARD_CARE_DUE_LIMIT],
            due_count=len(due),
            next=later[0] if later and not due else None,
        ),
        "csrf_field": not request.htmx,
        "next_url": f"{reverse('dashboard:index')}?all=1#panel-care-due",
    }


def _trust_progress(request):
    return {"progress": _trust_numbers(request.user)}


def _moderation_queue(request):
    check_moderate_permission(request.user)
    live = Post.objects.filter(is_deleted=False)
    return {
        "counts": {
            "held": live.filter(is_approved=False, rejection_reason="").count(),
            "hidden": live.filter(is_hidden=True).count(),
            "open_reports": Report.objects.filter(status=Report.Status.OPEN).count(),
        }
    }


BUILDERS = {
    "care-due": _care_due,
    "plant-stats": _plant_stats,
    "forum-stats": _forum_stats,
    "recent-activity": _recent,
    "previous-searches": _previous_searches,
    "care-cards": _care_cards,
    "trust-progress": _trust_progress,
    "moderation-queue": _moderation_queue,
}


@login_required
@require_GET
def panel(request: HttpRequest, name: str) -> HttpResponse:
    """The naive ``/dashboard/panels/<name>/``: same partial, same context keys."""
    if name not in PANELS or name not in BUILDERS:
        raise Http404("No naive version of this panel.")
    partial, title = PANELS[name].partial, PANELS[name].title
    try:
        context = BUILDERS[name](request)
    except DatabaseError:
        return render(request, f"{TEMPLATE}#panel_error", {"panel": {"name": name, "title": title}})
    context["panel"] = {"name": name, "title": title}
    response = render(request, f"{TEMPLATE}#{partial}", context)
    response["Vary"] = "HX-Request"
    return response


@api_auth_required
@require_GET
def stats_api(request: HttpRequest) -> JsonResponse:
    """The naive ``/api/dashboard/stats/``: every figure counted, activity looped."""
    now = timezone.now()
    activity = [
        {"type": item["type"], "title": item["title"], "url": item["url"], "created": item["created"].isoformat()}
        for item in _recent_activity(request.user)
    ]
    return JsonResponse(
        {
            "plant_stats": _plant_numbers(request.user, now, weekly=False),
            "forum_stats": _forum_numbers(request.user, now),
            "recent_activity": activity,
            "trust": _trust_numbers(request.user),
        }
    )


# --- Token refresh ----------------------------------------------------------------------


@csrf_exempt
@never_cache
@require_POST
def token_refresh(request: HttpRequest) -> HttpResponse:
    """Ours, with the checks of ``selectors.token_user_queryset`` (active user, tokens issued
    after ``tokens_valid_after``, family not revoked in the database) done the naive way: the
    whole user row loaded and checked in Python, then a separate query for the revocation.
    (Ours keeps the rotation state in Redis, so there is no token table to scan; the seed's
    "3-4 queries before" came from a database token blacklist this project never had.)"""
    from datetime import UTC, datetime

    import redis

    from apps.accounts import tokens
    from apps.accounts.api import _bad_request
    from apps.core.api import BadBody, json_body, service_unavailable, unauthenticated

    try:
        data = json_body(request, optional=("refresh",))
    except BadBody as error:
        return _bad_request(str(error))
    token = data.get("refresh")
    if not token:
        return _bad_request("'refresh' is required.")
    try:
        claims = tokens.decode(token, expected_type=tokens.REFRESH)
    except tokens.TokenInvalid:
        return unauthenticated("The refresh token is invalid or expired.", "TOKEN_INVALID")
    invalid = unauthenticated("The refresh token is invalid or expired.", "TOKEN_INVALID")
    user = User.objects.fetch_mode(ONE).filter(pk=int(claims["sub"])).first()
    if user is None or not user.is_active:
        return invalid
    valid_after = getattr(user, "tokens_valid_after", None)
    if (
        valid_after is not None
        and "fiat" in claims
        and valid_after >= datetime.fromtimestamp(float(claims["fiat"]), tz=UTC)
    ):
        return invalid
    if RevokedTokenFamily.objects.filter(family_id=claims["fam"]).exists():
        return invalid
    try:
        pair = tokens.refresh_rotate(claims=claims)
    except tokens.TokenInvalid:
        return unauthenticated("The refresh token is invalid or revoked.", "TOKEN_INVALID")
    except redis.RedisError:
        return service_unavailable()
    return JsonResponse(pair.as_json())


# --- Previous searches ------------------------------------------------------------------


@login_required
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    """The naive ``/plants/requests/`` (first page): ``Paginator`` with ``COUNT(*)``, species
    and suggestions loaded per row."""
    queryset = _requests(request.user).order_by("-created_at", "-id")
    page = Paginator(queryset, settings.PLANT_REQUESTS_PAGE_SIZE).get_page(1)
    rows = _with_top_suggestion(list(page.object_list))
    next_cursor = RequestCursor(created_at=rows[-1].created_at, pk=rows[-1].pk).encode() if page.has_next() else None
    response = render(request, "plants/request_list.html", {"requests": rows, "next_cursor": next_cursor})
    response["Vary"] = "HX-Request"
    return response


# --- Forum ------------------------------------------------------------------------------

VISIBLE_POST = Q(is_approved=True, is_hidden=False, is_deleted=False)


def _viewer(request):
    return request.user if request.user.is_authenticated else None


@require_GET
def forum_index(request: HttpRequest) -> HttpResponse:
    """The naive ``/forum/``: per forum, its visible topics and posts counted and its latest
    visible post looked up (with its topic and poster loaded), instead of the forum's
    counters and last-activity columns."""
    forums = list(Forum.objects.fetch_mode(ONE).order_by("position", "name"))
    for forum in forums:
        topics = Topic.objects.fetch_mode(ONE).filter(forum=forum, is_approved=True, is_deleted=False)
        posts = Post.objects.fetch_mode(ONE).filter(
            VISIBLE_POST, topic__forum=forum, topic__is_approved=True, topic__is_deleted=False
        )
        forum.topic_count = topics.count()
        forum.post_count = posts.count()
        latest = posts.order_by("-created_at", "-id").first()
        forum.last_topic = latest.topic if latest else None
        forum.last_poster = latest.poster if latest else None
        forum.last_post_at = latest.created_at if latest else None
    return render(request, "forum/index.html", {"forums": forums})


def _visible_topics(viewer):
    visible = Q(is_approved=True)
    if viewer is not None:
        visible |= Q(poster=viewer)
    return Topic.objects.fetch_mode(ONE).filter(visible, is_deleted=False)


@require_GET
def forum_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The naive forum page: ``Paginator`` counts the topics, each topic's posts are counted,
    its poster and last poster loaded per row."""
    forum = Forum.objects.fetch_mode(ONE).filter(slug=slug).first()
    if forum is None:
        raise Http404("No such forum.")
    queryset = _visible_topics(_viewer(request)).filter(forum=forum).order_by("-is_pinned", "-last_post_at", "-id")
    page = Paginator(queryset, settings.FORUM_TOPICS_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for topic in page.object_list:
        topic.post_count = Post.objects.filter(VISIBLE_POST, topic=topic).count()
    return render(request, "forum/forum_detail.html", {"forum": forum, "page": page})


@require_GET
def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The naive topic page: ``Paginator`` counts the visible posts, each post's poster and the
    topic's forum loaded per row; the same context as ours (``apps.forum.views._render_topic``)."""
    from apps.forum import permissions as forum_permissions
    from apps.forum.forms import ReplyForm, TopicToolForm

    viewer = _viewer(request)
    topic = _visible_topics(viewer).filter(pk=pk).first()
    if topic is None:
        raise Http404("No such topic.")
    visible = Q(is_approved=True, is_hidden=False)
    if viewer is not None:
        visible |= Q(poster=viewer)
    posts = Post.objects.fetch_mode(ONE).filter(visible, topic=topic, is_deleted=False).order_by("created_at", "id")
    page = Paginator(posts, settings.FORUM_POSTS_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for post in page.object_list:
        post.can = forum_permissions.post_permissions(request.user, post)
    context = {
        "topic": topic,
        "page": page,
        "can": forum_permissions.topic_permissions(request.user, topic),
        "reply_form": ReplyForm(),
        "tool_form": TopicToolForm(),
        "report_reasons": Report.Reason.choices,
    }
    return render(request, "forum/topic_detail.html", context)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The naive ``/dashboard/?all=1``: the shell with every naive panel rendered into it."""
    moderator = is_moderator(request.user)
    hidden = getattr(dashboard_views, "MODERATOR_PANELS", set())
    panels = [
        {"name": name, "title": panel.title, "trigger": panel.trigger}
        for name, panel in PANELS.items()
        if moderator or name not in hidden
    ]
    if request.GET.get("all") == "1":
        for panel_info in panels:
            panel_info["html"] = panel(request, panel_info["name"]).content.decode()
    return render(request, TEMPLATE, {"panels": panels})
