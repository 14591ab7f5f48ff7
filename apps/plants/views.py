"""Plant pages: previous identification requests, one request, the species catalog and care cards."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from . import selectors
from .models import PlantSpecies
from .permissions import get_identification_request_for_user


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
            return render(request, "400.html", {"detail": "That page link is not valid."}, status=400)
    rows, next_cursor = selectors.identification_requests_for_user(
        user=request.user, limit=settings.PLANT_REQUESTS_PAGE_SIZE, after=after
    )
    context = {"requests": rows, "next_cursor": next_cursor.encode() if next_cursor else None}
    template = "plants/request_list.html"
    if request.htmx and after is not None:
        template += "#request_rows"
    response = render(request, template, context)
    response["Vary"] = "HX-Request"
    return response


@login_required
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """``/plants/requests/<id>/``: photos, suggestions and, for the owner only, the exact place."""
    identification = get_identification_request_for_user(pk=pk, user=request.user)
    detail = selectors.identification_request_detail(request=identification)
    is_owner = identification.owner_id == request.user.pk
    return render(
        request,
        "plants/request_detail.html",
        {"identification": identification, "is_owner": is_owner, **detail},
    )


@require_GET
def species_list(request: HttpRequest) -> HttpResponse:
    """``/plants/species/?q=``: the catalog, searchable by common or scientific name."""
    query = request.GET.get("q", "")[:100]
    species = selectors.species_search(query=query)
    return render(request, "plants/species_list.html", {"species_list": species, "query": query})


@require_GET
def species_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """``/plants/species/<slug>/``: one species and its care facts (general guidance)."""
    species = get_object_or_404(PlantSpecies.objects.all(), slug=slug)
    return render(request, "plants/species_detail.html", {"species": species})


@login_required
@require_GET
def care_card_list(request: HttpRequest) -> HttpResponse:
    """``/plants/care-cards/``: the gardener's care cards."""
    cards = selectors.care_cards_for_user(user=request.user)
    return render(request, "plants/care_card_list.html", {"cards": cards})


