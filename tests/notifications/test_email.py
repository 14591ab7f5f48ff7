"""Notification emails at once, and the settings page that chooses them (issue 12): who is
emailed, when, what the email says, and that the page saves whole choices or nothing."""

import pytest
from django.core import mail
from django.db import transaction

from apps.notifications.delivery import notification_emails_send
from apps.notifications.models import (
    NOTIFICATION_DELIVERY_DEFAULTS,
    Notification,
    NotificationDelivery,
    NotificationKind,
    NotificationPreference,
)
from apps.notifications.preferences_selectors import notification_preferences_of
from apps.notifications.preferences_services import notification_preferences_set
from apps.notifications.services import notifications_send, notifications_visibility_set
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/accounts/settings/notifications/"


def _reply(recipient, actor, *, visible=True, target="forum.post:7", title="Yellow leaves on my fern"):
    return notifications_send(
        recipient_ids=[recipient.pk],
        actor_id=actor.pk if actor else None,
        kind=NotificationKind.REPLY,
        group_key="forum.topic:3",
        group_title=title,
        url="/forum/t/3/#post-7",
        target_key=target,
        visible=visible,
    )


def _all(delivery):
    return {kind: delivery for kind in NotificationKind.values}


@pytest.fixture
def actor():
    return UserFactory(username="fern")


# --- The settings page ----------------------------------------------------------------------------


def test_page_needs_a_session(client):
    """Signed out: the sign-in redirect with ``next``."""
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={PAGE}"


def test_page_shows_every_kind_at_its_default_grouped_forum_then_identification(gardener_client, gardener):
    """GET: one radio group per kind with the default checked, the forum kinds under "Forum"
    before the identification ones, the time zone named, and the page marked current in the
    settings navigation."""
    response = gardener_client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<a href="/accounts/settings/notifications/" aria-current="page">Notifications</a>' in html
    assert html.index("Forum") < html.index(NotificationKind.REPLY.label) < html.index("Plant identification")
    assert html.index("Plant identification") < html.index(NotificationKind.SUGGESTION.label)
    assert "(UTC)" in html
    for kind, delivery in NOTIFICATION_DELIVERY_DEFAULTS.items():
        assert f'name="{kind}" value="{delivery}"' in html
        checked = html.split(f'name="{kind}" value="{delivery}"', 1)[1].split(">", 1)[0]
        assert "checked" in checked
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("saved_kinds", [0, len(NotificationKind.values)])
def test_page_reads_in_two_statements(gardener_client, gardener, saved_kinds, django_assert_num_queries):
    """The session's user and the choices: two statements with no row saved and with a row
    for every kind."""
    if saved_kinds:
        notification_preferences_set(user=gardener, choices=_all(NotificationDelivery.SITE))
    with django_assert_num_queries(2):
        response = gardener_client.get(PAGE)
    assert response.status_code == 200
    if saved_kinds:
        assert 'name="reply" value="site" required id="id_reply_0" checked' in response.content.decode()


def test_post_saves_every_choice_with_a_message(gardener_client, gardener):
    """A full, valid POST: 303 back to the page, every kind stored, "saved" shown."""
    choices = _all(NotificationDelivery.DIGEST) | {"mention": NotificationDelivery.SITE}
    response = gardener_client.post(PAGE, choices)
    assert response.status_code == 303
    assert response["Location"] == PAGE
    assert notification_preferences_of(user_id=gardener.pk) == choices
    assert NotificationPreference.objects.filter(user=gardener).count() == len(NotificationKind.values)
    assert "Your notification settings are saved." in gardener_client.get(PAGE).content.decode()


@pytest.mark.parametrize(
    "change",
    [
        {"reply": "weekly"},  # an unknown choice
        {"reply": ""},  # none
        {"suggestion": "<script>"},
    ],
)
def test_bad_choice_is_refused_whole_with_a_message(gardener_client, gardener, change):
    """An unknown or empty choice for one kind: 200 with the message beside it and "Nothing was
    saved"; no kind changes, not even the valid ones posted with it."""
    notification_preferences_set(user=gardener, choices=_all(NotificationDelivery.SITE))
    response = gardener_client.post(PAGE, _all(NotificationDelivery.DIGEST) | change)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "Choose one of the three options." in html or "Choose how you hear of this." in html
    assert notification_preferences_of(user_id=gardener.pk) == _all(NotificationDelivery.SITE)


def test_missing_kind_is_refused(gardener_client, gardener):
    """A POST that leaves a kind out changes nothing."""
    choices = _all(NotificationDelivery.SITE)
    del choices["consensus"]
    response = gardener_client.post(PAGE, choices)
    assert response.status_code == 200
    assert not NotificationPreference.objects.filter(user=gardener).exists()


def test_service_refuses_incomplete_choices(gardener):
    with pytest.raises(ValueError):
        notification_preferences_set(user=gardener, choices={"reply": "site"})
    with pytest.raises(ValueError):
        notification_preferences_set(user=gardener, choices=_all("weekly"))
    assert not NotificationPreference.objects.exists()


# --- Email at once ---------------------------------------------------------------------------------


