"""The moderators' counts (issue 13, section 2): ``review_queue_counts`` asks whether a post's
topic is deleted with an anti-join over ``forum_topic_deleted`` instead of joining live topics.
The reference below is the former implementation (the join), kept here as the oracle."""

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.core.db import SubqueryCount
from apps.forum.models import Post, Report, Topic
from apps.forum.selectors import QUEUE_EDIT, QUEUE_HELD, QUEUE_HIDDEN, review_queue_counts
from tests import factories

pytestmark = pytest.mark.django_db

STATUSES = [status for status, _ in Report.Status.choices]


@pytest.fixture
def forum(db):
    return factories.ForumFactory(name="Houseplants", slug="houseplants")


@pytest.fixture
def moderator(db):
    """The viewer: the counts are site-wide (the views check the moderator flag, not the selector)."""
    return factories.UserFactory(username="mod")


def reference_counts(*, viewer) -> dict:
    """The former ``review_queue_counts``: posts joined to their topic, ``topic__is_deleted=False``."""
    live = Post.objects.filter(is_deleted=False, topic__is_deleted=False)
    open_reports = Report.objects.filter(status=Report.Status.OPEN, post__is_deleted=False)
    return (
        User.objects.filter(pk=viewer.pk)
        .values(
            held=SubqueryCount(live.filter(QUEUE_HELD)),
            edits=SubqueryCount(live.filter(QUEUE_EDIT)),
            hidden=SubqueryCount(live.filter(QUEUE_HIDDEN)),
            reported=SubqueryCount(live.filter(pk__in=open_reports.values("post_id"))),
            open_reports=SubqueryCount(open_reports),
        )
        .get()
    )


# One post: (topic index, approved, rejected, pending edit, hidden, deleted, report statuses).
posts = st.tuples(
    st.integers(0, 3),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.lists(st.sampled_from(STATUSES), max_size=2),
)


def _build(*, forum, reporters, topics_deleted, post_rows) -> None:
    poster = reporters[0]
    topics = Topic.objects.bulk_create(
        factories.TopicFactory.build(forum=forum, poster=poster, is_deleted=deleted) for deleted in topics_deleted
    )
    now = timezone.now()
    built = Post.objects.bulk_create(
        factories.PostFactory.build(
            topic=topics[topic_index % len(topics)],
            poster=poster,
            is_approved=approved,
            rejection_reason="off topic" if rejected else "",
            pending_at=now if pending else None,
            pending_source="edited" if pending else "",
            is_hidden=hidden,
            is_deleted=deleted,
        )
        for topic_index, approved, rejected, pending, hidden, deleted, _ in post_rows
    )
    Report.objects.bulk_create(
        Report(post=post, reporter=reporters[index], reason=Report.Reason.SPAM, status=status)
        for post, row in zip(built, post_rows, strict=True)
        for index, status in enumerate(row[-1])
    )


def test_posts_in_deleted_topics_are_not_counted(forum, moderator):
    """Every queue state once in a live topic and once in a deleted one: only the live
    topic's posts count, as with the join."""
    reporters = [factories.UserFactory(), factories.UserFactory()]
    every_state = [
        (0, False, False, False, False, False, []),  # held
        (0, True, False, True, False, False, []),  # pending edit
        (0, True, False, False, True, False, []),  # hidden by reports
        (0, True, False, False, False, False, ["open", "ignored"]),  # reported
        (0, False, False, False, False, True, ["open"]),  # deleted post: its report is not open work
    ]
    in_deleted = [(1, *row[1:]) for row in every_state]
    _build(forum=forum, reporters=reporters, topics_deleted=[False, True], post_rows=every_state + in_deleted)
    counts = review_queue_counts(viewer=moderator)
    assert counts == reference_counts(viewer=moderator)
    # open_reports counts reports on posts that are not deleted, whatever their topic (as before).
    assert counts == {"held": 1, "edits": 1, "hidden": 1, "reported": 1, "open_reports": 2}


@hypothesis_settings(
    max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(topics_deleted=st.lists(st.booleans(), min_size=1, max_size=4), post_rows=st.lists(posts, max_size=25))
def test_the_anti_join_equals_the_join(forum, moderator, topics_deleted, post_rows):
    """Random topics (deleted or not) and posts in any combination of states and reports: the
    selector returns exactly the reference's counts."""
    with transaction.atomic():
        reporters = [factories.UserFactory(), factories.UserFactory()]
        _build(forum=forum, reporters=reporters, topics_deleted=topics_deleted, post_rows=post_rows)
        assert review_queue_counts(viewer=moderator) == reference_counts(viewer=moderator)
        transaction.set_rollback(True)


def test_one_statement(moderator, django_assert_num_queries):
    with django_assert_num_queries(1):
        review_queue_counts(viewer=moderator)
