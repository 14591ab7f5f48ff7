"""Fixtures named after the state they create (STYLE "Tests")."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.demo.recount import user_counters_recount
from apps.forum.services import forum_counters_recount
from apps.plants.models import IdentificationStatus, PlantSpecies

from . import factories


@pytest.fixture
def gardener(db):
    """A signed-up gardener with a confirmed email and no data yet."""
    return factories.UserFactory(username="rosa")


@pytest.fixture
def gardener_client(client, gardener):
    """A test client signed in as ``gardener`` whose session is warm: stored in the cache and
    just renewed, so the next requests are "not due for renewal" (SPEC "Query budgets")."""
    client.force_login(gardener)
    client.get("/healthz")
    client.get("/dashboard/")
    return client


def populate_gardener(user, *, rows: int) -> None:
    """Give ``user`` ``rows`` rows in every table a dashboard panel reads: identification
    requests (each with one suggestion), care cards (each with two care tasks: an enabled
    "water" due today or overdue on every other card, else due later, and a switched-off
    overdue "prune"), topics (each with its opening post and one reply); spread over the last
    ~80 days with the newest in the last week. Then recount the maintained counters, as
    ``seed_demo`` does after bulk inserts."""
    from apps.forum.models import Post, Topic
    from apps.plants.care.schedule import local_today
    from apps.plants.models import CareTask, IdentificationSuggestion, PlantIdentificationRequest, SavedCareInstructions

    now = timezone.now()
    forum = factories.ForumFactory(name="Houseplants", slug="houseplants")
    species = list(PlantSpecies.objects.order_by("id")[:rows])
    if len(species) < rows:
        species += factories.SpeciesFactory.create_batch(rows - len(species))
    requests = PlantIdentificationRequest.objects.bulk_create(
        factories.IdentificationRequestFactory.build(
            owner=user,
            created_at=now - timedelta(hours=4 * index),
            status=IdentificationStatus.IDENTIFIED if index % 2 == 0 else IdentificationStatus.NEEDS_HELP,
            species=species[index] if index % 2 == 0 else None,
        )
        for index in range(rows)
    )
    IdentificationSuggestion.objects.bulk_create(
        factories.SuggestionFactory.build(request=request, species=species[index], probability=0.5 + (index % 50) / 100)
        for index, request in enumerate(requests)
    )
    cards = SavedCareInstructions.objects.bulk_create(
        factories.CareCardFactory.build(owner=user, species=species[index], updated_at=now - timedelta(hours=index))
        for index in range(rows)
    )
    today = local_today(user.time_zone)
    CareTask.objects.bulk_create(
        task
        for index, card in enumerate(cards)
        for task in (
            CareTask(
                care_card=card,
                owner=user,
                kind="water",
                interval_days=7,
                next_due_on=today - timedelta(days=index % 4)
                if index % 2 == 0
                else today + timedelta(days=1 + index % 9),
            ),
            CareTask(
                care_card=card,
                owner=user,
                kind="prune",
                interval_days=90,
                is_enabled=False,
                next_due_on=today - timedelta(30),
            ),
        )
    )
    topics = Topic.objects.bulk_create(
        factories.TopicFactory.build(forum=forum, poster=user, created_at=now - timedelta(hours=3 * index + 1))
        for index in range(rows)
    )
    Post.objects.bulk_create(
        post
        for index, topic in enumerate(topics)
        for post in (
            factories.PostFactory.build(topic=topic, poster=user, is_opening_post=True, created_at=topic.created_at),
            factories.PostFactory.build(
                topic=topic, poster=user, is_opening_post=False, created_at=topic.created_at + timedelta(hours=1)
            ),
        )
    )
    user_counters_recount(user_ids=[user.pk])
    forum_counters_recount()
    user.refresh_from_db()


@pytest.fixture(params=[1, 500], ids=["1-row", "500-rows"])
def rows_per_table(request):
    """The two data sizes every query budget is asserted at (SPEC "Query budgets")."""
    return request.param


@pytest.fixture
def client_factory():
    """Make independent test clients (separate browsers or devices)."""
    from django.test import Client

    return lambda **kwargs: Client(**kwargs)


@pytest.fixture
def unthrottled(settings):
    """Write throttles out of the way for tests about something else: every trust level gets
    room for 1,000 of each write a minute. Throttle tests run at the real limits (SPEC "Bad
    input"; tests/forum/test_throttle.py, tests/plants/test_throttle.py)."""
    settings.WRITE_THROTTLES = {
        level: {action: [(1000, 60)] for action in actions} for level, actions in settings.WRITE_THROTTLES.items()
    }


@pytest.fixture
def own_redis(settings):
    """A private redis-server (``tests.redis_server``) used both as the security store and as
    the session cache, for tests that SIGKILL it mid-test (``own_redis.kill()``)."""
    from .redis_server import redis_server

    with redis_server() as server:
        settings.REDIS_URL = server.url
        settings.CACHES = {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": server.url,
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True},
            }
        }
        yield server
