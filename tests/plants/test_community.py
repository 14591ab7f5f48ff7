"""Issue 12, "Where the answers live": community photos on species pages (with the owner's
consent, never from inactive accounts, never with a location), the photo consent setting, and
the Help identify page's filters and keyset "load more"."""

import io
import math
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from apps.accounts.data_services import account_erase
from apps.core import geo
from apps.plants import selectors
from apps.plants.models import (
    IdentificationStatus,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    PlantSpecies,
    SuggestionVote,
)
from tests import factories

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    """The page with runs of whitespace as one space (templates wrap long sentences)."""
    return " ".join(response.content.decode().split())


def _request_links(body: str) -> int:
    return len(re.findall(r'href="/plants/requests/\d+/"', body))


def _signed_in(client, user):
    client.force_login(user)
    client.get("/healthz")
    client.get("/dashboard/")
    return client


def _identified(*, owner, species, when, photo_name="identification/photos/p.jpg", **fields):
    """An identified request of ``species`` with one stored photo row (no file: only URLs are
    rendered)."""
    id_request = factories.IdentificationRequestFactory(
        owner=owner,
        species=species,
        status=IdentificationStatus.IDENTIFIED,
        identified_at=when,
        thumbnail="",
        latitude=Decimal("51.4"),
        longitude=Decimal("-0.2"),
        **fields,
    )
    PlantPhoto.objects.create(request=id_request, image=photo_name, position=0, width=800, height=600)
    return id_request


@pytest.fixture
def monstera():
    return PlantSpecies.objects.get(slug="monstera-deliciosa")


# --- Species pages ---------------------------------------------------------------------------


def test_species_page_shows_consenting_active_gardeners_photos_newest_first_without_location(client, monstera):
    """Photos of identified requests of the species, newest identification first, with the
    gardener's profile link and how many gardeners identified it; never a location, never a
    photo whose owner opted out or whose account is deactivated or deleted."""
    now = timezone.now()
    ana, ben, cleo, dora, erin = (
        factories.UserFactory(username=name) for name in ("ana", "ben", "cleo", "dora", "erin")
    )
    older = _identified(owner=ana, species=monstera, when=now - timedelta(days=2), photo_name="x/older.jpg")
    newer = _identified(owner=ben, species=monstera, when=now - timedelta(days=1), photo_name="x/newer.jpg")
    _identified(owner=cleo, species=monstera, when=now, photo_name="x/optout.jpg", show_on_species_pages=False)
    _identified(owner=dora, species=monstera, when=now, photo_name="x/deactivated.jpg")
    dora.is_active = False
    dora.save()
    _identified(owner=erin, species=monstera, when=now, photo_name="x/erased.jpg")
    account_erase(user_id=erin.pk)
    # Not identified, or another species: never shown.
    factories.IdentificationRequestFactory(owner=ana, species=monstera, thumbnail="")
    other = PlantSpecies.objects.exclude(pk=monstera.pk).first()
    _identified(owner=ana, species=other, when=now, photo_name="x/other.jpg")

    body = _text(client.get(monstera.get_absolute_url()))

    assert body.index("x/newer.jpg") < body.index("x/older.jpg")
    for hidden in ("x/optout.jpg", "x/deactivated.jpg", "x/erased.jpg", "x/other.jpg"):
        assert hidden not in body
    assert '<a href="/u/ben/" class="user-link">ben</a>' in body
    assert "51.4" not in body and "-0.2" not in body
    # ana, ben, cleo (dora is deactivated; erin's requests went with the account): 3 distinct gardeners.
    assert PlantIdentificationRequest.objects.filter(owner=erin).count() == 0
    assert "Identified by 3 gardeners." in body
    assert f'href="/media/{newer.photos.get().image.name}" class="lightbox-link"' in body
    assert older.pk != newer.pk


def test_species_page_without_community_photos_says_so(client, monstera):
    body = _text(client.get(monstera.get_absolute_url()))
    assert "No gardener has identified this plant here yet." in body and "community-photos" not in body


