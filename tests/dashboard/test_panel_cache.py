"""The dashboard panel cache (issue 13, part 1): a hit costs the user lookup only, a miss stays
within SPEC's budget, a Redis outage is a miss, stored HTML holds no per-browser token, and
entries expire exactly when time would change their text."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.dashboard import panel_cache
from apps.dashboard.views import PANELS
from apps.forum.selectors import forum_stats_for_user, forum_stats_with_changes_at
from apps.plants.selectors import plant_stats_for_user, plant_stats_with_changes_at
from tests import factories
from tests.conftest import populate_gardener
from tests.dashboard.test_budgets import PANEL_BUDGETS

pytestmark = pytest.mark.django_db

CACHED_PANELS = sorted(name for name, panel in PANELS.items() if panel.changes_at is not None)
# Statements on a miss with the cache on, the user lookup included: the panels' budgets with
# the cache off (SPEC: at most 3); a miss adds no statement.
MISS_BUDGETS = PANEL_BUDGETS


def _get(client, name):
    return client.get(reverse("dashboard:panel", args=[name]), headers={"HX-Request": "true"})


@pytest.fixture
def panel_cache_on(settings):
    settings.DASHBOARD_PANEL_CACHE = True
    cache.clear()


def _age_everything(user, hours=3):
    """Move the gardener's rows a few hours back, so relative times allow caching."""
    from django.db.models import F

    from apps.forum.models import Post, Topic
    from apps.plants.models import PlantIdentificationRequest

    earlier = timedelta(hours=hours)
    Topic.objects.filter(poster=user).update(created_at=F("created_at") - earlier)
    Post.objects.filter(poster=user).update(created_at=F("created_at") - earlier)
    PlantIdentificationRequest.objects.filter(owner=user).update(created_at=F("created_at") - earlier)


def test_every_panel_but_the_review_queue_is_cached():
    """The moderators' review queue shows site-wide counts: never cached."""
    assert set(CACHED_PANELS) == set(PANELS) - {"moderation-queue"}


@pytest.mark.parametrize("name", CACHED_PANELS)
def test_hit_sends_only_the_user_lookup_and_miss_stays_in_budget(
    name, gardener, gardener_client, rows_per_table, panel_cache_on, django_assert_num_queries
):
    """A miss costs ``MISS_BUDGETS`` statements (within SPEC's 3), a hit exactly one (the
    user lookup), and both answer the same HTML, at 1 and at 500 rows per table."""
    populate_gardener(gardener, rows=rows_per_table)
    _age_everything(gardener)
    gardener_client.get("/dashboard/")  # warm the session again after the slow setup
    cache.delete_many([panel_cache.panel_cache_key(name=name, user=User.objects.get(pk=gardener.pk))])
    with django_assert_num_queries(MISS_BUDGETS[name]):
        miss = _get(gardener_client, name)
    assert MISS_BUDGETS[name] <= 3
    with django_assert_num_queries(1):
        hit = _get(gardener_client, name)
    assert miss.status_code == hit.status_code == 200
    assert hit.content == miss.content
    assert hit["Content-Type"] == miss["Content-Type"]
    assert hit["Cache-Control"] == miss["Cache-Control"]


def test_cache_off_stores_nothing(gardener, gardener_client, settings):
    """With ``DASHBOARD_PANEL_CACHE`` off (the test settings' default) nothing is stored."""
    cache.clear()
    settings.DASHBOARD_PANEL_CACHE = False
    _get(gardener_client, "care-cards")
    assert panel_cache.panel_cache_get(panel_cache.panel_cache_key(name="care-cards", user=gardener)) is None


def test_stored_html_holds_no_token_or_nonce(gardener, gardener_client, panel_cache_on):
    """Cached fragments hold no CSRF token or CSP nonce (they are shared across browsers)."""
    populate_gardener(gardener, rows=3)
    _age_everything(gardener)
    user = User.objects.get(pk=gardener.pk)
    for name in CACHED_PANELS:
        response = _get(gardener_client, name)
        html = panel_cache.panel_cache_get(panel_cache.panel_cache_key(name=name, user=user))
        assert html == response.content.decode(), name
        assert "csrf" not in html.lower() and "nonce" not in html.lower(), name


