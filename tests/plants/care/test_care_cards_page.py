"""The care cards page with its tasks (issue 14): due dates in words against the gardener's own
today, the task region that refreshes itself, the last 10 done dates, the species' short facts
and the photo chosen in SQL (own, else community, else none)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from apps.plants import selectors
from apps.plants.care import schedule, services
from apps.plants.care.wording import due_status, every_words
from apps.plants.models import CareTask, PlantPhoto, PlantSpecies
from tests import factories

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize(
    ("next_due_on", "today", "kwargs", "words", "state"),
    [
        (date(2026, 5, 10), date(2026, 5, 10), {}, "due today", "today"),
        (date(2026, 5, 8), date(2026, 5, 10), {}, "overdue by 2 days", "overdue"),
        (date(2026, 5, 9), date(2026, 5, 10), {}, "overdue by 1 day", "overdue"),
        (date(2026, 5, 11), date(2026, 5, 10), {}, "due tomorrow", "later"),
        (date(2026, 5, 15), date(2026, 5, 10), {}, "in 5 days", "later"),
        (date(2027, 3, 1), date(2026, 11, 20), {"growing_season_only": True}, "in season from 1 Mar", "season"),
        # The same date in the southern hemisphere is inside its season (September to March).
        (date(2026, 12, 1), date(2026, 11, 20), {"growing_season_only": True, "southern": True}, "in 11 days", "later"),
        (
            date(2026, 9, 1),
            date(2026, 7, 1),
            {"growing_season_only": True, "southern": True},
            "in season from 1 Sep",
            "season",
        ),
        # Due is due, in season or not.
        (date(2026, 11, 18), date(2026, 11, 20), {"growing_season_only": True}, "overdue by 2 days", "overdue"),
        (date(2026, 5, 8), date(2026, 5, 10), {"is_enabled": False}, "switched off", "off"),
    ],
)
def test_due_words(next_due_on, today, kwargs, words, state):
    status = due_status(next_due_on=next_due_on, today=today, **kwargs)
    assert (status.words, status.state) == (words, state)


def test_every_words():
    assert (every_words(1), every_words(7)) == ("every day", "every 7 days")


@pytest.fixture
def card():
    """A Sydney gardener's Monstera card with its five default tasks."""
    owner = factories.UserFactory(time_zone="Australia/Sydney")
    species = PlantSpecies.objects.get(scientific_name="Monstera deliciosa")
    card = factories.CareCardFactory(owner=owner, species=species, nickname="Monty")
    services.care_tasks_create_defaults(card=card, owner=owner)
    return card


def _task(card, kind) -> CareTask:
    return CareTask.objects.get(care_card=card, kind=kind)


def test_page_shows_tasks_due_in_the_gardeners_own_today(client, card):
    """Due words count from the gardener's local date (Sydney), whatever the server's."""
    today = schedule.local_today("Australia/Sydney")
    CareTask.objects.filter(pk=_task(card, "water").pk).update(next_due_on=today - timedelta(days=2))
    CareTask.objects.filter(pk=_task(card, "mist").pk).update(next_due_on=today)
    CareTask.objects.filter(pk=_task(card, "prune").pk).update(next_due_on=today + timedelta(days=5))
    client.force_login(card.owner)
    body = client.get(reverse("plants:care-card-list")).content.decode()
    assert "overdue by 2 days" in body and "due today" in body and "in 5 days" in body
    water = _task(card, "water")
    assert f"{every_words(water.interval_days)}</span>" in body
    for name in ("care-task-done", "care-task-snooze", "care-task-edit"):
        assert f'hx-post="{reverse(f"plants:{name}", args=[water.pk])}"' in body
    assert f'hx-target="#care-task-{water.pk}-error"' in body and f'id="care-task-{water.pk}-error"' in body
    assert f'name="next" value="{reverse("plants:care-card-list")}#care-card-{card.pk}"' in body
    assert f'max="{today:%Y-%m-%d}"' in body and 'type="date"' in body
    assert "data-care-tasks" in body and 'hx-trigger="careTasksChanged"' in body
    # The facts, short: light, watering, humidity, temperature, toxicity.
    assert "Bright, indirect light" in body and "toxic to cats, dogs and people" in body and "°C" in body


def test_switched_off_tasks_are_listed_compactly_with_a_switch(client, card):
    services.care_task_update(task=_task(card, "repot"), owner=card.owner, interval_days=365, is_enabled=False)
    client.force_login(card.owner)
    body = client.get(reverse("plants:care-card-list")).content.decode()
    repot = _task(card, "repot")
    assert "Switched off:" in body and f'id="care-task-{repot.pk}-on"' in body
    response = client.post(
        reverse("plants:care-task-edit", args=[repot.pk]),
        {"interval_days": "365", "is_enabled": "on", "next": reverse("plants:care-card-list")},
    )
    assert response.status_code == 302 and _task(card, "repot").is_enabled