def test_species_page_shows_at_most_twelve_photos(client, monstera):
    owner = factories.UserFactory()
    now = timezone.now()
    for index in range(14):
        _identified(owner=owner, species=monstera, when=now - timedelta(minutes=index), photo_name=f"x/{index:02}.jpg")
    body = _text(client.get(monstera.get_absolute_url()))
    assert body.count('class="lightbox-link"') == selectors.SPECIES_COMMUNITY_PHOTOS_LIMIT == 12
    assert "x/00.jpg" in body and "x/12.jpg" not in body
    assert "Identified by 1 gardener." in body


@pytest.fixture
def many_identified(monstera, rows_per_table):
    """``rows_per_table`` identified requests of Monstera, each with a photo, by 5 gardeners."""
    owners = factories.UserFactory.create_batch(5)
    now = timezone.now()
    requests = PlantIdentificationRequest.objects.bulk_create(
        PlantIdentificationRequest(
            owner=owners[index % 5],
            species=monstera,
            status=IdentificationStatus.IDENTIFIED,
            identified_at=now - timedelta(minutes=index),
            created_at=now - timedelta(minutes=index + 1),
        )
        for index in range(rows_per_table)
    )
    PlantPhoto.objects.bulk_create(
        PlantPhoto(request=item, image=f"x/{item.pk}.jpg", position=0, width=10, height=10) for item in requests
    )
    return owners


def test_species_page_costs_three_statements(
    gardener, gardener_client, monstera, many_identified, rows_per_table, django_assert_num_queries
):
    """User, the species (saved flag and gardener count), the community photos; the same at 1
    and 500 identified requests (SPEC "Query budgets": species page with community photos, at
    most 3)."""
    gardener_client.get("/dashboard/")
    with django_assert_num_queries(3):
        body = _text(gardener_client.get(monstera.get_absolute_url()))
    assert body.count('class="lightbox-link"') == min(rows_per_table, 12)
    gardeners = min(rows_per_table, 5)
    assert f"Identified by {gardeners} gardener{'s' if gardeners > 1 else ''}." in body


def test_species_page_costs_two_statements_signed_out(client, monstera, many_identified, django_assert_num_queries):
    with django_assert_num_queries(2):
        response = client.get(monstera.get_absolute_url())
    assert response.status_code == 200


def test_community_photo_query_uses_its_index_at_500_requests(monstera):
    """EXPLAIN of the photo query with 500 identified requests of the species (statistics
    fresh): the species-photos partial index serves it, walking the species' newest
    identifications in order (no sort of the table), then the photo by its request index.
    With every identified request of this species, the planner may as well take the public
    home's all-species index (issue 15), also in order."""
    owner = factories.UserFactory()
    now = timezone.now()
    requests = PlantIdentificationRequest.objects.bulk_create(
        PlantIdentificationRequest(
            owner=owner,
            species=monstera,
            status=IdentificationStatus.IDENTIFIED,
            identified_at=now - timedelta(minutes=index),
        )
        for index in range(500)
    )
    PlantPhoto.objects.bulk_create(PlantPhoto(request=item, image="x/p.jpg", position=0) for item in requests)
    with connection.cursor() as cursor:
        for table in ("plants_plantidentificationrequest", "plants_plantphoto", "accounts_user"):
            cursor.execute(f"ANALYZE {table}")
    plan = (
        PlantPhoto.objects.filter(
            position=0,
            request__species=monstera,
            request__status=IdentificationStatus.IDENTIFIED,
            request__show_on_species_pages=True,
            request__owner__is_active=True,
        )
        .order_by("-request__identified_at", "-request__id")[:12]
        .explain()
    )
    # Either partial index of identified requests reads them in order: the species' own, or
    # (here every identified request is of this species) the home page's all-species one.
    assert (
        "Index Scan using plants_request_species_photos" in plan or "Index Scan using plants_request_identified" in plan
    )
    assert "Sort" not in plan