def test_relative_times_are_marked_for_the_script(gardener, gardener_client, panel_cache_on):
    """Relative times carry their timestamp and ``data-relative``, for static/js/relative-time.js,
    which base.html loads with the page's nonce."""
    populate_gardener(gardener, rows=2)
    body = _get(gardener_client, "recent-activity").content.decode()
    assert "data-relative" in body and 'datetime="' in body
    page = gardener_client.get("/dashboard/").content.decode()
    assert "js/relative-time.js" in page


def test_redis_outage_is_a_miss_not_an_error(gardener, own_redis, settings, client, django_assert_num_queries):
    """SIGKILL the cache's Redis mid-test: every panel still answers 200 with its content,
    rendered from the database (sessions fall back to the database too)."""
    settings.DASHBOARD_PANEL_CACHE = True
    populate_gardener(gardener, rows=2)
    _age_everything(gardener)
    client.force_login(gardener)
    warm = {name: _get(client, name).content for name in CACHED_PANELS}
    own_redis.kill()
    for name in CACHED_PANELS:
        response = _get(client, name)
        assert response.status_code == 200
        assert response.content == warm[name], name


def test_a_bump_misses_and_the_new_html_shows(gardener, gardener_client, panel_cache_on):
    """A service's bump (here: saving a care card) makes the next request a miss with the new
    content; the old entry is never read again."""
    from apps.plants.services import care_card_toggle

    before = _get(gardener_client, "care-cards").content.decode()
    assert "No care cards yet" in before
    care_card_toggle(owner=gardener, species=factories.SpeciesFactory(primary_common_name="Basil"))
    after = _get(gardener_client, "care-cards").content.decode()
    assert "Basil" in after


def test_a_change_outside_the_services_to_a_shown_counter_changes_the_key(gardener):
    """The key also holds a digest of the user-row fields panels read (the admin or a recount
    may change them without a service)."""
    user = User.objects.get(pk=gardener.pk)
    key = panel_cache.panel_cache_key(name="plant-stats", user=user)
    User.objects.filter(pk=gardener.pk).update(care_card_count=7)
    assert panel_cache.panel_cache_key(name="plant-stats", user=User.objects.get(pk=gardener.pk)) != key
    User.objects.filter(pk=gardener.pk).update(time_zone="Europe/Paris")
    assert panel_cache.panel_cache_key(name="plant-stats", user=User.objects.get(pk=gardener.pk)) != key


# --- Expiry: exactly when time would change the text ----------------------------------------

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)


