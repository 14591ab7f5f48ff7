"""The care calendar feed (issue 14; SPEC ``/plants/care/calendar/<token>.ics``): parsed back with
``icalendar``, one recurring all-day event with an alarm per enabled task, the growing season's
months in both hemispheres, no session needed, a secret token that a reset revokes (404, the
site's page, never a 500 whatever the path holds), the care cards page's calendar section, and
the token kept out of exports and gone with the account."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.urls import reverse
from icalendar import Calendar

from apps.accounts.data_services import account_erase, data_export_document
from apps.plants.care import feed, schedule, services
from apps.plants.models import CareCalendarFeed, CareTask, PlantSpecies, SavedCareInstructions
from tests.factories import CareCardFactory, SpeciesFactory, UserFactory

pytestmark = pytest.mark.django_db

CARDS = "/plants/care-cards/"
NOT_FOUND_TEXT = "There is nothing at this address."
# An unknown token in a well-formed address reaches the view, whose 404 says so (issue 15).
NO_SUCH_CALENDAR = "No such calendar."


def _gardener(**kwargs):
    return UserFactory(time_zone=kwargs.pop("time_zone", "Europe/London"), **kwargs)


def _card(owner, **kwargs):
    card = CareCardFactory(owner=owner, **kwargs)
    services.care_tasks_create_defaults(card=card, owner=owner)
    return card


def _feed_url(token: str) -> str:
    return reverse("plants:care-calendar-feed", kwargs={"token": token})


def _parse(response) -> Calendar:
    assert response.status_code == 200, response.content[:500]
    return Calendar.from_ical(response.content)


def _events(calendar: Calendar) -> dict[str, object]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def monty():
    """A gardener in London with one care card nicknamed Monty (its five default tasks, the
    ones the table starts switched off included) and their calendar link."""
    owner = _gardener(username="rosa")
    species = SpeciesFactory(
        primary_common_name="Swiss cheese plant",
        scientific_name="Monstera testiana",
        light=PlantSpecies.Light.BRIGHT_INDIRECT,
        humidity=PlantSpecies.Humidity.HIGH,
        toxic_to_cats=True,
        toxic_to_dogs=True,
    )
    card = _card(owner, species=species, nickname="Monty")
    link = services.care_calendar_feed_create(owner=owner)
    return owner, card, link


def test_the_feed_parses_back_with_one_event_per_enabled_task(client, monty):
    """Anonymous GET (a calendar app sends no cookies): VERSION 2.0, PRODID, the calendar's name
    and the gardener's time zone; one VEVENT per enabled task (disabled ones left out) with a
    stable UID, "Water Monty", an all-day DTSTART on the next due date, RRULE every
    ``interval_days`` days, a description with the species' facts and the care cards link, and
    a DISPLAY alarm at 09:00 on the day (TRIGGER +9 h from the all-day start)."""
    owner, card, link = monty
    CareTask.objects.filter(care_card=card, kind="prune").update(is_enabled=False)
    tasks = {task.pk: task for task in CareTask.objects.filter(owner=owner, is_enabled=True)}
    assert 2 <= len(tasks) < 5

    calendar = _parse(client.get(_feed_url(link.token)))

    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"]) == feed.PRODID
    assert str(calendar["X-WR-CALNAME"]) == "Plant care — rosa"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/London"
    events = _events(calendar)
    assert set(events) == {f"care-task-{pk}@testserver" for pk in tasks}
    for pk, task in tasks.items():
        event = events[f"care-task-{pk}@testserver"]
        assert str(event["SUMMARY"]) == f"{task.get_kind_display()} Monty"
        assert event.decoded("DTSTART") == task.next_due_on
        assert event["DTSTART"].params.get("VALUE") == "DATE"
        rule = event["RRULE"]
        assert rule["FREQ"] == ["DAILY"] and rule["INTERVAL"] == [task.interval_days]
        description = str(event["DESCRIPTION"])
        assert "Swiss cheese plant (Monstera testiana)" in description
        assert "Bright, indirect light · humidity high · 15 to 27 °C · toxic to cats and dogs" in description
        assert "general guidance" in description
        assert "http://testserver/plants/care-cards/" in description
        [alarm] = event.walk("VALARM")
        assert str(alarm["ACTION"]) == "DISPLAY" and str(alarm["DESCRIPTION"]) == str(event["SUMMARY"])
        assert alarm.decoded("TRIGGER") == timedelta(hours=9)
    assert events[f"care-task-{_task(card, 'water').pk}@testserver"]["SUMMARY"] == "Water Monty"


def _task(card, kind) -> CareTask:
    return CareTask.objects.get(care_card=card, kind=kind)


def test_headers_suit_a_secret_calendar_url(client, monty):
    """text/calendar in UTF-8, shown inline as a file, never stored by a cache, never indexed,
    no referrer sent on; no session or cookie is made for the anonymous reader."""
    response = client.get(_feed_url(monty[2].token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="plant-care.ics"'
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert not response.cookies
    assert client.head(_feed_url(monty[2].token)).status_code == 200


def test_uids_and_the_whole_body_are_stable_between_polls(client, monty):
    """A calendar app polls again: same UIDs, same bytes (DTSTAMP is the last change, not
    "now"), while nothing changed; a task marked done moves its DTSTART and its DTSTAMP."""
    owner, card, link = monty
    CareTask.objects.filter(care_card=card).update(updated_at=F("updated_at") - timedelta(hours=1))
    SavedCareInstructions.objects.filter(pk=card.pk).update(updated_at=F("updated_at") - timedelta(hours=1))
    first = client.get(_feed_url(link.token)).content
    assert client.get(_feed_url(link.token)).content == first
    water = _task(card, "water")
    yesterday = schedule.local_today(owner.time_zone) - timedelta(days=1)
    services.care_task_done(task=water, owner=owner, done_on=yesterday)
    after = _events(_parse(client.get(_feed_url(link.token))))
    before = _events(Calendar.from_ical(first))
    assert set(after) == set(before)
    uid = f"care-task-{water.pk}@testserver"
    assert (
        after[uid].decoded("DTSTART")
        == _task(card, "water").next_due_on
        == yesterday + timedelta(days=water.interval_days)
    )
    assert after[uid].decoded("DTSTART") != before[uid].decoded("DTSTART")
    assert after[uid].decoded("DTSTAMP") > before[uid].decoded("DTSTAMP")


@pytest.mark.parametrize(
    ("latitude", "months"),
    [
        (None, [3, 4, 5, 6, 7, 8, 9]),
        (Decimal("51.6"), [3, 4, 5, 6, 7, 8, 9]),
        (Decimal("-33.8"), [1, 2, 3, 9, 10, 11, 12]),
    ],
    ids=["no-home", "north", "south"],
)
def test_a_seasonal_task_recurs_only_in_the_growing_season_of_the_gardeners_hemisphere(client, latitude, months):
    """Fertilizing (growing season only) gets BYMONTH with March-September in the north (and
    with no home location), September-March in the south; the other tasks get none."""
    owner = _gardener(time_zone="Australia/Sydney" if latitude and latitude < 0 else "Europe/London")
    owner.home_latitude, owner.home_longitude = latitude, (Decimal("151.2") if latitude is not None else None)
    owner.save(update_fields=["home_latitude", "home_longitude"])
    card = _card(owner)
    link = services.care_calendar_feed_create(owner=owner)
    events = _events(_parse(client.get(_feed_url(link.token))))
    fertilize = events[f"care-task-{_task(card, 'fertilize').pk}@testserver"]
    assert [int(month) for month in fertilize["RRULE"]["BYMONTH"]] == months
    assert fertilize.decoded("DTSTART").month in months
    assert "BYMONTH" not in events[f"care-task-{_task(card, 'water').pk}@testserver"]["RRULE"]


def test_a_gardener_without_tasks_gets_an_empty_calendar(client):
    owner = _gardener()
    link = services.care_calendar_feed_create(owner=owner)
    calendar = _parse(client.get(_feed_url(link.token)))
    assert calendar.walk("VEVENT") == [] and str(calendar["X-WR-TIMEZONE"]) == "Europe/London"


def test_another_gardeners_tasks_never_appear(client, monty):
    owner, card, link = monty
    other = _gardener(username="ben")
    other_card = _card(other, nickname="Fern")
    other_link = services.care_calendar_feed_create(owner=other)
    mine = _events(_parse(client.get(_feed_url(link.token))))
    theirs = _events(_parse(client.get(_feed_url(other_link.token))))
    assert set(mine) == {f"care-task-{pk}@testserver" for pk in _enabled_ids(card)}
    assert set(theirs) == {f"care-task-{pk}@testserver" for pk in _enabled_ids(other_card)}
    assert not set(mine) & set(theirs)
    assert all("Fern" not in str(event["SUMMARY"]) for event in mine.values())


def _enabled_ids(card) -> set[int]:
    return set(CareTask.objects.filter(care_card=card, is_enabled=True).values_list("pk", flat=True))


def test_the_token_is_256_random_bits_and_creating_twice_keeps_it():
    owner = _gardener()
    link = services.care_calendar_feed_create(owner=owner)
    assert len(link.token) == 43 and set(link.token) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert services.care_calendar_feed_create(owner=owner).token == link.token
    assert CareCalendarFeed.objects.filter(owner=owner).count() == 1
    assert services.care_calendar_feed_create(owner=_gardener()).token != link.token


def test_a_reset_changes_the_token_and_the_old_url_answers_404(client, monty):
    owner, _card_row, link = monty
    new = services.care_calendar_feed_reset(owner=owner)
    assert new.token != link.token and len(new.token) == 43
    old = client.get(_feed_url(link.token))
    assert old.status_code == 404 and NO_SUCH_CALENDAR in old.content.decode()
    assert len(_parse(client.get(_feed_url(new.token))).walk("VEVENT")) == len(_enabled_ids(_card_row))
    # Resetting a gardener who has no link yet makes one.
    assert services.care_calendar_feed_reset(owner=_gardener()).token


@pytest.mark.parametrize(
    "path",
    [
        "/plants/care/calendar/" + "A" * 43 + ".ics",  # well formed, unknown
        "/plants/care/calendar/" + "A" * 10_000 + ".ics",  # very long
        "/plants/care/calendar/" + "é" * 43 + ".ics",  # non-ASCII, raw
        "/plants/care/calendar/" + "%C3%A9" * 43 + ".ics",  # non-ASCII, percent-encoded
        "/plants/care/calendar/%FF%FE.ics",  # not UTF-8
        "/plants/care/calendar/short.ics",
        "/plants/care/calendar/" + "A" * 43,  # no .ics
        "/plants/care/calendar/../../etc/passwd.ics",
        "/plants/care/calendar/" + "A" * 40 + "%20%20%20.ics",
        "/plants/care/calendar/" + "A" * 43 + ".ics/",
    ],
)
def test_any_other_token_is_the_sites_404_never_a_500(client, monty, path):
    response = client.get(path)
    assert response.status_code == 404
    page = response.content.decode()
    assert NOT_FOUND_TEXT in page or NO_SUCH_CALENDAR in page


@pytest.mark.parametrize("path", ["/plants/care/calendar/" + "A" * 42 + "%00.ics", "/plants/care/calendar/%00.ics"])
def test_a_nul_byte_is_the_sites_400_page(client, monty, path):
    """A NUL byte never reaches the resolver: the project answers any such address with its 400
    page (``apps.core.middleware``), in the site's look; never a 500."""
    response = client.get(path)
    assert response.status_code == 400 and "<html" in response.content.decode().lower()