def test_reply_is_emailed_after_commit_with_absolute_links(
    gardener, actor, settings, django_capture_on_commit_callbacks
):
    """Replies are "email at once" by default: nothing before the commit, then one email to the
    recipient saying who did what, with an absolute link to it and to the settings page; the
    row is marked emailed."""
    settings.SITE_URL = "https://plants.example.org"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        (row,) = _reply(gardener, actor, title="Tom's fern & friends")
        assert mail.outbox == []
    assert len(callbacks) == 1
    (message,) = mail.outbox
    assert message.to == [gardener.email]
    assert message.subject == "fern replied in “Tom's fern & friends”."
    assert "fern replied in “Tom's fern & friends”." in message.body  # plain text, not HTML-escaped
    assert "https://plants.example.org/forum/t/3/#post-7" in message.body
    assert "https://plants.example.org/accounts/settings/notifications/" in message.body
    row.refresh_from_db()
    assert row.email_delivery == NotificationDelivery.IMMEDIATE
    assert row.emailed_at is not None


@pytest.mark.parametrize("delivery", [NotificationDelivery.SITE, NotificationDelivery.DIGEST])
def test_no_email_at_once_unless_chosen(gardener, actor, delivery, django_capture_on_commit_callbacks):
    """A gardener who chose "site only" or "daily digest" for replies gets no email at once;
    the row records the choice."""
    notification_preferences_set(user=gardener, choices=_all(delivery))
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = _reply(gardener, actor)
    assert mail.outbox == []
    assert row.email_delivery == delivery


def test_chosen_at_once_for_an_identification_kind(gardener, actor, django_capture_on_commit_callbacks):
    """A kind that is in the digest by default is emailed at once when chosen so; the machine
    (no actor) is named by its sentence."""
    notification_preferences_set(user=gardener, choices=_all(NotificationDelivery.IMMEDIATE))
    with django_capture_on_commit_callbacks(execute=True):
        notifications_send(
            recipient_ids=[gardener.pk],
            actor_id=None,
            kind=NotificationKind.MACHINE_RESULT,
            group_key="plants.request:5",
            group_title="Plant on the balcony",
            url="/plants/requests/5/",
            target_key="plants.request:5",
            detail="Monstera deliciosa",
        )
    (message,) = mail.outbox
    assert message.subject == "Machine suggestions arrived for “Plant on the balcony”: Monstera deliciosa."


