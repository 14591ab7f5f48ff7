"""Forum transitions keep denormalized state equal to the recount, and the moderators' tools
(issue 9, sections 2 to 4): each failing case of the issue as a test, plus the other
instances of its kind."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.html import strip_tags

from apps.accounts.models import TrustLevel, User
from apps.core.models import ModerationAction
from apps.forum.models import Forum, Post, Report, Topic
from apps.forum.recount import forum_state_drift
from apps.forum.services import (
    post_approve,
    post_delete,
    post_edit,
    reply_create,
    report_create,
    reports_resolve,
    topic_create,
    topic_move,
)
from apps.notifications.models import Notification
from tests import factories

from .conftest import seen

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unthrottled")]
HTMX = {"HX-Request": "true"}


@pytest.fixture
def forum(db):
    return factories.ForumFactory(name="Houseplants", slug="houseplants")


@pytest.fixture
def people(db):
    moderator = factories.UserFactory(username="mod", trust_level=TrustLevel.VETERAN)
    moderator.groups.add(Group.objects.get(name="moderators"))
    return {
        "a": factories.UserFactory(username="anna", trust_level=TrustLevel.BASIC),
        "b": factories.UserFactory(username="bert", trust_level=TrustLevel.BASIC),
        "new": factories.UserFactory(username="newbie", trust_level=TrustLevel.NEW),
        "trusted": factories.UserFactory(username="tess", trust_level=TrustLevel.TRUSTED),
        "mod": moderator,
    }


def _opening(topic) -> Post:
    return Post.objects.get(topic_id=topic.pk, is_opening_post=True)


# --- Denormalized state ---------------------------------------------------------------------


def test_deleting_the_last_reply_moves_last_activity_back(client, forum, people):
    """Issue 9's failing case: A opens a topic, B replies, B deletes the reply: the topic,
    the forum list and /forum/ name A at the opening post's time again."""
    topic = topic_create(forum=forum, poster=people["a"], subject="Yellow fern", source="Help", publish=True)
    opening = _opening(topic)
    reply = reply_create(topic=topic, poster=people["b"], source="Water less", publish=True)
    client.force_login(people["b"])
    assert client.post(reverse("forum:post-delete", args=[reply.pk])).status_code == 302
    topic = Topic.objects.get(pk=topic.pk)
    forum.refresh_from_db()
    assert (topic.last_poster_id, topic.last_post_at, topic.post_count) == (people["a"].pk, opening.created_at, 1)
    assert (forum.last_poster_id, forum.last_post_at, forum.post_count) == (people["a"].pk, opening.created_at, 1)
    listing = client.get(forum.get_absolute_url()).content.decode()
    index = client.get(reverse("forum:index")).content.decode()
    by_anna, by_bert = 'by <a href="/u/anna/" class="user-link">anna</a>', 'by <a href="/u/bert/"'
    assert by_anna in listing and by_bert not in listing
    assert by_anna in index and by_bert not in index
    assert forum_state_drift() == []


def test_a_move_updates_both_forums_last_activity(forum, people):
    """Moving the newest topic away gives the old forum its next newest topic as last activity
    and the new forum this one; counters follow; audited."""
    garden = factories.ForumFactory(name="Garden", slug="garden")
    older = topic_create(forum=forum, poster=people["a"], subject="Older", source="x", publish=True)
    newer = topic_create(forum=forum, poster=people["b"], subject="Newer", source="y", publish=True)
    reply_create(topic=newer, poster=people["a"], source="z", publish=True)
    assert topic_move(topic_id=newer.pk, actor=people["mod"], to_forum=garden, reason="Outdoor plant")
    forum.refresh_from_db()
    garden.refresh_from_db()
    assert (forum.last_topic_id, forum.topic_count, forum.post_count) == (older.pk, 1, 1)
    assert (garden.last_topic_id, garden.last_poster_id, garden.topic_count, garden.post_count) == (
        newer.pk,
        people["a"].pk,
        1,
        2,
    )
    action = ModerationAction.objects.get(action="topic.move")
    assert (action.reason, action.metadata) == ("Outdoor plant", {"from_forum": forum.pk, "to_forum": garden.pk})
    assert not topic_move(topic_id=newer.pk, actor=people["mod"], to_forum=garden)
    assert forum_state_drift() == []