def test_a_case_changed_token_is_not_the_token(client, monty):
    """Tokens compare exactly (a case-insensitive match would halve the secret's bits per
    letter)."""
    token = monty[2].token
    swapped = token.swapcase()
    assert swapped != token
    assert client.get(_feed_url(swapped)).status_code == 404


def test_a_deactivated_gardeners_feed_answers_404(client, monty):
    owner, _card_row, link = monty
    type(owner).objects.filter(pk=owner.pk).update(is_active=False)
    assert client.get(_feed_url(link.token)).status_code == 404


def test_the_feed_is_get_only(client, monty):
    assert client.post(_feed_url(monty[2].token)).status_code == 405


def test_the_feed_costs_two_statements(client, rows_per_table, django_assert_num_queries):
    """The feed with its owner, then the enabled tasks with their cards and species: two
    statements at 1 and at 500 care cards (SPEC "Query budgets": exact at both sizes), no
    session. Every enabled task is in the body."""
    owner = _gardener()
    species = list(PlantSpecies.objects.order_by("id")[:rows_per_table])
    species += SpeciesFactory.create_batch(rows_per_table - len(species))
    for item in species:
        _card(owner, species=item)
    link = services.care_calendar_feed_create(owner=owner)
    enabled = CareTask.objects.filter(owner=owner, is_enabled=True).count()
    assert enabled >= rows_per_table
    with django_assert_num_queries(2):
        response = client.get(_feed_url(link.token))
    assert len(_parse(response).walk("VEVENT")) == enabled


