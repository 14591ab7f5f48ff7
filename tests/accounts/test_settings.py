"""The profile and email settings (issue 11): display name, avatar under the photos' upload
rules, time zone for every date shown, a home location never finer than about 20 km; email
change by a confirmed link, with a notice to the old address and no enumeration."""

import io
import re
from datetime import UTC, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image

from apps.accounts.devices import coarse_network, device_label
from apps.accounts.models import User, UserSession
from apps.core.geo import coarse_coordinate
from tests.factories import DEFAULT_PASSWORD, UserFactory, jpeg_bytes

pytestmark = pytest.mark.django_db

PROFILE = "/accounts/settings/"
EMAIL = "/accounts/settings/email/"


def _profile(client, **fields):
    data = {"display_name": "", "time_zone": "UTC", "home_latitude": "", "home_longitude": ""} | fields
    return client.post(PROFILE, data)


def _jpeg_with_metadata(size=(900, 600)) -> io.BytesIO:
    """A JPEG carrying an EXIF block (GPS included) and a COM segment with HTML in it."""
    image = Image.new("RGB", size, (40, 120, 60))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 26.0)}  # GPSInfo
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, comment=b"<script>alert(1)</script>")
    buffer.seek(0)
    buffer.name = "holiday.jpg"
    return buffer


# --- Navigation -----------------------------------------------------------------------------


def test_header_links_to_the_settings_and_the_nav_lists_every_area(gardener, gardener_client):
    """ "Signed in as ..." links to /accounts/settings/; the sub-navigation names Profile,
    Email, Password, Sessions, Two-factor, Notifications (the notifications app's page) and Your
    data, the current one marked."""
    body = gardener_client.get("/dashboard/").content.decode()
    assert re.search(r'Signed in as <a href="/accounts/settings/"><strong>rosa</strong>', body)
    page = gardener_client.get(PROFILE).content.decode()
    nav = re.search(r'<nav class="settings-nav" aria-label="Settings">(.*?)</nav>', page, re.S).group(1)
    assert re.findall(r">([^<>]+)</a>", nav) == [
        "Profile",
        "Email",
        "Password",
        "Sessions",
        "Two-factor",
        "Notifications",
        "Your data",
    ]
    assert 'href="/accounts/settings/" aria-current="page"' in nav
    for href in (
        "/accounts/settings/email/",
        "/accounts/password_change/",
        "/accounts/settings/sessions/",
        "/accounts/settings/notifications/",
    ):
        assert f'href="{href}"' in nav


