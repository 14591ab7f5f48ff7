"""The rules ``notifications_send`` applies for every domain (issue 12): no notification to
yourself, none to an inactive account, duplicates collapse, and removal needs a scope."""

import pytest

from apps.forum.services import reply_create, topic_create
from apps.notifications.models import Notification, NotificationKind
from apps.notifications.services import notifications_delete, notifications_send, notifications_visibility_set
from apps.plants.models import PlantIdentificationRequest
from tests.factories import ForumFactory, IdentificationRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


def _send(recipient_ids, actor_id, **extra):
    return notifications_send(
        recipient_ids=recipient_ids,
        actor_id=actor_id,
        kind=NotificationKind.SUGGESTION,
        group_key="plants.request:1",
        group_title="Your plant",
        url="/plants/requests/1/",
        target_key="plants.suggestion:1",
        **extra,
    )


def test_send_skips_the_actor_and_inactive_accounts_and_collapses_duplicates():
    """The actor is never notified of their own act; a deactivated account gets nothing."""
    actor, owner, gone = UserFactory(), UserFactory(), UserFactory(is_active=False)
    rows = _send([owner.pk, owner.pk, actor.pk, gone.pk], actor.pk)
    assert [row.recipient_id for row in rows] == [owner.pk]
    assert Notification.objects.filter(recipient=owner).count() == 1
    assert not Notification.objects.filter(recipient__in=[actor, gone]).exists()


def test_visibility_and_delete_by_target():
    """Hiding follows the target key; a delete needs a group or a target."""
    actor, owner = UserFactory(), UserFactory()
    _send([owner.pk], actor.pk)
    assert notifications_visibility_set(target_keys=["plants.suggestion:1"], visible=False) == 1
    assert not Notification.objects.get(recipient=owner).is_visible
    with pytest.raises(ValueError):
        notifications_delete()
    assert notifications_delete(group_key="plants.request:1") == 1


def test_notifications_go_when_their_post_topic_or_request_row_is_deleted():
    """A hard delete (the admin, a cascade) leaves no notification pointing at nothing: a
    post's by its target key, a topic's and an identification request's by their group."""
    rosa, ben = UserFactory(trust_level="basic"), UserFactory(trust_level="basic")
    forum = ForumFactory()
    topic = topic_create(forum=forum, poster=rosa, subject="Yellow leaves", source="Why?", publish=True)
    reply = reply_create(topic=topic, poster=ben, source="Too much water.", publish=True)
    assert Notification.objects.filter(recipient=rosa, target_key=f"forum.post:{reply.pk}").exists()
    reply.delete()
    assert not Notification.objects.filter(target_key=f"forum.post:{reply.pk}").exists()
    reply_create(topic=topic, poster=ben, source="Or too little light.", publish=True)
    assert Notification.objects.filter(group_key=f"forum.topic:{topic.pk}").exists()
    topic.delete()
    assert not Notification.objects.filter(group_key=f"forum.topic:{topic.pk}").exists()

    id_request = IdentificationRequestFactory(owner=rosa)
    notifications_send(
        recipient_ids=[rosa.pk],
        actor_id=ben.pk,
        kind=NotificationKind.SUGGESTION,
        group_key=f"plants.request:{id_request.pk}",
        group_title="Your plant",
        url=id_request.get_absolute_url(),
        target_key=f"plants.request:{id_request.pk}",
    )
    PlantIdentificationRequest.objects.filter(pk=id_request.pk).delete()
    assert not Notification.objects.filter(group_key=f"plants.request:{id_request.pk}").exists()