def test_approving_twice_counts_and_notifies_once(forum, people):
    """A held reply approved twice (two moderators at once, a double click): counters,
    notifications and the audit log move once."""
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    held = reply_create(topic=topic, poster=people["new"], source="Hello @bert", publish=False)
    assert post_approve(post_id=held.pk, moderator=people["mod"])
    assert not post_approve(post_id=held.pk, moderator=people["mod"])
    assert Topic.objects.get(pk=topic.pk).post_count == 2
    assert User.objects.get(pk=people["new"].pk).approved_post_count == 1
    assert (
        Notification.objects.filter(target_key=f"forum.post:{held.pk}").count() == 2
    )  # reply to anna, mention of bert
    assert ModerationAction.objects.filter(action="post.approve").count() == 1
    assert forum_state_drift() == []


def test_reports_count_per_post_and_a_trusted_report_hides_only_a_new_gardeners_post(forum, people):
    """Open reports on *other* posts never count towards hiding a post; one report from a
    `trusted` gardener hides a `new` gardener's post but not a `basic` one's."""
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    first = reply_create(topic=topic, poster=people["b"], source="one", publish=True)
    second = reply_create(topic=topic, poster=people["b"], source="two", publish=True)
    reporters = [factories.UserFactory(trust_level=TrustLevel.BASIC) for _ in range(3)]
    for reporter in reporters[:2]:
        report_create(post_id=first.pk, reporter=reporter, reason="spam", detail="")
    assert not report_create(post_id=second.pk, reporter=reporters[2], reason="spam", detail="")
    assert not Post.objects.get(pk=second.pk).is_hidden
    assert not report_create(post_id=second.pk, reporter=people["trusted"], reason="spam", detail="")
    assert not Post.objects.get(pk=second.pk).is_hidden
    assert report_create(post_id=first.pk, reporter=reporters[2], reason="spam", detail="")
    newbies = reply_create(topic=topic, poster=people["new"], source="buy", publish=True)
    assert report_create(post_id=newbies.pk, reporter=people["trusted"], reason="spam", detail="")
    hide = ModerationAction.objects.get(action="post.hide", target_id=str(newbies.pk))
    assert hide.actor is None and "Trusted" in hide.reason
    assert forum_state_drift() == []


def test_deciding_one_posts_reports_leaves_other_posts_reports_open(forum, people):
    """A decision closes only that post's open reports, with the decision as their status."""
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    first = reply_create(topic=topic, poster=people["b"], source="one", publish=True)
    second = reply_create(topic=topic, poster=people["b"], source="two", publish=True)
    report_create(post_id=first.pk, reporter=people["trusted"], reason="spam", detail="")
    report_create(post_id=second.pk, reporter=people["trusted"], reason="abuse", detail="")
    assert reports_resolve(post_id=first.pk, moderator=people["mod"], decision="ignore")
    assert Report.objects.get(post=first).status == Report.Status.IGNORED
    assert Report.objects.get(post=second).status == Report.Status.OPEN


def test_agreeing_with_reports_on_an_opening_post_deletes_the_topic_and_its_replies(forum, people):
    """ "agree" deletes the reported post; for an opening post the whole topic goes, every
    reply with it, and every poster's counters and the forum's follow."""
    topic = topic_create(forum=forum, poster=people["new"], subject="Spam topic", source="buy", publish=False)
    post_approve(post_id=_opening(topic).pk, moderator=people["mod"])
    reply_create(topic=topic, poster=people["a"], source="Not again", publish=True)
    report_create(post_id=_opening(topic).pk, reporter=people["trusted"], reason="spam", detail="")
    assert Topic.objects.get(pk=topic.pk).is_hidden
    assert reports_resolve(post_id=_opening(topic).pk, moderator=people["mod"], decision="agree", reason="Spam")
    topic = Topic.objects.get(pk=topic.pk)
    assert topic.is_deleted and not Post.objects.filter(topic=topic, is_deleted=False).exists()
    assert (User.objects.get(pk=people["a"].pk).post_count, User.objects.get(pk=people["new"].pk).topic_count) == (0, 0)
    forum.refresh_from_db()
    assert (forum.topic_count, forum.post_count, forum.last_topic_id) == (0, 0, None)
    assert ModerationAction.objects.filter(action="report.agree", reason="Spam").count() == 1
    assert Report.objects.get().status == Report.Status.AGREED
    assert forum_state_drift() == []


