"""The portal's URLs plus, for the benchmark only, the naive baseline under ``/bench/naive/``
(same paths as ours after the prefix) and the two floors: ``/bench/floor``, a view that touches
no database, and ``/bench/signed-in``, one that does nothing but the signed-in request's session
read and user lookup (issue 13: the floor a signed-in panel can approach)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from portal.urls import handler400, handler403, handler404, handler500  # noqa: F401 (Django reads them from ROOT_URLCONF)

from . import naive


def floor(request: HttpRequest) -> HttpResponse:
    """The framework's floor: the full middleware stack (session read from Redis included)
    and a constant answer; no SQL."""
    return HttpResponse("ok", content_type="text/plain")


def signed_in_floor(request: HttpRequest) -> HttpResponse:
    """The signed-in floor: the full middleware stack, the session read and the user lookup
    (``request.user`` is resolved here if no middleware did), then a constant answer. Signed
    out: 403, so a lost session shows as an error under load rather than as a faster floor."""
    if not request.user.is_authenticated:
        return HttpResponse("signed out", content_type="text/plain", status=403)
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/floor", floor, name="bench-floor"),
    path("bench/signed-in", signed_in_floor, name="bench-signed-in"),
    path("bench/naive/dashboard/", naive.dashboard),
    path("bench/naive/dashboard/panels/<slug:name>/", naive.panel),
    path("bench/naive/api/dashboard/stats/", naive.stats_api),
    path("bench/naive/api/auth/token/refresh/", naive.token_refresh),
    path("bench/naive/plants/requests/", naive.request_list),
    path("bench/naive/forum/", naive.forum_index),
    path("bench/naive/forum/f/<slug:slug>/", naive.forum_detail),
    path("bench/naive/forum/t/<int:pk>/", naive.topic_detail),
    path("", include("portal.urls")),
]
