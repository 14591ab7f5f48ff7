"""The daily notification digest (issue 12): one email a day per gardener, on the first run of
``send_notification_digests`` at or after 08:00 in their time zone, idempotent per local date
(the (user, local_date) unique constraint), across runs, time zones and two processes at once."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.notifications.delivery import notification_digests_claim, notification_digests_send
from apps.notifications.models import Notification, NotificationDelivery, NotificationDigest, NotificationKind
from apps.notifications.preferences_services import notification_preferences_set
from apps.notifications.services import notifications_send, notifications_visibility_set
from tests.command_process import process_env, run_twice_on_a_barrier
from tests.factories import UserFactory

SYDNEY, NEW_YORK = "Australia/Sydney", "America/New_York"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _suggest(recipient, *, at: datetime, request: int = 1, title: str = "Fern on the sill", actor=None, **extra):
    """A suggestion notification (in the digest by default) for ``recipient`` made at ``at``."""
    return notifications_send(
        recipient_ids=[recipient.pk],
        actor_id=actor.pk if actor else None,
        kind=extra.pop("kind", NotificationKind.SUGGESTION),
        group_key=f"plants.request:{request}",
        group_title=title,
        url=f"/plants/requests/{request}/",
        target_key=extra.pop("target_key", f"plants.suggestion:{request}"),
        detail=extra.pop("detail", "Nephrolepis exaltata"),
        created_at=at,
        **extra,
    )


def _run(now: datetime) -> list[int]:
    """One cron run at ``now``: claim, then the task's send (run here: the claim's on-commit
    enqueue does not fire inside the test's transaction)."""
    claimed = notification_digests_claim(now=now)
    notification_digests_send(digest_ids=claimed, now=now)
    return claimed


@pytest.fixture
def actor(db):
    return UserFactory(username="fern")


# --- Examples ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_gardener_is_due_at_eight_in_their_own_time_zone(actor):
    """At 21:30 UTC on 15 June it is 17:30 in New York (due) and 07:30 on the 16th in Sydney
    (not yet); at 22:00 UTC Sydney reaches 08:00 and gets its digest, dated its own 16 June."""
    sydney = UserFactory(username="koala", time_zone=SYDNEY)
    new_york = UserFactory(username="maple", time_zone=NEW_YORK)
    for user in (sydney, new_york):
        _suggest(user, at=_at("2026-06-15 20:00"), actor=actor)

    assert len(_run(_at("2026-06-15 21:30"))) == 1
    assert [message.to for message in mail.outbox] == [[new_york.email]]
    assert NotificationDigest.objects.get().local_date.isoformat() == "2026-06-15"

    assert len(_run(_at("2026-06-15 22:00"))) == 1
    assert [message.to for message in mail.outbox] == [[new_york.email], [sydney.email]]
    assert NotificationDigest.objects.get(user=sydney).local_date.isoformat() == "2026-06-16"


@pytest.mark.django_db
def test_not_before_eight_local_then_once_per_local_day(actor):
    """07:59 in New York: nothing. 08:00: one email. Later runs that day send nothing, even
    for a notification that arrives meanwhile; the next local day's digest lists only that
    new one."""
    gardener = UserFactory(username="maple", time_zone=NEW_YORK)
    first = _suggest(gardener, at=_at("2026-01-10 09:00"), actor=actor)[0]
    assert _run(_at("2026-01-10 12:59")) == []  # 07:59 EST
    assert _run(_at("2026-01-10 13:00")) != []  # 08:00 EST
    assert len(mail.outbox) == 1
    second = _suggest(gardener, at=_at("2026-01-10 14:00"), request=2, title="Basil", actor=actor)[0]
    for hour in ("14:00", "20:00", "23:00", "04:59"):  # the rest of 10 January in New York
        day = "2026-01-11" if hour == "04:59" else "2026-01-10"
        assert _run(_at(f"{day} {hour}")) == []
    assert len(mail.outbox) == 1
    assert _run(_at("2026-01-11 12:00")) == []  # 07:00 on the 11th
    assert len(_run(_at("2026-01-11 13:05"))) == 1
    assert len(mail.outbox) == 2
    assert "Basil" in mail.outbox[1].body and "Fern on the sill" not in mail.outbox[1].body
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.digest_id != second.digest_id
    dates = sorted(d.isoformat() for d in NotificationDigest.objects.values_list("local_date", flat=True))
    assert dates == ["2026-01-10", "2026-01-11"]


