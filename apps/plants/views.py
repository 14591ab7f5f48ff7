"""Plant pages: asking for an identification, previous requests, one request with its
suggestions, the species catalog and care cards. Thin views over selectors and services."""

import logging
from datetime import timedelta

import redis
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from apps.core.permissions import is_moderator
from apps.core.ratelimit import RateLimited, limit_key, rate_limit_hit, set_retry_after
from apps.core.responses import error_page, too_many_requests
from apps.core.throttle import write_throttle_hit, write_throttle_message

from . import selectors, services
from .care import schedule as care_schedule
from .care import services as care_services
from .care.feed_views import care_calendar_context
from .care.models import MAX_INTERVAL_DAYS, SNOOZE_DAYS
from .forms import CareCardForm, HelpFilterForm, IdentificationRequestForm, SuggestionForm
from .models import PlantSpecies
from .permissions import (
    check_accept_suggestion_permission,
    check_change_identification_request_permission,
    check_delete_request_permission,
    get_care_card_for_user,
    get_identification_request_for_user,
    get_suggestion_for_request,
)

logger = logging.getLogger(__name__)


def _identification_allowed(request: HttpRequest) -> int | None:
    """Count one request against ``IDENTIFICATION_REQUESTS_PER_HOUR``; seconds to wait when
    over it. A Redis failure lets the request through: this limit protects provider quotas,
    not accounts, so it fails open (logged)."""
    try:
        rate_limit_hit(
            limits=[(limit_key("identify:user", str(request.user.pk)), settings.IDENTIFICATION_REQUESTS_PER_HOUR)],
            window_seconds=3600,
        )
    except RateLimited as limited:
        return limited.retry_after
    except redis.RedisError:
        logger.warning("identification rate limit skipped: Redis unavailable")
    return None


@login_required
@require_http_methods(["GET", "POST"])
def identify(request: HttpRequest) -> HttpResponse:
    """SPEC ``/plants/identify/``: one to three photos and notes, for every signed-in gardener
    whatever the trust level. Bad files are refused with a message and nothing is stored.

    Cheapest first (issue 11): the fields, file count and sizes are validated without
    decoding; only then is the request counted against the hourly limit (429 when over it),
    and only a counted request has its photos decoded, one at a time. A request whose photo
    turns out unreadable still counts: its decoding was paid for."""
    form = IdentificationRequestForm(*((request.POST, request.FILES) if request.method == "POST" else ()))
    if request.method == "POST" and form.is_valid():
        if (retry_after := _identification_allowed(request)) is not None:
            return too_many_requests(
                request, retry_after=retry_after, detail="You have asked for many identifications this hour."
            )
        if form.photos_process():
            identification = services.identification_request_create(
                owner=request.user,
                photos=form.cleaned_data["photos"],
                thumbnail=form.cleaned_data["thumbnail"],
                notes=form.cleaned_data["notes"],
                latitude=form.cleaned_data["latitude"],
                longitude=form.cleaned_data["longitude"],
                exact_location=form.cleaned_data["exact_location"],
                show_on_species_pages=form.cleaned_data["show_on_species_pages"],
            )
            return redirect(identification)
    return render(request, "plants/identify.html", {"form": form})


@login_required
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    """``/plants/requests/``: the gardener's identification requests, newest first.

    ``?after=<cursor>`` continues after the last row shown (keyset pagination); htmx's
    "load more" asks for the ``request_rows`` partial only. A malformed cursor is a 400.
    """
    after = None
    if raw := request.GET.get("after"):
        try:
            after = selectors.RequestCursor.decode(raw)
        except ValueError:
            return error_page(request, 400, detail="That page link is not valid.")
    rows, next_cursor = selectors.identification_requests_for_user(
        user=request.user, limit=settings.PLANT_REQUESTS_PAGE_SIZE, after=after
    )
    context = {"requests": rows, "next_cursor": next_cursor.encode() if next_cursor else None}
    template = "plants/request_list.html"
    if request.htmx and after is not None:
        template += "#request_rows"
    return render(request, template, context)


