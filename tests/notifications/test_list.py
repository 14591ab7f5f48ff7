"""The list's lines for every kind (issue 12), the forum's visibility flag on the list, and the
forum's old notification addresses redirecting to the new ones."""

import pytest
from django.urls import reverse

from apps.accounts.models import TrustLevel
from apps.forum.models import Post
from apps.forum.services import post_approve, reply_create, report_create, reports_resolve, topic_create
from apps.notifications.models import Notification, NotificationKind
from apps.notifications.selectors import notification_groups_for_user
from apps.notifications.services import notifications_send
from tests import factories

pytestmark = pytest.mark.django_db

REQUEST = "plants.request:7"


def send(recipient, actor, kind, detail="", *, target="plants.suggestion:1"):
    notifications_send(
        recipient_ids=[recipient.pk],
        actor_id=actor.pk if actor else None,
        kind=kind,
        group_key=REQUEST,
        group_title="My fern",
        url="/plants/requests/7/",
        target_key=target,
        detail=detail,
    )


def lines(user) -> list[str]:
    [group] = notification_groups_for_user(user=user)
    return [line.text for line in group.lines]


def test_every_kind_has_a_line(gardener):
    """Each kind of NotificationKind reads as a sentence with its actors and detail; the newest
    line comes first."""
    ana, ben, cleo = (factories.UserFactory(username=name) for name in ("ana", "ben", "cleo"))
    send(gardener, ana, NotificationKind.REPLY)
    send(gardener, ben, NotificationKind.MENTION)
    send(gardener, ana, NotificationKind.SUGGESTION, "Meadow sage")
    for actor in (ana, ben, cleo):
        send(gardener, actor, NotificationKind.AGREEMENT, "Monstera deliciosa")
    send(gardener, ben, NotificationKind.DISAGREEMENT, "Monstera deliciosa")
    send(gardener, None, NotificationKind.CONSENSUS, "Monstera deliciosa")
    send(gardener, None, NotificationKind.MACHINE_RESULT)
    send(gardener, None, NotificationKind.MACHINE_FAILED)
    send(gardener, cleo, NotificationKind.ACCEPTED, "Meadow sage")
    assert lines(gardener) == [
        "cleo accepted your suggestion Meadow sage",
        "Machine suggestions unavailable",
        "Machine suggestions arrived",
        "Community consensus: Monstera deliciosa",
        "ben disagreed with Monstera deliciosa",
        "3 gardeners agreed with Monstera deliciosa",
        "ana suggested Meadow sage",
        "ben mentioned you",
        "ana replied",
    ]
    assert {kind.value for kind in NotificationKind} == {
        "reply", "mention", "suggestion", "agreement", "disagreement", "consensus", "machine_result",
        "machine_failed", "accepted",
    }  # fmt: skip


def test_lines_name_two_actors_and_count_many(gardener):
    """Two agreeing gardeners are named; many repliers show as the latest three and "N
    others"; a deleted account reads "A former member"."""
    people = [factories.UserFactory(username=name) for name in ("una", "vic", "wes", "xia", "yan")]
    for person in people[:2]:
        send(gardener, person, NotificationKind.AGREEMENT, "Ficus lyrata")
    assert lines(gardener) == ["vic and una agreed with Ficus lyrata"]
    for person in people:
        send(gardener, person, NotificationKind.REPLY)
    assert lines(gardener)[0] == "yan, xia, wes and 2 others replied"
    Notification.objects.all().delete()
    send(gardener, people[0], NotificationKind.SUGGESTION, "Ficus lyrata")
    people[0].delete()
    assert lines(gardener) == ["A former member suggested Ficus lyrata"]


def test_the_page_shows_lines_and_links_open_to_the_group(gardener, gardener_client):
    """An identification group shows its title as the open button and its lines; opening
    answers 303 to the latest notification's url and marks the group read."""
    send(gardener, factories.UserFactory(username="ana"), NotificationKind.SUGGESTION, "Meadow sage")
    body = gardener_client.get("/notifications/").content.decode()
    assert f'action="/notifications/{REQUEST}/open/"' in body
    assert "My fern" in body and '<li class="notification-line">ana suggested Meadow sage</li>' in body
    response = gardener_client.post(f"/notifications/{REQUEST}/open/")
    assert response.status_code == 303 and response["Location"] == "/plants/requests/7/"
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert gardener_client.post("/notifications/plants.request:8/open/").status_code == 404
    assert gardener_client.post(f"/notifications/{'x' * 300}/open/").status_code == 404


def test_read_groups_older_than_30_days_leave_the_list(gardener, gardener_client):
    """Read notifications older than 30 days are no longer listed; unread ones stay however old."""
    from datetime import timedelta

    from django.utils import timezone

    ana = factories.UserFactory(username="ana")
    send(gardener, ana, NotificationKind.SUGGESTION, "Old read")
    Notification.objects.update(created_at=timezone.now() - timedelta(days=31), read_at=timezone.now())
    assert notification_groups_for_user(user=gardener) == []
    send(gardener, ana, NotificationKind.SUGGESTION, "Old unread")
    Notification.objects.filter(read_at__isnull=True).update(created_at=timezone.now() - timedelta(days=90))
    assert lines(gardener) == ["ana suggested Old unread"]


