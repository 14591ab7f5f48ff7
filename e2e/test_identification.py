"""Plant identification and care cards in a real browser (identification requests and
care cards): a real photo uploaded, a second gardener's suggestion with the catalog
autocomplete, the owner accepting it, the dashboard showing the change, a care card saved from
the species page, and bad files refused with nothing left behind. axe on each page."""

import io
import os
import time

import pytest
from django.conf import settings
from PIL import Image

from apps.plants.models import IdentificationStatus, PlantIdentificationRequest, PlantPhoto
from tests import factories

from .helpers import assert_no_axe_violations, submit_sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IMAGES_LOADED = """(selector) => {
  const images = [...document.querySelectorAll(selector)];
  return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
}"""


def _signed_in_page(browser, live_server, username):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    submit_sign_in(page, username=username, password=factories.DEFAULT_PASSWORD)
    return context, page


@pytest.fixture
def two_gardeners(transactional_db):
    return factories.UserFactory(username="rosa"), factories.UserFactory(username="basil")


def test_identify_suggest_accept_and_save_a_care_card(
    browser, live_server, two_gardeners, real_photos, console_errors, page
):
    owner_context, owner = _signed_in_page(browser, live_server, "rosa")
    owner.goto(f"{live_server.url}/plants/identify/")
    assert_no_axe_violations(owner)
    owner.set_input_files('input[name="image"]', str(real_photos[0]))
    owner.locator('textarea[name="notes"]').fill("Big split leaves, climbing up a moss pole.")
    with owner.expect_navigation():
        owner.get_by_role("button", name="Ask for an identification").click()
    id_request = PlantIdentificationRequest.objects.get()
    assert owner.url == f"{live_server.url}/plants/requests/{id_request.pk}/"
    owner.wait_for_function(IMAGES_LOADED, arg=".photo-grid img")
    assert id_request.status == IdentificationStatus.NEEDS_HELP and PlantPhoto.objects.count() == 1
    assert_no_axe_violations(owner)

    helper_context, helper = _signed_in_page(browser, live_server, "basil")
    helper.goto(f"{live_server.url}/plants/requests/{id_request.pk}/")
    box = helper.get_by_role("combobox", name="Your suggestion")
    box.press_sequentially("Monst", delay=30)
    helper.wait_for_function("() => document.querySelectorAll('#species-options option').length > 0")
    assert helper.locator('#species-options option[value="Monstera deliciosa"]').count() == 1
    box.fill("Monstera deliciosa")
    helper.get_by_role("button", name="Suggest this name").click()
    helper.get_by_role("row", name="Swiss cheese plant").wait_for()
    assert_no_axe_violations(helper)
    helper_context.close()

    # The loop calls the gardener back (issue 12): the header badge counts basil's suggestion,
    # the list names it under the request, and opening it leads to the request page.
    owner.reload()
    badge = owner.locator(".notification-link")
    badge.and_(owner.locator('[aria-label="Notifications, 1 unread"]')).wait_for()
    badge.click()
    owner.wait_for_url(f"{live_server.url}/notifications/")
    entry = owner.locator(".notification-unread")
    assert "basil suggested" in entry.inner_text() and "Swiss cheese plant" in entry.inner_text()
    assert_no_axe_violations(owner)
    with owner.expect_navigation():
        entry.locator("button.notification-topic").click()
    assert owner.url == f"{live_server.url}/plants/requests/{id_request.pk}/"
    owner.locator('[aria-label="Notifications, none unread"]').wait_for()
    owner.get_by_role("button", name="Accept Swiss cheese plant").click()
    # Before the swap the heading already reads "Maybe Swiss cheese plant?": wait for the badge.
    owner.get_by_text("Identified", exact=True).first.wait_for()
    assert owner.get_by_role("heading", level=1).inner_text().startswith("Swiss cheese plant")
    id_request.refresh_from_db()
    assert id_request.status == IdentificationStatus.IDENTIFIED

    owner.goto(f"{live_server.url}/plants/species/monstera-deliciosa/")
    owner.get_by_role("button", name="Save care card").click()
    owner.get_by_role("button", name="Remove care card").wait_for()
    assert_no_axe_violations(owner)

    owner.goto(f"{live_server.url}/dashboard/")
    owner.wait_for_function("() => !document.querySelector('.panel[aria-busy=\"true\"]')")
    stats = owner.locator("#panel-plant-stats").inner_text()
    assert "Plants identified\n1" in stats and "Saved care cards\n1" in stats
    assert "Swiss cheese plant" in owner.locator("#panel-previous-searches").inner_text()
    assert "Swiss cheese plant" in owner.locator("#panel-care-cards").inner_text()
    owner.goto(f"{live_server.url}/plants/care-cards/")
    assert_no_axe_violations(owner)
    owner_context.close()
    assert console_errors == [], "\n".join(console_errors)


def _noise_png(megabytes: int) -> bytes:
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5) + 1
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def _bomb_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name, mime, make, message",
    [
        ("notes.jpg", "image/jpeg", lambda: b"this is not a photo at all", "not an image we can read"),
        ("huge.png", "image/png", lambda: _noise_png(12), "larger than 10 MB"),
        ("bomb.png", "image/png", _bomb_png, "more than 40 megapixels"),
    ],
)
def test_bad_files_get_a_clear_message_and_leave_nothing_behind(
    browser, live_server, two_gardeners, name, mime, make, message
):
    context, page = _signed_in_page(browser, live_server, "rosa")
    page.goto(f"{live_server.url}/plants/identify/")
    page.set_input_files(
        'input[name="image"]', files=[{"name": name, "mimeType": mime, "buffer": make()}], timeout=60_000
    )
    with page.expect_navigation(timeout=60_000):
        page.get_by_role("button", name="Ask for an identification").click()
    assert page.get_by_role("alert").filter(has_text=message).is_visible()
    assert_no_axe_violations(page)
    context.close()
    assert not PlantIdentificationRequest.objects.exists() and not PlantPhoto.objects.exists()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_typing_a_suggestion_survives_the_status_polls(browser, live_server, two_gardeners, settings, console_errors):
    """Issue 12: while the machine runs (pending), the page polls its status region only, each
    wait longer than the last; a gardener typing a suggestion keeps their text through two
    polls and more, and the form still submits it."""
    settings.IDENTIFICATION_STATUS_POLL_SECONDS = 0.4
    settings.IDENTIFICATION_STATUS_POLL_MAX_SECONDS = 2
    pending = PlantIdentificationRequest.objects.create(
        owner=two_gardeners[0], status=IdentificationStatus.PENDING, notes="Purple flowers in a meadow."
    )
    context, page = _signed_in_page(browser, live_server, "basil")
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "?wait=" in request.url else None)
    page.goto(f"{live_server.url}/plants/requests/{pending.pk}/")
    box = page.get_by_role("combobox", name="Your suggestion")
    box.press_sequentially("Meadow sa", delay=20)
    deadline = time.monotonic() + 8
    while len(polls) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(polls) >= 3, polls
    waits = [float(url.rsplit("?wait=", 1)[1]) for url in polls]
    assert waits == sorted(waits) and waits[0] < waits[-1]  # each wait longer, up to the cap
    assert box.input_value() == "Meadow sa"
    assert page.get_by_role("heading", level=1).inner_text() == f"Identification request #{pending.pk}"
    box.press_sequentially("ge", delay=20)
    page.get_by_role("button", name="Suggest this name").click()
    page.get_by_role("row", name="Meadow sage").wait_for()
    context.close()
    assert console_errors == [], "\n".join(console_errors)