# --- The care cards page's calendar section ---------------------------------------------------


def test_without_cards_the_page_offers_no_calendar_link(gardener_client, gardener):
    """No care card, no task to put in a calendar: no calendar section (and no statement for it)."""
    page = gardener_client.get(CARDS).content.decode()
    assert "Add your care tasks to your calendar" not in page and "Create calendar link" not in page


def test_the_care_cards_page_offers_to_create_a_link_and_showing_it_creates_none(gardener_client, gardener):
    """No link yet: a "Create calendar link" POST button, and showing the page writes nothing
    (a GET never changes state)."""
    CareCardFactory(owner=gardener)
    page = gardener_client.get(CARDS).content.decode()
    assert "Add your care tasks to your calendar" in page and "Create calendar link" in page
    assert f'action="{reverse("plants:care-calendar-create")}"' in page
    assert not CareCalendarFeed.objects.exists()


def test_creating_the_link_shows_the_https_and_webcal_urls_and_a_reset_form(gardener_client, gardener):
    CareCardFactory(owner=gardener)
    response = gardener_client.post(reverse("plants:care-calendar-create"))
    assert response.status_code == 303 and response["Location"] == CARDS + "#care-calendar"
    token = CareCalendarFeed.objects.get(owner=gardener).token
    again = gardener_client.post(reverse("plants:care-calendar-create"))
    assert again.status_code == 303 and CareCalendarFeed.objects.get(owner=gardener).token == token
    page = gardener_client.get(CARDS).content.decode()
    assert f'value="http://testserver/plants/care/calendar/{token}.ics" readonly' in page
    assert f'href="webcal://testserver/plants/care/calendar/{token}.ics"' in page
    assert f'action="{reverse("plants:care-calendar-reset")}"' in page
    assert "Calendars subscribed to the current link stop" in page
    assert "Your calendar link is ready" in page
    assert "copy-link.js" in page and "Create calendar link" not in page


