"""Who may see which plant objects."""

from django.http import Http404

from apps.accounts.models import User

from .models import PlantIdentificationRequest

REQUEST_DETAIL_FIELDS = (
    "id", "owner_id", "notes", "status", "created_at", "identified_at", "thumbnail", "latitude", "longitude",
    "location_is_exact", "owner__id", "owner__username", "species__id", "species__slug",
    "species__primary_common_name", "species__scientific_name",
)


def get_identification_request_for_user(*, pk: int, user: User) -> PlantIdentificationRequest:
    """The identification request ``pk`` with owner and accepted species joined.

    Any signed-in gardener may see a request (the community helps identify it); raises
    ``Http404`` when it does not exist.
    """
    request = (
        PlantIdentificationRequest.objects.select_related("owner", "species")
        .only(*REQUEST_DETAIL_FIELDS)
        .filter(pk=pk)
        .first()
    )
    if request is None:
        raise Http404("No such identification request.")
    return request