def test_settings_pages_need_a_signed_in_gardener(client):
    for path in (PROFILE, EMAIL, "/accounts/settings/sessions/", "/accounts/password_change/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == f"/accounts/login/?next={path}"


# --- Profile --------------------------------------------------------------------------------


def test_profile_saves_name_time_zone_and_a_coarse_home_location(gardener, gardener_client):
    """The home location is snapped to the 0.2° grid before it is stored: the exact point
    typed is never written."""
    response = _profile(
        gardener_client,
        display_name="  Rosa   of the Ferns ",
        time_zone="Australia/Hobart",
        home_latitude="-42.882137",
        home_longitude="147.327194",
    )
    assert response.status_code == 303 and response["Location"] == PROFILE
    gardener.refresh_from_db()
    assert gardener.display_name == "Rosa of the Ferns"
    assert gardener.time_zone == "Australia/Hobart"
    assert (gardener.home_latitude, gardener.home_longitude) == (Decimal("-42.8"), Decimal("147.4"))
    assert gardener.home_hemisphere == "south"
    page = gardener_client.get(PROFILE).content.decode()
    assert "Your profile is saved." in page and 'value="-42.8"' in page and "42.882137" not in page
    _profile(gardener_client, time_zone="Australia/Hobart")
    gardener.refresh_from_db()
    assert gardener.home_latitude is None and gardener.home_longitude is None and gardener.home_hemisphere is None


@pytest.mark.parametrize(
    ("value", "snapped"),
    [
        ("51.5074", "51.6"),
        ("51.49", "51.4"),
        ("-0.1278", "-0.2"),
        ("0.1", "0.0"),
        ("0.3", "0.4"),
        ("89.99", "90.0"),
        ("-180", "-180.0"),
    ],
)
def test_coarse_coordinate_snaps_to_the_grid(value, snapped):
    """Nearest multiple of 0.2°, halves to even (0.1 -> 0.0, 0.3 -> 0.4), one decimal place."""
    assert coarse_coordinate(Decimal(value)) == Decimal(snapped)


def test_the_database_refuses_a_finer_home_location(gardener):
    """The grid is a check constraint too: no code path can store a finer position."""
    for latitude, longitude in ((Decimal("51.5"), Decimal("0.2")), (Decimal("51.4"), None)):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=gardener.pk).update(home_latitude=latitude, home_longitude=longitude)
    User.objects.filter(pk=gardener.pk).update(home_latitude=Decimal("51.4"), home_longitude=Decimal("-0.2"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"home_latitude": "51.5"}, "Give both the latitude and the longitude, or neither."),
        ({"home_latitude": "91", "home_longitude": "0"}, "less than or equal to 90"),
        ({"home_latitude": "NaN", "home_longitude": "0"}, "Enter a number."),
        ({"time_zone": "Mars/Olympus_Mons"}, "Select a valid choice."),
        ({"display_name": "rosa\u202egnp.exe"}, "Use letters, digits, spaces and punctuation only."),
        ({"display_name": "x" * 51}, "at most 50 characters"),
    ],
)
def test_bad_profile_input_is_refused_and_changes_nothing(gardener, gardener_client, fields, message):
    response = _profile(gardener_client, **({"display_name": "Changed"} | fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    gardener.refresh_from_db()
    assert gardener.display_name == "" and gardener.time_zone == "UTC" and gardener.home_latitude is None


def test_avatar_is_a_small_square_jpeg_without_metadata_under_a_random_name(
    gardener, gardener_client, django_capture_on_commit_callbacks
):
    """The photos' rules (decoded with Pillow, EXIF and every other metadata segment dropped),
    cropped to a 256-pixel square, stored as ``avatars/<random>.jpg``; replacing it deletes the
    old file after commit, and so does removing it."""
    response = gardener_client.post(PROFILE, {"display_name": "", "time_zone": "UTC", "avatar": _jpeg_with_metadata()})
    assert response.status_code == 303
    gardener.refresh_from_db()
    first = gardener.avatar.name
    assert re.fullmatch(r"avatars/[A-Za-z0-9_-]{32}\.jpg", first) and "holiday" not in first and "rosa" not in first
    with default_storage.open(first) as stored:
        data = stored.read()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (256, 256)
    assert "exif" not in image.info and "comment" not in image.info
    assert b"<script>" not in data and b"Exif" not in data and b"CameraMaker" not in data
    assert first in gardener_client.get(PROFILE).content.decode()

    upload = io.BytesIO(jpeg_bytes(size=(300, 500)))
    upload.name = "second.jpg"
    with django_capture_on_commit_callbacks(execute=True):
        assert gardener_client.post(PROFILE, {"time_zone": "UTC", "avatar": upload}).status_code == 303
    gardener.refresh_from_db()
    assert gardener.avatar.name != first and not default_storage.exists(first)
    second = gardener.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        assert gardener_client.post(PROFILE, {"time_zone": "UTC", "avatar_remove": "on"}).status_code == 303
    gardener.refresh_from_db()
    assert gardener.avatar.name == "" and not default_storage.exists(second)


def test_deleting_a_user_row_removes_its_avatar_after_commit(
    gardener, gardener_client, django_capture_on_commit_callbacks
):
    """The avatar follows its row (``files_follow_rows(User, "avatar")``): Django's own delete of
    an account with nothing to protect (the admin, a shell) removes the file once it commits."""
    assert gardener_client.post(PROFILE, {"time_zone": "UTC", "avatar": _jpeg_with_metadata()}).status_code == 303
    name = User.objects.get(pk=gardener.pk).avatar.name
    assert name and default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        User.objects.filter(pk=gardener.pk).delete()
    assert not default_storage.exists(name)


def test_a_bad_avatar_is_refused_and_nothing_else_is_saved(gardener, gardener_client):
    """A file that is not an image gets the photos' message; the other fields typed with it are
    not saved either, and no file is stored."""
    fake = io.BytesIO(b"<html>not a picture</html>")
    fake.name = "photo.jpg"
    response = gardener_client.post(PROFILE, {"display_name": "New name", "time_zone": "UTC", "avatar": fake})
    assert response.status_code == 200
    assert "That file is not an image we can read" in response.content.decode()
    gardener.refresh_from_db()
    assert gardener.display_name == "" and gardener.avatar.name == ""
    assert not default_storage.exists("avatars") or default_storage.listdir("avatars")[1] == []


def test_avatar_uploads_are_limited_before_decoding_and_invalid_forms_cost_nothing(gardener, gardener_client, settings):
    """``AVATAR_UPLOADS_PER_HOUR``: an upload with an invalid field is neither counted nor
    decoded; beyond the limit the form comes back with 429 and ``Retry-After``."""
    settings.AVATAR_UPLOADS_PER_HOUR = 1
    invalid = gardener_client.post(PROFILE, {"time_zone": "Nowhere/Else", "avatar": _jpeg_with_metadata()})
    assert invalid.status_code == 200 and "Select a valid choice" in invalid.content.decode()
    assert gardener_client.post(PROFILE, {"time_zone": "UTC", "avatar": _jpeg_with_metadata()}).status_code == 303
    limited = gardener_client.post(PROFILE, {"time_zone": "Europe/Paris", "avatar": _jpeg_with_metadata()})
    assert limited.status_code == 429 and 3500 < int(limited["Retry-After"]) <= 3600
    assert "many times this hour" in limited.content.decode()
    gardener.refresh_from_db()
    assert gardener.time_zone == "UTC"


def test_dates_are_shown_in_the_gardeners_time_zone(gardener, gardener_client):
    """The time zone middleware activates the gardener's zone for each request (here the
    sessions page's sign-in time, with its offset in ``datetime``), and UTC is back after it."""
    signed_in = UserSession.objects.get(user=gardener).signed_in_at
    page = gardener_client.get("/accounts/settings/sessions/").content.decode()
    assert signed_in.astimezone(UTC).strftime("%H:%M") in page and "+00:00" in page
    _profile(gardener_client, time_zone="Asia/Kathmandu")  # UTC+05:45: the minutes move too
    page = gardener_client.get("/accounts/settings/sessions/").content.decode()
    assert signed_in.astimezone(ZoneInfo("Asia/Kathmandu")).strftime("%H:%M") in page and "+05:45" in page
    assert timezone.get_current_timezone_name() == "UTC"


# --- Devices --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36",
            "Chrome 126 on Windows",
        ),
        ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox 128 on Ubuntu"),
        ("python-requests/2.32.3", "Python Requests 2"),
        ("", "Unknown device"),
        ("\x00" * 5000, "Unknown device"),
    ],
)
def test_device_label_reads_browser_and_os_families(agent, label):
    assert device_label(agent) == label


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("not an address", ""),
        ("", ""),
    ],
)
def test_coarse_network_keeps_a_24_or_a_48(ip, network):
    assert coarse_network(ip) == network


