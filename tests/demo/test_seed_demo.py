"""``manage.py seed_demo``: the demo sign-ins work, the maintained counters are right, re-runs
are safe, the output follows the seed, and the generated images are real JPEGs."""

import io
from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from PIL import Image

from apps.accounts.models import User
from apps.core.models import ModerationAction
from apps.forum.models import Forum, Post, Report, Topic
from apps.forum.recount import forum_state_drift
from apps.plants.care import schedule
from apps.plants.models import (
    CareTask,
    CareTaskDone,
    IdentificationStatus,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    SavedCareInstructions,
    SuggestionVote,
)
from apps.plants.selectors import plant_stats_for_user
from tests import factories

pytestmark = pytest.mark.django_db

# Small enough to stay fast; large enough that every kind of row exists.
SMALL = {"users": 5, "topics": 10, "posts": 30, "requests": 12, "care_cards": 10}
MODELS = (
    User,
    Group,
    Forum,
    Topic,
    Post,
    Report,
    ModerationAction,
    PlantIdentificationRequest,
    PlantPhoto,
    IdentificationSuggestion,
    SuggestionVote,
    SavedCareInstructions,
    CareTask,
    CareTaskDone,
)


def seed_demo(**options) -> str:
    """Run the command with ``SMALL`` sizes overridden by ``options``; return what it printed."""
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("seed_demo", **(SMALL | options), stdout=stdout, stderr=stderr)
    return stdout.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def printed_sign_ins(output: str) -> list[tuple[str, str]]:
    """``(username, password)`` rows of the "Demo sign-ins" table; for the "other demo
    gardeners" row, the first username shown."""
    table = output.split("Demo sign-ins", 1)[1]
    rows = [line.strip().strip("|").split("|") for line in table.splitlines() if line.strip().startswith("|")]
    return [(cells[0].strip().split(",")[0], cells[1].strip()) for cells in rows[1:]]


def seeded_texts() -> dict[str, list[str]]:
    return {
        "usernames": sorted(User.objects.values_list("username", flat=True)),
        "subjects": sorted(Topic.objects.values_list("subject", flat=True)),
        "sources": sorted(Post.objects.values_list("source", flat=True)),
    }


@pytest.fixture
def demo_seeded():
    """The demo data at ``SMALL`` sizes, seed 42; the value is what the command printed."""
    return seed_demo(seed=42)


def test_printed_demo_passwords_sign_in(demo_seeded):
    """Every sign-in the summary prints works with the printed password, by username and by
    email in upper case; the moderator is staff and in the "moderators" group."""
    sign_ins = printed_sign_ins(demo_seeded)
    assert [username for username, _ in sign_ins[:3]] == ["gardener", "moderator", "newbie"]
    assert ("gardener", "demo-gardener-pass-2026") in sign_ins
    assert len(sign_ins) == 4  # the three named accounts and one row for the other gardeners
    for username, password in sign_ins:
        user = authenticate(None, username=username, password=password)
        assert user is not None and user.username == username
        by_email = authenticate(None, username=f"{username}@example.com".upper(), password=password)
        assert by_email is not None and by_email.pk == user.pk
        assert authenticate(None, username=username, password=password + "-wrong") is None

    assert list(User.objects.filter(groups__name="moderators").values_list("username", "is_staff")) == [
        ("moderator", True)
    ]


def test_maintained_counters_match_the_rows(demo_seeded):
    """After the bulk inserts, each user's six counters and each forum's and topic's counters
    equal real counts, counted as the recount services define them: visible posts (not
    deleted) for users; approved, unhidden, undeleted posts in approved, undeleted topics for
    forums and topics."""

    def per(queryset, key: str) -> Counter:
        return Counter(dict(queryset.order_by().values(key).annotate(n=Count("id")).values_list(key, "n")))

    visible_posts = Post.objects.filter(is_deleted=False)
    real = {
        "identification_request_count": per(PlantIdentificationRequest.objects.all(), "owner_id"),
        "identified_plant_count": per(
            PlantIdentificationRequest.objects.filter(status=IdentificationStatus.IDENTIFIED), "owner_id"
        ),
        "care_card_count": per(SavedCareInstructions.objects.all(), "owner_id"),
        "topic_count": per(Topic.objects.filter(is_deleted=False), "poster_id"),
        "post_count": per(visible_posts, "poster_id"),
        "approved_post_count": per(visible_posts.filter(is_approved=True), "poster_id"),
    }
    users = list(User.objects.values("id", *real))
    assert len(users) == 3 + SMALL["users"]
    for user in users:
        assert {name: user[name] for name in real} == {name: counts[user["id"]] for name, counts in real.items()}
    for name, counts in real.items():
        assert sum(counts.values()) > 0, f"no rows behind {name}: the comparison proves nothing"

    shown_posts = Post.objects.filter(is_approved=True, is_hidden=False, is_deleted=False)
    topic_posts = per(shown_posts, "topic_id")
    topics = list(Topic.objects.values("id", "post_count"))
    assert {t["id"]: t["post_count"] for t in topics} == {t["id"]: topic_posts[t["id"]] for t in topics}

    visible = Q(topic__is_approved=True, topic__is_hidden=False, topic__is_deleted=False)
    forum_topics = per(Topic.objects.filter(is_approved=True, is_hidden=False, is_deleted=False), "forum_id")
    forum_posts = per(shown_posts.filter(visible), "topic__forum_id")
    forums = list(Forum.objects.values("id", "topic_count", "post_count"))
    assert len(forums) == 6
    assert {f["id"]: (f["topic_count"], f["post_count"]) for f in forums} == {
        f["id"]: (forum_topics[f["id"]], forum_posts[f["id"]]) for f in forums
    }
    assert sum(f["post_count"] for f in forums) > 0
    # And every derived forum field equals apps.forum.recount's definition (forum_recount --check).
    assert forum_state_drift() == []