@login_required
@require_GET
def help_identify(request: HttpRequest) -> HttpResponse:
    """``/plants/requests/help/``: other gardeners' plants waiting for a name, newest first.

    A GET form filters them (``suggestions``, ``family``, ``near``; ``HelpFilterForm``) and
    ``?after=<cursor>`` continues after the last row shown; htmx's "load more" asks for the
    ``request_rows`` partial only. An unknown filter value or a malformed cursor is a 400 page
    that says so; "near me" without a shared home location is ignored with a message. Three
    statements with the user lookup (the families of the filter, then the rows)."""
    form = HelpFilterForm(request.GET, families=selectors.help_families())
    if not form.is_valid():
        context = {"form": form, "requests": [], "next_query": None}
        return render(request, "plants/help_identify.html", context, status=400)
    after = None
    if raw := request.GET.get("after"):
        try:
            after = selectors.RequestCursor.decode(raw)
        except ValueError:
            return error_page(request, 400, detail="That page link is not valid.")
    user = request.user
    near = None
    near_message = ""
    if form.cleaned_data["near"]:
        if user.home_latitude is None or user.home_longitude is None:
            near_message = "Share your home location in your settings to see plants near you; showing all for now."
        else:
            near = (float(user.home_latitude), float(user.home_longitude))
    rows, next_cursor = selectors.identification_requests_needing_help(
        viewer=user,
        limit=settings.PLANT_REQUESTS_PAGE_SIZE,
        after=after,
        suggestions=form.cleaned_data["suggestions"],
        family=form.cleaned_data["family"],
        near=near,
    )
    next_query = None
    if next_cursor is not None:
        query = request.GET.copy()
        query["after"] = next_cursor.encode()
        next_query = query.urlencode()
    context = {"form": form, "requests": rows, "next_query": next_query, "near_message": near_message}
    template = "plants/help_identify.html"
    if request.htmx and after is not None:
        template += "#request_rows"
    return render(request, template, context)


def _poll_wait(raw: str | None) -> float:
    """The wait (seconds) before this status poll, as the page asked for it (``?wait=``),
    kept between ``IDENTIFICATION_STATUS_POLL_SECONDS`` and ``..._MAX_SECONDS``."""
    start, longest = settings.IDENTIFICATION_STATUS_POLL_SECONDS, settings.IDENTIFICATION_STATUS_POLL_MAX_SECONDS
    try:
        wait = float(raw) if raw else start
    except ValueError:
        wait = start
    return min(max(wait, start), longest) if wait == wait else start


def _detail_context(request: HttpRequest, identification, *, poll_wait: float | None = None) -> dict:
    detail = selectors.identification_request_detail(id_request=identification, viewer=request.user)
    wait = poll_wait if poll_wait is not None else settings.IDENTIFICATION_STATUS_POLL_SECONDS
    next_wait = min(wait * settings.IDENTIFICATION_STATUS_POLL_GROWTH, settings.IDENTIFICATION_STATUS_POLL_MAX_SECONDS)
    return {
        "identification": identification,
        "is_owner": identification.owner_id == request.user.pk,
        "suggestion_form": SuggestionForm(),
        "machine_running": identification.status in ("pending", "processing"),
        "machine_max_attempts": settings.IDENTIFICATION_MACHINE_MAX_ATTEMPTS,
        # The page waits this long before asking again, then a growing wait (issue 12).
        "poll_seconds": f"{wait:g}",
        "poll_next_seconds": f"{next_wait:g}",
        **detail,
    }


@login_required
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """``/plants/requests/<id>/``: photos, suggestions and votes; only the owner sees an exact
    location. Four statements with the user lookup.

    While the machine runs, the page asks (htmx, ``?wait=<seconds>``) for its heading and
    status only, each time waiting longer (``IDENTIFICATION_STATUS_POLL_*``); the answer
    carries the next poll while the status is still running and none once it settles, and then
    also the suggestion list out of band, never the suggestion form (what a gardener is typing
    stays)."""
    identification = get_identification_request_for_user(pk=pk, user=request.user)
    context = _detail_context(request, identification, poll_wait=_poll_wait(request.GET.get("wait")))
    if request.htmx:
        main = render_to_string("plants/request_detail.html#request_main", context, request=request)
        if context["machine_running"]:
            return HttpResponse(main)
        suggestions = render_to_string("plants/request_detail.html#suggestion_list_oob", context, request=request)
        return HttpResponse(main + suggestions)
    return render(request, "plants/request_detail.html", context)