# --- Email change ---------------------------------------------------------------------------


def _ask(client, email, password=DEFAULT_PASSWORD):
    return client.post(EMAIL, {"email": email, "password": password})


def _link(to: str) -> str:
    [body] = [message.body for message in mail.outbox if message.to == [to]]
    return re.search(r"/accounts/settings/email/confirm/[^/\s]+/", body).group(0)


def test_email_change_by_link_with_a_notice_to_the_old_address(
    gardener, gardener_client, client_factory, django_capture_on_commit_callbacks
):
    """A link to the new address, a notice to the old one, nothing changed until the link's
    page is POSTed (its GET changes nothing); then the address is the new one, confirmed, and
    the link is spent."""
    with django_capture_on_commit_callbacks(execute=True):
        response = _ask(gardener_client, "Rosa.New@Example.COM")
    assert response.status_code == 303 and response["Location"] == EMAIL
    assert "We have sent a message to Rosa.New@example.com" in gardener_client.get(EMAIL).content.decode()
    notice = next(message for message in mail.outbox if message.to == ["rosa@example.com"])
    assert "Rosa.New@example.com" in notice.body and "/accounts/password_change/" in notice.body
    link = _link("Rosa.New@example.com")
    gardener.refresh_from_db()
    assert gardener.email == "rosa@example.com"

    stranger = client_factory()  # the link works in any browser: it proves the new address
    page = stranger.get(link)
    assert page.status_code == 200 and "Rosa.New@example.com" in page.content.decode()
    gardener.refresh_from_db()
    assert gardener.email == "rosa@example.com"
    before = timezone.now()
    confirmed = stranger.post(link)
    assert confirmed.status_code == 303 and confirmed["Location"] == "/accounts/login/"
    gardener.refresh_from_db()
    assert gardener.email == "Rosa.New@example.com" and gardener.email_confirmed_at >= before
    assert stranger.post(link).status_code == 400
    assert stranger.get(link).status_code == 400
    assert (
        client_factory()
        .post("/accounts/login/", {"username": "rosa.new@example.com", "password": DEFAULT_PASSWORD})
        .status_code
        == 302
    )


