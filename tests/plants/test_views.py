"""Asking for an identification, community suggestions, accepting, the catalog and care cards."""

import io
import json
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import ExifTags, Image

from apps.accounts.models import User
from apps.plants.models import (
    IdentificationStatus,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    PlantSpecies,
    SavedCareInstructions,
)
from tests import factories

pytestmark = pytest.mark.django_db


def image_bytes(fmt="JPEG", size=(800, 600), *, exif=None, colour=(70, 140, 60)) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, colour)
    kwargs = {"exif": exif.tobytes()} if exif is not None else {}
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def upload(name, data, content_type="image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def _media_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


HTMX = {"HX-Request": "true"}


@pytest.fixture
def gardener_client_signed_in(client, gardener):
    client.force_login(gardener)
    return client


def test_identify_stores_upright_resized_photos_without_exif_and_goes_to_the_community(
    gardener_client_signed_in, gardener
):
    """A sideways photo with GPS in its EXIF is stored upright, at most 1600 px, with a 300 px
    thumbnail and no EXIF at all; with no provider keys the request waits for the community."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneCam"
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    data = image_bytes(size=(3200, 2000), exif=exif)
    response = gardener_client_signed_in.post(
        reverse("plants:identify"), {"image": [upload("p.jpg", data)], "notes": "Sideways"}
    )
    id_request = PlantIdentificationRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/plants/requests/{id_request.pk}/"
    assert id_request.status == IdentificationStatus.NEEDS_HELP
    photo = PlantPhoto.objects.get()
    with default_storage.open(photo.image.name) as stored:
        image = Image.open(stored)
        assert image.size == (1000, 1600)  # rotated upright, then fitted in 1600 px
        assert not image.getexif() and "exif" not in image.info
    with default_storage.open(id_request.thumbnail.name) as stored:
        thumb = Image.open(stored)
        assert max(thumb.size) == 300 and not thumb.getexif()
    assert User.objects.get(pk=gardener.pk).identification_request_count == 1


@pytest.mark.parametrize("fmt, content_type", [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_are_accepted(gardener_client_signed_in, fmt, content_type):
    response = gardener_client_signed_in.post(
        reverse("plants:identify"), {"image": [upload("p.bin", image_bytes(fmt), content_type)]}
    )
    assert response.status_code == 302


def _bomb() -> bytes:
    """A 10,000 x 10,000 PNG (100 megapixels) that compresses to a few hundred kilobytes."""
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "files, message",
    [
        ([("notes.txt", b"just some text, not a photo", "text/plain")], "not an image we can read"),
        ([("fake.jpg", b"\xff\xd8\xff\xe0 truncated jpeg", "image/jpeg")], "not an image we can read"),
        ([("big.jpg", b"\xff\xd8" + b"0" * (12 * 1024 * 1024), "image/jpeg")], "larger than 10 MB"),
        ([("bomb.png", None, "image/png")], "more than 40 megapixels"),
        ([("anim.gif", "GIF", "image/gif")], "JPEG, PNG or WebP"),
        ([(f"p{i}.jpg", "JPEG", "image/jpeg") for i in range(4)], "at most 3 photos"),
        ([], "at least one photo"),
    ],
)
def test_bad_uploads_get_a_clear_message_and_leave_nothing_behind(
    gardener_client_signed_in, settings, gardener, files, message
):
    """Not an image, a 12 MB file, a decompression bomb, a GIF, four files or none: the form is
    shown again with a message; no row, no stored file, no counter change."""
    payload = []
    for name, data, content_type in files:
        if data is None:
            data = _bomb()
        elif data in ("JPEG", "GIF"):
            data = image_bytes(data, size=(64, 64))
        payload.append(upload(name, data, content_type))
    response = gardener_client_signed_in.post(reverse("plants:identify"), {"image": payload})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PlantIdentificationRequest.objects.exists() and not PlantPhoto.objects.exists()
    assert _media_files(settings) == []
    assert User.objects.get(pk=gardener.pk).identification_request_count == 0


def test_location_is_stored_coarsely_unless_the_owner_chooses_exact(gardener_client_signed_in):
    """0.2° rounding by default; exact on request; only the owner sees the exact place."""
    post = {"latitude": "51.5074", "longitude": "-0.1278"}
    gardener_client_signed_in.post(reverse("plants:identify"), {"image": [upload("a.jpg", image_bytes())], **post})
    gardener_client_signed_in.post(
        reverse("plants:identify"), {"image": [upload("b.jpg", image_bytes())], **post, "exact_location": "on"}
    )
    coarse, exact = PlantIdentificationRequest.objects.order_by("id")
    assert (coarse.latitude, coarse.longitude) == (Decimal("51.6"), Decimal("-0.2"))
    assert (exact.latitude, exact.longitude) == (Decimal("51.5074"), Decimal("-0.1278"))
    assert "51.5074" in gardener_client_signed_in.get(exact.get_absolute_url()).content.decode()
    gardener_client_signed_in.force_login(factories.UserFactory())
    other_view = gardener_client_signed_in.get(exact.get_absolute_url()).content.decode()
    assert "51.5074" not in other_view and "approximately" in other_view


def test_half_a_location_is_refused(gardener_client_signed_in):
    response = gardener_client_signed_in.post(
        reverse("plants:identify"), {"image": [upload("a.jpg", image_bytes())], "latitude": "10"}
    )
    assert response.status_code == 200 and "both latitude and longitude" in response.content.decode()
    assert not PlantIdentificationRequest.objects.exists()


def test_identification_requests_are_limited_per_gardener_per_hour(gardener_client_signed_in, settings):
    settings.IDENTIFICATION_REQUESTS_PER_HOUR = 2
    statuses = [
        gardener_client_signed_in.post(
            reverse("plants:identify"), {"image": [upload("a.jpg", image_bytes())]}
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert PlantIdentificationRequest.objects.count() == 2


def test_signed_out_cannot_ask(client):
    assert client.get(reverse("plants:identify"))["Location"].startswith("/accounts/login/")


@pytest.fixture
def open_request(gardener):
    return factories.IdentificationRequestFactory(owner=gardener, thumbnail="", status=IdentificationStatus.NEEDS_HELP)


def test_community_suggests_agrees_and_the_owner_accepts(client, gardener, open_request):
    """Another gardener suggests a catalog species (by scientific name) and a free-text name;
    a third agrees (2 of 3 namers: no consensus yet), a fourth too (3 of 4); consensus shows on
    one row; the owner accepts; the request is identified once."""
    monstera = PlantSpecies.objects.get(scientific_name="Monstera deliciosa")
    helper, other_helper, third, fourth = factories.UserFactory.create_batch(4)
    url = reverse("plants:suggestion-create", args=[open_request.pk])
    client.force_login(helper)
    assert client.post(url, {"name": "monstera DELICIOSA"}).status_code == 302
    # A second suggestion from a new gardener within 30 s would be throttled (test_throttle.py).
    client.force_login(other_helper)
    assert client.post(url, {"name": "Some kind of philodendron"}).status_code == 302
    species_suggestion = IdentificationSuggestion.objects.get(species=monstera)
    free = IdentificationSuggestion.objects.get(free_text_name="Some kind of philodendron")
    assert species_suggestion.suggested_by_id == helper.pk and species_suggestion.vote_count == 1

    client.force_login(third)
    client.post(url, {"name": "Monstera deliciosa"}, headers={"HX-Request": "true"})  # agrees, no duplicate
    assert IdentificationSuggestion.objects.filter(species=monstera).count() == 1
    vote_url = reverse("plants:suggestion-vote", args=[open_request.pk, free.pk])
    client.post(vote_url, {"agrees": "0"})
    page = client.get(open_request.get_absolute_url()).content.decode()
    assert "Community consensus" not in page  # 2 / 3 is not more than two thirds
    client.force_login(fourth)
    client.post(reverse("plants:suggestion-vote", args=[open_request.pk, species_suggestion.pk]), {"agrees": "1"})
    page = client.get(open_request.get_absolute_url()).content.decode()
    assert page.count('<span class="badge">Community consensus</span>') == 1

    assert (
        client.post(reverse("plants:suggestion-accept", args=[open_request.pk, species_suggestion.pk])).status_code
        == 403
    )
    client.force_login(gardener)
    response = client.post(
        reverse("plants:suggestion-accept", args=[open_request.pk, species_suggestion.pk]),
        headers={"HX-Request": "true"},
    )
    accepted = json.loads(response["HX-Trigger"])["plantIdentified"]
    assert accepted["message"] == f"Accepted: the request is identified as {monstera.display_name}."
    open_request.refresh_from_db()
    assert open_request.status == IdentificationStatus.IDENTIFIED and open_request.species_id == monstera.pk
    client.post(reverse("plants:suggestion-accept", args=[open_request.pk, free.pk]))
    assert User.objects.get(pk=gardener.pk).identified_plant_count == 1


def test_votes_toggle_and_switch(client, open_request):
    suggestion = factories.SuggestionFactory(request=open_request)
    client.force_login(factories.UserFactory())
    url = reverse("plants:suggestion-vote", args=[open_request.pk, suggestion.pk])
    client.post(url, {"agrees": "1"})
    suggestion.refresh_from_db()
    assert (suggestion.vote_count, suggestion.disagree_count) == (1, 0)
    client.post(url, {"agrees": "0"})
    suggestion.refresh_from_db()
    assert (suggestion.vote_count, suggestion.disagree_count) == (0, 1)
    client.post(url, {"agrees": "0"})
    suggestion.refresh_from_db()
    assert (suggestion.vote_count, suggestion.disagree_count) == (0, 0)
    assert client.post(url, {"agrees": "maybe"}).status_code == 400


def test_suggestion_of_another_request_is_404(client, gardener, open_request):
    other = factories.SuggestionFactory()
    client.force_login(gardener)
    assert client.post(reverse("plants:suggestion-accept", args=[open_request.pk, other.pk])).status_code == 404
    assert (
        client.post(reverse("plants:suggestion-vote", args=[open_request.pk, other.pk]), {"agrees": "1"}).status_code
        == 404
    )


def test_blank_suggestion_is_refused(client, open_request):
    client.force_login(factories.UserFactory())
    response = client.post(reverse("plants:suggestion-create", args=[open_request.pk]), {"name": " "})
    assert response.status_code == 200 and not IdentificationSuggestion.objects.exists()


def test_species_autocomplete_offers_catalog_names(client, gardener):
    """htmx gets the ``<option>`` list; a plain navigation to the same URL (a bookmark, Back
    after the fragment was cached) is sent to the catalog searching the same name, never shown
    the bare options (issue 15)."""
    client.force_login(gardener)
    url = reverse("plants:species-autocomplete")
    body = client.get(url, {"name": "monst"}, headers={"HX-Request": "true"}).content.decode()
    assert '<option value="Monstera deliciosa">' in body
    plain = client.get(url, {"name": "monst era"})
    assert plain.status_code == 302 and plain["Location"] == reverse("plants:species-list") + "?q=monst+era"
    assert client.get(url)["Location"] == reverse("plants:species-list")
    assert "Vary" in plain and "HX-Request" in plain["Vary"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("monstera", "Monstera deliciosa"),
        ("monstra", "Monstera deliciosa"),
        ("araceae", "Monstera deliciosa"),
        ("SPIDER", "Chlorophytum comosum"),
    ],
)
def test_catalog_search_forgives_case_typos_and_finds_families(client, query, expected):
    body = client.get(reverse("plants:species-list"), {"q": query}).content.decode()
    assert expected in body


def test_care_card_toggles_over_htmx_and_announces_it(client, gardener):
    species = PlantSpecies.objects.get(scientific_name="Monstera deliciosa")
    client.force_login(gardener)
    url = reverse("plants:care-card-toggle", args=[species.slug])
    saved = client.post(url, headers={"HX-Request": "true"})
    assert "careCardSaved" in json.loads(saved["HX-Trigger"]) and "Remove care card" in saved.content.decode()
    # Issue 15: the message for the polite live region, and the toggle keeps its id for focus.
    assert json.loads(saved["HX-Trigger"])["careCardSaved"]["message"] == f"Care card saved: {species.display_name}."
    assert 'id="care-card-toggle"' in saved.content.decode()
    assert SavedCareInstructions.objects.filter(owner=gardener, species=species).exists()
    assert User.objects.get(pk=gardener.pk).care_card_count == 1
    removed = client.post(url, headers={"HX-Request": "true"})
    assert "Save care card" in removed.content.decode()
    assert (
        json.loads(removed["HX-Trigger"])["careCardSaved"]["message"] == f"Care card removed: {species.display_name}."
    )
    assert User.objects.get(pk=gardener.pk).care_card_count == 0


def test_without_javascript_saving_a_care_card_says_so_in_a_flash_message(client, gardener):
    """The fresh review of issue 15: without JavaScript a save gave no word that it worked. The
    same sentences the live region reads now come back as flash messages after the redirect."""
    species = PlantSpecies.objects.get(scientific_name="Monstera deliciosa")
    client.force_login(gardener)
    toggled = client.post(reverse("plants:care-card-toggle", args=[species.slug]), follow=True)
    assert f"Care card saved: {species.display_name}." in toggled.content.decode()
    card = SavedCareInstructions.objects.get(owner=gardener, species=species)
    prefix = f"card-{card.pk}"
    fields = {f"{prefix}-nickname": "Monty", f"{prefix}-personal_notes": "", f"{prefix}-status": card.status}
    edited = client.post(reverse("plants:care-card-update", args=[card.pk]), fields, follow=True)
    assert edited.redirect_chain == [(reverse("plants:care-card-list"), 302)]
    assert "Saved: Monty." in edited.content.decode()


def test_care_card_inline_edit_and_others_cards_are_404(client, gardener):
    card = factories.CareCardFactory(owner=gardener)
    client.force_login(gardener)
    prefix = f"card-{card.pk}"
    response = client.post(
        reverse("plants:care-card-update", args=[card.pk]),
        {
            f"{prefix}-nickname": "Monty",
            f"{prefix}-personal_notes": "Window",
            f"{prefix}-status": "struggling",
            f"{prefix}-is_favourite": "on",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "careCardSaved" in json.loads(response["HX-Trigger"])
    assert json.loads(response["HX-Trigger"])["careCardSaved"]["message"] == "Saved: Monty."
    assert f'id="care-card-{card.pk}-save"' in response.content.decode()
    card.refresh_from_db()
    assert (card.nickname, card.status, card.is_favourite) == ("Monty", "struggling", True)
    bad = client.post(
        reverse("plants:care-card-update", args=[card.pk]), {f"{prefix}-status": "dead"}, headers={"HX-Request": "true"}
    )
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    client.force_login(factories.UserFactory())
    assert client.post(reverse("plants:care-card-update", args=[card.pk]), {}).status_code == 404


def test_requeue_command_hands_stuck_requests_on(gardener):
    """With no provider keys, requests stuck in pending/processing for too long go to the
    community; fresh ones are left alone."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    old = factories.IdentificationRequestFactory(
        owner=gardener,
        thumbnail="",
        status=IdentificationStatus.PROCESSING,
        created_at=timezone.now() - timedelta(hours=1),
    )
    fresh = factories.IdentificationRequestFactory(owner=gardener, thumbnail="", status=IdentificationStatus.PENDING)
    call_command("identification_requeue", stdout=io.StringIO())
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, fresh.status) == (IdentificationStatus.NEEDS_HELP, IdentificationStatus.PENDING)


