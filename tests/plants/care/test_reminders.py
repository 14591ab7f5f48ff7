"""The daily care reminder email (issue 14): opted-in gardeners get one email per local day, on
the first hourly ``send_care_reminders`` run at or after the hour they chose in their own time
zone, when care tasks are due; idempotent per local date (the (user, local_date) unique
constraint) across runs, DST changes, half-hour offsets and two processes at once."""

import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from apps.accounts.data_services import account_erase, data_export_document
from apps.accounts.models import User
from apps.core.localtime import local_date_from_hour
from apps.plants.care.reminders import care_reminders_claim, care_reminders_send
from apps.plants.models import CareReminderSent, CareTask, CareTaskKind, SavedCareInstructions
from tests.command_process import process_env, run_twice_on_a_barrier
from tests.factories import CareCardFactory, SpeciesFactory, UserFactory

NEW_YORK, SYDNEY = "America/New_York", "Australia/Sydney"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _task(card: SavedCareInstructions, kind: str, due: date, *, enabled: bool = True) -> CareTask:
    return CareTask.objects.create(
        care_card=card, owner_id=card.owner_id, kind=kind, interval_days=7, is_enabled=enabled, next_due_on=due
    )


def _gardener(*, zone: str, hour: int | None, due: date | None, nickname: str = "Fern on the sill", **fields) -> User:
    """A gardener in ``zone`` with a reminder at ``hour`` (``None``: off) and one care card whose
    watering is due on ``due`` (no task when ``None``)."""
    user = UserFactory(time_zone=zone, care_reminder_hour=hour, **fields)
    card = CareCardFactory(owner=user, nickname=nickname)
    if due is not None:
        _task(card, CareTaskKind.WATER, due)
    return user


def _run(now: datetime) -> list[int]:
    """One cron run at ``now``: claim, then the task's send (run here: the claim's on-commit
    enqueue does not fire inside the test's transaction)."""
    claimed = care_reminders_claim(now=now)
    care_reminders_send(reminder_ids=claimed, now=now)
    return claimed


def _hourly(start: datetime, hours: int, *, minute: int = 0) -> list[datetime]:
    """The instants of an hourly cron from ``start`` (UTC) for ``hours`` runs, at ``minute``."""
    return [start.replace(minute=minute) + timedelta(hours=step) for step in range(hours)]


def _sent_at(runs: list[datetime]) -> list[datetime]:
    """Run the cron at each of ``runs``; the instants at which an email went."""
    sent = []
    for now in runs:
        before = len(mail.outbox)
        _run(now)
        sent += [now] * (len(mail.outbox) - before)
    return sent


# --- The local hour ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_run_at_or_after_the_hour_then_once_per_local_day():
    """Hour 08 in New York (EST, UTC-5): the 07:59 run sends nothing, the 08:00 run sends, the
    09:10 and later runs that day send nothing; the next local day's 08:00 run sends again. A
    gardener whose first run that day is 09:10 gets it then."""
    maple = _gardener(zone=NEW_YORK, hour=8, due=date(2026, 1, 10))
    assert _run(_at("2026-01-10 12:59")) == []  # 07:59 EST
    assert len(_run(_at("2026-01-10 13:00"))) == 1  # 08:00 EST
    assert [message.to for message in mail.outbox] == [[maple.email]]
    for now in ("2026-01-10 14:10", "2026-01-10 20:00", "2026-01-11 04:59"):  # still 10 January in New York
        assert _run(_at(now)) == []
    assert _run(_at("2026-01-11 12:00")) == []  # 07:00 on the 11th
    assert len(_run(_at("2026-01-11 13:00"))) == 1
    assert len(mail.outbox) == 2
    dates = sorted(CareReminderSent.objects.filter(user=maple).values_list("local_date", flat=True))
    assert dates == [date(2026, 1, 10), date(2026, 1, 11)]

    late = _gardener(zone=NEW_YORK, hour=8, due=date(2026, 1, 12))
    assert _run(_at("2026-01-12 12:59")) == []
    assert _run(_at("2026-01-12 14:10")) != []  # 09:10 EST: the first run at or after 08:00
    assert {tuple(message.to) for message in mail.outbox[2:]} == {(maple.email,), (late.email,)}