def _suggestions_response(request: HttpRequest, pk: int, *, fragment: str = "suggestions"):
    identification = get_identification_request_for_user(pk=pk, user=request.user)
    if not request.htmx:
        return redirect(identification)
    return render(request, f"plants/request_detail.html#{fragment}", _detail_context(request, identification))


def _suggestions_again(request: HttpRequest, identification, *, status: int, **extra) -> HttpResponse:
    """The suggestions section (``fragment``: the list alone for a vote) shown again after a
    refused write, with ``extra`` context (the bound form, a message): the fragment for htmx
    (swapped by base.html's responseHandling), the whole page otherwise."""
    fragment = extra.pop("fragment", "suggestions")
    context = {**_detail_context(request, identification), **extra}
    template = f"plants/request_detail.html#{fragment}" if request.htmx else "plants/request_detail.html"
    return render(request, template, context, status=status)


def _write_throttled(request: HttpRequest, action: str) -> RateLimited | None:
    """Count one write ``action`` by the gardener against their trust level's throttle
    (moderators exempt); the ``RateLimited`` when over it, else ``None``."""
    user = request.user
    try:
        write_throttle_hit(user_id=user.pk, action=action, trust_level=user.trust_level, exempt=is_moderator(user))
    except RateLimited as limited:
        return limited
    return None