@pytest.mark.django_db
def test_digest_lists_what_is_still_visible_and_unread_grouped_by_title(actor, settings):
    """One email: each group's title once, its notifications, an absolute link per group, the
    settings link. Rows read or hidden before the send, rows held from the start, rows of
    kinds not on the digest, and other gardeners' rows are left out."""
    settings.SITE_URL = "https://plants.example.org"
    gardener = UserFactory(username="maple", time_zone=NEW_YORK)
    other = UserFactory(time_zone=NEW_YORK)
    at = _at("2026-03-02 10:00")
    _suggest(gardener, at=at, actor=actor, detail="Nephrolepis exaltata", target_key="plants.suggestion:1")
    _suggest(gardener, at=at, actor=actor, kind=NotificationKind.AGREEMENT, target_key="plants.suggestion:2")
    _suggest(gardener, at=at, request=2, title="Basil & co", actor=actor, kind=NotificationKind.CONSENSUS)
    read = _suggest(gardener, at=at, request=3, title="Read already", actor=actor)[0]
    _suggest(gardener, at=at, request=4, title="Held from the start", actor=actor, visible=False)
    _suggest(gardener, at=at, request=5, title="Hidden later", actor=actor, target_key="plants.suggestion:5")
    _suggest(gardener, at=at, request=6, title="Machine result", kind=NotificationKind.MACHINE_RESULT)
    _suggest(other, at=at, request=7, title="Someone else's", actor=actor)
    claimed = notification_digests_claim(now=_at("2026-03-02 14:00"))
    assert len(claimed) == 2
    Notification.objects.filter(pk=read.pk).update(read_at=at)
    notifications_visibility_set(target_keys=["plants.suggestion:5"], visible=False)
    assert notification_digests_send(digest_ids=claimed, now=_at("2026-03-02 14:00")) == 2
    (message,) = [message for message in mail.outbox if message.to == [gardener.email]]
    body = message.body
    assert message.subject == "Your daily digest: 3 updates (02 Mar 2026)"
    assert body.count("Fern on the sill") == 1
    assert "Fern on the sill\n  - fern suggested a name: Nephrolepis exaltata.\n" in body
    assert "  - fern agreed with a name: Nephrolepis exaltata.\n" in body
    assert "Basil & co\n  - The community reached a consensus: Nephrolepis exaltata." in body  # not HTML-escaped
    assert body.index("Basil & co") < body.index("Fern on the sill")  # newest activity first (the later id)
    assert "https://plants.example.org/plants/requests/1/" in body
    assert "https://plants.example.org/accounts/settings/notifications/" in body
    for left_out in ("Read already", "Held from the start", "Hidden later", "Machine result", "Someone else"):
        assert left_out not in body
    digest = NotificationDigest.objects.get(user=gardener)
    assert digest.sent_at == _at("2026-03-02 14:00") and digest.notification_count == 3


@pytest.mark.django_db
def test_no_digest_for_site_only_inactive_or_unconfirmed(actor):
    """A gardener whose kinds are all site-only, a deactivated one and one with an unconfirmed
    address get no digest row and no email."""
    site_only = UserFactory(time_zone=NEW_YORK)
    notification_preferences_set(user=site_only, choices=dict.fromkeys(NotificationKind.values, "site"))
    unconfirmed = UserFactory(time_zone=NEW_YORK, email_confirmed_at=None)
    leaving = UserFactory(time_zone=NEW_YORK)
    for user in (site_only, unconfirmed, leaving):
        _suggest(user, at=_at("2026-03-02 10:00"), actor=actor)
    User.objects.filter(pk=leaving.pk).update(is_active=False)
    assert _run(_at("2026-03-02 18:00")) == []
    assert mail.outbox == []
    assert not NotificationDigest.objects.exists()


@pytest.mark.django_db
def test_send_delivered_twice_sends_once(actor):
    """The digest task delivered twice sends one email."""
    gardener = UserFactory(time_zone="UTC")
    _suggest(gardener, at=_at("2026-03-02 07:00"), actor=actor)
    claimed = notification_digests_claim(now=_at("2026-03-02 09:00"))
    assert notification_digests_send(digest_ids=claimed) == 1
    assert notification_digests_send(digest_ids=claimed) == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("gardeners", [1, 500])
def test_statements_do_not_grow_with_gardeners(actor, gardeners, django_assert_num_queries):
    """Claiming: who is due, then (in a savepoint) one INSERT and one UPDATE per 500 gardeners.
    Sending a batch: savepoint, the locked digests with their users, the notifications with
    their actors, one UPDATE. The same for 1 gardener and for 500."""
    users = User.objects.bulk_create(UserFactory.build(time_zone=NEW_YORK) for _ in range(gardeners))
    notifications_send(
        recipient_ids=[user.pk for user in users],
        actor_id=actor.pk,
        kind=NotificationKind.SUGGESTION,
        group_key="plants.request:1",
        group_title="Fern",
        url="/plants/requests/1/",
        target_key="plants.suggestion:1",
        created_at=_at("2026-03-02 10:00"),
    )
    now = _at("2026-03-02 14:00")
    with django_assert_num_queries(5):
        claimed = notification_digests_claim(now=now)
    assert len(claimed) == gardeners
    with django_assert_num_queries(5):
        assert notification_digests_send(digest_ids=claimed, now=now) == gardeners
    assert len(mail.outbox) == gardeners
    assert Notification.objects.filter(digest__isnull=True).count() == 0


def _zone_at_midday(now: datetime) -> str:
    """An ``Etc/GMT`` zone where ``now`` is between 11:00 and 13:00, so a test that runs the
    command on the real clock finds the digest due (not before 08:00, not near midnight)."""
    offset = (12 - now.hour + 12) % 24 - 12  # -12..11 hours east of UTC
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-5 is UTC+5


