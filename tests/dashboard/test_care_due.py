"""The ``care-due`` dashboard panel (issue 14): what is due in the gardener's own time zone, the
empty state's next task, the cap, one statement over the owner-due index, and the cache rules
(local date in the key, expiry at local midnight, no CSRF token in cached HTML)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.dashboard import panel_cache
from apps.plants.care.schedule import local_today
from apps.plants.care.selectors import care_tasks_due_for_user
from apps.plants.models import CareTask, SavedCareInstructions
from tests import factories

pytestmark = pytest.mark.django_db

KINDS = ["water", "fertilize", "mist", "repot", "prune"]
# 14:00 UTC on 1 December 2026: 01:00 on 2 December in Sydney (UTC+11, summer time), 09:00 on
# 1 December in New York (UTC-5).
INSTANT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def _card(owner, nickname="Monty", species=None):
    species = species or factories.SpeciesFactory(primary_common_name="Swiss cheese plant")
    return factories.CareCardFactory(owner=owner, species=species, nickname=nickname)


def _task(card, kind="water", *, due: date, enabled=True) -> CareTask:
    return CareTask.objects.create(
        care_card=card, owner_id=card.owner_id, kind=kind, interval_days=7, next_due_on=due, is_enabled=enabled
    )


def _panel(client):
    return client.get(reverse("dashboard:panel", args=["care-due"]), headers={"HX-Request": "true"})


def test_local_today_differs_between_sydney_and_new_york_at_the_same_instant():
    assert local_today("Australia/Sydney", now=INSTANT) == date(2026, 12, 2)
    assert local_today("America/New_York", now=INSTANT) == date(2026, 12, 1)


def test_the_same_instant_is_due_today_in_sydney_and_tomorrow_in_new_york():
    """A task due on 2 December: at 14:00 UTC on 1 December it is due today for a gardener in
    Sydney and the next task (tomorrow) for one in New York."""
    sydney = factories.UserFactory(time_zone="Australia/Sydney")
    new_york = factories.UserFactory(time_zone="America/New_York")
    for user in (sydney, new_york):
        _task(_card(user), due=date(2026, 12, 2))
    in_sydney = care_tasks_due_for_user(user=sydney, today=local_today(sydney.time_zone, now=INSTANT), limit=10)
    in_new_york = care_tasks_due_for_user(user=new_york, today=local_today(new_york.time_zone, now=INSTANT), limit=10)
    assert [task.overdue_days for task in in_sydney.tasks] == [0] and in_sydney.next is None
    assert in_new_york.tasks == [] and in_new_york.next.overdue_days == -1


@pytest.mark.parametrize("time_zone", ["Australia/Sydney", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"])
def test_the_panel_uses_the_gardeners_own_today(client, time_zone):
    """Through the view: a task due on the gardener's local today shows as due today, one due
    on the local tomorrow is the empty state's next task, whatever the UTC date is."""
    user = factories.UserFactory(time_zone=time_zone)
    client.force_login(user)
    today = local_today(time_zone)
    task = _task(_card(user), due=today)
    body = _panel(client).content.decode()
    assert "Monty" in body and "due today" in body
    CareTask.objects.filter(pk=task.pk).update(next_due_on=today + timedelta(days=1))
    body = _panel(client).content.decode()
    assert "Nothing due today. Next: water Monty\n  tomorrow." in body


def test_overdue_due_today_order_and_the_empty_states(gardener, gardener_client):
    """Oldest due first with "overdue by N days" / "due today"; switched-off tasks and later
    ones are not listed; nothing due names the next task and its date; no task at all says how
    to get some."""
    assert "No care tasks yet" in _panel(gardener_client).content.decode()
    today = local_today(gardener.time_zone)
    monty, fern = _card(gardener, "Monty"), _card(gardener, "Ferdinand")
    _task(monty, "water", due=today)
    _task(fern, "mist", due=today - timedelta(days=3))
    _task(fern, "water", due=today - timedelta(days=1))
    _task(monty, "prune", due=today - timedelta(days=9), enabled=False)
    _task(monty, "repot", due=today + timedelta(days=40))
    body = _panel(gardener_client).content.decode()
    assert body.index("Ferdinand") < body.index("overdue by 3\n        days") < body.index("overdue by 1\n        day<")
    assert body.index("overdue by 1\n        day<") < body.index("Monty") < body.index("due today")
    assert "Prune" not in body and "Repot" not in body
    assert body.count('name="days" value="1"') == 3 and "csrf" not in body.lower()
    CareTask.objects.update(next_due_on=date(today.year + 1, 6, 1))
    CareTask.objects.filter(kind="repot").update(next_due_on=date(today.year + 1, 3, 4))
    body = _panel(gardener_client).content.decode()
    # The care pages' one date rule (``wording.day_words``): the year only over half a year away.
    day = date(today.year + 1, 3, 4)
    expected = day.strftime("%a %-d %b") + (day.strftime(" %Y") if (day - today).days > 182 else "") + "</time>"
    assert "Nothing due today. Next: repot Monty" in body and expected in body