@pytest.mark.django_db
def test_the_local_date_is_the_gardeners_not_utcs():
    """At 22:00 UTC on 15 June it is 08:00 on 16 June in Sydney (AEST, UTC+10): the reminder is
    dated the 16th and lists the task due on the 16th (tomorrow in UTC) but not one due on the
    17th. A New Yorker's 18:00 on the 15th with hour 08 gets theirs dated the 15th."""
    koala = _gardener(zone=SYDNEY, hour=8, due=date(2026, 6, 16), nickname="Kentia palm")
    _task(koala.care_cards.get(), CareTaskKind.MIST, date(2026, 6, 17))
    maple = _gardener(zone=NEW_YORK, hour=8, due=date(2026, 6, 15))
    assert len(_run(_at("2026-06-15 21:59"))) == 1  # Sydney 07:59: only New York
    assert len(_run(_at("2026-06-15 22:00"))) == 1
    assert CareReminderSent.objects.get(user=koala).local_date == date(2026, 6, 16)
    assert CareReminderSent.objects.get(user=maple).local_date == date(2026, 6, 15)
    (message,) = [message for message in mail.outbox if message.to == [koala.email]]
    assert "Kentia palm: Water, due today" in message.body
    assert "Mist" not in message.body


# --- DST and half-hour offsets ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "zone, day, hour, expected_utc",
    [
        # New York springs forward at 02:00 EST on 8 March 2026: 02:00 does not exist that day; the
        # 03:00 EDT run (07:00 UTC) is the first at or after it.
        (NEW_YORK, "2026-03-08", 2, "2026-03-08 07:00"),
        # New York falls back at 02:00 EDT on 1 November 2026: 01:00 happens twice (05:00 and
        # 06:00 UTC); the first one sends, the repeat does not.
        (NEW_YORK, "2026-11-01", 1, "2026-11-01 05:00"),
        # Sydney falls back at 03:00 AEDT on 5 April 2026: 02:00 happens twice (15:00 and 16:00
        # UTC on the 4th).
        (SYDNEY, "2026-04-05", 2, "2026-04-04 15:00"),
        # Sydney springs forward at 02:00 AEST on 4 October 2026: no 02:00; 03:00 AEDT is 16:00 UTC.
        (SYDNEY, "2026-10-04", 2, "2026-10-03 16:00"),
    ],
)
def test_one_email_on_a_dst_day_whether_the_hour_is_skipped_or_repeated(zone, day, hour, expected_utc):
    """Hourly runs (on the hour, UTC) over the whole local day of a DST change (23 or 25 hours)
    send exactly one reminder, dated that day, at the first run whose local clock reads the
    hour or later."""
    local_day = date.fromisoformat(day)
    gardener = _gardener(zone=zone, hour=hour, due=local_day)
    midnight, next_midnight = (
        datetime.combine(local_day + timedelta(days=step), datetime.min.time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)
        for step in (0, 1)
    )
    runs = _hourly(midnight, int((next_midnight - midnight).total_seconds() // 3600))
    assert len(runs) == (23 if "-03-" in day or "-10-" in day else 25)  # the day's length
    assert _sent_at(runs) == [_at(expected_utc)]
    assert list(CareReminderSent.objects.filter(user=gardener).values_list("local_date", flat=True)) == [local_day]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "zone, day, expected_utc",
    [
        ("Asia/Kolkata", "2026-01-20", "2026-01-20 03:00"),  # +05:30: 08:30 IST is the first run
        ("Australia/Adelaide", "2026-01-20", "2026-01-19 22:00"),  # +10:30 (ACDT): 08:30
        ("Australia/Adelaide", "2026-07-20", "2026-07-19 23:00"),  # +09:30 (ACST): 08:30
        ("America/St_Johns", "2026-01-20", "2026-01-20 12:00"),  # -03:30 (NST): 08:30
        ("America/St_Johns", "2026-07-20", "2026-07-20 11:00"),  # -02:30 (NDT): 08:30
    ],
)
def test_half_hour_offsets_send_at_the_first_run_after_the_hour(zone, day, expected_utc):
    """In a zone half an hour off UTC an hourly cron on the UTC hour runs at :30 local: hour 08
    is reached by the 08:30 run, not the 07:30 one, once per local day for three days."""
    local_day = date.fromisoformat(day)
    gardener = _gardener(zone=zone, hour=8, due=local_day)
    midnight = datetime.combine(local_day, datetime.min.time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    sent = _sent_at(_hourly(midnight.replace(minute=0) - timedelta(hours=1), 3 * 24 + 2))
    first = _at(expected_utc)
    assert sent == [first, first + timedelta(days=1), first + timedelta(days=2)]
    assert [(when.astimezone(ZoneInfo(zone)).hour, when.astimezone(ZoneInfo(zone)).minute) for when in sent] == [
        (8, 30)
    ] * 3
    dates = list(CareReminderSent.objects.filter(user=gardener).order_by("local_date").values_list("local_date"))
    assert dates == [(local_day + timedelta(days=step),) for step in range(3)]


def test_local_hour_rule_refuses_a_naive_instant():
    """The arithmetic needs an instant: a naive datetime would depend on the server's zone."""
    with pytest.raises(ValueError):
        local_date_from_hour(now=datetime(2026, 3, 8, 7), time_zone=NEW_YORK, hour=2)
    assert local_date_from_hour(now=_at("2026-03-08 07:00"), time_zone="Not/AZone", hour=7) == date(2026, 3, 8)


# --- Who gets what ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_email_lists_only_the_gardeners_own_due_tasks(settings):
    """One email: each due or overdue enabled task as "plant: task, overdue by N days", most
    overdue first; not the disabled, not the future, not another gardener's; absolute links to
    the care cards page and the settings page; plain text (not HTML-escaped)."""
    settings.SITE_URL = "https://plants.example.org"
    today = date(2026, 5, 4)
    rosa = _gardener(zone="Europe/Paris", hour=7, due=today - timedelta(days=3), nickname="Tom's fern & co")
    fern = rosa.care_cards.get()
    _task(fern, CareTaskKind.MIST, today)
    _task(fern, CareTaskKind.PRUNE, today - timedelta(days=1))
    _task(fern, CareTaskKind.REPOT, today - timedelta(days=9), enabled=False)
    _task(fern, CareTaskKind.FERTILIZE, today + timedelta(days=1))
    basil = CareCardFactory(owner=rosa, nickname="", species=SpeciesFactory(primary_common_name="Sweet basil"))
    _task(basil, CareTaskKind.WATER, today)
    _gardener(zone="Europe/Paris", hour=7, due=today - timedelta(days=5), nickname="Someone else's cactus")
    assert len(_run(_at("2026-05-04 05:00"))) == 2  # 07:00 CEST
    (message,) = [message for message in mail.outbox if message.to == [rosa.email]]
    assert message.subject == "Plant care today: 4 tasks due (04 May 2026)"
    lines = [line.strip() for line in message.body.splitlines() if line.startswith("  - ")]
    assert lines == [
        "- Tom's fern & co: Water, overdue by 3 days",
        "- Tom's fern & co: Prune, overdue by 1 day",
        "- Sweet basil: Water, due today",
        "- Tom's fern & co: Mist, due today",
    ]
    assert "Monday 4 May 2026" in message.body
    assert "https://plants.example.org/plants/care-cards/" in message.body
    assert "https://plants.example.org/accounts/settings/notifications/" in message.body
    assert "after 07:00 in your time zone (Europe/Paris)" in message.body
    for left_out in ("Repot", "Fertilize", "cactus"):
        assert left_out not in message.body
    assert CareReminderSent.objects.get(user=rosa).sent_at == _at("2026-05-04 05:00")


@pytest.mark.django_db
def test_nothing_for_the_inactive_the_unconfirmed_those_who_opted_out_or_have_nothing_due():
    """Reminders off, a deactivated account, an unconfirmed address, a task due tomorrow only,
    only a disabled task: no email and no claim. Once the last one's task is due (edited that
    day), the next run that day sends it."""
    day = date(2026, 3, 2)
    _gardener(zone="UTC", hour=None, due=day)
    _gardener(zone="UTC", hour=9, due=day, is_active=False)
    _gardener(zone="UTC", hour=9, due=day, email_confirmed_at=None)
    _gardener(zone="UTC", hour=9, due=day + timedelta(days=1))
    waiting = _gardener(zone="UTC", hour=9, due=None)
    task = _task(waiting.care_cards.get(), CareTaskKind.WATER, day, enabled=False)
    assert _run(_at("2026-03-02 10:00")) == []
    assert mail.outbox == [] and not CareReminderSent.objects.exists()
    CareTask.objects.filter(pk=task.pk).update(is_enabled=True)
    assert len(_run(_at("2026-03-02 11:00"))) == 1
    assert [message.to for message in mail.outbox] == [[waiting.email]]


@pytest.mark.django_db
def test_a_claim_whose_tasks_were_done_or_whose_gardener_left_sends_nothing():
    """Between the claim and the send: one gardener's tasks are all done (moved to later), one
    turns reminders off, one is deactivated. None is emailed; the claims stay unsent, and a
    later run that day claims nothing again."""
    day = date(2026, 3, 2)
    done, off, gone = (_gardener(zone="UTC", hour=6, due=day) for _ in range(3))
    claimed = care_reminders_claim(now=_at("2026-03-02 07:00"))
    assert len(claimed) == 3
    CareTask.objects.filter(owner=done).update(next_due_on=day + timedelta(days=7))
    User.objects.filter(pk=off.pk).update(care_reminder_hour=None)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    assert care_reminders_send(reminder_ids=claimed) == 0
    assert mail.outbox == []
    assert CareReminderSent.objects.filter(sent_at__isnull=True).count() == 3
    assert care_reminders_claim(now=_at("2026-03-02 08:00")) == []


@pytest.mark.django_db
def test_run_twice_and_send_delivered_twice_send_once():
    """Two runs at the same instant claim once; the task delivered twice sends one email."""
    _gardener(zone="UTC", hour=9, due=date(2026, 3, 2))
    claimed = care_reminders_claim(now=_at("2026-03-02 09:30"))
    assert care_reminders_claim(now=_at("2026-03-02 09:30")) == []
    assert care_reminders_send(reminder_ids=claimed) == 1
    assert care_reminders_send(reminder_ids=claimed) == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("gardeners", [1, 500])
def test_statements_do_not_grow_with_gardeners(gardeners, django_assert_num_queries):
    """Claiming: who is due (one SELECT), then in a savepoint one INSERT per 500 gardeners.
    Sending a batch: savepoint, the locked claims with their users, the due tasks with card and
    species, one UPDATE. The same for 1 gardener and for 500 (each with two tasks due, one not
    yet, and 500 more gardeners who opted out)."""
    species = SpeciesFactory()
    day = date(2026, 3, 2)
    users = User.objects.bulk_create(
        [UserFactory.build(time_zone=NEW_YORK, care_reminder_hour=8) for _ in range(gardeners)]
        + [UserFactory.build(time_zone=NEW_YORK) for _ in range(500)]
    )
    cards = SavedCareInstructions.objects.bulk_create(
        CareCardFactory.build(owner=user, species=species) for user in users
    )
    CareTask.objects.bulk_create(
        CareTask(care_card=card, owner_id=card.owner_id, kind=kind, interval_days=7, next_due_on=due)
        for card in cards
        for kind, due in (("water", day - timedelta(days=2)), ("mist", day), ("prune", day + timedelta(days=1)))
    )
    now = _at("2026-03-02 13:00")  # 08:00 EST
    with django_assert_num_queries(4):
        claimed = care_reminders_claim(now=now)
    assert len(claimed) == gardeners
    with django_assert_num_queries(5):
        assert care_reminders_send(reminder_ids=claimed, now=now) == gardeners
    assert len(mail.outbox) == gardeners
    assert all("Water, overdue by 2 days" in message.body and "Prune" not in message.body for message in mail.outbox)


# --- The command -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_queues_and_sends_through_the_task_backend(django_capture_on_commit_callbacks):
    """``manage.py send_care_reminders --now`` claims the due reminder and, through the task
    backend after the commit, sends it; run again the same local day it queues nothing."""
    _gardener(zone="Asia/Kolkata", hour=8, due=date(2026, 1, 20))
    for expected in (1, 0):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_care_reminders", "--now", "2026-01-20T03:00:00+00:00", stdout=(out := io.StringIO()))
        assert out.getvalue() == f"Queued {expected} care reminder(s).\n"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_command_without_now_uses_the_current_time(django_capture_on_commit_callbacks):
    """Without ``--now`` the run's instant is the clock: a reminder hour 0 in UTC with a task
    due today is always due."""
    _gardener(zone="UTC", hour=0, due=datetime.now(UTC).date())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_care_reminders", stdout=(out := io.StringIO()))
    assert out.getvalue() == "Queued 1 care reminder(s).\n"
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("value", ["yesterday", "2026-03-08T07:00:00", "2026-13-01T00:00:00+00:00"])
def test_command_refuses_a_bad_or_naive_now(value):
    """``--now`` must be an ISO 8601 instant with an offset; anything else is a clear error."""
    with pytest.raises(CommandError, match="--now"):
        call_command("send_care_reminders", "--now", value, stdout=io.StringIO())


# --- Two processes at once -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_processes_on_a_barrier_send_one_reminder_per_gardener(tmp_path, settings):
    """Two ``send_care_reminders`` processes started together on committed data (40 gardeners
    due, in zones with whole and half-hour offsets): exactly one claim and one email per
    gardener, all claimed by one process (the other waits on the unique index, then finds every
    row taken), and the two runs overlapped in time."""
    species = SpeciesFactory()
    zones = ["UTC", "Asia/Kolkata", "America/St_Johns", "Australia/Adelaide"]
    users = User.objects.bulk_create(
        UserFactory.build(time_zone=zones[step % 4], care_reminder_hour=0) for step in range(40)
    )
    for user in users:
        card = CareCardFactory(owner=user, species=species)
        _task(card, CareTaskKind.WATER, date(2026, 1, 1))
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    outcomes = run_twice_on_a_barrier(
        process_env(settings, PORTAL_TEST_EMAIL_DIR=str(mail_dir)),
        "send_care_reminders",
        "--now",
        "2026-03-02T12:00:00+00:00",
    )
    assert sorted(output for _, _, output in outcomes) == [
        "Queued 0 care reminder(s).\n",
        "Queued 40 care reminder(s).\n",
    ]
    (first_start, first_end, _), (second_start, _, _) = outcomes
    assert second_start < first_end, "the two runs did not overlap"
    assert CareReminderSent.objects.count() == 40
    assert CareReminderSent.objects.filter(sent_at__isnull=False).count() == 40
    sent_to = re.findall(r"^To: (.+)$", "".join(p.read_text() for p in mail_dir.iterdir()), flags=re.MULTILINE)
    assert sorted(sent_to) == sorted(user.email for user in users)


# --- Your data ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_holds_the_setting_and_the_reminders_and_erasure_removes_them():
    """The data export has the reminder hour on the profile and the gardener's reminder rows
    (not another gardener's); deleting the account removes the rows and the hour; a user row
    deleted outright takes its rows with it (ON DELETE CASCADE)."""
    rosa = _gardener(zone="UTC", hour=7, due=date(2026, 3, 2))
    other = _gardener(zone="UTC", hour=7, due=date(2026, 3, 2))
    _run(_at("2026-03-02 08:00"))
    document, _ = data_export_document(user=rosa)
    (profile,) = document["data"]["accounts.User"]
    assert profile["care_reminder_hour"] == 7
    rows = document["data"]["plants.CareReminderSent"]
    assert [(row["local_date"], row["sent_at"] is not None) for row in rows] == [(date(2026, 3, 2), True)]

    account_erase(user_id=rosa.pk)
    assert not CareReminderSent.objects.filter(user=rosa).exists()
    assert User.objects.get(pk=rosa.pk).care_reminder_hour is None
    assert CareReminderSent.objects.filter(user=other).count() == 1
    other.delete()
    assert not CareReminderSent.objects.exists()