def _without_tokens(html: str) -> str:
    """A page without what differs on every response anyway: CSRF tokens and CSP nonces."""
    return re.sub(r'(nonce|value)="[A-Za-z0-9_-]{16,}"|"X-CSRFToken": "[^"]+"', "", html)


def test_a_taken_address_gets_the_same_answer_and_no_link(
    gardener, gardener_client, django_capture_on_commit_callbacks
):
    """No enumeration: asking for an address another account has answers exactly as for a free
    one (status, redirect, message); the taken address is told it has an account (no link), the
    old one gets the same notice; nothing changes."""
    UserFactory(username="ben", email="ben@example.com")
    answers = []
    for address in ("free@example.com", "BEN@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            response = _ask(gardener_client, address)
        page = gardener_client.get(EMAIL).content.decode()
        answers.append((response.status_code, response["Location"], page.replace(address, "ADDRESS")))
    assert answers[0][:2] == answers[1][:2]
    assert _without_tokens(answers[0][2]) == _without_tokens(answers[1][2])
    [taken_mail] = [message for message in mail.outbox if message.to == ["BEN@example.com"]]
    assert "already has an account" in taken_mail.body and "/confirm/" not in taken_mail.body
    notices = [message.subject for message in mail.outbox if message.to == ["rosa@example.com"]]
    assert len(notices) == 2 and notices[0] == notices[1]
    gardener.refresh_from_db()
    assert gardener.email == "rosa@example.com"


def test_a_link_dies_with_a_password_change_an_expiry_or_a_race(
    gardener, gardener_client, client_factory, settings, django_capture_on_commit_callbacks
):
    """The notice's advice works: changing the password voids pending links; an expired link
    is refused; an address taken between the request and the click is refused ("taken")."""
    with django_capture_on_commit_callbacks(execute=True):
        _ask(gardener_client, "one@example.com")
        _ask(gardener_client, "two@example.com")
    one, two = _link("one@example.com"), _link("two@example.com")
    UserFactory(username="ben", email="TWO@example.com")
    taken = client_factory().post(two)
    assert taken.status_code == 400 and "now belongs to another account" in taken.content.decode()
    settings.EMAIL_CHANGE_MAX_AGE_SECONDS = -1
    assert client_factory().post(one).status_code == 400
    settings.EMAIL_CHANGE_MAX_AGE_SECONDS = 3600
    gardener_client.post(
        "/accounts/password_change/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "new-pass-phrase-31",
            "new_password2": "new-pass-phrase-31",
        },
    )
    voided = client_factory().post(one)
    assert voided.status_code == 400 and "cancelled by a password" in voided.content.decode()
    assert client_factory().get("/accounts/settings/email/confirm/not-a-token/").status_code == 400
    gardener.refresh_from_db()
    assert gardener.email == "rosa@example.com"


def test_email_change_refuses_the_current_address_and_is_rate_limited(gardener, gardener_client, settings):
    """Your own address is a form error (it reveals nothing); beyond
    ``EMAIL_CHANGE_LIMIT_PER_USER`` requests an hour, 429 with ``Retry-After``."""
    same = _ask(gardener_client, "ROSA@example.com")
    assert same.status_code == 200 and "already your email address" in same.content.decode()
    settings.EMAIL_CHANGE_LIMIT_PER_USER = 2
    assert _ask(gardener_client, "a@example.com").status_code == 303
    assert _ask(gardener_client, "b@example.com").status_code == 303
    limited = _ask(gardener_client, "c@example.com")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 3500
    assert timezone.now() - timedelta(minutes=1) < timezone.now()
