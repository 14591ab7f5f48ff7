"""Error pages with ``DEBUG`` off (issue 15): 400, 403, 404, 405 and 429 are the site's page (its
header, navigation and a species search) and say the view's message ("No such species.");
Django's own texts (the resolver's URL patterns, ``get_object_or_404``'s model name) give the
generic sentence instead. 500 and 503 stay static pages (no navigation), so they render while
the database or Redis is down. The fall-back to the static page when the site's page cannot
render (the database down during a 404) is tested on a real outage in
``tests/core/test_database_outage.py``."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from apps.core.responses import temporarily_unavailable
from apps.core.views import server_error, user_message
from apps.plants.care import feed
from apps.plants.models import PlantSpecies

pytestmark = pytest.mark.django_db

INTERNAL_TEXT = ("Traceback", "URLconf", "tried", "<slug:", "matches the given query", "PlantSpecies", "Resolver404")


@pytest.fixture(autouse=True)
def production_errors(settings):
    """Django's debug pages are off: the handlers answer."""
    settings.DEBUG = False


def _site_page(response, status: int) -> str:
    """The body of ``response``, checked to be the site's page for ``status``: navigation, the
    species search, a CSP header, no internal text."""
    assert response.status_code == status
    page = response.content.decode()
    assert '<nav aria-label="Main">' in page
    assert f'href="{reverse("forum:index")}"' in page and 'id="error-species-q"' in page
    assert "Content-Security-Policy" in response
    assert "<script>" not in page  # CSP: scripts only from files, with the nonce
    for text in INTERNAL_TEXT:
        assert text not in page, text
    return page


def test_a_views_404_message_is_shown_on_the_sites_page(client):
    """``Http404("No such species.")`` in the species page: the site's 404 says exactly that."""
    page = _site_page(client.get(reverse("plants:species-detail", args=["no-such-plant"])), 404)
    assert "<h1>Page not found</h1>" in page and "No such species." in page
    assert "There is nothing at this address." not in page


def test_an_unknown_address_gets_the_generic_404_without_url_patterns(client):
    """The resolver's 404 carries the patterns it tried: the page says only the generic sentence."""
    page = _site_page(client.get("/plants/no/such/page/"), 404)
    assert "There is nothing at this address." in page


def test_get_object_or_404_keeps_the_model_name_to_itself(gardener_client):
    """``get_object_or_404`` says "No PlantSpecies matches the given query.": not for people."""
    assert not PlantSpecies.objects.filter(slug="no-such-plant").exists()
    response = gardener_client.post(reverse("plants:care-card-toggle", args=["no-such-plant"]))
    assert "There is nothing at this address." in _site_page(response, 404)


def test_a_signed_in_404_shows_the_signed_in_header(gardener_client, gardener):
    page = _site_page(gardener_client.get("/no/such/page/"), 404)
    assert gardener.username in page and reverse("plants:identify") in page


def test_a_permission_message_is_shown_on_the_sites_403(gardener_client):
    """``PermissionDenied("Only moderators can do this.")`` from the moderators' check."""
    page = _site_page(gardener_client.get(reverse("moderation:queue")), 403)
    assert "Only moderators can do this." in page


def test_a_bad_request_message_is_shown_on_the_sites_400(gardener_client):
    """A malformed "load more" cursor: the view's own 400 message, in the site's page."""
    response = gardener_client.get(reverse("plants:request-list"), {"after": "not-a-cursor"})
    assert "That page link is not valid." in _site_page(response, 400)


def test_djangos_bad_request_text_is_not_shown(client, settings):
    """Too many query parameters (Django's ``TooManyFieldsSent``): the generic 400 sentence."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    page = _site_page(client.get("/forum/", {f"p{number}": "x" for number in range(10)}), 400)
    assert "The request could not be understood." in page
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" not in page and "number of GET/POST parameters" not in page


def test_a_405_is_the_sites_page(gardener_client):
    response = gardener_client.get(reverse("plants:care-calendar-reset"))
    assert "This address only answers POST requests." in _site_page(response, 405)


def test_a_429_is_the_sites_page_with_retry_after(gardener_client):
    for _ in range(feed.CALENDAR_LINK_CHANGES_PER_HOUR):
        gardener_client.post(reverse("plants:care-calendar-reset"))
    response = gardener_client.post(reverse("plants:care-calendar-reset"))
    page = _site_page(response, 429)
    assert int(response["Retry-After"]) > 0
    assert "You changed your calendar link often just now." in page


def test_500_and_503_stay_static(rf):
    """500 (the handler) and 503 (an action whose store is down) have no navigation: they
    render with nothing from the session or the database."""
    request = rf.get("/forum/")
    request.user = AnonymousUser()
    page = server_error(request).content.decode()
    assert "Something went wrong" in page and "<nav" not in page and 'id="error-species-q"' not in page
    unavailable = temporarily_unavailable(request)
    assert unavailable.status_code == 503 and unavailable["Retry-After"] == "30"
    body = unavailable.content.decode()
    assert "Temporarily unavailable" in body and "<nav" not in body


def test_user_message_only_trusts_the_projects_own_exceptions(gardener):
    """A message raised in ``apps.`` is for people; one raised elsewhere (here, this test
    module) or a non-string argument (the resolver's dict) is not."""
    from django.http import Http404

    from apps.plants.permissions import get_care_card_for_user

    with pytest.raises(Http404) as raised:
        get_care_card_for_user(user=gardener, pk=0)
    assert user_message(raised.value) == "No such care card."
    try:
        raise Http404("No PlantSpecies matches the given query.")
    except Http404 as error:
        assert user_message(error) is None
    try:
        raise Http404({"tried": [], "path": "x/"})
    except Http404 as error:
        assert user_message(error) is None
    assert user_message(None) is None