def test_every_card_has_care_tasks_and_the_gardener_has_some_due(demo_seeded, client):
    """Issue 14: each card has its five tasks; the demo gardener has tasks overdue and due
    today (in their time zone) and a history of waterings, which the care cards page shows."""
    assert CareTask.objects.count() == 5 * SavedCareInstructions.objects.count()
    gardener = User.objects.get(username="gardener")
    today = schedule.local_today(gardener.time_zone)
    water = CareTask.objects.filter(owner=gardener, kind="water", is_enabled=True)
    assert water.filter(next_due_on__lt=today).exists() and water.filter(next_due_on=today).exists()
    history = CareTaskDone.objects.filter(task__owner=gardener, task__kind="water")
    assert history.count() >= 10 and not history.filter(done_on__gt=today).exists()
    for task in CareTask.objects.exclude(last_done_on=None).prefetch_related("done_history"):
        assert task.last_done_on == max(done.done_on for done in task.done_history.all())
    client.force_login(gardener)
    body = client.get("/plants/care-cards/").content.decode()
    assert "overdue by 2 days" in body and "due today" in body and '<ol class="history-list"' in body


def test_second_run_says_the_demo_is_there_and_changes_nothing(demo_seeded):
    """Without --flush, a second run finds the demo gardener, says so, and writes no row."""
    before = row_counts()
    output = seed_demo(seed=42)
    assert "The demo data is already there (user 'gardener' exists); nothing was changed." in output
    assert "Use --flush" in output
    assert "Demo sign-ins" not in output
    assert row_counts() == before


def test_flush_reseeds_to_the_same_row_counts(demo_seeded):
    """--flush deletes the demo data and seeds it again: the same sizes give the same counts."""
    before = row_counts()
    assert before["Post"] == SMALL["posts"] and before["PlantIdentificationRequest"] == SMALL["requests"]
    output = seed_demo(seed=42, flush=True)
    assert "Deleting the old demo data" in output
    assert "Demo sign-ins" in output
    assert row_counts() == before


def test_if_empty_skips_when_users_exist(gardener):
    """--if-empty (what ``make run`` uses) leaves a database that has any user alone."""
    output = seed_demo(seed=42, if_empty=True)
    assert "seed_demo skipped: the database already has users (--if-empty)." in output
    assert list(User.objects.values_list("username", flat=True)) == [gardener.username]
    assert not Forum.objects.exists()


def test_if_empty_seeds_an_empty_database():
    """--if-empty on a database with no users seeds as usual."""
    output = seed_demo(seed=42, if_empty=True)
    assert "Demo sign-ins" in output
    assert User.objects.filter(username="gardener").exists()


def test_same_seed_same_data_other_seed_other_data():
    """Two runs with the same --seed (flushed in between) write the same usernames, topic
    subjects and post sources; another seed writes different ones."""
    seed_demo(seed=7)
    first = seeded_texts()
    seed_demo(seed=7, flush=True)
    assert seeded_texts() == first
    seed_demo(seed=8, flush=True)
    other = seeded_texts()
    for name in ("usernames", "subjects", "sources"):
        assert other[name] != first[name], name


def test_gardener_sparkline_has_most_weeks_filled():
    """At the default request count the gardener's identification requests are spread so the
    dashboard's 12-week sparkline has at least 8 weeks with searches."""
    seed_demo(seed=42, requests=150)
    gardener = User.objects.get(username="gardener")
    weekly = plant_stats_for_user(user=gardener)["weekly_searches"]
    assert len(weekly) == 12
    assert sum(1 for count in weekly if count) >= 8, weekly


def test_stored_images_are_small_jpegs_without_exif(demo_seeded):
    """Thumbnails are JPEG files of at most 300 px that Pillow can open, photos are JPEGs of the
    size their row records, and no stored image carries EXIF data."""
    thumbnails = set(PlantIdentificationRequest.objects.values_list("thumbnail", flat=True))
    photos = set(PlantPhoto.objects.values_list("image", "width", "height"))
    assert thumbnails and photos
    for name in thumbnails:
        with default_storage.open(name) as file, Image.open(file) as image:
            assert image.format == "JPEG"
            assert max(image.size) <= 300
            assert "exif" not in image.info and not image.getexif()
    for name, width, height in photos:
        with default_storage.open(name) as file, Image.open(file) as image:
            assert image.format == "JPEG"
            assert image.size == (width, height)
            assert "exif" not in image.info and not image.getexif()


@pytest.mark.parametrize("options", [{}, {"flush": True}, {"scale": "small"}])
def test_refused_where_demo_data_is_not_allowed_and_nothing_changes(settings, options):
    """Production settings turn ``DEMO_DATA_ALLOWED`` off: no demo accounts with published
    passwords, and no ``--flush`` deleting every member."""
    member = factories.UserFactory(username="real_member")
    settings.DEMO_DATA_ALLOWED = False
    before = row_counts()
    with pytest.raises(CommandError, match="DEMO_DATA_ALLOWED"):
        seed_demo(**options)
    assert row_counts() == before and User.objects.filter(pk=member.pk).exists()