def test_the_link_is_https_behind_tls(gardener_client, gardener, settings):
    CareCardFactory(owner=gardener)
    services.care_calendar_feed_create(owner=gardener)
    page = gardener_client.get(CARDS, secure=True).content.decode()
    assert 'value="https://testserver/plants/care/calendar/' in page


def test_reset_over_the_page_revokes_the_old_link(gardener_client, gardener, client_factory):
    old = services.care_calendar_feed_create(owner=gardener).token
    response = gardener_client.post(reverse("plants:care-calendar-reset"))
    assert response.status_code == 303 and response["Location"] == CARDS + "#care-calendar"
    new = CareCalendarFeed.objects.get(owner=gardener).token
    assert new != old
    calendar_app = client_factory()
    assert calendar_app.get(_feed_url(old)).status_code == 404
    assert calendar_app.get(_feed_url(new)).status_code == 200
    assert "Calendars subscribed to the old link stop updating" in gardener_client.get(CARDS).content.decode()


def test_create_and_reset_need_a_signed_in_post(client, gardener):
    for name in ("plants:care-calendar-create", "plants:care-calendar-reset"):
        response = client.post(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        client.force_login(gardener)
        assert client.get(reverse(name)).status_code == 405
        client.logout()
    assert not CareCalendarFeed.objects.exists()


def test_link_changes_are_limited_per_hour(gardener_client, gardener):
    """``CALENDAR_LINK_CHANGES_PER_HOUR`` creations or resets, then 429 with Retry-After and
    the link as it was."""
    for _ in range(feed.CALENDAR_LINK_CHANGES_PER_HOUR):
        assert gardener_client.post(reverse("plants:care-calendar-reset")).status_code == 303
    token = CareCalendarFeed.objects.get(owner=gardener).token
    response = gardener_client.post(reverse("plants:care-calendar-reset"))
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "calendar link" in response.content.decode()
    assert CareCalendarFeed.objects.get(owner=gardener).token == token


# --- Your data ----------------------------------------------------------------------------------


def test_the_export_never_holds_the_token(monty):
    owner, _card_row, link = monty
    document, _files = data_export_document(user=owner)
    assert link.token not in json.dumps(document, default=str)
    assert "plants.CareCalendarFeed" not in document["data"]


def test_deleting_the_account_removes_the_link(client, monty):
    """Account deletion keeps the (anonymized) user row, so the one-to-one would not cascade:
    the erasure deletes the feed itself, and the old URL answers 404 at once."""
    owner, _card_row, link = monty
    account_erase(user_id=owner.pk)
    assert not CareCalendarFeed.objects.filter(owner_id=owner.pk).exists()
    assert client.get(_feed_url(link.token)).status_code == 404


def test_removing_the_user_row_cascades_to_the_link():
    owner = _gardener()
    services.care_calendar_feed_create(owner=owner)
    owner.delete()
    assert not CareCalendarFeed.objects.exists()


def test_a_post_to_the_feed_is_405_not_a_csrf_403(client, monty):
    """Found by review: the read-only feed answered a POST with the CSRF failure page."""
    token = CareCalendarFeed.objects.get(owner__username="rosa").token
    response = client.post(reverse("plants:care-calendar-feed", args=[token]))
    assert response.status_code == 405