def test_done_without_javascript_returns_to_the_page_with_the_history(client, card):
    water = _task(card, "water")
    client.force_login(card.owner)
    page = reverse("plants:care-card-list")
    today = schedule.local_today("Australia/Sydney")
    for back in range(12, 0, -1):
        client.post(reverse("plants:care-task-done", args=[water.pk]), {"done_on": f"{today - timedelta(days=back)}"})
    response = client.post(reverse("plants:care-task-done", args=[water.pk]), {"next": f"{page}#care-card-{card.pk}"})
    assert response.status_code == 302 and response["Location"] == f"{page}#care-card-{card.pk}"
    body = client.get(page).content.decode()
    assert "Water Monty: done." in body  # the flash message
    shown = [" ".join(item.split()) for item in body.split("<li><time")[1:]]
    assert len(shown) == 10  # 13 done dates, the last 10 shown
    assert shown[0].startswith(f'datetime="{today:%Y-%m-%d}"')


def test_task_region_refreshes_over_htmx_and_is_the_owners_only(client, card):
    water = _task(card, "water")
    client.force_login(card.owner)
    url = reverse("plants:care-card-tasks", args=[card.pk])
    assert client.post(reverse("plants:care-task-done", args=[water.pk]), **HTMX).status_code == 204
    fragment = client.get(url, **HTMX)
    body = fragment.content.decode()
    assert fragment.status_code == 200 and body.lstrip().startswith(
        f'<section class="care-tasks" id="care-tasks-{card.pk}"'
    )
    assert "Last done <time" in body and "<html" not in body
    plain = client.get(url)
    assert plain.status_code == 302 and plain["Location"] == f"{reverse('plants:care-card-list')}#care-card-{card.pk}"
    client.force_login(factories.UserFactory())
    assert client.get(url, **HTMX).status_code == 404


def test_task_region_costs_four_statements(client, card, django_assert_num_queries):
    """User, the card (permission), its tasks, their history."""
    client.force_login(card.owner)
    services.care_task_done(task=_task(card, "water"), owner=card.owner)
    client.get(reverse("plants:care-card-list"))
    with django_assert_num_queries(4):
        client.get(reverse("plants:care-card-tasks", args=[card.pk]), **HTMX)


def test_saving_the_card_over_htmx_updates_its_heading_out_of_band(client, card):
    client.force_login(card.owner)
    prefix = f"card-{card.pk}"
    response = client.post(
        reverse("plants:care-card-update", args=[card.pk]),
        {f"{prefix}-nickname": "Big Monty", f"{prefix}-personal_notes": "", f"{prefix}-status": "thriving"},
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="care-card-{card.pk}-head" hx-swap-oob="true"' in body and "Big Monty</h2>" in body


def test_invalid_card_form_without_javascript_shows_the_page_again(client, card):
    client.force_login(card.owner)
    prefix = f"card-{card.pk}"
    response = client.post(reverse("plants:care-card-update", args=[card.pk]), {f"{prefix}-status": "dead"})
    body = response.content.decode()
    assert (
        response.status_code == 200
        and "Select a valid choice" in body
        and '<details class="care-card-edit" open>' in body
    )
    assert 'class="task-head"' in body


def _identified(owner, species, *, photo=True, **fields):
    request = factories.IdentificationRequestFactory(owner=owner, species=species, status="identified", **fields)
    if photo:
        PlantPhoto.objects.create(request=request, image=request.thumbnail.name, position=0)
    return request


def test_photo_is_the_gardeners_own_else_a_community_one_else_none(card):
    """Own identified request of the species first; else the newest community photo whose
    owner shows it on species pages and is active (the species page's rule); else none."""
    owner, species = card.owner, card.species

    def photo():
        return selectors.care_cards_page_for_user(user=owner)[0].photo

    assert photo() is None
    _identified(factories.UserFactory(), species, show_on_species_pages=False)
    _identified(factories.UserFactory(is_active=False), species)
    assert photo() is None
    shown = _identified(factories.UserFactory(username="fern_friend"), species)
    assert photo() == {
        "url": shown.thumbnail.url,
        "alt": f"{species.display_name}, photographed by fern_friend",
        "by": "fern_friend",
    }
    _identified(owner, PlantSpecies.objects.exclude(pk=species.pk).first())  # another plant: not this one
    assert photo()["by"] == "fern_friend"
    mine = _identified(owner, species, photo=False)
    assert photo() == {"url": mine.thumbnail.url, "alt": "Your photo of Monty", "by": None}