@login_required
@require_POST
def suggestion_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Suggest a catalog species or a free-text name for a request (counts as agreeing).

    Invalid input: the form again with its messages (200; 400 for htmx, SPEC "HTTP
    contract"). Over the gardener's ``suggestion`` throttle: 429 with ``Retry-After``, the
    form keeping the typed name and saying when to try again; nothing is written."""
    identification = get_identification_request_for_user(pk=pk, user=request.user)
    form = SuggestionForm(request.POST)
    if not form.is_valid():
        return _suggestions_again(request, identification, suggestion_form=form, status=400 if request.htmx else 200)
    if limited := _write_throttled(request, "suggestion"):
        form.add_error(None, write_throttle_message(action="suggestion", retry_after=limited.retry_after))
        response = _suggestions_again(request, identification, suggestion_form=form, status=429)
        return set_retry_after(response, limited.retry_after)
    services.suggestion_add(
        id_request=identification,
        suggester=request.user,
        species=form.cleaned_data["species"],
        free_text_name=form.cleaned_data["name"],
    )
    response = _suggestions_response(request, pk)
    if not request.htmx:
        return response
    # Read out once by static/js/htmx-focus.js (the section itself is not a live region).
    species = form.cleaned_data["species"]
    name = species.display_name if species else form.cleaned_data["name"]
    message = f"Your suggestion {name} is listed, with your vote."
    return trigger_client_event(response, "suggestionAdded", {"message": message})


@login_required
@require_POST
def suggestion_vote(request: HttpRequest, pk: int, suggestion_pk: int) -> HttpResponse:
    """Agree (``agrees=1``) or disagree (``agrees=0``) with a suggestion; again to withdraw.

    Over the gardener's ``vote`` throttle: 429 with ``Retry-After`` and the suggestions shown
    again with when to try again; nothing is written."""
    identification = get_identification_request_for_user(pk=pk, user=request.user)
    suggestion = get_suggestion_for_request(id_request=identification, pk=suggestion_pk)
    if request.POST.get("agrees") not in ("0", "1"):
        return error_page(request, 400, detail="Choose agree or disagree.")
    if limited := _write_throttled(request, "vote"):
        message = write_throttle_message(action="vote", retry_after=limited.retry_after)
        return set_retry_after(
            _suggestions_again(request, identification, vote_message=message, status=429, fragment="suggestion_list"),
            limited.retry_after,
        )
    services.suggestion_vote(suggestion=suggestion, voter=request.user, agrees=request.POST["agrees"] == "1")
    identification = get_identification_request_for_user(pk=pk, user=request.user)
    if not request.htmx:
        return redirect(identification)
    # The list alone: a vote never clears what is typed in the suggestion box.
    context = _detail_context(request, identification)
    response = render(request, "plants/request_detail.html#suggestion_list", context)
    message = _vote_message(suggestions=context["suggestions"], suggestion_pk=suggestion.pk)
    return trigger_client_event(response, "suggestionVoted", {"message": message})


def _vote_message(*, suggestions: list, suggestion_pk: int) -> str:
    """What a vote did, for the polite live region (static/js/htmx-focus.js): the viewer's vote
    on the suggestion as the list they now see shows it (``viewer_vote``)."""
    suggestion = next((each for each in suggestions if each.pk == suggestion_pk), None)
    if suggestion is None:
        return "Your vote is saved."
    name = suggestion.species.display_name if suggestion.species else suggestion.free_text_name
    if suggestion.viewer_vote is True:
        return f"You agree with {name}."
    if suggestion.viewer_vote is False:
        return f"You disagree with {name}."
    return f"Your vote on {name} is withdrawn."


@login_required
@require_POST
def suggestion_accept(request: HttpRequest, pk: int, suggestion_pk: int) -> HttpResponse:
    """The owner accepts a suggestion; the request becomes identified (``plantIdentified``)."""
    identification = get_identification_request_for_user(pk=pk, user=request.user)
    check_accept_suggestion_permission(user=request.user, id_request=identification)
    suggestion = get_suggestion_for_request(id_request=identification, pk=suggestion_pk)
    services.suggestion_accept(id_request=identification, suggestion=suggestion)
    if not request.htmx:
        return redirect(identification)
    context = _detail_context(request, get_identification_request_for_user(pk=pk, user=request.user))
    main = render_to_string("plants/request_detail.html#request_main", context, request=request)
    suggestions = render_to_string("plants/request_detail.html#suggestion_list_oob", context, request=request)
    message = f"Accepted: the request is identified as {context['identification'].title}."
    return trigger_client_event(HttpResponse(main + suggestions), "plantIdentified", {"message": message})


@login_required
@require_http_methods(["GET", "POST"])
def request_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """``/plants/requests/<id>/delete/``: the owner confirms (GET shows what goes), then POST
    deletes the request with its photos, suggestions, votes and notifications and returns to
    My searches. Anyone else: 403."""
    identification = get_identification_request_for_user(pk=pk, user=request.user)
    check_delete_request_permission(user=request.user, id_request=identification)
    if request.method == "POST":
        services.identification_request_delete(id_request=identification)
        if request.htmx:
            return HttpResponseClientRedirect(reverse("plants:request-list"))
        return redirect("plants:request-list")
    return render(request, "plants/request_delete.html", {"identification": identification})


@login_required
@require_POST
def species_page_consent(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner shows (``show=1``) or hides (``show=0``) their request's photo on the species
    page (issue 12). A plain form POST; answers with the request page (htmx: the setting's
    fragment). Anyone else: 403; another value: 400."""
    identification = get_identification_request_for_user(pk=pk, user=request.user)
    check_change_identification_request_permission(user=request.user, id_request=identification)
    if request.POST.get("show") not in ("0", "1"):
        return error_page(request, 400, detail="Choose whether to show the photo.")
    services.species_page_consent_set(id_request=identification, show=request.POST["show"] == "1")
    if not request.htmx:
        return redirect(identification)
    return render(request, "plants/request_detail.html#species_page_consent", {"identification": identification})


@require_GET
def species_list(request: HttpRequest) -> HttpResponse:
    """``/plants/species/?q=``: the catalog, searchable by common or scientific name."""
    query = request.GET.get("q", "")[:100]
    species = selectors.species_search(query=query, viewer=request.user)
    return render(request, "plants/species_list.html", {"species_list": species, "query": query})


@login_required
@require_GET
def species_autocomplete(request: HttpRequest) -> HttpResponse:
    """``<option>`` elements for the suggestion box's ``datalist`` (htmx). A plain browser
    navigation (no ``HX-Request``) is redirected to the species catalog searching the same
    name, never shown the bare options (SPEC "HTTP contract"; issue 15)."""
    name = request.GET.get("name", "")[:100]
    if not request.htmx:
        catalog = reverse("plants:species-list")
        return redirect(f"{catalog}?{urlencode({'q': name})}" if name.strip() else catalog)
    options = selectors.species_autocomplete(query=name)
    return render(request, "plants/request_detail.html#species_options", {"options": options})


@require_GET
def species_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """``/plants/species/<slug>/``: one species, its care facts (general guidance) and the
    community's photos of it (public, like the catalog). Three statements with a signed-in
    user's lookup."""
    detail = selectors.species_detail(slug=slug, viewer=request.user)
    if detail is None:
        raise Http404("No such species.")
    return render(request, "plants/species_detail.html", detail)


@login_required
@require_POST
def care_card_toggle(request: HttpRequest, slug: str) -> HttpResponse:
    """Save or remove the care card of a species (htmx swaps the button; ``careCardSaved`` with
    the message for the polite live region)."""
    species = get_object_or_404(
        PlantSpecies.objects.only("id", "slug", "primary_common_name", "scientific_name"), slug=slug
    )
    card = services.care_card_toggle(owner=request.user, species=species)
    species.is_saved = card is not None
    message = f"Care card {'saved' if card else 'removed'}: {species.display_name}."
    if not request.htmx:  # without JavaScript the same sentence as a flash message
        messages.success(request, message)
        return redirect(species)
    response = render(request, "plants/species_detail.html#care_card_button", {"species": species})
    return trigger_client_event(response, "careCardSaved", {"message": message})


def _care_page_context(request: HttpRequest) -> dict:
    """What every care-task form on the page needs: the gardener's local today (the latest date
    "done on" accepts), the earliest one, the snooze choices and the interval limit."""
    today = care_schedule.local_today(request.user.time_zone)
    return {
        "today": today,
        "done_on_min": today - timedelta(days=care_services.DONE_ON_MAX_DAYS_BACK),
        "snooze_days": SNOOZE_DAYS,
        "max_interval_days": MAX_INTERVAL_DAYS,
    }


def _care_card_page(request: HttpRequest, *, bound: CareCardForm | None = None) -> HttpResponse:
    cards = selectors.care_cards_page_for_user(user=request.user)
    rows = [
        {
            "card": card,
            "form": bound
            if bound is not None and bound.instance.pk == card.pk
            else CareCardForm(instance=card, prefix=f"card-{card.pk}"),
        }
        for card in cards
    ]
    # The calendar link matters once there are tasks: no statement for it on an empty page.
    calendar = care_calendar_context(request) if rows else None
    context = {"rows": rows, "calendar": calendar, **_care_page_context(request)}
    return render(request, "plants/care_card_list.html", context)


@login_required
@require_GET
def care_card_list(request: HttpRequest) -> HttpResponse:
    """``/plants/care-cards/``: the gardener's care cards, each with its species' short care
    facts, a photo, its care tasks (Done, Snooze, interval) and their recent history, and its
    name, notes and status editable inline, and the calendar link. Five statements with the
    user lookup whatever the number of cards (``selectors.care_cards_page_for_user`` and
    ``care_calendar_context``); two without cards."""
    return _care_card_page(request)


@login_required
@require_GET
def care_card_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    """``/plants/care-cards/<pk>/tasks/``: one of the gardener's cards' task region, for htmx to
    refresh after a task changed (``careTaskDone``); 404 for anyone else's card. A plain browser
    navigation goes to the card on the page."""
    card = get_care_card_for_user(pk=pk, user=request.user)
    if not request.htmx:
        return redirect(f"{reverse('plants:care-card-list')}#care-card-{card.pk}")
    tasks = selectors.care_tasks_for_card(card=card, user=request.user)
    context = {"card": card, "tasks": tasks, **_care_page_context(request)}
    return render(request, "plants/care_card_list.html#care_tasks", context)


@login_required
@require_POST
def care_card_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Save one care card's nickname, notes, status and favourite. htmx swaps the form and, once
    saved, the card's heading (out of band), with ``careCardSaved`` carrying the message for the
    polite live region; invalid input answers 400 with the form's messages,
    which htmx is configured to swap. Without JavaScript: a redirect, or the page again with
    the messages."""
    card = get_care_card_for_user(pk=pk, user=request.user)
    form = CareCardForm(request.POST, instance=card, prefix=f"card-{card.pk}")
    saved = form.is_valid()
    if saved:
        services.care_card_update(card=card, **{name: form.cleaned_data[name] for name in form.Meta.fields})
    if not request.htmx:
        if not saved:
            return _care_card_page(request, bound=form)
        messages.success(request, f"Saved: {card.nickname or card.species.display_name}.")
        return redirect("plants:care-card-list")
    response = render(
        request,
        "plants/care_card_list.html#care_card_saved",
        {"row": {"card": card, "form": form}, "saved": saved, "oob": True},
        status=200 if saved else 400,
    )
    if not saved:
        return response
    message = f"Saved: {card.nickname or card.species.display_name}."
    return trigger_client_event(response, "careCardSaved", {"message": message})
