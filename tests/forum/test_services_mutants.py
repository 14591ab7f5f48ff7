"""Forum services: the behaviour a mutation run of ``apps/forum/services.py`` showed no test
noticing (``make mutation MODULE=apps/forum/services.py``, README "Mutation testing").

Each test drives the services the way the views do and checks what gardeners, moderators and
the audit log see. After every transition the stored counters and last activity must equal
their definition (``apps.forum.recount``; what ``manage.py forum_recount --check`` proves), so
``_settled()`` closes most tests."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from apps.accounts.models import TrustLevel
from apps.accounts.services import trust_level_promote, trust_levels_update_all
from apps.core.models import ModerationAction
from apps.forum.models import Forum, Post, PostRevision, Report, Topic
from apps.forum.recount import forum_state_drift
from apps.forum.services import (
    forum_counters_recount,
    post_approve,
    post_delete,
    post_edit,
    post_edit_decide,
    post_reject,
    reply_create,
    report_create,
    reports_resolve,
    topic_create,
    topic_flag_set,
    topic_move,
)
from apps.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db


# --- Fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def forum(db):
    """The "Houseplants" forum."""
    return factories.ForumFactory(name="Houseplants", slug="houseplants")


@pytest.fixture
def garden(db):
    """A second forum, "Garden", for moves."""
    return factories.ForumFactory(name="Garden", slug="garden")


@pytest.fixture
def moderator(db):
    """A moderator (the ``moderators`` group), trust level veteran."""
    user = factories.UserFactory(username="mod", trust_level=TrustLevel.VETERAN, is_staff=True)
    user.groups.add(Group.objects.get(name="moderators"))
    return user


@pytest.fixture
def newbie(db):
    """A `new` gardener who joined 3 days ago."""
    return factories.UserFactory(username="newbie", trust_level=TrustLevel.NEW)


@pytest.fixture
def basic(db):
    """A `basic` gardener."""
    return factories.UserFactory(username="fern", trust_level=TrustLevel.BASIC)


@pytest.fixture
def trusted(db):
    """A `trusted` gardener: one report from them hides a `new` gardener's post."""
    return factories.UserFactory(username="tess", trust_level=TrustLevel.TRUSTED)


def _start(forum, poster, subject="Yellow leaves on my pothos", source="What should I do?", *, publish=True):
    return topic_create(forum=forum, poster=poster, subject=subject, source=source, publish=publish)


def _reply(topic, poster, source="Water less.", *, publish=True, image=None):
    return reply_create(
        topic=Topic.objects.get(pk=topic.pk), poster=poster, source=source, publish=publish, image=image
    )


def _opening(topic) -> Post:
    return Post.objects.get(topic_id=topic.pk, is_opening_post=True)


def _fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


def _report(post, reporter=None, reason="spam", detail=""):
    reporter = reporter or factories.UserFactory(trust_level=TrustLevel.BASIC)
    return report_create(post_id=post.pk, reporter=reporter, reason=reason, detail=detail)


def _hide_by_reports(post) -> None:
    """Three `basic` gardeners report ``post``; the third report hides it."""
    assert [_report(post) for _ in range(3)] == [False, False, True]


def _audits(action):
    return list(ModerationAction.objects.filter(action=action).order_by("id"))


def _settled() -> None:
    """Every stored counter and last activity equals its recount (``forum_recount --check``)."""
    assert forum_state_drift() == []


def _forum_state(forum):
    row = _fresh(forum)
    return row.topic_count, row.post_count, row.last_topic_id, row.last_poster_id, row.last_post_at


def _user_counts(user):
    row = _fresh(user)
    return row.topic_count, row.post_count, row.approved_post_count


# --- Reports hide posts ----------------------------------------------------------------------


def test_open_reports_on_other_posts_do_not_count_towards_hiding(forum, basic, trusted):
    """Only this post's reports count: two on one post and one on another hide neither; the
    third on the first hides it, audited without an actor, with the count as the reason."""
    topic = _start(forum, trusted)
    first, second = _reply(topic, basic, "First"), _reply(topic, basic, "Second")
    assert [_report(first), _report(first), _report(second)] == [False, False, False]
    assert not _fresh(first).is_hidden and not _fresh(second).is_hidden
    assert _report(first) is True
    assert _fresh(first).is_hidden and not _fresh(second).is_hidden
    [hide] = _audits("post.hide")
    assert (hide.actor_id, hide.target_type, hide.target_id, hide.reason, hide.metadata) == (
        None,
        "post",
        str(first.pk),
        "3 reports",
        {"topic_id": topic.pk},
    )
    assert _fresh(topic).post_count == 2
    _settled()