def test_a_suggestion_does_not_cancel_a_running_machine_identification(client, gardener):
    pending = factories.IdentificationRequestFactory(owner=gardener, thumbnail="", status=IdentificationStatus.PENDING)
    client.force_login(gardener)
    client.post(reverse("plants:suggestion-create", args=[pending.pk]), {"name": "Swiss cheese plant"})
    pending.refresh_from_db()
    assert pending.status == IdentificationStatus.PENDING
    assert (
        IdentificationSuggestion.objects.select_related("species").get().species.scientific_name == "Monstera deliciosa"
    )


def test_nul_in_catalog_queries_is_harmless(client, gardener):
    assert client.get(reverse("plants:species-list"), {"q": "mon\x00stera"}).status_code == 200
    client.force_login(gardener)
    assert client.get(reverse("plants:species-autocomplete"), {"name": "mo\x00ns"}, headers=HTMX).status_code == 200


def test_help_identify_lists_others_requests_that_need_a_name(client, gardener, django_assert_num_queries):
    mine = factories.IdentificationRequestFactory(owner=gardener, thumbnail="", status=IdentificationStatus.NEEDS_HELP)
    other_owner = factories.UserFactory(username="basil")
    theirs = factories.IdentificationRequestFactory(
        owner=other_owner, thumbnail="", status=IdentificationStatus.NEEDS_HELP
    )
    done = factories.IdentificationRequestFactory(
        owner=other_owner, thumbnail="", status=IdentificationStatus.IDENTIFIED
    )
    client.force_login(gardener)
    client.get("/dashboard/")
    with django_assert_num_queries(3):
        body = client.get(reverse("plants:help-identify")).content.decode()
    assert (
        f"/plants/requests/{theirs.pk}/" in body and 'asked by <a href="/u/basil/" class="user-link">basil</a>' in body
    )
    assert f"/plants/requests/{mine.pk}/" not in body and f"/plants/requests/{done.pk}/" not in body
