"""Forum reading pages: what a viewer sees, permalinks, and pagination counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.forum.services import forum_counters_recount
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_topic(gardener):
    """A topic with 45 approved replies by others and 2 held replies by ``gardener``."""
    now = timezone.now() - timedelta(days=1)
    forum = factories.ForumFactory(slug="houseplants")
    other = factories.UserFactory()
    topic = factories.TopicFactory(forum=forum, poster=other, created_at=now)
    factories.PostFactory(topic=topic, poster=other, is_opening_post=True, created_at=now)
    posts = [
        factories.PostFactory(topic=topic, poster=other, created_at=now + timedelta(minutes=index + 1))
        for index in range(45)
    ]
    held = [
        factories.PostFactory(
            topic=topic, poster=gardener, is_approved=False, created_at=now + timedelta(minutes=100 + i)
        )
        for i in range(2)
    ]
    forum_counters_recount()
    return topic, posts, held


def test_held_posts_show_to_their_author_without_hiding_others(client, gardener, busy_topic):
    """The author sees their two held replies on the last page and every approved post; others
    see only approved posts."""
    topic, posts, held = busy_topic
    client.force_login(gardener)
    last = client.get(f"/forum/t/{topic.pk}/?page=3").content.decode()
    assert all(f'id="post-{post.pk}"' in last for post in held)
    assert f'id="post-{posts[-1].pk}"' in last
    client.logout()
    anonymous = client.get(f"/forum/t/{topic.pk}/?page=3").content.decode()
    assert not any(f'id="post-{post.pk}"' in anonymous for post in held)
    assert f'id="post-{posts[-1].pk}"' in anonymous


def test_post_permalink_redirects_to_the_page_it_is_on(client, gardener, busy_topic):
    """``/forum/p/<id>/`` finds the post's page (20 posts a page); held posts only for their author."""
    topic, posts, held = busy_topic
    response = client.get(f"/forum/p/{posts[30].pk}/")
    assert response["Location"] == f"/forum/t/{topic.pk}/?page=2#post-{posts[30].pk}"
    assert client.get(f"/forum/p/{posts[0].pk}/")["Location"] == f"/forum/t/{topic.pk}/#post-{posts[0].pk}"
    assert client.get(f"/forum/p/{held[0].pk}/").status_code == 404
    client.force_login(gardener)
    assert client.get(f"/forum/p/{held[0].pk}/")["Location"] == f"/forum/t/{topic.pk}/?page=3#post-{held[0].pk}"


@pytest.mark.parametrize("page", ["-1", "abc", "999999", "0"])
def test_bad_page_numbers_fall_back_to_a_real_page(client, busy_topic, page):
    topic, _, _ = busy_topic
    assert client.get(f"/forum/t/{topic.pk}/?page={page}").status_code == 200


def test_unknown_forum_topic_and_post_are_404(client, db):
    for path in ("/forum/f/nope/", "/forum/t/0/", "/forum/p/999999/"):
        assert client.get(path).status_code == 404