def test_closed_reports_do_not_count_towards_hiding(forum, basic, trusted, moderator):
    """Reports a moderator already decided on are closed: after two ignored reports, a new one
    leaves the post visible; it takes three new open reports to hide it again."""
    topic = _start(forum, trusted)
    post = _reply(topic, basic)
    _report(post), _report(post)
    assert reports_resolve(post_id=post.pk, moderator=moderator, decision="ignore") is True
    assert _report(post) is False and not _fresh(post).is_hidden
    assert [_report(post), _report(post)] == [False, True]
    assert _fresh(post).is_hidden
    _settled()


def test_one_trusted_report_hides_only_a_new_gardeners_post(forum, newbie, basic, trusted, moderator):
    """A `trusted` or `veteran` reporter hides a `new` gardener's post at once (SPEC "Domain");
    the same report on a `basic` gardener's post, or a `basic` reporter on a `new` one's, is
    one report among three."""
    topic = _start(forum, moderator)
    by_basic = _reply(topic, basic, "Basic says")
    by_newbie = _reply(topic, newbie, "Newbie says", publish=False)
    other_by_newbie = _reply(topic, newbie, "Newbie again", publish=False)
    post_approve(post_id=by_newbie.pk, moderator=moderator)
    post_approve(post_id=other_by_newbie.pk, moderator=moderator)

    assert _report(by_basic, trusted) is False and not _fresh(by_basic).is_hidden
    assert _report(by_newbie, basic) is False and not _fresh(by_newbie).is_hidden
    assert _report(by_newbie, trusted) is True and _fresh(by_newbie).is_hidden
    veteran = factories.UserFactory(trust_level=TrustLevel.VETERAN)
    assert _report(other_by_newbie, veteran) is True and _fresh(other_by_newbie).is_hidden
    reasons = [audit.reason for audit in _audits("post.hide")]
    assert reasons == ["a report from a Trusted gardener", "a report from a Trusted gardener"]
    _settled()


def test_repeated_reports_and_reports_on_deleted_or_hidden_posts_change_nothing(forum, basic, trusted):
    """A second report by the same gardener is ignored; a deleted post takes no report; a
    report on an already hidden post is kept but hides nothing again (one ``post.hide``)."""
    topic = _start(forum, trusted)
    post, gone = _reply(topic, basic, "Stays"), _reply(topic, basic, "Goes")
    reporter = factories.UserFactory(trust_level=TrustLevel.BASIC)
    assert _report(post, reporter) is False
    assert _report(post, reporter, reason="abuse") is False
    assert list(Report.objects.filter(post=post).values_list("reason", flat=True)) == ["spam"]

    post_delete(post_id=gone.pk, actor=basic)
    assert _report(gone) is False and not Report.objects.filter(post=gone).exists()

    _report(post), _report(post)
    assert _fresh(post).is_hidden
    assert _report(post) is False
    assert Report.objects.filter(post=post).count() == 4 and len(_audits("post.hide")) == 1
    _settled()


def test_report_detail_is_kept_to_its_500_characters(forum, basic, trusted):
    """Longer detail is cut to the column's 500 characters, not refused."""
    post = _reply(_start(forum, trusted), basic)
    _report(post, detail="x" * 600)
    assert Report.objects.get(post=post).detail == "x" * 500


# --- Moderators decide on reports ------------------------------------------------------------


def test_deciding_one_posts_reports_leaves_every_other_report_as_it_was(forum, basic, trusted, moderator):
    """Only the decided post's *open* reports close: another post's reports stay open, and a
    report closed earlier keeps its earlier decision. Audited with the number closed."""
    topic = _start(forum, trusted)
    decided, other = _reply(topic, basic, "Decided"), _reply(topic, basic, "Other")
    earlier = factories.UserFactory(trust_level=TrustLevel.BASIC)
    _report(decided, earlier)
    reports_resolve(post_id=decided.pk, moderator=moderator, decision="disagree")
    _report(decided), _report(decided), _report(other)

    assert reports_resolve(post_id=decided.pk, moderator=moderator, decision="ignore") is True
    statuses = dict(Report.objects.filter(post=decided).values_list("reporter_id", "status"))
    assert statuses.pop(earlier.pk) == "disagreed" and set(statuses.values()) == {"ignored"}
    assert list(Report.objects.filter(post=other).values_list("status", flat=True)) == ["open"]
    ignore = _audits("report.ignore")[-1]
    assert (ignore.actor_id, ignore.target_type, ignore.target_id, ignore.reason, ignore.metadata) == (
        moderator.pk,
        "post",
        str(decided.pk),
        "",
        {"topic_id": topic.pk, "reports": 2},
    )
    assert reports_resolve(post_id=decided.pk, moderator=moderator, decision="ignore") is False
    assert len(_audits("report.ignore")) == 1
    _settled()


