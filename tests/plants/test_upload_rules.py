"""``/plants/identify/`` under SPEC's upload rules (issue 11): stored photos keep no metadata
and get random names; the cheap checks run first, the hourly limit is counted before anything
is decoded, and a request's files go when the request (or its gardener) is deleted."""

import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.plants.models import PlantIdentificationRequest, PlantPhoto
from tests.images import assert_metadata_free, loaded_jpeg

pytestmark = pytest.mark.django_db
NOT_AN_IMAGE = "not an image we can read"


def _jpeg(name="leaf.jpg", **kwargs):
    return SimpleUploadedFile(name, loaded_jpeg(**kwargs), content_type="image/jpeg")


def _not_an_image(name="leaf.jpg"):
    return SimpleUploadedFile(name, b"<html><script>alert(1)</script></html>", content_type="image/jpeg")


@pytest.fixture
def signed_in(client, gardener):
    client.force_login(gardener)
    return client


def _identify(client, files, **fields):
    return client.post(reverse("plants:identify"), {"image": files, **fields})


def _stored_names(id_request) -> list[str]:
    return [id_request.thumbnail.name, *PlantPhoto.objects.filter(request=id_request).values_list("image", flat=True)]


def test_stored_photos_and_thumbnail_keep_no_metadata_and_have_random_names(signed_in):
    """The issue's upload (COM with ``<script>``, EXIF with GPS, XMP, ICC, APP13, APP14), read
    back from storage: only image segments, upright, under unguessable names."""
    response = _identify(signed_in, [_jpeg("a.jpg", size=(2000, 1500), orientation=6), _jpeg("b.jpg")])
    assert response.status_code == 302
    id_request = PlantIdentificationRequest.objects.get()
    photos = list(PlantPhoto.objects.filter(request=id_request).order_by("position"))
    assert re.fullmatch(r"identification/thumbs/[A-Za-z0-9_-]{32}\.jpg", id_request.thumbnail.name)
    for photo in photos:
        assert re.fullmatch(r"identification/photos/[A-Za-z0-9_-]{32}\.jpg", photo.image.name)
    assert (photos[0].width, photos[0].height) == (1200, 1600)  # upright
    for name in _stored_names(id_request):
        with default_storage.open(name) as stored:
            assert_metadata_free(stored.read())


def test_an_invalid_form_decodes_nothing_and_does_not_count(signed_in, settings):
    """Other fields are validated first: with half a location the unreadable file is never
    decoded (no message about it) and the hourly limit is not touched."""
    settings.IDENTIFICATION_REQUESTS_PER_HOUR = 1
    response = _identify(signed_in, [_not_an_image(), _not_an_image("b.jpg")], latitude="10")
    body = response.content.decode()
    assert response.status_code == 200 and "Give both latitude and longitude" in body
    assert NOT_AN_IMAGE not in body
    assert _identify(signed_in, [_jpeg()]).status_code == 302  # the one allowed request is still there


def test_the_limit_is_counted_before_any_photo_is_decoded(signed_in, settings):
    """Over the hourly limit the answer is 429 before decoding (an unreadable file gets no
    message); and a request whose photo turns out unreadable has used up its slot."""
    settings.IDENTIFICATION_REQUESTS_PER_HOUR = 1
    refused = _identify(signed_in, [_jpeg(), _not_an_image("b.jpg")])
    assert refused.status_code == 200 and NOT_AN_IMAGE in refused.content.decode()
    assert not PlantIdentificationRequest.objects.exists()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not [path for path in media.rglob("*") if path.is_file()]  # nothing stored
    over = _identify(signed_in, [_not_an_image()])
    assert over.status_code == 429 and NOT_AN_IMAGE not in over.content.decode()


def test_a_deleted_request_takes_its_files_after_commit(signed_in, gardener, django_capture_on_commit_callbacks):
    """Deleting a request, or the gardener (a cascade), removes its photos and thumbnail once
    the deletion has committed."""
    for _ in range(2):
        assert _identify(signed_in, [_jpeg(), _jpeg("b.jpg")]).status_code == 302
    first, second = PlantIdentificationRequest.objects.order_by("pk")
    names = _stored_names(first)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first.delete()
    assert all(default_storage.exists(name) for name in names)  # not before the commit
    for callback in callbacks:
        callback()
    assert not any(default_storage.exists(name) for name in names)
    names = _stored_names(second)
    with django_capture_on_commit_callbacks(execute=True):
        gardener.delete()
    assert not any(default_storage.exists(name) for name in names)