def test_moderator_deletions_are_audited_and_own_deletions_are_not(forum, people):
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    own = reply_create(topic=topic, poster=people["b"], source="mine", publish=True)
    theirs = reply_create(topic=topic, poster=people["b"], source="rude", publish=True)
    post_delete(post_id=own.pk, actor=people["b"])
    post_delete(post_id=theirs.pk, actor=people["mod"], reason="Rude")
    post_delete(post_id=_opening(topic).pk, actor=people["mod"], reason="Duplicate")
    actions = list(ModerationAction.objects.values_list("action", "target_id", "reason", "metadata"))
    assert actions == [
        ("post.delete", str(theirs.pk), "Rude", {"topic_id": topic.pk}),
        ("topic.delete", str(topic.pk), "Duplicate", {"replies": 0, "subject": "Fern"}),
    ]


def test_forum_recount_check_reports_drift_and_repairs_it(forum, people):
    """``manage.py forum_recount --check`` exits 1 naming each drifted field (hidden and
    deleted rows included) and changes nothing; without ``--check`` it repairs."""
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    hidden = reply_create(topic=topic, poster=people["new"], source="spam", publish=True)
    report_create(post_id=hidden.pk, reporter=people["trusted"], reason="spam", detail="")
    deleted = reply_create(topic=topic, poster=people["b"], source="oops", publish=True)
    post_delete(post_id=deleted.pk, actor=people["b"])
    out = io.StringIO()
    call_command("forum_recount", "--check", stdout=out)
    assert "No drift" in out.getvalue()
    Topic.objects.filter(pk=topic.pk).update(post_count=5, is_hidden=True)
    Forum.objects.filter(pk=forum.pk).update(last_poster=people["b"])
    User.objects.filter(pk=people["new"].pk).update(post_count=0)
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("forum_recount", "--check", stdout=out)
    assert failed.value.returncode == 1
    report = out.getvalue()
    assert f"topic {topic.pk}: post_count is 5, expected 1" in report
    assert f"topic {topic.pk}: is_hidden is True, expected False" in report
    assert f"forum {forum.pk}: last_poster_id is {people['b'].pk}" in report
    assert f"user {people['new'].pk}: post_count is 0, expected 1" in report
    assert Topic.objects.get(pk=topic.pk).post_count == 5
    call_command("forum_recount", stdout=io.StringIO())
    assert forum_state_drift() == []


# --- Writing rules --------------------------------------------------------------------------


def test_a_mention_inside_a_fenced_block_notifies_nobody(client, forum, people):
    """Issue 9's failing case: a reply whose only mention sits in a fenced code block (or a
    code span, or a link) notifies nobody; a plain mention does."""
    topic = topic_create(forum=forum, poster=people["mod"], subject="Fern", source="x", publish=True)
    client.force_login(people["a"])
    for source in ("```\nping @bert\n```", "Try `@bert`", "See [@bert](https://example.org/@bert)"):
        client.post(reverse("forum:reply-create", args=[topic.pk]), {"source": source})
    assert not Notification.objects.filter(recipient=people["b"]).exists()
    client.post(reverse("forum:reply-create", args=[topic.pk]), {"source": "Thanks @bert!"})
    assert Notification.objects.filter(recipient=people["b"], kind="mention").count() == 1