def test_disagreeing_shows_the_post_again(forum, basic, trusted, moderator):
    """ "Disagree" closes the reports and shows the hidden post again, counted again; it
    deletes nothing."""
    topic = _start(forum, trusted)
    post = _reply(topic, basic)
    _hide_by_reports(post)
    assert _fresh(topic).post_count == 1
    assert reports_resolve(post_id=post.pk, moderator=moderator, decision="disagree", reason="Fair advice") is True
    post = _fresh(post)
    assert not post.is_hidden and not post.is_deleted
    assert _fresh(topic).post_count == 2 and _fresh(forum).post_count == 2
    assert [audit.reason for audit in _audits("report.disagree")] == ["Fair advice"]
    _settled()


def test_agreeing_deletes_the_reported_reply_with_one_audit_entry(forum, basic, trusted, moderator):
    """ "Agree" deletes the reply (it stays marked hidden), closes its reports as agreed and is
    recorded once, as ``report.agree`` with the reason; no separate ``post.delete``."""
    topic = _start(forum, trusted)
    post = _reply(topic, basic)
    kept = _reply(topic, basic, "Another reply")
    _hide_by_reports(post)
    assert reports_resolve(post_id=post.pk, moderator=moderator, decision="agree", reason="Spam link") is True
    post = _fresh(post)
    assert post.is_deleted and post.is_hidden and not _fresh(kept).is_deleted
    assert set(Report.objects.filter(post=post).values_list("status", flat=True)) == {"agreed"}
    [agree] = _audits("report.agree")
    assert (agree.actor_id, agree.reason, agree.metadata) == (
        moderator.pk,
        "Spam link",
        {"topic_id": topic.pk, "reports": 3},
    )
    assert _audits("post.delete") == [] and _audits("topic.delete") == []
    assert _user_counts(basic) == (0, 1, 1)
    assert _fresh(topic).post_count == 2 and not _fresh(topic).is_deleted
    _settled()


def test_agreeing_on_an_opening_post_deletes_the_topic(forum, newbie, trusted, basic, moderator):
    """A hidden opening post that a moderator agrees on takes its topic and replies with it:
    the forum no longer counts them and its last activity falls back to nothing."""
    topic = _start(forum, newbie, publish=False)
    post_approve(post_id=_opening(topic).pk, moderator=moderator)
    _reply(topic, basic)
    assert _report(_opening(topic), trusted) is True
    assert _forum_state(forum)[:3] == (0, 0, None)
    assert reports_resolve(post_id=_opening(topic).pk, moderator=moderator, decision="agree") is True
    assert _fresh(topic).is_deleted and not Post.objects.filter(topic=topic, is_deleted=False).exists()
    assert _forum_state(forum) == (0, 0, None, None, None)
    assert [audit.reason for audit in _audits("report.agree")] == [""]
    _settled()


def test_reports_on_a_deleted_post_are_left_alone(forum, basic, trusted, moderator):
    """Once its author deleted it, a reported post has nothing to decide: False, and its
    reports stay as they were."""
    post = _reply(_start(forum, trusted), basic)
    _report(post)
    post_delete(post_id=post.pk, actor=basic)
    assert reports_resolve(post_id=post.pk, moderator=moderator, decision="ignore") is False
    assert list(Report.objects.filter(post=post).values_list("status", flat=True)) == ["open"]
    assert _audits("report.ignore") == []


# --- Review queue ------------------------------------------------------------------------------


