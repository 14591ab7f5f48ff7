"""The daily care reminder's opt-in on the notification settings page (issue 14): off by
default, or a local hour shown as "07:00" in the gardener's named time zone; saved with the
page's other choices, all or nothing."""

import pytest

from apps.accounts.models import User
from apps.notifications.models import NotificationDelivery, NotificationKind, NotificationPreference
from apps.notifications.preferences_selectors import notification_preferences_of
from apps.notifications.preferences_services import notification_preferences_set

pytestmark = pytest.mark.django_db

PAGE = "/accounts/settings/notifications/"
KINDS = dict.fromkeys(NotificationKind.values, NotificationDelivery.SITE)


def _selected(html: str) -> str:
    """The label of the selected option of the reminder's select."""
    select = html.split('name="care_reminder_hour"', 1)[1].split("</select>", 1)[0]
    return select.split(" selected>", 1)[1].split("<", 1)[0]


def test_page_offers_off_and_every_hour_in_the_gardeners_time_zone(gardener, gardener_client):
    """GET: "Daily care reminder" with Off selected by default, 24 hours shown as 00:00 to 23:00,
    the help text naming the gardener's zone and tied to the select; a chosen hour shows as
    selected."""
    User.objects.filter(pk=gardener.pk).update(time_zone="Asia/Kolkata")
    html = gardener_client.get(PAGE).content.decode()
    assert '<label for="id_care_reminder_hour">Daily care reminder:</label>' in html
    assert _selected(html) == "Off"
    assert [f"{hour:02d}:00" in html for hour in range(24)] == [True] * 24
    assert "sent after this hour in your time zone (Asia/Kolkata)" in html
    assert 'aria-describedby="id_care_reminder_hour_helptext"' in html
    assert 'id="id_care_reminder_hour_helptext"' in html
    User.objects.filter(pk=gardener.pk).update(care_reminder_hour=7)
    assert _selected(gardener_client.get(PAGE).content.decode()) == "07:00"


@pytest.mark.parametrize("hour", [None, 7])
def test_page_still_reads_in_two_statements(gardener, gardener_client, hour, django_assert_num_queries):
    """The reminder hour is on the session's user row: the page stays at two statements."""
    User.objects.filter(pk=gardener.pk).update(care_reminder_hour=hour)
    with django_assert_num_queries(2):
        assert gardener_client.get(PAGE).status_code == 200


@pytest.mark.parametrize("posted, stored", [("7", 7), ("0", 0), ("23", 23), ("off", None)])
def test_post_saves_the_hour_or_off(gardener, gardener_client, posted, stored):
    """A valid POST with an hour (or Off) stores it on the user with the kinds; 303 back."""
    User.objects.filter(pk=gardener.pk).update(care_reminder_hour=12)
    response = gardener_client.post(PAGE, KINDS | {"care_reminder_hour": posted})
    assert response.status_code == 303 and response["Location"] == PAGE
    assert User.objects.get(pk=gardener.pk).care_reminder_hour == stored
    assert notification_preferences_of(user_id=gardener.pk) == KINDS


def test_post_without_the_field_keeps_the_hour(gardener, gardener_client):
    """A page rendered before the reminder existed posts only the kinds: the hour is kept."""
    User.objects.filter(pk=gardener.pk).update(care_reminder_hour=6)
    assert gardener_client.post(PAGE, KINDS).status_code == 303
    assert User.objects.get(pk=gardener.pk).care_reminder_hour == 6


@pytest.mark.parametrize("bad", ["24", "-1", "7.5", "07:00", "on", "<script>"])
def test_bad_hour_is_refused_whole(gardener, gardener_client, bad):
    """An hour that is not Off or 0-23: 200 with the message; neither the hour nor the kinds
    posted with it change."""
    User.objects.filter(pk=gardener.pk).update(care_reminder_hour=6)
    response = gardener_client.post(PAGE, KINDS | {"care_reminder_hour": bad})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was saved" in html and "Choose Off or an hour of the day." in html
    assert User.objects.get(pk=gardener.pk).care_reminder_hour == 6
    assert not NotificationPreference.objects.filter(user=gardener).exists()


def test_bad_kind_keeps_the_hour_unsaved(gardener, gardener_client):
    """A valid hour posted with an unknown kind choice is not saved either."""
    response = gardener_client.post(PAGE, KINDS | {"reply": "weekly", "care_reminder_hour": "8"})
    assert response.status_code == 200
    assert User.objects.get(pk=gardener.pk).care_reminder_hour is None


def test_service_refuses_a_bad_hour_and_changes_nothing(gardener):
    """``notification_preferences_set`` validates the hour before writing anything; without the
    keyword it leaves the hour alone."""
    for bad in (24, -1):
        with pytest.raises(ValueError):
            notification_preferences_set(user=gardener, choices=KINDS, care_reminder_hour=bad)
    assert not NotificationPreference.objects.exists()
    notification_preferences_set(user=gardener, choices=KINDS, care_reminder_hour=9)
    notification_preferences_set(user=gardener, choices=KINDS)
    assert User.objects.get(pk=gardener.pk).care_reminder_hour == 9
