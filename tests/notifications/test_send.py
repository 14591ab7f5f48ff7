"""The rules ``notifications_send`` applies for every domain (issue 12): no notification to
yourself, none to an inactive account, duplicates collapse, and removal needs a scope."""

import pytest

from apps.notifications.models import Notification, NotificationKind
from apps.notifications.services import notifications_delete, notifications_send, notifications_visibility_set
from tests.factories import UserFactory

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