# --- The forum's visibility flag ---------------------------------------------------------------


@pytest.fixture
def forum(db):
    return factories.ForumFactory(name="Houseplants", slug="houseplants")


def test_a_held_topic_keeps_mentions_hidden_until_approved_but_its_author_sees_replies(gardener, forum):
    """A moderator's reply in a held topic notifies the topic's author at once (they see their
    own held topic) and records the mention of ana hidden; approving the topic shows it."""
    newbie = factories.UserFactory(username="newbie", trust_level=TrustLevel.NEW)
    factories.UserFactory(username="ana")
    moderator = factories.UserFactory(username="mod", is_staff=True, is_superuser=True)
    topic = topic_create(forum=forum, poster=newbie, subject="Held fern", source="Help", publish=False)
    reply_create(topic=topic, poster=moderator, source="Hello @ana", publish=True)
    visible = dict(Notification.objects.values_list("recipient__username", "is_visible"))
    assert visible == {"newbie": True, "ana": False}
    post_approve(post_id=Post.objects.get(topic=topic, is_opening_post=True).pk, moderator=moderator)
    assert set(Notification.objects.values_list("is_visible", flat=True)) == {True}


def test_a_hidden_reply_hides_its_notifications_and_a_disagreeing_moderator_shows_them(gardener, forum):
    """Reports hide a reply: its notification leaves the badge; a moderator disagreeing with
    the reports shows it again; agreeing deletes the post and hides it for good."""
    topic = topic_create(forum=forum, poster=gardener, subject="Fern", source="Help", publish=True)
    ben = factories.UserFactory(username="ben", trust_level=TrustLevel.NEW)
    post = reply_create(topic=topic, poster=ben, source="Spam", publish=True)
    trusted = factories.UserFactory(trust_level=TrustLevel.TRUSTED)
    moderator = factories.UserFactory(is_staff=True, is_superuser=True)
    assert report_create(post_id=post.pk, reporter=trusted, reason="spam", detail="")
    assert not Notification.objects.get(recipient=gardener).is_visible
    reports_resolve(post_id=post.pk, moderator=moderator, decision="disagree")
    assert Notification.objects.get(recipient=gardener).is_visible
    report_create(
        post_id=post.pk, reporter=factories.UserFactory(trust_level=TrustLevel.TRUSTED), reason="spam", detail=""
    )
    reports_resolve(post_id=post.pk, moderator=moderator, decision="agree")
    assert not Notification.objects.get(recipient=gardener).is_visible


# --- The forum's old addresses -----------------------------------------------------------------


def test_old_forum_addresses_redirect(gardener_client):
    """GETs of the old page and badge answer 301 to the new ones (the badge's ``seen`` kept; an
    htmx poll of the old badge answers 286, stop polling);
    the old POSTs answer 308 (repeated as the same POST by the browser); a GET of the old
    POST-only addresses is still 405."""
    response = gardener_client.get("/forum/notifications/")
    assert response.status_code == 301 and response["Location"] == "/notifications/"
    response = gardener_client.get("/forum/notifications/badge/?seen=3")
    assert response.status_code == 301 and response["Location"] == "/notifications/badge/?seen=3"
    response = gardener_client.get("/forum/notifications/badge/?seen=3", headers={"HX-Request": "true"})
    assert response.status_code == 286  # an old tab's poll stops instead of navigating to a fragment
    response = gardener_client.post("/forum/notifications/read-all/")
    assert response.status_code == 308 and response["Location"] == "/notifications/read-all/"
    response = gardener_client.post("/forum/notifications/12/open/")
    assert response.status_code == 308 and response["Location"] == "/notifications/forum.topic:12/open/"
    assert gardener_client.get("/forum/notifications/12/open/").status_code == 405
    assert gardener_client.get("/forum/notifications/read-all/").status_code == 405
    assert reverse("notifications:open", args=["forum.topic:12"]) == "/notifications/forum.topic:12/open/"


def test_following_the_old_redirects_lands_on_working_pages(gardener_client, gardener, forum):
    """Followed, the old addresses give the new list and open a topic's notifications."""
    topic = topic_create(forum=forum, poster=gardener, subject="Fern", source="Help", publish=True)
    post = reply_create(topic=topic, poster=factories.UserFactory(username="ben"), source="Hi", publish=True)
    assert "Fern" in gardener_client.get("/forum/notifications/", follow=True).content.decode()
    response = gardener_client.post(f"/forum/notifications/{topic.pk}/open/", follow=False)
    response = gardener_client.post(response["Location"])
    assert response.status_code == 303 and response["Location"] == f"/forum/p/{post.pk}/"