def test_a_new_gardeners_edit_of_an_approved_post_waits_for_review(client, forum, people):
    """A `new` gardener edits an approved post: the approved text stays public, the edit waits
    in the review queue as a diff; approving applies it (recorded as a revision), declining
    keeps the old text and tells the author why."""
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    post = reply_create(topic=topic, poster=people["new"], source="Water every day", publish=False)
    post_approve(post_id=post.pk, moderator=people["mod"])
    client.force_login(people["new"])
    client.post(reverse("forum:post-edit", args=[post.pk]), {"source": "Water every week"})
    post.refresh_from_db()
    assert post.source == "Water every day" and post.pending_source == "Water every week"
    client.force_login(people["b"])
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "Water every day" in page and "Water every week" not in page
    client.force_login(people["mod"])
    queue = client.get(reverse("moderation:queue")).content.decode()
    assert "<del>day</del><ins>week</ins>" in queue and "1 edit to review" in queue
    decided = client.post(
        reverse("moderation:edit-decide", args=[post.pk, "approve"]), {"seen": seen(post.pk)}, headers=HTMX
    )
    assert decided.status_code == 200 and "editApproved" in decided["HX-Trigger"]
    assert 'id="queue-counts" hx-swap-oob="true">0 held' in decided.content.decode()
    post.refresh_from_db()
    assert (post.source, post.pending_at, post.edit_count) == ("Water every week", None, 1)
    # A second edit, declined with a reason the author sees.
    client.force_login(people["new"])
    client.post(reverse("forum:post-edit", args=[post.pk]), {"source": "Never water"})
    client.force_login(people["mod"])
    client.post(
        reverse("moderation:edit-decide", args=[post.pk, "reject"]),
        {"reason": "That would kill it", "seen": seen(post.pk)},
    )
    post.refresh_from_db()
    assert (post.source, post.pending_at) == ("Water every week", None)
    client.force_login(people["new"])
    assert "That would kill it" in client.get(topic.get_absolute_url()).content.decode()
    assert {"post.edit_approve", "post.edit_reject"} <= set(ModerationAction.objects.values_list("action", flat=True))


def test_edits_of_held_posts_and_by_basic_gardeners_apply_at_once(forum, people):
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    held = reply_create(topic=topic, poster=people["new"], source="first", publish=False)
    assert post_edit(post_id=held.pk, editor=people["new"], source="second", review=False)
    assert Post.objects.get(pk=held.pk).source == "second"


# --- Moderator inputs and tools -------------------------------------------------------------


