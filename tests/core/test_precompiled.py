"""``apps.core.precompiled``: a statement compiled once returns exactly the rows its queryset
returns, for every gardener and moment, and refuses parameters that never reach the SQL."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.core.precompiled import PrecompiledValues
from apps.dashboard import selectors as dashboard_selectors
from apps.forum import selectors as forum_selectors
from apps.plants import selectors as plant_selectors
from tests import factories
from tests.conftest import populate_gardener

pytestmark = pytest.mark.django_db

WEEK_SECONDS = 7 * 24 * 3600


def _sorted(rows):
    return sorted(rows, key=repr)


@pytest.fixture
def gardeners():
    busy, quiet = factories.UserFactory(), factories.UserFactory()
    populate_gardener(busy, rows=30)
    moderator = factories.UserFactory(is_superuser=True)
    return [User.objects.get(pk=busy.pk), User.objects.get(pk=quiet.pk), User.objects.get(pk=moderator.pk)]


def test_each_panel_statement_equals_its_queryset(gardeners):
    """The ORM reference: the same builder evaluated as a plain queryset."""
    now = timezone.now()
    for user in gardeners:
        for moment in (now, now - timedelta(days=20), now + timedelta(days=40)):
            since = moment - timedelta(weeks=12)
            values = {"owner_id": user.pk, "since": since, "now": moment}
            statement = plant_selectors._WEEKLY_SEARCHES
            assert _sorted(statement.rows(**values)) == _sorted(plant_selectors._weekly_searches_query(**values))
            values = {"user_id": user.pk, "since": moment - timedelta(days=30)}
            statement = forum_selectors._RECENT_FORUM
            assert statement.rows(**values) == list(forum_selectors._recent_forum_query(**values))
        values = {"user_id": user.pk}
        statement = forum_selectors._REVIEW_QUEUE_COUNTS
        assert statement.rows(**values) == list(forum_selectors._review_queue_counts_query(**values))
        for moderator in (False, True):
            statement = dashboard_selectors._recent_activity_statement(8, moderator)
            reference = dashboard_selectors._recent_activity_query(user_id=user.pk, limit=8, moderator=moderator)
            assert statement.rows(user_id=user.pk) == list(reference)


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ages=st.lists(st.integers(min_value=0, max_value=100 * 24 * 3600), max_size=8))
def test_plant_stats_changes_at_is_the_next_week_boundary(gardeners, ages):
    """``changes_at`` from the folded statement equals the rule computed here from the rows:
    ``now + 1 week - max(age mod 1 week)`` over the searches of the last 12 weeks."""
    from apps.plants.models import PlantIdentificationRequest

    user = factories.UserFactory()
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    PlantIdentificationRequest.objects.bulk_create(
        [PlantIdentificationRequest(owner=user, created_at=now - timedelta(seconds=age)) for age in ages]
    )
    in_window = [age for age in ages if age < 12 * WEEK_SECONDS]
    expected = now + timedelta(seconds=WEEK_SECONDS - max(a % WEEK_SECONDS for a in in_window)) if in_window else None
    stats, changes_at = plant_selectors.plant_stats_with_changes_at(user=user, now=now)
    assert changes_at == expected
    assert sum(stats["weekly_searches"]) == len(in_window)


def test_a_parameter_that_never_reaches_the_sql_is_refused():
    def build(*, user_id, unused):
        return User.objects.filter(pk=user_id).values("id")

    with pytest.raises(ImproperlyConfigured, match="unused"):
        PrecompiledValues(build, user_id=int, unused=int).rows(user_id=1, unused=2)


def test_parameters_are_checked_by_name():
    statement = PrecompiledValues(lambda *, user_id: User.objects.filter(pk=user_id).values("id"), user_id=int)
    with pytest.raises(TypeError):
        statement.rows(pk=1)
    user = factories.UserFactory()
    assert statement.rows(user_id=user.pk) == [{"id": user.pk}]
    assert statement.rows(user_id=user.pk + 10_000) == []


def test_a_parameter_used_in_python_arithmetic_is_refused():
    """A window start computed from a marker would carry the marker's arithmetic, not the
    caller's value: the build must take it as its own parameter."""

    def build(*, now):
        return User.objects.filter(date_joined__gt=now - timedelta(days=1)).values("id")

    with pytest.raises(ImproperlyConfigured, match="now"):
        PrecompiledValues(build, now=datetime).rows(now=timezone.now())


def _instance_state(rows):
    """What a template reads from a request row: its fields, annotations and joined species."""
    return [
        (
            row.pk,
            row.created_at,
            row.status,
            str(row.thumbnail),
            row.top_suggestion_name,
            row.top_suggestion_probability,
            row.accepted_free_text,
            row.species_id,
            row.species.scientific_name if row.species_id else None,
        )
        for row in rows
    ]


def test_request_pages_equal_their_queryset(gardeners):
    """``PrecompiledModels``: the first and a later page of a gardener's requests hold the same
    instances, annotations and select_related species as the plain queryset."""
    from apps.plants.selectors import RequestCursor, _own_requests_page_query, identification_requests_for_user

    for user in gardeners:
        first, cursor = identification_requests_for_user(user=user, limit=7)
        first_reference = list(_own_requests_page_query(owner_id=user.pk, limit=7, after=None))[:7]
        assert _instance_state(first) == _instance_state(first_reference)
        if cursor is not None:
            later, _ = identification_requests_for_user(user=user, limit=7, after=cursor)
            after = RequestCursor(created_at=cursor.created_at, pk=cursor.pk)
            reference = list(_own_requests_page_query(owner_id=user.pk, limit=7, after=after))[:7]
            assert later and _instance_state(later) == _instance_state(reference)
        for row in first:
            assert row._state.db == "default" and not row._state.adding
            twin = next(r for r in first_reference if r.pk == row.pk)
            assert row.get_deferred_fields() == twin.get_deferred_fields()


def test_the_due_today_statement_equals_its_queryset():
    """``care-due`` (issue 14) through ``PrecompiledModels`` with a ``date`` parameter."""
    from datetime import date

    from apps.plants.care import selectors as care_selectors
    from apps.plants.care.services import care_tasks_create_defaults
    from apps.plants.models import CareTask

    owner = factories.UserFactory()
    for _ in range(3):
        card = factories.CareCardFactory(owner=owner)
        care_tasks_create_defaults(card=card, owner=owner)
    tasks = list(CareTask.objects.filter(owner=owner).order_by("id"))
    for index, task in enumerate(tasks):
        CareTask.objects.filter(pk=task.pk).update(next_due_on=date(2026, 11, 20) + timedelta(days=index))
    for today in (date(2026, 11, 1), date(2026, 11, 25), date(2027, 1, 1)):
        for limit in (1, 4, 20):
            rows = care_selectors._due_statement(limit).rows(owner_id=owner.pk, today=today)
            reference = list(care_selectors._due_query(owner_id=owner.pk, today=today, limit=limit))
            assert [(r.pk, r.next_due_on, r.due_count, r.care_card.nickname) for r in rows] == [
                (r.pk, r.next_due_on, r.due_count, r.care_card.nickname) for r in reference
            ]
