"""Who may see and change which plant objects (STYLE: ``get_<object>_for_user`` gives 404 when
not visible; ``check_<verb>_<object>_permission`` raises ``PermissionDenied``)."""

from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404

from apps.accounts.models import User

from .models import IdentificationSuggestion, PlantIdentificationRequest, SavedCareInstructions

REQUEST_DETAIL_FIELDS = (
    "id",
    "owner_id",
    "notes",
    "status",
    "created_at",
    "identified_at",
    "thumbnail",
    "latitude",
    "longitude",
    "location_is_exact",
    "show_on_species_pages",
    "accepted_suggestion_id",
    "processing_started_at",
    "machine_attempts",
    "owner__id",
    "owner__username",
    "species__id",
    "species__slug",
    "species__primary_common_name",
    "species__scientific_name",
)


def get_identification_request_for_user(*, pk: int, user: User) -> PlantIdentificationRequest:
    """The identification request ``pk`` with owner and accepted species joined.

    Any signed-in gardener may see a request (the community helps identify it); raises
    ``Http404`` when it does not exist.
    """
    id_request = (
        PlantIdentificationRequest.objects.select_related("owner", "species")
        .only(*REQUEST_DETAIL_FIELDS)
        .annotate(accepted_free_text=F("accepted_suggestion__free_text_name"))
        .filter(pk=pk)
        .first()
    )
    if id_request is None:
        raise Http404("No such identification request.")
    return id_request


def get_suggestion_for_request(*, id_request: PlantIdentificationRequest, pk: int) -> IdentificationSuggestion:
    """A suggestion of ``id_request``; ``Http404`` when it belongs to another request or none."""
    suggestion = (
        IdentificationSuggestion.objects.filter(request=id_request, pk=pk)
        .only("id", "request_id", "species_id")
        .first()
    )
    if suggestion is None:
        raise Http404("No such suggestion.")
    return suggestion


def _check_owner(*, user: User, id_request: PlantIdentificationRequest, refusal: str) -> None:
    if id_request.owner_id != user.pk:
        raise PermissionDenied(refusal)


def check_delete_request_permission(*, user: User, id_request: PlantIdentificationRequest) -> None:
    """Only the owner deletes their identification request; raises ``PermissionDenied``."""
    _check_owner(user=user, id_request=id_request, refusal="Only the gardener who asked can delete this request.")


def check_accept_suggestion_permission(*, user: User, id_request: PlantIdentificationRequest) -> None:
    """Only the owner accepts a suggestion for their request; raises ``PermissionDenied``."""
    _check_owner(user=user, id_request=id_request, refusal="Only the gardener who asked can accept a suggestion.")


def check_change_identification_request_permission(*, user: User, id_request: PlantIdentificationRequest) -> None:
    """Only the owner changes their request's settings (the species-page photo consent);
    raises ``PermissionDenied``."""
    _check_owner(user=user, id_request=id_request, refusal="Only the gardener who asked can change this.")


def get_care_card_for_user(*, pk: int, user: User) -> SavedCareInstructions:
    """One of ``user``'s own care cards with its species; ``Http404`` for anyone else's."""
    card = SavedCareInstructions.objects.select_related("species").filter(pk=pk, owner=user).first()
    if card is None:
        raise Http404("No such care card.")
    return card
