"""Query budgets of the plant pages (SPEC "Query budgets": previous searches 3, a request page 4, the catalog 2,
the care-cards page 4), exact at 1 and 500 rows, warm session, PostgreSQL."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.plants.care.defaults import task_defaults
from apps.plants.care.services import care_calendar_feed_create
from apps.plants.models import (
    CareTask,
    CareTaskDone,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    PlantSpecies,
    SavedCareInstructions,
    SuggestionVote,
)
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


def _give_cards_care(gardener, *, history: int) -> None:
    """Every card of ``gardener`` gets its five default tasks (as ``care_tasks_create_defaults``
    would, in bulk) and each switched-on task ``history`` done dates; each card whose species
    the gardener has not identified gets a community photo (another gardener's identified
    request with one photo)."""
    today = timezone.localdate()
    cards = list(SavedCareInstructions.objects.filter(owner=gardener).select_related("species"))
    CareTask.objects.bulk_create(
        (
            CareTask(
                care_card=card,
                owner=gardener,
                kind=default.kind,
                interval_days=default.interval_days,
                is_enabled=default.is_enabled,
                growing_season_only=default.growing_season_only,
                next_due_on=today + timedelta(days=index % 5 - 2),
            )
            for index, card in enumerate(cards)
            for default in task_defaults(card.species)
        ),
        ignore_conflicts=True,
    )
    CareTaskDone.objects.bulk_create(
        CareTaskDone(task=task, done_on=today - timedelta(days=3 * back))
        for task in CareTask.objects.filter(owner=gardener, is_enabled=True)
        for back in range(history)
    )
    own = set(
        PlantIdentificationRequest.objects.filter(owner=gardener, status="identified").values_list("species", flat=True)
    )
    other = factories.UserFactory()
    requests = PlantIdentificationRequest.objects.bulk_create(
        factories.IdentificationRequestFactory.build(
            owner=other, status="identified", species=card.species, identified_at=timezone.now()
        )
        for card in cards
        if card.species_id not in own
    )
    PlantPhoto.objects.bulk_create(PlantPhoto(request=r, image=r.thumbnail.name, position=0) for r in requests)


def test_care_cards_page_costs_five_statements(gardener, gardener_client, rows_per_table, django_assert_num_queries):
    """User, cards (species facts and the photo chosen in SQL), tasks, the tasks' last 10 done
    dates, the calendar link, at 1 and 500 cards (5 tasks and 12 done dates per switched-on
    task each)."""
    populate_gardener(gardener, rows=rows_per_table)
    _give_cards_care(gardener, history=12)
    link = care_calendar_feed_create(owner=gardener)
    gardener_client.get("/dashboard/")  # building 500 rows may outlast the renewal interval
    with django_assert_num_queries(5):
        response = gardener_client.get(reverse("plants:care-card-list"))
    body = response.content.decode()
    assert link.token in body
    assert body.count('class="card care-card"') == rows_per_table
    assert body.count('class="task-head"') == CareTask.objects.filter(owner=gardener, is_enabled=True).count()
    assert body.count('class="task-off"') == CareTask.objects.filter(owner=gardener, is_enabled=False).count()
    # Ten done dates per switched-on task, not twelve.
    assert body.count("<li><time") == 10 * body.count('class="task-head"')
    photos = body.count('alt="Your photo of ') + body.count(", photographed by ")
    assert photos == rows_per_table and 'alt="Your photo of ' in body


def test_species_page_costs_three_statements(gardener, gardener_client, django_assert_num_queries):
    """User, the species with its gardener count, its community photos (issue 12; at 1 and 500
    identified requests in tests/plants/test_community.py)."""
    with django_assert_num_queries(3):
        response = gardener_client.get(reverse("plants:species-detail", args=["monstera-deliciosa"]))
    assert "General guidance" in response.content.decode()
