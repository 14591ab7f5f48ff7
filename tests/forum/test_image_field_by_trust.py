"""Issue 15: a ``new`` member is told before posting that photos open at trust level Basic (the
form has no file input, a sentence with the thresholds of ``TRUST_LEVEL_REQUIREMENTS``
instead), and a file sent anyway is still refused and changes nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts.models import TrustLevel
from apps.forum.models import Post, Topic
from tests import factories
from tests.images import loaded_jpeg

pytestmark = pytest.mark.django_db
FILE_INPUT = 'type="file"'


@pytest.fixture
def forum(db):
    return factories.ForumFactory(name="Houseplants", slug="houseplants")


@pytest.fixture
def topic(forum):
    topic = factories.TopicFactory(forum=forum)
    factories.PostFactory(topic=topic, poster=topic.poster, source="Opening post")
    return topic


@pytest.fixture
def odd_thresholds(settings):
    """Thresholds unlike SPEC's, so a sentence with 5 and 7 written into a template fails."""
    settings.TRUST_LEVEL_REQUIREMENTS = {
        **settings.TRUST_LEVEL_REQUIREMENTS,
        "basic": {"approved_posts": 6, "account_age_days": 9},
    }
    return "open from trust level Basic (6 approved posts and an account 9 days old)"


def _pages(client, forum, topic):
    return [
        client.get(reverse("forum:topic-create", args=[forum.slug])).content.decode(),
        client.get(reverse("forum:topic-detail", args=[topic.pk])).content.decode(),
    ]


def test_a_new_member_sees_the_rule_instead_of_a_file_input(client, forum, topic, gardener, odd_thresholds):
    client.force_login(gardener)
    for page in _pages(client, forum, topic):
        assert FILE_INPUT not in page and odd_thresholds in page


@pytest.mark.parametrize("user_kwargs", [{"trust_level": TrustLevel.BASIC}, {"is_superuser": True}])
def test_basic_members_and_moderators_get_the_file_input(client, forum, topic, user_kwargs, odd_thresholds):
    client.force_login(factories.UserFactory(**user_kwargs))
    for page in _pages(client, forum, topic):
        assert FILE_INPUT in page and odd_thresholds not in page


def test_signed_out_topic_page_shows_neither(client, topic):
    page = client.get(reverse("forum:topic-detail", args=[topic.pk])).content.decode()
    assert FILE_INPUT not in page and "open from trust level Basic" not in page


@pytest.mark.usefixtures("unthrottled")
def test_a_file_from_a_new_member_is_still_refused_and_changes_nothing(client, forum, topic, gardener):
    client.force_login(gardener)
    photo = SimpleUploadedFile("leaf.jpg", loaded_jpeg(size=(200, 150)), content_type="image/jpeg")
    reply = client.post(reverse("forum:reply-create", args=[topic.pk]), {"source": "Look", "image": photo})
    assert reply.status_code == 200 and "open from trust level Basic" in reply.content.decode()
    photo.seek(0)
    new_topic = client.post(
        reverse("forum:topic-create", args=[forum.slug]), {"subject": "My fern", "source": "Look", "image": photo}
    )
    assert new_topic.status_code == 200 and "open from trust level Basic" in new_topic.content.decode()
    assert Post.objects.count() == 1 and Topic.objects.count() == 1
    assert 'value="My fern"' in new_topic.content.decode()  # what was typed is kept