# --- The consent setting ---------------------------------------------------------------------


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (60, 140, 70)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_identify_form_offers_the_species_page_checkbox_checked(client, gardener):
    _signed_in(client, gardener)
    body = client.get(reverse("plants:identify")).content.decode()
    assert "Show my photo on the species page" in body
    checkbox = re.search(r'<input type="checkbox" name="show_on_species_pages"[^>]*>', body).group(0)
    assert " checked" in checkbox


@pytest.mark.parametrize("checked, stored", [(True, True), (False, False)])
def test_identify_stores_the_species_page_choice(client, gardener, checked, stored):
    from django.core.files.uploadedfile import SimpleUploadedFile

    _signed_in(client, gardener)
    data = {"image": SimpleUploadedFile("leaf.jpg", _jpeg(), content_type="image/jpeg"), "notes": ""}
    if checked:
        data["show_on_species_pages"] = "on"
    response = client.post(reverse("plants:identify"), data)
    assert response.status_code == 302
    assert PlantIdentificationRequest.objects.get(owner=gardener).show_on_species_pages is stored


def test_owner_changes_the_species_page_choice_on_the_request_page(client, gardener, monstera):
    """A plain POST from the request page; the species page follows at once."""
    id_request = _identified(owner=gardener, species=monstera, when=timezone.now(), photo_name="x/mine.jpg")
    _signed_in(client, gardener)
    page = client.get(id_request.get_absolute_url()).content.decode()
    assert "Don't show my photo on the species" in page
    url = reverse("plants:species-page-consent", args=[id_request.pk])
    assert client.post(url, {"show": "0"}).status_code == 302
    assert "x/mine.jpg" not in client.get(monstera.get_absolute_url()).content.decode()
    response = client.post(url, {"show": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Don't show my photo" in response.content.decode()
    assert "x/mine.jpg" in client.get(monstera.get_absolute_url()).content.decode()


def test_only_the_owner_changes_the_species_page_choice_and_bad_values_are_400(client, gardener, monstera):
    id_request = _identified(owner=gardener, species=monstera, when=timezone.now())
    url = reverse("plants:species-page-consent", args=[id_request.pk])
    _signed_in(client, factories.UserFactory())
    assert client.post(url, {"show": "0"}).status_code == 403
    assert "Don't show my photo" not in client.get(id_request.get_absolute_url()).content.decode()
    _signed_in(client, gardener)
    assert client.post(url, {"show": "maybe"}).status_code == 400
    assert client.get(url).status_code == 405
    assert PlantIdentificationRequest.objects.get(pk=id_request.pk).show_on_species_pages is True


def test_request_page_photos_are_plain_links_to_the_full_photo(client, gardener, monstera):
    id_request = _identified(owner=gardener, species=monstera, when=timezone.now(), photo_name="x/full.jpg")
    _signed_in(client, gardener)
    body = client.get(id_request.get_absolute_url()).content.decode()
    assert "data-lightbox" in body and '<a href="/media/x/full.jpg" class="lightbox-link">' in body
    assert "/static/js/lightbox" in body


# --- Help identify -----------------------------------------------------------------------------


def _waiting(owner, *, minutes_ago=0, **fields):
    return factories.IdentificationRequestFactory(
        owner=owner,
        thumbnail="",
        status=IdentificationStatus.NEEDS_HELP,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def _community(id_request, *, species=None, name="", by, votes=1):
    suggestion = IdentificationSuggestion.objects.create(
        request=id_request, species=species, free_text_name=name, source="community", suggested_by=by, vote_count=votes
    )
    return suggestion


def _help(client, **params):
    return client.get(reverse("plants:help-identify"), params)


def test_help_filters_no_suggestions_and_second_opinion(client, gardener):
    """ "No suggestions yet": no gardener has named it (a machine guess does not count). "Needs a
    second opinion": gardeners named it but no name has two agreeing gardeners yet."""
    other = factories.UserFactory(username="basil")
    fern = PlantSpecies.objects.get(scientific_name="Nephrolepis exaltata")
    bare = _waiting(other, minutes_ago=1)
    machine_only = _waiting(other, minutes_ago=2)
    factories.SuggestionFactory(request=machine_only, probability=0.3)
    one_voice = _waiting(other, minutes_ago=3)
    _community(one_voice, species=fern, by=other)
    settled = _waiting(other, minutes_ago=4)
    _community(settled, species=fern, by=other, votes=2)
    _signed_in(client, gardener)

    def shown(**params):
        body = _help(client, **params).content.decode()
        return {item.pk for item in (bare, machine_only, one_voice, settled) if f"/plants/requests/{item.pk}/" in body}

    assert shown() == {bare.pk, machine_only.pk, one_voice.pk, settled.pk}
    assert shown(suggestions="unsuggested") == {bare.pk, machine_only.pk}
    assert shown(suggestions="second_opinion") == {one_voice.pk}


def test_help_filter_by_family_of_any_suggestion(client, gardener):
    other = factories.UserFactory()
    fern = PlantSpecies.objects.get(scientific_name="Nephrolepis exaltata")
    aroid = PlantSpecies.objects.get(slug="monstera-deliciosa")
    ferny = _waiting(other)
    factories.SuggestionFactory(request=ferny, species=aroid, probability=0.9)
    _community(ferny, species=fern, by=other)
    aroidy = _waiting(other)
    factories.SuggestionFactory(request=aroidy, species=aroid, probability=0.9)
    _signed_in(client, gardener)
    body = _help(client, family=fern.family).content.decode()
    assert f"/plants/requests/{ferny.pk}/" in body and f"/plants/requests/{aroidy.pk}/" not in body
    body = _help(client, family=aroid.family).content.decode()
    assert f"/plants/requests/{ferny.pk}/" in body and f"/plants/requests/{aroidy.pk}/" in body


def test_help_near_me_keeps_requests_within_100_km(client, gardener):
    """London home (51.4, -0.2): Reading (~60 km) is in, Birmingham (~160 km) and a box corner
    outside the circle are out, as is a request with no location."""
    gardener.home_latitude, gardener.home_longitude = Decimal("51.4"), Decimal("-0.2")
    gardener.save()
    other = factories.UserFactory()
    reading = _waiting(other, latitude=Decimal("51.45"), longitude=Decimal("-0.97"))
    birmingham = _waiting(other, latitude=Decimal("52.48"), longitude=Decimal("-1.9"))
    corner = _waiting(other, latitude=Decimal("52.2"), longitude=Decimal("1.0"))  # inside the box, ~120 km
    nowhere = _waiting(other)
    _signed_in(client, gardener)
    body = _help(client, near="on").content.decode()
    assert f"/plants/requests/{reading.pk}/" in body
    for item in (birmingham, corner, nowhere):
        assert f"/plants/requests/{item.pk}/" not in body
    assert geo.haversine_km(latitude1=51.4, longitude1=-0.2, latitude2=52.2, longitude2=1.0) > 100


def test_help_near_me_without_a_home_location_says_so_and_shows_all(client, gardener):
    item = _waiting(factories.UserFactory())
    _signed_in(client, gardener)
    response = _help(client, near="on")
    body = response.content.decode()
    assert response.status_code == 200 and "Share your home location" in body and f"/plants/requests/{item.pk}/" in body


@pytest.mark.parametrize(
    "params",
    [{"suggestions": "everything"}, {"family": "Notaceae"}, {"after": "yesterday_1"}, {"after": "2026-01-01_0"}],
)
def test_help_bad_filter_values_are_400_not_500(client, gardener, params):
    _waiting(factories.UserFactory())
    _signed_in(client, gardener)
    response = _help(client, **params)
    assert response.status_code == 400
    assert b"could not be used" in response.content or b"page link is not valid" in response.content


def test_help_load_more_pages_through_everything_once_keeping_filters(client, gardener, settings):
    """Keyset "load more": the real href continues after the last row with the filters kept;
    htmx gets the rows partial only; every request is shown exactly once."""
    settings.PLANT_REQUESTS_PAGE_SIZE = 3
    other = factories.UserFactory()
    items = [_waiting(other, minutes_ago=index) for index in range(8)]
    _community(items[0], name="Some fern", by=other)  # filtered out by "unsuggested"
    _signed_in(client, gardener)
    seen = []
    url = reverse("plants:help-identify") + "?suggestions=unsuggested"
    for _ in range(5):
        body = client.get(url).content.decode()
        seen += [item.pk for item in items if f'href="/plants/requests/{item.pk}/"' in body]
        marker = 'class="load-more"'
        if marker not in body:
            break
        href = body.split(marker, 1)[1].split('<a href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        assert "suggestions=unsuggested" in href and "after=" in href
        url = href
    assert seen == [item.pk for item in items[1:]]
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial


def test_help_page_costs_three_statements(gardener, gardener_client, rows_per_table, django_assert_num_queries):
    """User, the catalog's families, the rows (filters included), at 1 and 500 waiting requests
    each with a community suggestion and a vote."""
    gardener.home_latitude, gardener.home_longitude = Decimal("51.4"), Decimal("-0.2")
    gardener.save()
    others = factories.UserFactory.create_batch(3)
    fern = PlantSpecies.objects.get(scientific_name="Nephrolepis exaltata")
    now = timezone.now()
    requests = PlantIdentificationRequest.objects.bulk_create(
        PlantIdentificationRequest(
            owner=others[index % 3],
            status=IdentificationStatus.NEEDS_HELP,
            created_at=now - timedelta(minutes=index),
            latitude=Decimal("51.6"),
            longitude=Decimal("-0.4"),
        )
        for index in range(rows_per_table)
    )
    suggestions = IdentificationSuggestion.objects.bulk_create(
        IdentificationSuggestion(request=item, species=fern, source="community", suggested_by=others[0], vote_count=1)
        for item in requests
    )
    SuggestionVote.objects.bulk_create(
        SuggestionVote(suggestion=item, request_id=item.request_id, voter=others[0]) for item in suggestions
    )
    gardener_client.get("/dashboard/")
    shown = min(rows_per_table, 20)
    for params in ({}, {"suggestions": "second_opinion", "family": fern.family, "near": "on"}):
        with django_assert_num_queries(3):
            body = _help(gardener_client, **params).content.decode()
        assert _request_links(body) == shown


# --- Invariants -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    latitude=st.floats(min_value=-89.5, max_value=89.5),
    longitude=st.floats(min_value=-179.9, max_value=179.9),
    bearing=st.floats(min_value=0, max_value=2 * math.pi),
    km=st.floats(min_value=0, max_value=100),
)
def test_near_box_holds_every_point_within_the_radius(latitude, longitude, bearing, km):
    """Every point within 100 km of the centre lies inside ``near_box`` (so the box never drops
    a request the exact distance would keep)."""
    radius = geo.EARTH_RADIUS_KM
    phi1, lambda1, delta = math.radians(latitude), math.radians(longitude), km / radius
    phi2 = math.asin(math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(bearing))
    lambda2 = lambda1 + math.atan2(
        math.sin(bearing) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * math.sin(phi2)
    )
    point_lat = math.degrees(phi2)
    point_lon = (math.degrees(lambda2) + 540) % 360 - 180
    lat_min, lat_max, lon_min, lon_max = geo.near_box(latitude=latitude, longitude=longitude, km=100)
    assert lat_min - 1e-9 <= point_lat <= lat_max + 1e-9
    if lon_min is not None:
        assert lon_min - 1e-9 <= point_lon <= lon_max + 1e-9
    distance = geo.haversine_km(latitude1=latitude, longitude1=longitude, latitude2=point_lat, longitude2=point_lon)
    assert distance == pytest.approx(km, abs=1e-6)
