"""The forum's topic list at scale (issue 13, section 4): every viewer's page of a large forum
reads ``forum_topic`` through an index, never a scan of the table (the scan the issue measured
came from the list index of before ``forum.0004``, which left out the viewer's held topics);
the count of the viewer's own waiting topics probes ``forum_topic_waiting`` on ``(forum,
poster)``; the page costs 3 statements whether the gardener has 1 or 500 held topics."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.permissions import MODERATORS_GROUP
from apps.forum.models import PUBLIC_TOPIC, Forum, Topic
from tests import factories

pytestmark = pytest.mark.django_db

PAGE = settings.FORUM_TOPICS_PAGE_SIZE


def _count_public(forum) -> None:
    """Set the forum's counter of public topics (the recount would also reset each topic's
    last activity from its posts, which these topics, made without posts, do not have)."""
    Forum.objects.filter(pk=forum.pk).update(topic_count=Topic.objects.filter(PUBLIC_TOPIC, forum=forum).count())


@pytest.fixture
def large_forum(gardener):
    """25,000 topics by 200 gardeners, 20,000 of them in the forum (one in 13 held, one in
    17 deleted, four pinned), plus the gardener's own 30 held and 5 hidden topics spread
    through the list; then ANALYZE."""
    forum, elsewhere = factories.ForumFactory(slug="houseplants"), factories.ForumFactory(slug="pests")
    posters = factories.UserFactory.create_batch(200)
    now = timezone.now()
    rows = [
        factories.TopicFactory.build(
            forum=forum if index < 20_000 else elsewhere,
            poster=posters[index % 200],
            subject=f"Topic {index}",
            last_post_at=now - timedelta(minutes=index),
            is_pinned=index % 5000 == 0,
            is_approved=index % 13 != 0,
            is_deleted=index % 17 == 0,
        )
        for index in range(25_000)
    ]
    rows += [
        factories.TopicFactory.build(
            forum=forum,
            poster=gardener,
            subject=f"Mine {index}",
            last_post_at=now - timedelta(minutes=index * 600 + 7),
            is_approved=index < 5,
            is_hidden=index < 5,
        )
        for index in range(35)
    ]
    Topic.objects.bulk_create(rows, batch_size=5000)
    _count_public(forum)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE forum_topic")
    return forum


def _topic_plans(client, url) -> dict[str, str]:
    """``EXPLAIN`` of each statement of the request that reads ``forum_topic``: ``"count"``
    (the forum with the viewer's waiting topics) and ``"list"`` (the page)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    plans = {}
    for query in captured.captured_queries:
        if '"forum_topic"' in query["sql"]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + query["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
            plans["count" if "COUNT(*)" in query["sql"] else "list"] = plan
    return plans


@pytest.mark.parametrize("page", [1, 40])
def test_no_viewer_scans_the_topic_table_at_scale(client, gardener, large_forum, page):
    """With 25,000 topics, the first and a deep page of the forum read ``forum_topic``
    through the ``forum_topic_list`` index in order for a gardener with held topics, a
    gardener without, a moderator and a signed-out visitor; a gardener's count of their own
    waiting topics probes ``forum_topic_waiting`` by forum and poster."""
    moderator = factories.UserFactory(username="mod")
    Group.objects.get(name=MODERATORS_GROUP).user_set.add(moderator)
    bystander = factories.UserFactory(username="bystander")
    url = f"{large_forum.get_absolute_url()}?page={page}"
    viewers = {"gardener with held topics": gardener, "gardener": bystander, "moderator": moderator, "signed out": None}
    for name, viewer in viewers.items():
        client.logout()
        if viewer is not None:
            client.force_login(viewer)
        plans = _topic_plans(client, url)
        assert set(plans) == ({"list", "count"} if viewer is not None else {"list"}), name
        for plan in plans.values():
            assert "Seq Scan on forum_topic" not in plan, (name, plan)
        assert "Index Scan using forum_topic_list on forum_topic" in plans["list"], (name, plans["list"])
        assert "Sort" not in plans["list"].split("forum_topic_list")[0], (name, plans["list"])
        if viewer in (gardener, bystander):
            assert "forum_topic_waiting" in plans["count"], (name, plans["count"])
            assert "poster_id" in plans["count"].split("forum_topic_waiting")[1], (name, plans["count"])


def test_a_gardener_sees_their_held_topics_in_place_at_scale(client, gardener, large_forum):
    """The gardener's hidden topic of 7 minutes ago is on page 1 among the public ones and
    counted in the page count; another gardener sees neither it nor its count."""
    client.force_login(gardener)
    first = client.get(large_forum.get_absolute_url())
    assert "Mine 0" in first.content.decode() and "Mine 5" not in first.content.decode()
    public = Topic.objects.filter(PUBLIC_TOPIC, forum=large_forum).count()
    assert first.context["page"].paginator.count == public + 35
    client.force_login(factories.UserFactory())
    other = client.get(large_forum.get_absolute_url())
    assert "Mine 0" not in other.content.decode()
    assert other.context["page"].paginator.count == public


@pytest.mark.parametrize("held", [1, 500])
def test_topic_list_budget_with_held_topics(gardener, gardener_client, held, django_assert_num_queries):
    """A gardener's topic list costs 3 statements (user, forum with the count of their
    waiting topics, the page) with 1 or 500 held topics of their own (SPEC budget 4), and
    shows them."""
    forum = factories.ForumFactory(slug="houseplants")
    factories.TopicFactory.create_batch(3, forum=forum)
    Topic.objects.bulk_create(
        factories.TopicFactory.build(forum=forum, poster=gardener, is_approved=False, subject=f"Held {index}")
        for index in range(held)
    )
    _count_public(forum)
    gardener_client.get(forum.get_absolute_url())
    with django_assert_num_queries(3):
        listing = gardener_client.get(forum.get_absolute_url())
    assert listing.content.decode().count("Held ") == min(held, PAGE)