def _natural_at(stamp, at):
    """What ``naturaltime`` shows for the past ``stamp`` at the moment ``at`` (its rules:
    seconds, minutes, hours below a day; ``timesince`` with two units beyond)."""
    age = (at - stamp).total_seconds()
    if age < 86400:
        return ("s", int(age)) if age < 60 else ("m", int(age // 60)) if age < 3600 else ("h", int(age // 3600))
    return ("t", timesince(stamp, now=at))


@hypothesis_settings(max_examples=300, deadline=None)
@given(age=st.floats(min_value=0, max_value=400 * 86400), later=st.floats(min_value=0, max_value=1))
def test_relative_text_holds_until_changes_at(age, later):
    """For any past moment, the relative text stays the same from now until
    ``relative_time_changes_at`` and differs right after it (so the entry is neither stale nor
    needlessly short below a day)."""
    stamp = NOW - timedelta(seconds=age)
    changes_at = panel_cache.relative_time_changes_at(stamp, now=NOW)
    assert changes_at > NOW
    inside = min(NOW + (changes_at - NOW) * later, changes_at - timedelta(microseconds=1))
    assert _natural_at(stamp, inside) == _natural_at(stamp, NOW)
    if age < 86400 - 3600:
        assert _natural_at(stamp, changes_at + timedelta(microseconds=1)) != _natural_at(stamp, NOW)


def test_relative_time_examples():
    """Seconds, minutes, hours; the real ``naturaltime`` agrees on a stamp from just now."""
    assert panel_cache.relative_time_changes_at(NOW - timedelta(seconds=5), now=NOW) == NOW + timedelta(seconds=1)
    assert panel_cache.relative_time_changes_at(NOW - timedelta(minutes=5, seconds=10), now=NOW) == NOW + timedelta(
        seconds=50
    )
    assert panel_cache.relative_time_changes_at(NOW - timedelta(hours=3, minutes=20), now=NOW) == NOW + timedelta(
        minutes=40
    )
    assert panel_cache.relative_time_changes_at(NOW + timedelta(seconds=5), now=NOW) == NOW + timedelta(seconds=1)
    now = timezone.now()
    assert naturaltime(now - timedelta(minutes=5)) == "5\xa0minutes ago"


def test_lifetime_rounds_down_and_nothing_under_a_second_is_stored(settings):
    """``panel_cache_set`` stores until ``changes_at`` rounded down, capped by
    ``DASHBOARD_PANEL_CACHE_MAX_SECONDS``; under a second nothing is stored."""
    from django_redis import get_redis_connection

    cache.clear()
    now = timezone.now()
    assert not panel_cache.panel_cache_set("k1", "x", changes_at=now + timedelta(milliseconds=900), now=now)
    assert panel_cache.panel_cache_set("k2", "x", changes_at=now + timedelta(seconds=90.9), now=now)
    assert panel_cache.panel_cache_set("k3", "x", changes_at=None, now=now)
    redis = get_redis_connection("default")
    assert cache.get("k1") is None
    assert 89 <= redis.ttl(cache.make_key("k2")) <= 90
    assert settings.DASHBOARD_PANEL_CACHE_MAX_SECONDS - 1 <= redis.ttl(cache.make_key("k3"))
    assert redis.ttl(cache.make_key("k3")) <= settings.DASHBOARD_PANEL_CACHE_MAX_SECONDS


def _request_at(owner, created_at):
    return factories.IdentificationRequestFactory(owner=owner, created_at=created_at)


def test_searches_window_moves_when_the_next_search_crosses_a_week(gardener):
    """``plant-stats``: the rolling week and the 12 weekly buckets move when a search reaches
    a whole week of age; the stats are the same just before that moment and differ after."""
    now = timezone.now()
    for age in (timedelta(days=3), timedelta(days=10, hours=5), timedelta(days=80)):
        _request_at(gardener, now - age)
    changes_at = plant_stats_with_changes_at(user=gardener, now=now)[1]
    # The 10 days 5 hours old search reaches 14 days first (in 3 days 19 hours).
    assert abs((changes_at - (now + timedelta(days=3, hours=19))).total_seconds()) < 0.01
    before = plant_stats_for_user(user=gardener, now=changes_at - timedelta(seconds=1))
    assert before == plant_stats_for_user(user=gardener, now=now)
    assert plant_stats_for_user(user=gardener, now=changes_at + timedelta(seconds=1)) != before
    assert plant_stats_with_changes_at(user=factories.UserFactory(), now=now)[1] is None


def test_forum_window_moves_when_the_oldest_post_turns_30_days(gardener):
    """``forum-stats``: the last-30-days counts drop the oldest live post in the window first."""
    now = timezone.now()
    topic = factories.TopicFactory(poster=gardener)
    for age in (timedelta(days=2), timedelta(days=29, hours=1)):
        factories.PostFactory(topic=topic, poster=gardener, created_at=now - age, is_opening_post=False)
    changes_at = forum_stats_with_changes_at(user=gardener, now=now)[1]
    assert abs((changes_at - (now + timedelta(hours=23))).total_seconds()) < 0.01
    assert forum_stats_for_user(user=gardener, now=changes_at - timedelta(seconds=1)) == forum_stats_for_user(
        user=gardener, now=now
    )
    assert forum_stats_for_user(user=gardener, now=changes_at + timedelta(seconds=1))["posts_last_30_days"] == 1


def test_days_to_the_next_trust_level_expire_at_the_next_whole_day(gardener):
    """``trust-progress``: ``account_age_days`` grows at each whole day since joining."""
    now = timezone.now()
    gardener.date_joined = now - timedelta(days=3, hours=5)
    assert panel_cache.account_age_changes_at(gardener, now=now) == gardener.date_joined + timedelta(days=4)