def test_a_second_approval_changes_nothing_and_notifications_carry_the_posts_time(forum, basic, newbie, moderator):
    """The second approval of a post is refused and changes nothing: one ``post.approve``, one
    reply notification for the topic's author and one mention, dated when the post was
    written; the author's approved posts and the counters move once."""
    ana = factories.UserFactory(username="ana")
    topic = _start(forum, basic)
    held = _reply(topic, newbie, "Thanks @ana and @fern!", publish=False)
    Post.objects.filter(pk=held.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert post_approve(post_id=held.pk, moderator=moderator) is True
    assert post_approve(post_id=held.pk, moderator=moderator) is False
    notified = Notification.objects.filter(target_key=f"forum.post:{held.pk}").order_by("recipient_id")
    assert [(row.recipient_id, row.kind, row.actor_id) for row in notified] == [
        (basic.pk, "reply", newbie.pk),
        (ana.pk, "mention", newbie.pk),
    ]
    assert {row.created_at for row in notified} == {_fresh(held).created_at}
    [approve] = _audits("post.approve")
    assert (approve.actor_id, approve.target_id, approve.reason, approve.metadata) == (
        moderator.pk,
        str(held.pk),
        "",
        {"topic_id": topic.pk},
    )
    assert _user_counts(newbie) == (0, 1, 1)
    assert _fresh(topic).post_count == 2 and _fresh(forum).post_count == 2
    _settled()


def test_approving_a_rejected_post_clears_the_rejection(forum, basic, newbie, moderator):
    """A moderator may change their mind: approving a rejected post publishes it and drops the
    rejection reason the author was shown."""
    held = _reply(_start(forum, basic), newbie, publish=False)
    post_reject(post_id=held.pk, moderator=moderator, reason="Looks like spam")
    assert post_approve(post_id=held.pk, moderator=moderator) is True
    held = _fresh(held)
    assert held.is_approved and held.rejection_reason == "" and not held.is_rejected
    _settled()


def test_approving_a_post_hidden_while_held_counts_for_trust_but_publishes_nothing(forum, basic, moderator):
    """A held post that reports hid meanwhile is approved but stays hidden: nobody is notified,
    yet it counts as the author's approved post, which can raise their trust level."""
    author = factories.UserFactory(date_joined=timezone.now() - timedelta(days=10))
    topic = _start(forum, basic)
    for index in range(4):
        _reply(topic, author, f"Tip {index}")
    held = _reply(topic, author, "Tip 4", publish=False)
    _hide_by_reports(held)
    assert post_approve(post_id=held.pk, moderator=moderator) is True
    assert _fresh(held).is_approved and _fresh(held).is_hidden
    assert not Notification.objects.filter(target_key=f"forum.post:{held.pk}").exists()
    assert _fresh(author).trust_level == TrustLevel.BASIC and _user_counts(author) == (0, 5, 5)
    _settled()


def test_rejecting_twice_keeps_the_first_decision(forum, basic, newbie, moderator):
    """A rejection is recorded with the moderator and reason; a second one is refused and
    neither replaces the reason nor adds to the log."""
    held = _reply(_start(forum, basic), newbie, publish=False)
    assert post_reject(post_id=held.pk, moderator=moderator, reason="Advertising") is True
    assert post_reject(post_id=held.pk, moderator=moderator, reason="Something else") is False
    assert _fresh(held).rejection_reason == "Advertising"
    [reject] = _audits("post.reject")
    assert (reject.actor_id, reject.target_type, reject.reason) == (moderator.pk, "post", "Advertising")
    _settled()


# --- Deleting --------------------------------------------------------------------------------


def test_a_moderator_deleting_someones_reply_is_audited_the_author_is_not(forum, basic, trusted, moderator):
    """``post.delete`` records the moderator, the post and the reason (empty when none was
    given); deleting your own post records nothing; deleting twice changes nothing."""
    topic = _start(forum, trusted)
    first, second, own = _reply(topic, basic, "One"), _reply(topic, basic, "Two"), _reply(topic, basic, "Mine")
    assert post_delete(post_id=first.pk, actor=moderator, reason="Off topic") == 0
    assert post_delete(post_id=second.pk, actor=moderator) == 0
    assert post_delete(post_id=own.pk, actor=basic) == 0
    assert post_delete(post_id=first.pk, actor=moderator, reason="Again") == 0
    deletes = _audits("post.delete")
    assert [(row.actor_id, row.target_type, row.target_id, row.reason, row.metadata) for row in deletes] == [
        (moderator.pk, "post", str(first.pk), "Off topic", {"topic_id": topic.pk}),
        (moderator.pk, "post", str(second.pk), "", {"topic_id": topic.pk}),
    ]
    assert _user_counts(basic) == (0, 0, 0) and _fresh(topic).post_count == 1
    _settled()


def test_a_moderator_deleting_an_opening_post_audits_the_topic_with_its_live_replies(forum, basic, trusted, moderator):
    """Deleting an opening post deletes the topic and its replies; it returns how many live
    replies went and the ``topic.delete`` entry says so, with the subject cut to 80
    characters. The author's own counters drop by every post of theirs."""
    subject = "Why are the lower leaves of my fiddle leaf fig turning brown and dropping off " * 2
    topic = _start(forum, basic, subject=subject[:120])
    own_reply = _reply(topic, basic, "Photos below")
    removed = _reply(topic, trusted, "Removed earlier")
    post_delete(post_id=removed.pk, actor=trusted)
    _reply(topic, trusted, "Check the roots")
    assert post_delete(post_id=_opening(topic).pk, actor=moderator, reason="Duplicate") == 2
    assert not Post.objects.filter(topic=topic, is_deleted=False).exists() and _fresh(own_reply).is_deleted
    [delete] = _audits("topic.delete")
    assert (delete.actor_id, delete.target_type, delete.target_id, delete.reason, delete.metadata) == (
        moderator.pk,
        "topic",
        str(topic.pk),
        "Duplicate",
        {"replies": 2, "subject": subject[:80]},
    )
    assert _audits("post.delete") == []
    assert _user_counts(basic) == (0, 0, 0) and _user_counts(trusted) == (0, 0, 0)
    assert _forum_state(forum) == (0, 0, None, None, None)
    _settled()


def test_deleting_a_reply_after_an_earlier_deleted_one_moves_its_authors_counters(forum, basic, trusted, moderator):
    """Earlier deleted posts in the topic do not stop the settlement from counting the ones
    after them."""
    topic = _start(forum, trusted)
    first = _reply(topic, basic, "First")
    post_delete(post_id=first.pk, actor=basic)
    later = _reply(topic, moderator, "Later")
    assert _user_counts(moderator) == (0, 1, 1)
    post_delete(post_id=later.pk, actor=moderator)
    assert _user_counts(moderator) == (0, 0, 0)
    _settled()


# --- Topics: creating, tools, moves and last activity -----------------------------------------


def test_a_new_topic_is_as_old_as_its_rendered_opening_post(forum, basic):
    """The returned topic carries its fields; topic and opening post share their creation
    time, which is also the topic's and forum's last activity; the post is rendered, has no
    image, and the author counts one topic and one post."""
    topic = _start(forum, basic, source="Try **less** water")
    opening = _opening(topic)
    assert topic.created_at == opening.created_at == _fresh(topic).last_post_at
    assert "<strong>less</strong>" in opening.html and opening.image.name == ""
    assert _user_counts(basic) == (1, 1, 1)
    assert _forum_state(forum) == (1, 1, topic.pk, basic.pk, opening.created_at)
    _settled()


def test_a_reply_keeps_its_photo_and_counts_in_its_forum(forum, basic, trusted):
    """A reply with an (already checked) photo stores it; one without stores none; replies
    count in the topic and the forum and become their last activity."""
    topic = _start(forum, trusted)
    photo = SimpleUploadedFile("leaf.jpg", factories.jpeg_bytes(), content_type="image/jpeg")
    with_photo = _reply(topic, basic, "See the spots", image=photo)
    plain = _reply(topic, basic, "No photo")
    assert _fresh(with_photo).image.name.endswith(".jpg") and _fresh(plain).image.name == ""
    assert _forum_state(forum)[:4] == (1, 3, topic.pk, basic.pk)
    assert _fresh(topic).post_count == 3
    _settled()


def test_topic_tools_are_audited_once_per_change(forum, basic, moderator):
    """Lock, pin and their undoing are recorded with the moderator, topic and reason (empty
    when none); asking for the state a topic already has returns False and records nothing."""
    topic = _start(forum, basic)
    assert topic_flag_set(topic_id=topic.pk, moderator=moderator, action="lock", reason="Heated") is True
    assert topic_flag_set(topic_id=topic.pk, moderator=moderator, action="lock") is False
    assert topic_flag_set(topic_id=topic.pk, moderator=moderator, action="pin") is True
    assert topic_flag_set(topic_id=topic.pk, moderator=moderator, action="unlock") is True
    topic = _fresh(topic)
    assert topic.is_pinned and not topic.is_locked
    log = ModerationAction.objects.order_by("id")
    assert [(row.action, row.actor_id, row.target_type, row.target_id, row.reason) for row in log] == [
        ("topic.lock", moderator.pk, "topic", str(topic.pk), "Heated"),
        ("topic.pin", moderator.pk, "topic", str(topic.pk), ""),
        ("topic.unlock", moderator.pk, "topic", str(topic.pk), ""),
    ]
    _settled()


def test_moving_a_topic_moves_each_forums_counters_and_last_activity(forum, garden, basic, trusted):
    """The forum a topic leaves falls back to its next latest topic (or to nothing), the one
    it joins takes it if it is the latest; audited with both forums; moving a topic where it
    already is returns False and records nothing."""
    veteran = factories.UserFactory(trust_level=TrustLevel.VETERAN)
    older = _start(forum, basic, "Older topic")
    in_garden = _start(garden, basic, "Garden topic")
    newer = _start(forum, trusted, "Newer topic")
    _reply(newer, trusted, "Bump")

    assert topic_move(topic_id=newer.pk, actor=veteran, to_forum=garden) is True
    older_opening = _opening(older)
    assert _forum_state(forum) == (1, 1, older.pk, basic.pk, older_opening.created_at)
    assert _forum_state(garden)[:4] == (2, 3, newer.pk, trusted.pk)
    [move] = _audits("topic.move")
    assert (move.actor_id, move.target_type, move.target_id, move.reason, move.metadata) == (
        veteran.pk,
        "topic",
        str(newer.pk),
        "",
        {"from_forum": forum.pk, "to_forum": garden.pk},
    )
    assert topic_move(topic_id=newer.pk, actor=veteran, to_forum=garden, reason="Again") is False
    assert len(_audits("topic.move")) == 1

    assert topic_move(topic_id=older.pk, actor=veteran, to_forum=garden, reason="Outdoor plants") is True
    assert _forum_state(forum) == (0, 0, None, None, None)
    assert _fresh(in_garden).forum_id == garden.pk and _audits("topic.move")[-1].reason == "Outdoor plants"
    _settled()


def test_moving_a_held_topic_moves_no_counters(forum, garden, newbie, basic, moderator):
    """A topic waiting for review counts in no forum, before or after a move."""
    shown = _start(garden, basic)
    held = _start(forum, newbie, publish=False)
    topic_move(topic_id=held.pk, actor=moderator, to_forum=garden)
    assert _fresh(held).forum_id == garden.pk
    assert _forum_state(forum)[:3] == (0, 0, None)
    assert _forum_state(garden)[:3] == (1, 1, shown.pk)
    _settled()


def test_forum_last_activity_follows_the_latest_post_not_the_newest_topic(forum, basic, trusted):
    """A reply to an older topic makes it the forum's last activity, with the replier."""
    older = _start(forum, basic, "Older")
    _start(forum, basic, "Newer")
    reply = _reply(older, trusted, "Late answer")
    assert _forum_state(forum) == (2, 3, older.pk, trusted.pk, _fresh(reply).created_at)
    _settled()


def test_forum_last_activity_takes_the_newer_topic_on_a_tie(forum, basic, trusted, moderator):
    """Two topics active at the same instant: the forum shows the newer topic (higher id),
    the same answer as the recount's, whatever order the rows are read in."""
    first, second = _start(forum, basic, "First"), _start(forum, trusted, "Second")
    same = timezone.now() - timedelta(hours=1)
    Post.objects.filter(topic__forum=forum).update(created_at=same)
    Topic.objects.filter(forum=forum).update(created_at=same, last_post_at=same)
    topic_flag_set(topic_id=second.pk, moderator=moderator, action="pin")
    assert _forum_state(forum) == (2, 2, second.pk, trusted.pk, same)
    topic_flag_set(topic_id=first.pk, moderator=moderator, action="pin")
    assert _forum_state(forum) == (2, 2, second.pk, trusted.pk, same)
    _settled()


# --- Hidden and deleted rows in the counters -------------------------------------------------


def test_a_hidden_opening_post_takes_its_topic_and_replies_out_of_the_forum(forum, basic, trusted, moderator):
    """Hiding an opening post hides the topic: the forum stops counting it and its public
    replies and shows the other topic as last activity; showing it again restores both."""
    other = _start(forum, trusted, "Other topic")
    topic = _start(forum, basic, "Reported topic")
    _reply(topic, trusted, "One"), _reply(topic, trusted, "Two")
    _hide_by_reports(_opening(topic))
    assert _fresh(topic).is_hidden
    assert _forum_state(forum)[:3] == (1, 1, other.pk)
    _settled()
    reports_resolve(post_id=_opening(topic).pk, moderator=moderator, decision="disagree")
    assert _forum_state(forum)[:3] == (2, 4, topic.pk)
    _settled()


def test_recount_rewrites_drifted_counters_from_hidden_held_and_deleted_rows(forum, basic, newbie, trusted, moderator):
    """``forum_counters_recount`` (bulk loads, repair) gives what the services keep: hidden,
    held and deleted posts count nowhere publicly, held ones still count for their author."""
    topic = _start(forum, basic)
    hidden, deleted = _reply(topic, trusted, "Hidden"), _reply(topic, trusted, "Deleted")
    _reply(topic, newbie, "Held", publish=False)
    _hide_by_reports(hidden)
    post_delete(post_id=deleted.pk, actor=moderator)
    kept = (_forum_state(forum), _fresh(topic).post_count, _user_counts(trusted), _user_counts(newbie))
    assert kept[1:] == (1, (0, 1, 1), (0, 1, 0))
    Forum.objects.update(topic_count=9, post_count=9, last_topic=None, last_poster=None, last_post_at=None)
    Topic.objects.update(post_count=9)
    forum_counters_recount()
    assert (_forum_state(forum), _fresh(topic).post_count, _user_counts(trusted), _user_counts(newbie)) == kept
    _settled()


# --- Edits -----------------------------------------------------------------------------------


def test_a_new_gardeners_edit_waits_and_approval_applies_it_as_theirs(forum, newbie, basic, moderator):
    """An edit under review keeps the public text, stores the rendered pending text and clears
    an earlier refusal; approving it applies it as a revision by its author, clears the
    pending edit and is audited; a second decision finds nothing to decide."""
    topic = _start(forum, basic)
    post = _reply(topic, newbie, "Original tip", publish=True)
    Post.objects.filter(pk=post.pk).update(edit_rejection_reason="Earlier refusal")
    assert post_edit(post_id=post.pk, editor=newbie, source="Better **tip**", review=True) is False
    waiting = _fresh(post)
    assert (waiting.source, waiting.pending_source, waiting.edit_rejection_reason) == (
        "Original tip",
        "Better **tip**",
        "",
    )
    assert "<strong>tip</strong>" in waiting.pending_html and waiting.has_pending_edit

    assert post_edit_decide(post_id=post.pk, moderator=moderator, approve=True) is True
    applied = _fresh(post)
    assert (applied.source, applied.edit_count, applied.pending_source, applied.pending_html) == (
        "Better **tip**",
        1,
        "",
        "",
    )
    assert "<strong>tip</strong>" in applied.html and not applied.has_pending_edit and applied.updated_at is not None
    revision = PostRevision.objects.get(post=post)
    assert (revision.editor_id, revision.previous_source) == (newbie.pk, "Original tip")
    [approve] = _audits("post.edit_approve")
    assert (approve.actor_id, approve.target_id, approve.reason, approve.metadata) == (
        moderator.pk,
        str(post.pk),
        "",
        {"topic_id": topic.pk},
    )
    assert post_edit_decide(post_id=post.pk, moderator=moderator, approve=True) is False
    assert PostRevision.objects.filter(post=post).count() == 1 and len(_audits("post.edit_approve")) == 1
    _settled()


def test_a_refused_edit_keeps_the_public_text_and_tells_the_author_why(forum, newbie, basic, moderator):
    """Refusing drops the pending text and shows the moderator's reason, or a default one;
    the public text and revisions are untouched; audited with the reason given."""
    post = _reply(_start(forum, basic), newbie, "Original tip")
    post_edit(post_id=post.pk, editor=newbie, source="Buy my fertiliser", review=True)
    assert post_edit_decide(post_id=post.pk, moderator=moderator, approve=False) is True
    refused = _fresh(post)
    assert (refused.source, refused.pending_source, refused.pending_html, refused.pending_at) == (
        "Original tip",
        "",
        "",
        None,
    )
    assert refused.edit_rejection_reason == "Declined by a moderator."
    post_edit(post_id=post.pk, editor=newbie, source="Buy it now", review=True)
    assert post_edit_decide(post_id=post.pk, moderator=moderator, approve=False, reason="No advertising") is True
    assert _fresh(post).edit_rejection_reason == "No advertising"
    assert [(row.actor_id, row.reason) for row in _audits("post.edit_reject")] == [
        (moderator.pk, ""),
        (moderator.pk, "No advertising"),
    ]
    assert not PostRevision.objects.filter(post=post).exists()
    _settled()


def test_a_direct_edit_records_its_editor_and_replaces_a_pending_edit(forum, basic, trusted):
    """An edit applied at once keeps the previous text as a revision by the editor, stamps
    the edit time and drops any pending edit."""
    post = _reply(_start(forum, trusted), basic, "First version")
    post_edit(post_id=post.pk, editor=basic, source="Pending version", review=True)
    assert post_edit(post_id=post.pk, editor=basic, source="Final version", review=False) is True
    edited = _fresh(post)
    assert (edited.source, edited.pending_source, edited.pending_html, edited.pending_at) == (
        "Final version",
        "",
        "",
        None,
    )
    assert edited.updated_at is not None
    revision = PostRevision.objects.get(post=post)
    assert (revision.editor_id, revision.previous_source) == (basic.pk, "First version")


def test_a_pending_edit_of_a_deleted_post_is_not_decided(forum, newbie, basic, moderator):
    """Once the post is deleted its pending edit is moot: False, nothing applied or logged."""
    post = _reply(_start(forum, basic), newbie, "Original tip")
    post_edit(post_id=post.pk, editor=newbie, source="Edited", review=True)
    post_delete(post_id=post.pk, actor=newbie)
    assert post_edit_decide(post_id=post.pk, moderator=moderator, approve=True) is False
    assert _fresh(post).source == "Original tip" and _audits("post.edit_approve") == []


# --- Trust levels and notifications ----------------------------------------------------------


def test_trust_level_requirements_are_reached_at_exactly_the_numbers(db):
    """5 approved posts and 7 days make `basic` (SPEC "Domain"), not one less of either; the
    promotion is audited as automatic with both levels."""
    now = timezone.now()
    ready = factories.UserFactory(approved_post_count=5, date_joined=now - timedelta(days=7))
    short_a_post = factories.UserFactory(approved_post_count=4, date_joined=now - timedelta(days=7))
    short_a_second = factories.UserFactory(
        approved_post_count=5, date_joined=now - timedelta(days=7) + timedelta(seconds=1)
    )
    with transaction.atomic():
        assert trust_level_promote(user_id=ready.pk, now=now) == "basic"
        assert trust_level_promote(user_id=short_a_post.pk, now=now) is None
        assert trust_level_promote(user_id=short_a_second.pk, now=now) is None
    [promote] = _audits("trust.promote")
    assert (promote.actor_id, promote.target_type, promote.target_id, promote.reason, promote.metadata) == (
        None,
        "user",
        str(ready.pk),
        "Automatic: new -> basic",
        {"from": "new", "to": "basic"},
    )


def test_the_daily_pass_counts_promotions_at_the_time_it_is_given(db):
    """``trust_levels_update_all(now=...)`` judges account age at ``now`` and returns how many
    gardeners it promoted (not how many it looked at)."""
    later = timezone.now() + timedelta(days=30)
    young = [factories.UserFactory(approved_post_count=5) for _ in range(2)]
    not_yet_trusted = factories.UserFactory(trust_level=TrustLevel.BASIC, approved_post_count=6)
    assert trust_levels_update_all(now=later) == 2
    assert {_fresh(user).trust_level for user in young} == {"basic"}
    assert _fresh(not_yet_trusted).trust_level == "basic"


def test_every_active_mentioned_gardener_is_notified(forum, basic):
    """Each @mentioned active gardener gets one notification; an inactive account none."""
    ana, ben = factories.UserFactory(username="ana"), factories.UserFactory(username="ben")
    gone = factories.UserFactory(username="ivy", is_active=False)
    post = _reply(_start(forum, basic), basic, "Ask @ana, @Ben or @ivy")
    mentioned = set(
        Notification.objects.filter(target_key=f"forum.post:{post.pk}", kind="mention").values_list(
            "recipient_id", flat=True
        )
    )
    assert mentioned == {ana.pk, ben.pk} and gone.pk not in mentioned


# --- Locks ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_move_locks_both_forums_before_it_changes_anything(forum, garden, basic, moderator):
    """Writers lock a topic's forums together, in id order, on entry, so two writers never
    lock them in opposite orders (no deadlock). Seen from outside: while another transaction
    holds the destination forum, a move out of a forum with a higher id waits *before* taking
    its own forum, which another writer can still lock."""
    destination, source = sorted((forum, garden), key=lambda row: row.pk)
    topic = _start(source, basic)
    errors = []

    def move():
        try:
            topic_move(topic_id=topic.pk, actor=moderator, to_forum=destination)
        except Exception as error:  # handed to the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    mover = threading.Thread(target=move)
    with transaction.atomic():
        Forum.objects.select_for_update().get(pk=destination.pk)
        mover.start()
        _wait_for_a_lock_wait()
        assert _lock_is_free(source.pk)
    mover.join(timeout=30)
    assert not mover.is_alive() and errors == []
    assert _fresh(topic).forum_id == destination.pk
    _settled()


def _wait_for_a_lock_wait(seconds: float = 10.0) -> None:
    """Return once another session of this database waits for a lock."""
    deadline = timezone.now() + timedelta(seconds=seconds)
    with connection.cursor() as cursor:
        while timezone.now() < deadline:
            # Activity statistics are a snapshot taken once per transaction: take a new one.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.05)
    raise AssertionError("the move never waited for the destination forum")


def _lock_is_free(forum_id: int) -> bool:
    """Whether a third session can lock forum ``forum_id`` at once (``NOWAIT``)."""
    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            table = other.ops.quote_name(Forum._meta.db_table)
            cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE NOWAIT", [forum_id])
        return True
    except OperationalError:
        return False
    finally:
        other.rollback()
        other.close()
