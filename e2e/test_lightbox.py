"""Photos open full size in a lightbox (issue 12): a native ``<dialog>`` over plain links.
With the keyboard: Enter on a photo opens it, the arrow keys move (wrapping), Tab stays inside,
Escape closes and focus returns to the photo that opened it. Without JavaScript the links
open the full photo. The same on a species page's community photos. No console error or CSP
violation; axe with the dialog open."""

import pytest

from apps.plants.models import IdentificationStatus, PlantIdentificationRequest, PlantPhoto, PlantSpecies
from tests import factories

from .helpers import assert_no_axe_violations, submit_sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ACTIVE_IN_DIALOG = "() => !!document.activeElement && !!document.activeElement.closest('dialog.lightbox[open]')"
DIALOG_OPEN = "() => !!document.querySelector('dialog.lightbox[open]')"


def _ask_with_three_photos(page, live_server, real_photos) -> PlantIdentificationRequest:
    page.goto(f"{live_server.url}/accounts/login/")
    submit_sign_in(page, username="rosa", password=factories.DEFAULT_PASSWORD)
    page.goto(f"{live_server.url}/plants/identify/")
    page.set_input_files('input[name="image"]', [str(path) for path in real_photos[:3]])
    with page.expect_navigation():
        page.get_by_role("button", name="Ask for an identification").click()
    return PlantIdentificationRequest.objects.get()


def test_request_photos_open_in_a_keyboard_lightbox(live_server, real_photos, console_errors, page, transactional_db):
    factories.UserFactory(username="rosa")
    assert len(real_photos) >= 3
    id_request = _ask_with_three_photos(page, live_server, real_photos)
    urls = [photo.image.url for photo in PlantPhoto.objects.filter(request=id_request).order_by("position")]
    links = page.locator("[data-lightbox] a.lightbox-link")
    assert links.count() == 3

    # Keyboard only: focus the second photo's link and press Enter.
    links.nth(1).focus()
    page.keyboard.press("Enter")
    page.wait_for_function(DIALOG_OPEN)
    dialog = page.locator("dialog.lightbox")
    image = dialog.locator("img.lightbox-image")
    assert image.get_attribute("src").endswith(urls[1])
    assert dialog.locator(".lightbox-counter").inner_text() == "Photo 2 of 3"
    assert page.evaluate(ACTIVE_IN_DIALOG)
    page.wait_for_function("() => document.querySelector('img.lightbox-image').naturalWidth > 0")
    assert_no_axe_violations(page)

    page.keyboard.press("ArrowRight")
    assert image.get_attribute("src").endswith(urls[2])
    page.keyboard.press("ArrowRight")  # wraps to the first
    assert image.get_attribute("src").endswith(urls[0])
    assert dialog.locator(".lightbox-counter").inner_text() == "Photo 1 of 3"
    page.keyboard.press("ArrowLeft")
    assert image.get_attribute("src").endswith(urls[2])

    # Focus is trapped: Tab and Shift+Tab never leave the dialog.
    for key in ["Tab"] * 5 + ["Shift+Tab"] * 5:
        page.keyboard.press(key)
        assert page.evaluate(ACTIVE_IN_DIALOG), key

    # The buttons work from the keyboard too.
    dialog.get_by_role("button", name="Next photo").focus()
    page.keyboard.press("Enter")
    assert image.get_attribute("src").endswith(urls[0])

    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('dialog.lightbox[open]')")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == links.nth(1).get_attribute("href")
    assert console_errors == []


def test_photo_links_open_the_full_photo_without_javascript(browser, live_server, real_photos, transactional_db):
    factories.UserFactory(username="rosa")
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    id_request = _ask_with_three_photos(page, live_server, real_photos)
    first = PlantPhoto.objects.filter(request=id_request).order_by("position").first()
    page.goto(f"{live_server.url}{id_request.get_absolute_url()}")
    with page.expect_navigation():
        page.locator("a.lightbox-link").first.click()
    assert page.url == f"{live_server.url}{first.image.url}"
    context.close()


def test_species_page_community_photos_open_in_the_lightbox(
    live_server, real_photos, console_errors, page, transactional_db
):
    """An identified request's photo shows on the species page for a signed-out visitor (with
    the gardener's profile link) and opens full size; Escape gives focus back."""
    factories.UserFactory(username="rosa")
    id_request = _ask_with_three_photos(page, live_server, real_photos)
    monstera = PlantSpecies.objects.get(slug="monstera-deliciosa")
    PlantIdentificationRequest.objects.filter(pk=id_request.pk).update(
        status=IdentificationStatus.IDENTIFIED, species=monstera, identified_at=id_request.created_at
    )
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/plants/species/monstera-deliciosa/")
    assert page.get_by_role("link", name="rosa", exact=True).get_attribute("href") == "/u/rosa/"
    link = page.locator(".community-photos a.lightbox-link")
    assert link.count() == 1
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(DIALOG_OPEN)
    first = PlantPhoto.objects.filter(request=id_request).order_by("position").first()
    assert page.locator("img.lightbox-image").get_attribute("src").endswith(first.image.url)
    assert page.locator("dialog.lightbox .lightbox-next").is_hidden()
    assert_no_axe_violations(page)
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.activeElement.classList.contains('lightbox-link')")
    assert console_errors == []
