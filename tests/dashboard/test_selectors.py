"""What the dashboard selectors compute."""

from datetime import timedelta

import pytest
from django.core.exceptions import FieldFetchBlocked
from django.utils import timezone

from apps.accounts.models import TrustLevel
from apps.accounts.selectors import trust_progress_for_user
from apps.dashboard.selectors import dashboard_stats_for_user, recent_activity_for_user
from apps.demo.recount import user_counters_recount
from apps.plants.models import PlantIdentificationRequest
from apps.plants.selectors import plant_stats_for_user
from tests import factories

pytestmark = pytest.mark.django_db


def test_searches_this_week_is_a_rolling_seven_days_and_weeks_bucket_correctly(gardener):
    """ "This week" is the last 7 days rolling (SPEC); the sparkline has 12 weekly buckets,
    oldest first, and ignores older requests."""
    now = timezone.now()
    for days_ago in (0, 1, 6.9, 7.1, 13, 20, 83, 85, 400):
        factories.IdentificationRequestFactory(owner=gardener, created_at=now - timedelta(days=days_ago), thumbnail="")
    user_counters_recount(user_ids=[gardener.pk])
    gardener.refresh_from_db()
    stats = plant_stats_for_user(user=gardener, now=now)
    assert stats["total_searches"] == 9
    assert stats["searches_this_week"] == 3
    assert len(stats["weekly_searches"]) == 12
    assert stats["weekly_searches"][-1] == 3
    assert stats["weekly_searches"][-2] == 2
    assert stats["weekly_searches"][-3] == 1
    assert stats["weekly_searches"][0] == 1
    assert sum(stats["weekly_searches"]) == 7


def test_recent_activity_mixes_topics_replies_and_requests_newest_first(gardener):
    """Up to 8 items from the three sources, newest first, each with a working URL."""
    now = timezone.now()
    forum = factories.ForumFactory(name="Pests")
    topic = factories.TopicFactory(
        forum=forum, poster=gardener, subject="Aphids everywhere", created_at=now - timedelta(hours=3)
    )
    reply = factories.PostFactory(topic=topic, poster=gardener, created_at=now - timedelta(hours=1))
    id_request = factories.IdentificationRequestFactory(
        owner=gardener, created_at=now - timedelta(hours=2), thumbnail=""
    )
    other = factories.UserFactory()
    factories.TopicFactory(forum=forum, poster=other, created_at=now)
    items = recent_activity_for_user(user=gardener)
    assert [item["type"] for item in items] == ["reply", "identification", "topic"]
    assert items[0]["title"] == "Re: Aphids everywhere"
    assert items[0]["url"] == f"/forum/p/{reply.pk}/"
    assert items[0]["forum_name"] == "Pests"
    assert items[1]["url"] == f"/plants/requests/{id_request.pk}/"
    assert items[2]["title"] == "Aphids everywhere"


def test_recent_activity_is_capped_at_eight(gardener):
    factories.IdentificationRequestFactory.create_batch(12, owner=gardener, thumbnail="")
    assert len(recent_activity_for_user(user=gardener)) == 8


@pytest.mark.parametrize(
    "level, approved_posts, age_days, expected",
    [
        (TrustLevel.NEW, 0, 0, {"next_level": "basic", "posts_needed": 5, "days_needed": 7}),
        (TrustLevel.NEW, 7, 10, {"next_level": "basic", "posts_needed": 0, "days_needed": 0}),
        (TrustLevel.BASIC, 20, 12, {"next_level": "trusted", "posts_needed": 5, "days_needed": 18}),
        (TrustLevel.TRUSTED, 30, 40, {"next_level": "veteran", "posts_needed": 70, "days_needed": 50}),
        (TrustLevel.VETERAN, 300, 400, {"next_level": None, "posts_needed": 0, "days_needed": 0}),
    ],
)
def test_trust_progress_follows_spec_thresholds(level, approved_posts, age_days, expected):
    """basic 5 posts / 7 days, trusted 25 / 30, veteran 100 / 90 (SPEC "Domain")."""
    user = factories.UserFactory.build(
        trust_level=level,
        approved_post_count=approved_posts,
        date_joined=timezone.now() - timedelta(days=age_days, hours=1),
    )
    assert trust_progress_for_user(user=user) == {"level": level.value, **expected}


def test_stats_api_shape_is_exactly_spec(gardener):
    """The keys of ``/api/dashboard/stats/`` are exactly SPEC's."""
    factories.IdentificationRequestFactory(owner=gardener, thumbnail="")
    data = dashboard_stats_for_user(user=gardener)
    assert set(data) == {"plant_stats", "forum_stats", "recent_activity", "trust"}
    assert set(data["plant_stats"]) == {"total_identified", "total_searches", "searches_this_week", "saved_care_cards"}
    assert set(data["forum_stats"]) == {"topics", "posts", "topics_last_30_days", "posts_last_30_days"}
    assert set(data["recent_activity"][0]) == {"type", "title", "url", "created"}
    assert set(data["trust"]) == {"level", "next_level", "posts_needed", "days_needed"}


def test_lazy_loads_raise_under_the_test_settings(gardener):
    """Managers default to FETCH_RAISE in tests, so a selector that forgets select_related
    fails loudly instead of adding a query per row (SPEC "Query budgets")."""
    factories.IdentificationRequestFactory(owner=gardener, thumbnail="")
    id_request = PlantIdentificationRequest.objects.get()
    with pytest.raises(FieldFetchBlocked):
        id_request.owner