@pytest.mark.parametrize("reason", ["spam\x00", "x" * 501], ids=["nul", "overlong"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_bad_reasons_on_topic_tools_change_nothing(client, forum, people, reason, htmx):
    """A NUL byte or a 501-character reason on lock/pin or move is refused by the form (400
    for htmx, the form shown again otherwise) and changes nothing, audit log included."""
    garden = factories.ForumFactory(slug="garden", name="Garden")
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    client.force_login(people["mod"])
    headers = HTMX if htmx else {}
    lock = client.post(
        reverse("forum:topic-moderate", args=[topic.pk]), {"action": "lock", "reason": reason}, headers=headers
    )
    move = client.post(
        reverse("forum:topic-move", args=[topic.pk]), {"forum": "garden", "reason": reason}, headers=headers
    )
    assert (lock.status_code, move.status_code) == ((400, 400) if htmx else (200, 200))
    for response in (lock, move):
        body = response.content.decode()
        assert "Null characters are not allowed" in body or "at most 500 characters" in body
    topic = Topic.objects.get(pk=topic.pk)
    assert not topic.is_locked and topic.forum_id == forum.pk != garden.pk
    assert not ModerationAction.objects.exists()


def test_lock_and_pin_record_an_optional_reason(client, forum, people):
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    client.force_login(people["mod"])
    client.post(reverse("forum:topic-moderate", args=[topic.pk]), {"action": "lock", "reason": "Solved"})
    client.post(reverse("forum:topic-moderate", args=[topic.pk]), {"action": "pin"})
    client.post(reverse("forum:topic-moderate", args=[topic.pk]), {"action": "pin"})  # already pinned: no entry
    assert list(ModerationAction.objects.order_by("id").values_list("action", "reason")) == [
        ("topic.lock", "Solved"),
        ("topic.pin", ""),
    ]
    assert client.post(reverse("forum:topic-moderate", args=[topic.pk]), {"action": "explode"}).status_code == 200
    assert ModerationAction.objects.count() == 2


def test_the_queue_lists_every_open_report_and_counts_update_out_of_band(client, forum, people):
    """/moderation/ lists every open report (reporter, reason, details, when) with the post and
    a link, including reports that have not hidden it; each decision swaps fresh counts."""
    topic = topic_create(forum=forum, poster=people["a"], subject="Ficus drops leaves", source="x", publish=True)
    post = reply_create(topic=topic, poster=people["b"], source="Buy my ficus food", publish=True)
    report_create(post_id=post.pk, reporter=people["trusted"], reason="spam", detail="Advertising")
    assert not Post.objects.get(pk=post.pk).is_hidden
    client.force_login(people["mod"])
    queue = client.get(reverse("moderation:queue")).content.decode()
    assert "Buy my ficus food" in queue and "Reported, still visible" in queue
    assert '<strong><a href="/u/tess/" class="user-link">tess</a></strong>: Spam: “Advertising”' in queue
    assert f'href="/forum/p/{post.pk}/"' in queue and "1 post with open reports" in queue
    decided = client.post(
        reverse("moderation:reports-decide", args=[post.pk, "disagree"]), {"seen": seen(post.pk)}, headers=HTMX
    )
    body = decided.content.decode()
    assert "reportsResolved" in decided["HX-Trigger"]
    assert 'hx-swap-oob="true">0 held from new members · 0 edits to review · 0 hidden after reports · 0 posts' in body
    late = client.post(reverse("moderation:reports-decide", args=[post.pk, "agree"]), {"seen": seen(post.pk)})
    assert late.status_code == 409 and "already decided" in late.content.decode()
    assert not Post.objects.get(pk=post.pk).is_deleted


def test_deleting_an_opening_post_asks_first_naming_the_replies(client, forum, people):
    """GET (or a POST without confirmation) shows the confirmation page with the number of
    replies that go with the topic; the confirmed POST deletes; a GET changes nothing."""
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    for index in range(3):
        reply_create(topic=topic, poster=people["b"], source=f"r{index}", publish=True)
    opening = _opening(topic)
    client.force_login(people["a"])
    asked = client.get(reverse("forum:post-delete", args=[opening.pk])).content.decode()
    assert "with its 3 replies" in asked and "Delete topic and 3 replies" in asked
    assert client.post(reverse("forum:post-delete", args=[opening.pk])).status_code == 200
    assert not Topic.objects.get(pk=topic.pk).is_deleted
    done = client.post(reverse("forum:post-delete", args=[opening.pk]), {"confirm": "on"})
    assert done.status_code == 302 and Topic.objects.get(pk=topic.pk).is_deleted
    assert User.objects.get(pk=people["b"].pk).post_count == 0
    assert forum_state_drift() == []


# --- Found by review: decisions on what the moderator saw, races, the queue's answers ----------


def test_a_decision_applies_only_to_the_text_the_moderator_saw(client, forum, people):
    """The queue sends the version of the text the moderator reviewed. If the author edits a
    held post, or replaces a pending edit, after the moderator looked, approving answers 409,
    changes nothing, and shows the item again with the new text."""
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    held = reply_create(topic=topic, poster=people["new"], source="Harmless advice", publish=False)
    reviewed = seen(held.pk)
    post_edit(post_id=held.pk, editor=people["new"], source="SPAM swapped in while held", review=False)
    client.force_login(people["mod"])
    answer = client.post(reverse("moderation:post-approve", args=[held.pk]), {"seen": reviewed}, headers=HTMX)
    body = answer.content.decode()
    assert answer.status_code == 409 and "changed after you opened the queue" in body
    assert "SPAM swapped in while held" in body and f'id="queue-{held.pk}"' in body
    assert not Post.objects.get(pk=held.pk).is_approved

    approved = reply_create(topic=topic, poster=people["new"], source="Water weekly", publish=False)
    post_approve(post_id=approved.pk, moderator=people["mod"])
    post_edit(post_id=approved.pk, editor=people["new"], source="Water weekly, harmless", review=True)
    reviewed = seen(approved.pk)
    post_edit(post_id=approved.pk, editor=people["new"], source="BUY CHEAP PILLS", review=True)
    answer = client.post(reverse("moderation:edit-decide", args=[approved.pk, "approve"]), {"seen": reviewed})
    assert answer.status_code == 409
    assert Post.objects.get(pk=approved.pk).source == "Water weekly"
    assert (
        client.post(
            reverse("moderation:edit-decide", args=[approved.pk, "approve"]), {"seen": seen(approved.pk)}
        ).status_code
        == 302
    )
    assert Post.objects.get(pk=approved.pk).source == "BUY CHEAP PILLS"  # approved knowingly this time


def test_a_reply_to_a_topic_deleted_or_locked_meanwhile_is_refused(forum, people):
    """The view's checks ran on a topic read before the lock: the service checks again under
    the topic's row lock, so no reply lands in a deleted topic, or from a gardener in a
    locked one (moderators may still reply there)."""
    from apps.forum.services import TopicClosed, topic_flag_set

    deleted = topic_create(forum=forum, poster=people["a"], subject="Going", source="x", publish=True)
    stale = Topic.objects.get(pk=deleted.pk)
    post_delete(post_id=_opening(deleted).pk, actor=people["a"])
    with pytest.raises(TopicClosed):
        reply_create(topic=stale, poster=people["b"], source="late", publish=True)
    locked = topic_create(forum=forum, poster=people["a"], subject="Solved", source="x", publish=True)
    stale = Topic.objects.get(pk=locked.pk)
    topic_flag_set(topic_id=locked.pk, moderator=people["mod"], action="lock")
    with pytest.raises(TopicClosed):
        reply_create(topic=stale, poster=people["b"], source="late", publish=True)
    assert reply_create(topic=stale, poster=people["mod"], source="Closing note", publish=True).is_approved
    assert not Post.objects.filter(poster=people["b"]).exists()
    assert forum_state_drift() == []


@pytest.mark.django_db(transaction=True)
def test_replies_racing_a_topic_deletion_never_outlive_it():
    """12 gardeners reply at the moment the author deletes the topic (threads on a barrier,
    each with its own connection): every reply either landed before the deletion (and was
    deleted with the topic) or was refused; no live reply is left in a deleted topic, and the
    counters equal the recount."""
    import threading

    from django.db import connection
    from django.test import Client

    forum = factories.ForumFactory(slug="houseplants")
    author = factories.UserFactory(username="anna", trust_level=TrustLevel.BASIC)
    topic = topic_create(forum=forum, poster=author, subject="Doomed", source="x", publish=True)
    opening = _opening(topic)
    repliers = [factories.UserFactory(trust_level=TrustLevel.BASIC) for _ in range(12)]
    barrier = threading.Barrier(13)
    statuses: list[int] = []

    def reply_as(user):
        try:
            client = Client()
            client.force_login(user)
            barrier.wait()
            statuses.append(
                client.post(reverse("forum:reply-create", args=[topic.pk]), {"source": "Me too"}).status_code
            )
        finally:
            connection.close()

    def delete():
        try:
            client = Client()
            client.force_login(author)
            barrier.wait()
            statuses.append(client.post(reverse("forum:post-delete", args=[opening.pk]), {"confirm": "on"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=reply_as, args=(user,)) for user in repliers] + [threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 13 and set(statuses) <= {302, 404, 409}
    assert Topic.objects.get(pk=topic.pk).is_deleted
    assert not Post.objects.filter(topic=topic, is_deleted=False).exists()
    assert forum_state_drift() == []


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_refused_queue_decisions_keep_the_item_and_say_why(client, forum, people, htmx):
    """A decision someone else already made answers 409 with a note (and fresh counts over
    htmx); a reason that is blank or too long answers with the item again (its post, its
    buttons, the typed reason and the message), never an empty row."""
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    held = reply_create(topic=topic, poster=people["new"], source="Held words", publish=False)
    client.force_login(people["mod"])
    headers = HTMX if htmx else {}
    blank = client.post(
        reverse("moderation:post-reject", args=[held.pk]), {"reason": "   ", "seen": seen(held.pk)}, headers=headers
    )
    body = blank.content.decode()
    assert blank.status_code == (400 if htmx else 200)
    assert "This field is required" in body and "Held words" in body and "Approve" in body
    too_long = "no " * 200
    long = client.post(
        reverse("moderation:post-reject", args=[held.pk]), {"reason": too_long, "seen": seen(held.pk)}, headers=headers
    )
    assert "at most 500 characters" in long.content.decode() and too_long.strip() in long.content.decode()
    assert not Post.objects.get(pk=held.pk).rejection_reason
    version = seen(held.pk)
    client.post(reverse("moderation:post-approve", args=[held.pk]), {"seen": version})
    again = client.post(reverse("moderation:post-approve", args=[held.pk]), {"seen": version}, headers=headers)
    assert again.status_code == 409 and "already decided" in again.content.decode()
    if htmx:
        assert 'hx-swap-oob="true">0 held' in again.content.decode()


def test_agreeing_with_reports_on_an_opening_post_asks_first(client, forum, people):
    """In the queue, "Agree and delete topic" first shows a confirmation naming the replies
    that go with the topic; only the confirmed POST deletes."""
    topic = topic_create(forum=forum, poster=people["b"], subject="Questionable", source="x", publish=True)
    reply_create(topic=topic, poster=people["a"], source="r1", publish=True)
    reply_create(topic=topic, poster=people["a"], source="r2", publish=True)
    opening = _opening(topic)
    report_create(post_id=opening.pk, reporter=people["trusted"], reason="spam", detail="")
    client.force_login(people["mod"])
    url = reverse("moderation:reports-decide", args=[opening.pk, "agree"])
    asked = client.post(url, {"seen": seen(opening.pk)}, headers=HTMX)
    assert asked.status_code == 200 and "with its 2 replies" in asked.content.decode()
    assert not Topic.objects.get(pk=topic.pk).is_deleted
    done = client.post(url, {"seen": seen(opening.pk), "confirm": "on"}, headers=HTMX)
    assert "reportsResolved" in done["HX-Trigger"] and Topic.objects.get(pk=topic.pk).is_deleted
    assert forum_state_drift() == []


def test_a_moderators_direct_edit_leaves_the_authors_pending_edit_waiting(client, forum, people):
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    post = reply_create(topic=topic, poster=people["new"], source="first", publish=False)
    post_approve(post_id=post.pk, moderator=people["mod"])
    post_edit(post_id=post.pk, editor=people["new"], source="second", review=True)
    client.force_login(people["mod"])
    assert "has an edit waiting" in client.get(reverse("forum:post-edit", args=[post.pk])).content.decode()
    client.post(reverse("forum:post-edit", args=[post.pk]), {"source": "first, typo fixed"})
    post.refresh_from_db()
    assert (post.source, post.pending_source) == ("first, typo fixed", "second")


def test_the_admin_cannot_change_forum_state_behind_the_services(client, forum, people):
    """Forum content is read-only in the admin: changing a post's flags there would bypass
    the counters and the audit log."""
    topic = topic_create(forum=forum, poster=people["a"], subject="Fern", source="x", publish=True)
    post = reply_create(topic=topic, poster=people["b"], source="y", publish=True)
    admin = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get(f"/admin/forum/post/{post.pk}/change/").status_code == 200
    changed = client.post(f"/admin/forum/post/{post.pk}/change/", {"is_hidden": "on", "source": "z"})
    assert changed.status_code == 403
    assert client.post(f"/admin/forum/post/{post.pk}/delete/", {"post": "yes"}).status_code == 403
    assert not Post.objects.get(pk=post.pk).is_hidden and forum_state_drift() == []


def test_the_log_does_not_link_to_deleted_posts_or_topics(client, forum, people):
    """Deleted rows are shown to nobody, so the log names them without a link (a link would
    be a 404, moderators included)."""
    topic = topic_create(forum=forum, poster=people["a"], subject="Gone topic", source="x", publish=True)
    post = reply_create(topic=topic, poster=people["b"], source="rude", publish=True)
    post_delete(post_id=post.pk, actor=people["mod"], reason="Rude")
    client.force_login(people["mod"])
    log = client.get(reverse("moderation:log")).content.decode()
    assert "mod deleted a post by bert" in strip_tags(log)
    assert f'href="/forum/p/{post.pk}/"' not in log and f'href="/forum/t/{topic.pk}/"' in log
    post_delete(post_id=_opening(topic).pk, actor=people["mod"], reason="Duplicate")
    log = client.get(reverse("moderation:log")).content.decode()
    assert "“Gone topic” (deleted)" in log and f'href="/forum/t/{topic.pk}/"' not in log
