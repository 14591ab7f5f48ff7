"""Query budgets of the plant pages (SPEC "Query budgets": previous searches 3, a request page 4, the catalog 2,
the care-cards page 3), exact at 1 and 500 rows, warm session, PostgreSQL."""

import pytest
from django.urls import reverse

from apps.plants.care.services import care_calendar_feed_create
from apps.plants.models import IdentificationSuggestion, PlantPhoto, PlantSpecies, SuggestionVote
from tests import factories
from tests.conftest import populate_gardener

pytestmark = pytest.mark.django_db


def test_request_page_costs_four_statements(gardener, gardener_client, rows_per_table, django_assert_num_queries):
    """User, request, photos, suggestions (with species, suggester and the viewer's own vote)."""
    id_request = factories.IdentificationRequestFactory(owner=gardener)
    voters = factories.UserFactory.create_batch(3)
    species = list(PlantSpecies.objects.order_by("id")[:rows_per_table])
    species += factories.SpeciesFactory.create_batch(rows_per_table - len(species))
    PlantPhoto.objects.bulk_create(
        PlantPhoto(request=id_request, image=id_request.thumbnail.name, position=index)
        for index in range(min(rows_per_table, 3))
    )
    suggestions = IdentificationSuggestion.objects.bulk_create(
        IdentificationSuggestion(request=id_request, species=item, source="community", suggested_by=voters[index % 3])
        for index, item in enumerate(species)
    )
    # One current name (the first), disagreement with the rest: a say on every row.
    SuggestionVote.objects.bulk_create(
        SuggestionVote(suggestion=s, request=id_request, voter=gardener, agrees=index == 0)
        for index, s in enumerate(suggestions)
    )
    gardener_client.get("/dashboard/")
    with django_assert_num_queries(4):
        response = gardener_client.get(id_request.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count('aria-pressed="true"') == rows_per_table


def test_catalog_costs_two_statements(gardener, gardener_client, rows_per_table, django_assert_num_queries):
    """User and the species (with the viewer's saved flag), searched or not."""
    populate_gardener(gardener, rows=rows_per_table)
    gardener_client.get("/dashboard/")  # building 500 rows may outlast the renewal interval
    with django_assert_num_queries(2):
        listing = gardener_client.get(reverse("plants:species-list"))
    with django_assert_num_queries(2):
        searched = gardener_client.get(reverse("plants:species-list"), {"q": "fern"})
    assert "Monstera deliciosa" in listing.content.decode() and "fern" in searched.content.decode().lower()


def test_care_cards_page_costs_three_statements(gardener, gardener_client, rows_per_table, django_assert_num_queries):
    """User, the cards with their species, the gardener's calendar link (issue 14)."""
    populate_gardener(gardener, rows=rows_per_table)
    link = care_calendar_feed_create(owner=gardener)
    gardener_client.get("/dashboard/")  # building 500 rows may outlast the renewal interval
    with django_assert_num_queries(3):
        response = gardener_client.get(reverse("plants:care-card-list"))
    assert response.content.decode().count('class="card care-card"') == rows_per_table
    assert link.token in response.content.decode()


def test_species_page_costs_three_statements(gardener, gardener_client, django_assert_num_queries):
    """User, the species with its gardener count, its community photos (issue 12; at 1 and 500
    identified requests in tests/plants/test_community.py)."""
    with django_assert_num_queries(3):
        response = gardener_client.get(reverse("plants:species-detail", args=["monstera-deliciosa"]))
    assert "General guidance" in response.content.decode()
