"""``seed_demo --scale small|large`` (apps.demo.seeding.scaled), at a tiny size: the rows are
consistent (every foreign key, the maintained counters as the services compute them, trust
levels by SPEC's rules), the demo ``gardener`` is the most active, and SQLite is refused with
a clear message. No timings: the benchmark itself is ``make bench``."""

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count, Max

from apps.accounts.models import TrustLevel, User
from apps.demo.recount import user_counters_recount
from apps.demo.seeding import GARDENER, MODERATOR, NEWBIE
from apps.demo.seeding.scaled import ScaleSizes, quiet_gardener_username, scaled_data_seed
from apps.demo.seeding.scaled.draw import _power_exponent
from apps.forum.models import Forum, Post, Topic
from apps.forum.recount import forum_state_drift
from apps.forum.services import forum_counters_recount
from apps.plants.models import (
    IdentificationSuggestion,
    PlantIdentificationRequest,
    SavedCareInstructions,
    SuggestionVote,
)

pytestmark = pytest.mark.django_db

# At this size the gardener writes a tenth of the rows (the large scale: 1 %), so "most active"
# is not left to chance.
TINY = ScaleSizes("tiny", users=80, topics=40, posts=400, requests=300, care_cards=60, text_templates=6, top_share=0.1)
COUNTERS = (
    "post_count",
    "approved_post_count",
    "topic_count",
    "identification_request_count",
    "identified_plant_count",
    "care_card_count",
)


@pytest.fixture
def tiny_seed():
    return scaled_data_seed(scale=TINY, seed=7, vacuum=False)


def test_power_law_gives_rank_zero_its_share():
    """``floor(A * u ** p)`` is 0 with probability ``A ** (-1 / p)``: the share asked for."""
    for population, share in ((60_000, 0.0025), (700, 0.0025), (35_000, 0.00125)):
        assert population ** (-1 / _power_exponent(population, share)) == pytest.approx(share)


def test_tiny_scale_writes_the_sizes_asked_for(tiny_seed):
    assert User.objects.count() == TINY.users
    assert Topic.objects.count() == TINY.topics
    assert Post.objects.count() == TINY.posts
    assert PlantIdentificationRequest.objects.count() == TINY.requests
    assert SavedCareInstructions.objects.count() == TINY.care_cards
    assert tiny_seed.foreign_keys_checked >= 15
    # Ids were assigned in Python: the sequences continue after them.
    assert (
        User.objects.create(username="after_seed", email="after@example.com").pk
        > User.objects.exclude(username="after_seed").aggregate(top=Max("pk"))["top"]
    )


def test_counters_agree_with_the_recount_services(tiny_seed):
    """The set-based recount gives what ``user_counters_recount`` and
    ``forum_counters_recount`` give for every row, and ``forum_recount --check`` finds no
    drift."""
    assert forum_state_drift() == []
    before_users = {row["id"]: row for row in User.objects.values("id", *COUNTERS)}
    before_topics = {
        row["id"]: row for row in Topic.objects.values("id", "post_count", "last_poster_id", "last_post_at")
    }
    before_forums = {
        row["id"]: row
        for row in Forum.objects.values(
            "id", "topic_count", "post_count", "last_topic_id", "last_poster_id", "last_post_at"
        )
    }
    user_counters_recount()
    forum_counters_recount()
    assert {row["id"]: row for row in User.objects.values("id", *COUNTERS)} == before_users
    assert {
        row["id"]: row for row in Topic.objects.values("id", "post_count", "last_poster_id", "last_post_at")
    } == before_topics
    assert {
        row["id"]: row
        for row in Forum.objects.values(
            "id", "topic_count", "post_count", "last_topic_id", "last_poster_id", "last_post_at"
        )
    } == before_forums


def test_votes_match_vote_counts(tiny_seed):
    counted = dict(
        SuggestionVote.objects.values_list("suggestion").annotate(n=Count("id")).values_list("suggestion", "n")
    )
    for suggestion_id, vote_count in IdentificationSuggestion.objects.values_list("id", "vote_count"):
        assert counted.get(suggestion_id, 0) == vote_count


def test_gardener_is_the_most_active_and_levels_follow_the_rules(tiny_seed):
    gardener = User.objects.get(username=GARDENER.username)
    top_requests = User.objects.order_by("-identification_request_count", "id").first()
    top_posts = User.objects.order_by("-post_count", "id").first()
    assert top_requests == gardener and top_posts == gardener
    assert User.objects.get(username=MODERATOR.username).trust_level == TrustLevel.VETERAN
    assert User.objects.get(username=NEWBIE.username).trust_level == TrustLevel.NEW
    basic = settings.TRUST_LEVEL_REQUIREMENTS["basic"]
    for user in User.objects.exclude(username=MODERATOR.username):
        qualifies = (
            user.approved_post_count >= basic["approved_posts"] and user.account_age_days >= basic["account_age_days"]
        )
        assert (user.trust_level != TrustLevel.NEW) == qualifies, user.username
    quiet = quiet_gardener_username()
    if quiet is not None:
        assert User.objects.get(username=quiet).identification_request_count < gardener.identification_request_count


def test_large_scale_refuses_sqlite_with_a_clear_message(tmp_path):
    """On the embedded default (SQLite) ``--scale large`` stops before touching anything."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"DJANGO_SETTINGS_MODULE": "portal.settings.local", "SQLITE_NAME": str(tmp_path / "db.sqlite3")}
    done = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--scale", "large"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "PostgreSQL" in done.stderr and "sqlite" in done.stderr.lower()
    # The system checks' JSON-field probe opens a transaction, which SQLite's IMMEDIATE mode (the
    # embedded default's setting) makes write the empty file's header: no table, no row.
    database = tmp_path / "db.sqlite3"
    if database.exists():
        with closing(sqlite3.connect(database)) as written:
            assert written.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