def test_the_list_is_capped_and_says_how_many_more(gardener, gardener_client, settings):
    settings.DASHBOARD_CARE_DUE_LIMIT = 3
    today = local_today(gardener.time_zone)
    for index in range(5):
        card = _card(gardener, f"Plant {index}")
        _task(card, due=today - timedelta(days=index))
        _task(card, "repot", due=today + timedelta(days=1))
    body = _panel(gardener_client).content.decode()
    assert body.count("<li>") == 3 and "Plant 4" in body and "Plant 2" in body and "Plant 1" not in body
    assert "and 2 more tasks due" in body


def test_the_page_without_javascript_renders_forms_with_their_token(gardener, gardener_client):
    """``/dashboard/?all=1`` renders the panel's forms with ``csrfmiddlewaretoken`` and a
    ``next`` back to the panel; pressing Done there marks the task done and comes back."""
    task = _task(_card(gardener), due=local_today(gardener.time_zone))
    page = gardener_client.get("/dashboard/?all=1").content.decode()
    section = page.split('id="panel-care-due"')[1].split("</section>")[0]
    assert section.count('name="csrfmiddlewaretoken"') == 2
    assert 'name="next" value="/dashboard/?all=1#panel-care-due"' in section
    response = gardener_client.post(
        reverse("plants:care-task-done", args=[task.pk]), {"next": "/dashboard/?all=1#panel-care-due"}
    )
    assert response.status_code in (302, 303) and response["Location"] == "/dashboard/?all=1#panel-care-due"
    page = gardener_client.get(response["Location"]).content.decode()
    assert "Water Monty: done." in page and "Nothing due today. Next: water Monty" in page


def test_done_over_htmx_refreshes_the_panel(gardener, gardener_client):
    """The panel listens for ``careTaskDone`` (and ``careCardSaved``) on the body; Done
    answers 204 with that event, and the panel's next render no longer lists the task."""
    shell = gardener_client.get("/dashboard/").content.decode()
    assert 'hx-trigger="load, careTaskDone from:body, careCardSaved from:body"' in shell
    task = _task(_card(gardener), due=local_today(gardener.time_zone) - timedelta(days=2))
    assert "overdue by 2" in _panel(gardener_client).content.decode()
    done = gardener_client.post(reverse("plants:care-task-done", args=[task.pk]), headers={"HX-Request": "true"})
    assert done.status_code == 204 and "careTaskDone" in done["HX-Trigger"]
    assert "Nothing due today" in _panel(gardener_client).content.decode()


def test_another_gardeners_tasks_never_show(gardener, gardener_client):
    other = factories.UserFactory()
    _task(_card(other, "Not yours"), due=local_today(other.time_zone) - timedelta(days=5))
    body = _panel(gardener_client).content.decode()
    assert "Not yours" not in body and "No care tasks yet" in body


# --- Property: exactly the enabled tasks due on or before today, none of anyone else -------

TASK_SETS = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 5), st.sampled_from(KINDS), st.integers(-20, 20), st.booleans()),
    max_size=30,
)


