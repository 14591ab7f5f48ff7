"""The care task endpoints' contract (apps/plants/care/views.py): owner only, htmx 204 +
``careTaskDone``, 400 with a message for bad input (nothing changes), 303 without JavaScript."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from apps.plants.care import schedule, services
from apps.plants.models import CareTask, CareTaskDone
from tests.factories import CareCardFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def task():
    owner = UserFactory(time_zone="Australia/Sydney")
    card = CareCardFactory(owner=owner, nickname="Monty")
    services.care_tasks_create_defaults(card=card, owner=owner)
    return CareTask.objects.select_related("owner", "care_card").get(care_card=card, kind="water")


def test_done_over_htmx_answers_204_with_the_event(client, task):
    client.force_login(task.owner)
    response = client.post(reverse("plants:care-task-done", args=[task.pk]), **HTMX)
    assert response.status_code == 204
    detail = json.loads(response["HX-Trigger"])["careTaskDone"]
    assert detail["task"] == task.pk and detail["message"].startswith("Water Monty: done. Next due")
    today = schedule.local_today("Australia/Sydney")
    assert CareTask.objects.get(pk=task.pk).last_done_on == today


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("care-task-done", {"done_on": "not a date"}),
        ("care-task-done", {"done_on": "2999-01-01"}),
        ("care-task-done", {"done_on": "1999-01-01"}),
        ("care-task-snooze", {"days": "2"}),
        ("care-task-snooze", {"days": ""}),
        ("care-task-edit", {"interval_days": "0", "is_enabled": "on"}),
        ("care-task-edit", {"interval_days": "99999", "is_enabled": "on"}),
        ("care-task-edit", {"interval_days": "x"}),
    ],
)
def test_bad_input_answers_400_and_changes_nothing(client, task, name, data):
    client.force_login(task.owner)
    before = CareTask.objects.filter(pk=task.pk).values().get()
    response = client.post(reverse(f"plants:{name}", args=[task.pk]), data, **HTMX)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert CareTask.objects.filter(pk=task.pk).values().get() == before
    assert not CareTaskDone.objects.exists()


def test_another_gardeners_task_is_404(client, task):
    client.force_login(UserFactory())
    for name in ("care-task-done", "care-task-snooze", "care-task-edit"):
        assert client.post(reverse(f"plants:{name}", args=[task.pk]), {"days": "1"}).status_code == 404
    assert CareTask.objects.get(pk=task.pk).last_done_on is None


def test_without_javascript_redirects_to_a_local_next_only(client, task):
    client.force_login(task.owner)
    url = reverse("plants:care-task-snooze", args=[task.pk])
    response = client.post(url, {"days": "3", "next": "/dashboard/?all=1"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/?all=1"
    response = client.post(url, {"days": "1", "next": "https://evil.example/"})
    assert response["Location"] == reverse("plants:care-card-list")
    today = schedule.local_today("Australia/Sydney")
    assert CareTask.objects.get(pk=task.pk).next_due_on >= today + timedelta(days=4)


def test_edit_switches_a_task_on_with_a_new_interval(client, task):
    client.force_login(task.owner)
    mist = CareTask.objects.get(care_card=task.care_card, kind="mist")
    response = client.post(
        reverse("plants:care-task-edit", args=[mist.pk]), {"interval_days": "4", "is_enabled": "on"}, **HTMX
    )
    assert response.status_code == 204
    mist.refresh_from_db()
    assert mist.is_enabled and mist.interval_days == 4


def test_messages_give_the_year_of_a_date_in_another_year_and_say_every_day(client, task):
    """Found by review: "Next due 29 Nov" for a date two years away; "every 1 days"."""
    client.force_login(task.owner)
    repot = CareTask.objects.get(care_card=task.care_card, kind="repot")
    response = client.post(
        reverse("plants:care-task-edit", args=[repot.pk]), {"interval_days": "730", "is_enabled": "on"}, **HTMX
    )
    message = json.loads(response["HX-Trigger"])["careTaskDone"]["message"]
    year = (schedule.local_today("Australia/Sydney") + timedelta(days=730)).year
    assert message.endswith(f"{year}.")
    response = client.post(
        reverse("plants:care-task-edit", args=[task.pk]), {"interval_days": "1", "is_enabled": "on"}, **HTMX
    )
    assert "every day, next" in json.loads(response["HX-Trigger"])["careTaskDone"]["message"]


def test_done_or_snooze_on_a_switched_off_task_is_400(client, task):
    client.force_login(task.owner)
    mist = CareTask.objects.get(care_card=task.care_card, kind="mist")
    services.care_task_update(task=mist, owner=task.owner, interval_days=7, is_enabled=False)
    for name, data in (("care-task-done", {}), ("care-task-snooze", {"days": "3"})):
        response = client.post(reverse(f"plants:{name}", args=[mist.pk]), data, **HTMX)
        assert response.status_code == 400 and "switched off" in response.content.decode()
    assert CareTask.objects.filter(pk=mist.pk).values().get()["last_done_on"] is None