def test_not_to_self_inactive_or_unconfirmed(actor, django_capture_on_commit_callbacks):
    """No email to the actor themself, to a deactivated account, or to an address not
    confirmed yet (the unconfirmed gardener still gets the row on the site)."""
    inactive = UserFactory(is_active=False)
    unconfirmed = UserFactory(email_confirmed_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        rows = notifications_send(
            recipient_ids=[actor.pk, inactive.pk, unconfirmed.pk],
            actor_id=actor.pk,
            kind=NotificationKind.MENTION,
            group_key="forum.topic:3",
            group_title="Ferns",
            url="/forum/t/3/",
            target_key="forum.post:9",
        )
    assert [row.recipient_id for row in rows] == [unconfirmed.pk]
    assert mail.outbox == []
    assert Notification.objects.get().emailed_at is None


def test_invisible_rows_are_not_emailed_until_shown(gardener, actor, django_capture_on_commit_callbacks):
    """A row written hidden (a held reply) is not emailed; when the domain shows it (approved)
    it is emailed once; hiding and showing it again sends no second email."""
    with django_capture_on_commit_callbacks(execute=True):
        _reply(gardener, actor, visible=False)
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_visibility_set(target_keys=["forum.post:7"], visible=True) == 1
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        notifications_visibility_set(target_keys=["forum.post:7"], visible=False)
        notifications_visibility_set(target_keys=["forum.post:7"], visible=True)
    assert len(mail.outbox) == 1


def test_hidden_or_deleted_before_commit_is_not_emailed(gardener, actor, django_capture_on_commit_callbacks):
    """The email is decided at send time: a row hidden in the same transaction (a post held by
    a report at once) or deleted with its request is not emailed."""
    with django_capture_on_commit_callbacks(execute=True):
        _reply(gardener, actor)
        notifications_visibility_set(target_keys=["forum.post:7"], visible=False)
    with django_capture_on_commit_callbacks(execute=True):
        _reply(gardener, actor, target="forum.post:8")
        Notification.objects.filter(target_key="forum.post:8").delete()
    assert mail.outbox == []


def test_read_before_the_worker_runs_is_not_emailed(gardener, actor):
    """A row the gardener already read on the site is not repeated by email."""
    (row,) = _reply(gardener, actor)
    Notification.objects.filter(pk=row.pk).update(read_at=row.created_at)
    assert notification_emails_send(notification_ids=[row.pk]) == 0
    assert mail.outbox == []


def test_delivered_twice_sends_once(gardener, actor, django_assert_num_queries):
    """A task delivered twice (or run by two workers) sends each email once. One send costs
    the same statements for one row as for many: savepoint, locked read, UPDATE, release."""
    rows = _reply(gardener, actor)
    with django_assert_num_queries(4):
        assert notification_emails_send(notification_ids=[rows[0].pk]) == 1
    assert notification_emails_send(notification_ids=[rows[0].pk]) == 0
    many = [UserFactory() for _ in range(30)]
    rows = notifications_send(
        recipient_ids=[user.pk for user in many],
        actor_id=actor.pk,
        kind=NotificationKind.MENTION,
        group_key="forum.topic:3",
        group_title="Ferns",
        url="/forum/t/3/",
        target_key="forum.post:10",
    )
    with django_assert_num_queries(4):
        assert notification_emails_send(notification_ids=[row.pk for row in rows]) == 30
    assert len(mail.outbox) == 31


def test_send_adds_no_statement_for_the_choice(gardener, actor, django_assert_num_queries):
    """``notifications_send`` still costs two statements (recipients with their choice, one
    INSERT), whether or not choices are saved."""
    notification_preferences_set(user=gardener, choices=_all(NotificationDelivery.SITE))
    other = UserFactory()
    with django_assert_num_queries(2):
        rows = notifications_send(
            recipient_ids=[gardener.pk, other.pk],
            actor_id=actor.pk,
            kind=NotificationKind.MENTION,
            group_key="forum.topic:3",
            group_title="Ferns",
            url="/forum/t/3/",
            target_key="forum.post:11",
        )
    assert {row.recipient_id: row.email_delivery for row in rows} == {
        gardener.pk: NotificationDelivery.SITE,
        other.pk: NotificationDelivery.IMMEDIATE,
    }


def test_rolled_back_event_sends_nothing(gardener, actor, django_capture_on_commit_callbacks):
    """The email goes after the commit: a domain write that rolls back sends none."""
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                _reply(gardener, actor)
                raise RuntimeError
    assert mail.outbox == []


def test_a_change_applies_to_what_is_still_waiting(gardener, actor):
    """Switching a kind to "site only" stops its waiting digest rows; switching site-only rows'
    kind to the digest does not pull old news into it; a waiting held row moved to "email at
    once" is emailed when shown, a visible one becomes site-only."""
    digest_row = notifications_send(
        recipient_ids=[gardener.pk],
        actor_id=actor.pk,
        kind=NotificationKind.SUGGESTION,
        group_key="plants.request:1",
        group_title="Fern",
        url="/plants/requests/1/",
        target_key="plants.suggestion:1",
    )[0]
    assert digest_row.email_delivery == NotificationDelivery.DIGEST
    machine_row = notifications_send(
        recipient_ids=[gardener.pk],
        actor_id=None,
        kind=NotificationKind.MACHINE_RESULT,
        group_key="plants.request:1",
        group_title="Fern",
        url="/plants/requests/1/",
        target_key="plants.request:1",
    )[0]
    choices = _all(NotificationDelivery.DIGEST) | {"suggestion": NotificationDelivery.SITE}
    changed = notification_preferences_set(user=gardener, choices=choices)
    assert set(changed) == {"suggestion", "reply", "mention", "machine_result", "machine_failed"}
    digest_row.refresh_from_db()
    machine_row.refresh_from_db()
    assert digest_row.email_delivery == NotificationDelivery.SITE
    assert machine_row.email_delivery == NotificationDelivery.SITE


def test_moving_to_at_once_emails_held_rows_when_shown_and_not_old_visible_ones(
    gardener, actor, django_capture_on_commit_callbacks
):
    """Digest rows waiting when the kind moves to "email at once": a visible one becomes
    site-only (no burst of old news), a held one is emailed when it is shown."""
    common = {"actor_id": actor.pk, "group_key": "plants.request:1", "group_title": "Fern"}
    common["url"] = "/plants/requests/1/"
    visible = notifications_send(
        recipient_ids=[gardener.pk], kind=NotificationKind.AGREEMENT, target_key="plants.suggestion:1", **common
    )[0]
    held = notifications_send(
        recipient_ids=[gardener.pk],
        kind=NotificationKind.AGREEMENT,
        target_key="plants.suggestion:2",
        visible=False,
        **common,
    )[0]
    notification_preferences_set(
        user=gardener, choices=notification_preferences_of(user_id=gardener.pk) | {"agreement": "immediate"}
    )
    visible.refresh_from_db()
    held.refresh_from_db()
    assert (visible.email_delivery, held.email_delivery) == (NotificationDelivery.SITE, NotificationDelivery.IMMEDIATE)
    with django_capture_on_commit_callbacks(execute=True):
        notifications_visibility_set(target_keys=["plants.suggestion:1", "plants.suggestion:2"], visible=True)
    (message,) = mail.outbox
    assert message.subject == "fern agreed with a name on “Fern”."


def test_deactivated_before_the_worker_runs_is_not_emailed(gardener, actor):
    """The account is checked again at send time: deactivated (or deleted) after the event and
    before the worker, no email, and the row stays unsent."""
    (row,) = _reply(gardener, actor)
    type(gardener).objects.filter(pk=gardener.pk).update(is_active=False)
    assert notification_emails_send(notification_ids=[row.pk]) == 0
    assert mail.outbox == []
    row.refresh_from_db()
    assert row.emailed_at is None