@hypothesis_settings(
    max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(TASK_SETS, st.integers(1, 12))
def test_the_panel_lists_exactly_the_enabled_tasks_due(task_set, limit):
    """For random tasks of two gardeners (card, kind, days from today, enabled): the selector
    lists the first ``limit`` of exactly the first gardener's enabled tasks due on or before
    today, by due date then id; counts all of them; and when none is due, names the earliest
    later enabled task."""
    with transaction.atomic():
        today = date(2026, 12, 1)
        species = factories.SpeciesFactory.create_batch(6)
        users = factories.UserFactory.create_batch(2)
        cards = {}
        made = []
        seen = set()
        for owner_index, card_index, kind, offset, enabled in task_set:
            if (owner_index, card_index, kind) in seen:
                continue
            seen.add((owner_index, card_index, kind))
            key = (owner_index, card_index)
            if key not in cards:
                cards[key] = SavedCareInstructions.objects.create(
                    owner=users[owner_index], species=species[card_index], nickname=f"card {card_index}"
                )
            task = _task(cards[key], kind, due=today + timedelta(days=offset), enabled=enabled)
            made.append((owner_index, task))
        mine = sorted(
            (task for owner_index, task in made if owner_index == 0 and task.is_enabled),
            key=lambda task: (task.next_due_on, task.pk),
        )
        due = [task for task in mine if task.next_due_on <= today]
        result = care_tasks_due_for_user(user=users[0], today=today, limit=limit)
        assert [task.pk for task in result.tasks] == [task.pk for task in due[:limit]]
        assert result.due_count == len(due) and result.more == max(len(due) - limit, 0)
        later = [task for task in mine if task.next_due_on > today]
        if due or not later or len(mine) - len(later) >= limit:
            assert result.next is None
        else:
            assert result.next.pk == later[0].pk
        assert all(task.owner_id == users[0].pk for task in result.tasks)
        transaction.set_rollback(True)


# --- The plan: one ordered index range scan, no sort, no sequential scan ---------------------


@pytest.fixture
def many_tasks(db):
    """400 gardeners with 25 cards of five tasks each (50,000 tasks), then ANALYZE."""
    species = factories.SpeciesFactory.create_batch(25)
    users = User.objects.bulk_create(
        User(username=f"grower{index}", email=f"grower{index}@example.com", password="!") for index in range(400)
    )
    cards = SavedCareInstructions.objects.bulk_create(
        SavedCareInstructions(owner=user, species=kind, nickname="") for user in users for kind in species
    )
    today = date(2026, 12, 1)
    CareTask.objects.bulk_create(
        CareTask(
            care_card=card,
            owner_id=card.owner_id,
            kind=kind,
            interval_days=7,
            next_due_on=today + timedelta(days=(card.pk * 7 + index * 3) % 41 - 20),
            is_enabled=(card.pk + index) % 6 != 0,
        )
        for card in cards
        for index, kind in enumerate(KINDS)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE plants_caretask")
        cursor.execute("ANALYZE plants_savedcareinstructions")
        cursor.execute("ANALYZE accounts_user")
    return users


def test_one_statement_read_in_order_from_the_owner_due_index(many_tasks):
    """At 50,000 tasks the selector is one statement whose tasks come from
    ``plants_caretask_owner_due`` in order (no sort, no sequential scan of the tasks); the due
    count (an InitPlan, run once) reads only this gardener's tasks through an owner index
    (the planner picks the owner-due index or the smaller foreign-key one)."""
    user = many_tasks[123]
    with CaptureQueriesContext(connection) as captured:
        result = care_tasks_due_for_user(user=user, today=date(2026, 12, 1), limit=10)
    assert len(captured.captured_queries) == 1
    assert result.tasks
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + captured.captured_queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on plants_caretask" not in plan, plan
    assert "Index Scan using plants_caretask_owner_due on plants_caretask  " in plan, plan
    assert "Sort" not in plan and "InitPlan 1" in plan and "SubPlan" not in plan, plan
    scans = [line for line in plan.splitlines() if " on plants_caretask " in line]
    assert len(scans) == 2 and all("Index" in line for line in scans), plan
    assert plan.count(f"Index Cond: (owner_id = {user.pk})") == 2, plan


# --- Cache rules ------------------------------------------------------------------------------


def test_the_key_holds_the_local_date_and_the_entry_ends_at_local_midnight(gardener):
    """The key changes with the gardener's local date (other panels' keys do not), and the
    entry expires at the next local midnight, also across a DST change (a 23-hour day)."""
    sydney = User.objects.get(pk=gardener.pk)
    sydney.time_zone = "Australia/Sydney"
    before = INSTANT - timedelta(hours=2)  # 23:00 in Sydney on 1 December
    assert panel_cache.panel_cache_key(name="care-due", user=sydney, now=before) != panel_cache.panel_cache_key(
        name="care-due", user=sydney, now=INSTANT
    )
    assert panel_cache.panel_cache_key(name="care-cards", user=sydney, now=before) == panel_cache.panel_cache_key(
        name="care-cards", user=sydney, now=INSTANT
    )
    assert panel_cache.local_midnight_after(date(2026, 12, 1), time_zone="Australia/Sydney") == datetime(
        2026, 12, 1, 13, 0, tzinfo=UTC
    )
    assert panel_cache.local_midnight_after(date(2026, 12, 1), time_zone="America/New_York") == datetime(
        2026, 12, 2, 5, 0, tzinfo=UTC
    )
    # Sydney's clocks go forward on Sunday 4 October 2026: that local day lasts 23 hours.
    start = panel_cache.local_midnight_after(date(2026, 10, 3), time_zone="Australia/Sydney")
    end = panel_cache.local_midnight_after(date(2026, 10, 4), time_zone="Australia/Sydney")
    assert end - start == timedelta(hours=23)


def test_cached_over_htmx_until_local_midnight_never_without_javascript(gardener, gardener_client, settings):
    """With the cache on, the htmx render is stored (no CSRF field in it) until the gardener's
    next local midnight; the page without JavaScript neither reads nor stores it."""
    from django_redis import get_redis_connection

    settings.DASHBOARD_PANEL_CACHE = True
    cache.clear()
    _task(_card(gardener), due=local_today(gardener.time_zone))
    user = User.objects.get(pk=gardener.pk)
    key = panel_cache.panel_cache_key(name="care-due", user=user)
    gardener_client.get("/dashboard/?all=1")
    assert panel_cache.panel_cache_get(key) is None
    html = _panel(gardener_client).content.decode()
    assert panel_cache.panel_cache_get(key) == html and "csrf" not in html.lower()
    midnight = panel_cache.local_midnight_after(local_today(user.time_zone), time_zone=user.time_zone)
    ttl = get_redis_connection("default").ttl(cache.make_key(key))
    expected = min((midnight - datetime.now(UTC)).total_seconds(), settings.DASHBOARD_PANEL_CACHE_MAX_SECONDS)
    assert expected - 3 <= ttl <= expected
    page = gardener_client.get("/dashboard/?all=1").content.decode()
    assert 'name="csrfmiddlewaretoken"' in page.split('id="panel-care-due"')[1].split("</section>")[0]
