"""Gardeners with a row in every table that holds something about a user, made through the
services (issue 11, "Your data"): the world the export and deletion tests share."""

import io
import uuid
from datetime import timedelta
from decimal import Decimal

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from PIL import Image

from apps.accounts.devices import family_seen_record
from apps.accounts.models import TrustLevel, User
from apps.accounts.session_services import api_session_record
from apps.accounts.settings_forms import AVATAR_PX
from apps.accounts.settings_services import profile_update
from apps.accounts.signin_services import tokens_start
from apps.core.permissions import MODERATORS_GROUP
from apps.core.uploads import PHOTO_MAX_PX, THUMBNAIL_PX, image_process
from apps.forum.models import Forum, Post, Report, Topic
from apps.forum.services import post_edit, reply_create, report_create, topic_create, topic_flag_set
from apps.notifications.delivery import notification_digests_claim
from apps.notifications.models import NotificationDelivery, NotificationKind
from apps.notifications.preferences_services import notification_preferences_set
from apps.notifications.services import notifications_send
from apps.plants.care.models import MAX_INTERVAL_DAYS
from apps.plants.care.reminders import care_reminders_claim
from apps.plants.care.services import care_task_done
from apps.plants.models import PlantSpecies
from apps.plants.services import care_card_toggle, identification_request_create, suggestion_add, suggestion_vote
from tests import factories

APP_USER_AGENT = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def unique_gardener(**kwargs) -> User:
    """A gardener whose name and email are random and unique, so searching any text for them
    finds only what is about them (``Gz5k...``, ``gz5k...@example.org``)."""
    tag = uuid.uuid4().hex[:12]
    return factories.UserFactory(
        username=f"Gz{tag}", email=f"mail{tag}@example.org", trust_level=TrustLevel.BASIC, **kwargs
    )


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _processed(images: list[Image.Image]) -> dict:
    """``photos`` and ``thumbnail`` for ``identification_request_create``, made by the upload
    pipeline as the form makes them (``apps.core.uploads.image_process``)."""
    photos, thumbnail = [], None
    for image in images:
        photo, small = image_process(_png(image), sizes=[PHOTO_MAX_PX, THUMBNAIL_PX])
        photos.append(photo)
        thumbnail = thumbnail or small
    return {"photos": photos, "thumbnail": thumbnail}


def give_everything(user: User, other: User, forum: Forum | None = None) -> dict:
    """Give ``user`` rows in every table about users, several of them involving ``other``:
    a topic ``other`` replied to (a notification), a reply in ``other``'s topic, an edit of
    their own post and (as a moderator) of ``other``'s reply, a report of ``other``'s reply, an
    identification request with two photos on which ``other`` suggests a name, a suggestion and
    votes on ``other``'s request, a care card, a pin (audit row), an admin-log entry about
    ``other``, a group and a permission, a profile (display name with the username, avatar,
    time zone, home location) and an app signed in by token. No text names ``other``. Returns
    the main rows."""
    forum = forum or factories.ForumFactory()
    user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    user.user_permissions.add(Permission.objects.get(codename="view_forum"))
    topic = topic_create(forum=forum, poster=user, subject="Yellow leaves on a fig", source="Why yellow?", publish=True)
    reply_by_other = reply_create(topic=topic, poster=other, source="Too much water, probably.", publish=True)
    others_topic = Topic.objects.filter(poster=other).order_by("pk").first() or topic_create(
        forum=forum, poster=other, subject="Aphids again", source="Any tips?", publish=True
    )
    reply = reply_create(topic=others_topic, poster=user, source="Soapy water works for me.", publish=True)
    post_edit(post_id=reply.pk, editor=user, source="Soapy water works well for me.", review=False)
    post_edit(post_id=reply_by_other.pk, editor=user, source="Too much water.", review=False)
    report_create(post_id=reply_by_other.pk, reporter=user, reason=Report.Reason.OFF_TOPIC, detail="Not about figs.")
    topic_flag_set(topic_id=topic.pk, moderator=user, action="pin", reason="Useful")
    species = list(PlantSpecies.objects.order_by("id")[:3])
    photos = [Image.new("RGB", (120, 90), (40, 120, 60)), Image.new("RGB", (90, 120), (90, 60, 30))]
    own_request = identification_request_create(owner=user, **_processed(photos), notes="On the windowsill")
    others_suggestion = suggestion_add(id_request=own_request, suggester=other, species=species[0], free_text_name="")
    others_request = identification_request_create(
        owner=other, **_processed([Image.new("RGB", (64, 64), (10, 90, 10))]), notes="By the pond"
    )
    rival = suggestion_add(id_request=others_request, suggester=other, species=species[1], free_text_name="")
    own_suggestion = suggestion_add(id_request=others_request, suggester=user, species=None, free_text_name="Pond fern")
    suggestion_vote(suggestion=rival, voter=user, agrees=False)
    card = care_card_toggle(owner=user, species=species[2])
    care_task_done(task=card.care_tasks.get(kind="water"), owner=user)  # a care task's history (issue 14)
    # Settings: a profile naming the gardener, an avatar, a home location, an app signed in
    # through the token API (its "Active sessions" record, and when it was last seen in Redis).
    (avatar,) = image_process(_png(Image.new("RGB", (300, 200), (200, 40, 40))), sizes=[AVATAR_PX], square=True)
    profile_update(
        user=user,
        display_name=f"{user.username} the gardener",
        time_zone="Europe/Paris",
        home_latitude=Decimal("51.5"),
        home_longitude=Decimal("-0.1"),
        avatar=avatar.content,
    )
    # Notification emails (issue 12): saved choices, and one daily digest (claimed, not sent);
    # the daily care reminder (issue 14) at 07:00, and one claimed once the card's tasks are due.
    notification_preferences_set(
        user=user, choices=dict.fromkeys(NotificationKind.values, NotificationDelivery.DIGEST), care_reminder_hour=7
    )
    notifications_send(
        recipient_ids=[user.pk],
        actor_id=other.pk,
        kind=NotificationKind.SUGGESTION,
        group_key=f"plants.request:{own_request.pk}",
        group_title="On the windowsill",
        url=f"/plants/requests/{own_request.pk}/",
        target_key=f"plants.suggestion:{others_suggestion.pk}",
    )
    notification_digests_claim(now=timezone.now().replace(hour=12) + timedelta(days=1))
    care_reminders_claim(now=timezone.now().replace(hour=12) + timedelta(days=MAX_INTERVAL_DAYS + 1))
    pair = tokens_start(user=user)
    api_session_record(user=user, family_id=pair.family_id, user_agent=APP_USER_AGENT, ip="203.0.113.9")
    family_seen_record(family_id=pair.family_id)
    LogEntry.objects.log_actions(
        user_id=user.pk, queryset=[other], action_flag=CHANGE, change_message="Changed trust level", single_object=True
    )
    return {
        "topic": topic,
        "reply": reply,
        "reply_by_other": reply_by_other,
        "others_topic": others_topic,
        "own_request": own_request,
        "others_request": others_request,
        "own_suggestion": own_suggestion,
        "others_suggestion": others_suggestion,
        "rival": rival,
        "opening_post": Post.objects.get(topic=topic, is_opening_post=True),
    }
