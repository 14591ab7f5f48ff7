"""Images in forum posts under SPEC's upload rules (issue 11): stored without metadata under
random names, decoded only after the trust-level check and the write throttle, and removed
(after commit) when their post is deleted, soft or hard, so a deleted post's image is no
longer served."""

import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts.models import TrustLevel
from apps.forum.models import Post
from tests import factories
from tests.images import assert_metadata_free, loaded_jpeg

pytestmark = pytest.mark.django_db
NOT_AN_IMAGE = "not an image we can read"


@pytest.fixture
def forum(db):
    return factories.ForumFactory(name="Houseplants", slug="houseplants")


@pytest.fixture
def basic_gardener(db):
    return factories.UserFactory(username="fern", trust_level=TrustLevel.BASIC)


def _jpeg(name="leaf.jpg"):
    return SimpleUploadedFile(name, loaded_jpeg(size=(1200, 900)), content_type="image/jpeg")


def _not_an_image():
    return SimpleUploadedFile("leaf.jpg", b"<svg onload=alert(1)>", content_type="image/jpeg")


def _topic(client, forum, **extra):
    data = {"subject": "Spots on my fern", "source": "What is this?", **extra}
    return client.post(reverse("forum:topic-create", args=[forum.slug]), data)


def _reply(client, topic_id, **extra):
    return client.post(reverse("forum:reply-create", args=[topic_id]), {"source": "Same here", **extra})


@pytest.mark.usefixtures("unthrottled")
def test_post_images_keep_no_metadata_and_have_random_names(client, forum, basic_gardener):
    client.force_login(basic_gardener)
    assert _topic(client, forum, image=_jpeg()).status_code == 302
    post = Post.objects.get()
    assert re.fullmatch(r"forum/[A-Za-z0-9_-]{32}\.jpg", post.image.name)
    with default_storage.open(post.image.name) as stored:
        assert_metadata_free(stored.read())


@pytest.mark.usefixtures("unthrottled")
def test_a_new_gardeners_image_is_refused_before_it_is_decoded(client, forum, gardener):
    """Images are open from trust level Basic: a `new` gardener's file gets that answer and is
    never decoded (no message about the file being unreadable)."""
    client.force_login(gardener)
    body = _topic(client, forum, image=_not_an_image()).content.decode()
    assert "open from trust level Basic" in body and NOT_AN_IMAGE not in body


def test_a_throttled_post_is_refused_before_its_image_is_decoded(client, forum, basic_gardener):
    """Over the write throttle the answer is 429 and the image is not decoded; an unreadable
    image of a counted post gets its message."""
    client.force_login(basic_gardener)
    first = _topic(client, forum, image=_not_an_image())
    assert first.status_code == 200 and NOT_AN_IMAGE in first.content.decode()
    throttled = _topic(client, forum, image=_not_an_image())
    assert throttled.status_code == 429 and NOT_AN_IMAGE not in throttled.content.decode()


@pytest.mark.usefixtures("unthrottled")
def test_deleting_a_post_removes_its_image_and_the_url_stops_answering(
    client, forum, basic_gardener, django_capture_on_commit_callbacks
):
    """Soft-deleting a reply unlinks its image and removes the file after commit (the media URL
    then answers 404); deleting the opening post does the same for every reply of the topic."""
    client.force_login(basic_gardener)
    _topic(client, forum, image=_jpeg())
    opening = Post.objects.get()
    _reply(client, opening.topic_id, image=_jpeg())
    _reply(client, opening.topic_id, image=_jpeg())
    first, second = Post.objects.filter(is_opening_post=False).order_by("pk")
    url = first.image.url
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("forum:post-delete", args=[first.pk]), {"confirm": "on"}).status_code == 302
    first.refresh_from_db()
    assert first.is_deleted and first.image.name == ""
    assert client.get(url).status_code == 404
    names = [opening.image.name, second.image.name]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("forum:post-delete", args=[opening.pk]), {"confirm": "on"})
    assert not any(default_storage.exists(name) for name in names)
    assert not Post.objects.exclude(image="").exists()


@pytest.mark.usefixtures("unthrottled")
def test_a_hard_deleted_forum_takes_its_post_images(client, forum, basic_gardener, django_capture_on_commit_callbacks):
    client.force_login(basic_gardener)
    _topic(client, forum, image=_jpeg())
    name = Post.objects.get().image.name
    with django_capture_on_commit_callbacks(execute=True):
        forum.delete()
    assert not default_storage.exists(name)