@pytest.mark.django_db
def test_command_queues_and_sends_on_the_real_clock(actor, django_capture_on_commit_callbacks):
    """``manage.py send_notification_digests`` claims the due digest and, through the task
    backend after the commit, sends it; run again the same day it queues nothing."""
    now = datetime.now(UTC)
    zone = _zone_at_midday(now)
    assert 11 <= now.astimezone(ZoneInfo(zone)).hour <= 13
    gardener = UserFactory(time_zone=zone)
    _suggest(gardener, at=now - timedelta(minutes=5), actor=actor)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_notification_digests", stdout=(out := __import__("io").StringIO()))
    assert out.getvalue() == "Queued 1 notification digest(s).\n"
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_notification_digests", stdout=(out := __import__("io").StringIO()))
    assert out.getvalue() == "Queued 0 notification digest(s).\n"
    assert len(mail.outbox) == 1


# --- Two processes at once -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_processes_on_a_barrier_send_one_digest_per_gardener(tmp_path, settings):
    """Two ``send_notification_digests`` processes started together on committed data (40
    gardeners due): exactly one digest row and one email per gardener, all claimed by one
    process (the other waits on the unique index, then finds every row taken), and the two
    runs overlapped in time."""
    now = datetime.now(UTC)
    zone = _zone_at_midday(now)
    actor = UserFactory(username="fern")
    users = User.objects.bulk_create(UserFactory.build(time_zone=zone) for _ in range(40))
    notifications_send(
        recipient_ids=[user.pk for user in users],
        actor_id=actor.pk,
        kind=NotificationKind.SUGGESTION,
        group_key="plants.request:1",
        group_title="Fern",
        url="/plants/requests/1/",
        target_key="plants.suggestion:1",
        created_at=now - timedelta(minutes=5),
    )
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    outcomes = run_twice_on_a_barrier(
        process_env(settings, PORTAL_TEST_EMAIL_DIR=str(mail_dir)), "send_notification_digests"
    )
    outputs = sorted(output for _, _, output in outcomes)
    assert outputs == ["Queued 0 notification digest(s).\n", "Queued 40 notification digest(s).\n"]
    (first_start, first_end, _), (second_start, second_end, _) = outcomes
    assert second_start < first_end, "the two runs did not overlap"
    assert NotificationDigest.objects.count() == 40
    assert NotificationDigest.objects.filter(sent_at__isnull=False).count() == 40
    sent_to = re.findall(r"^To: (.+)$", "".join(p.read_text() for p in mail_dir.iterdir()), flags=re.MULTILINE)
    assert sorted(sent_to) == sorted(user.email for user in users)


# --- Property ------------------------------------------------------------------------------------

DAYS = 3


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    zone=st.sampled_from([SYDNEY, NEW_YORK, "UTC", "Asia/Kolkata", "Pacific/Chatham"]),
    arrivals=st.lists(st.integers(0, DAYS * 24 * 60 - 1), max_size=8),
    run_minute=st.integers(0, 59),
    skipped_runs=st.sets(st.integers(0, DAYS * 24 - 1), max_size=30),
)
def test_digests_match_a_model_of_the_rule(actor, zone, arrivals, run_minute, skipped_runs):
    """For any time zone, arrival times and hourly runs (some missed, as cron can), the digests
    are exactly what the rule gives: on each run at or after 08:00 local, if that local date has
    no digest yet and notifications wait, one digest for that date holding every notification
    made up to then and not in an earlier digest. So: at most one per local date, never before
    08:00, no notification twice, none left behind by a run that was due."""
    start = _at("2026-03-28 00:00")  # Sydney and New York change clocks in this window
    with transaction.atomic():
        gardener = UserFactory(time_zone=zone)
        made = {}
        for minute in sorted(arrivals):
            at = start + timedelta(minutes=minute)
            made[_suggest(gardener, at=at, actor=actor)[0].pk] = at
        expected, waiting, dates = [], dict(made), set()
        for hour in range(DAYS * 24):
            if hour in skipped_runs:
                continue
            now = start + timedelta(hours=hour, minutes=run_minute)
            local = now.astimezone(ZoneInfo(zone))
            ready = {pk for pk, at in waiting.items() if at <= now}
            if local.hour >= 8 and local.date() not in dates and ready:
                dates.add(local.date())
                expected.append((local.date(), ready))
                waiting = {pk: at for pk, at in waiting.items() if pk not in ready}
            _run(now)
        got = [
            (digest.local_date, set(Notification.objects.filter(digest=digest).values_list("pk", flat=True)))
            for digest in NotificationDigest.objects.filter(user=gardener).order_by("local_date")
        ]
        assert got == expected
        assert len(mail.outbox) == len(expected)
        mail.outbox.clear()
        transaction.set_rollback(True)


def test_delivery_values_are_the_three_the_page_offers():
    assert NotificationDelivery.values == ["site", "immediate", "digest"]
