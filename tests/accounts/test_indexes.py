"""At 100,000 users, sign-in by email and the moderators' member list use indexes (SPEC
"Query budgets"), checked with EXPLAIN on PostgreSQL."""

import pytest
from django.db import connection

from apps.accounts.models import TrustLevel, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def hundred_thousand_users(db):
    """100,000 users inserted in one statement (the planner needs a realistic table size; the
    rows only need valid columns), then ANALYZE so the planner sees them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email,
                is_staff, is_active, date_joined, trust_level, trust_level_set_by_moderator,
                approved_post_count, post_count, topic_count, identification_request_count,
                identified_plant_count, care_card_count)
            SELECT '!', false, 'member' || n, '', '', 'member' || n || '@example.com', false, true,
                now() - (n || ' minutes')::interval, (ARRAY['new','basic','trusted','veteran'])[1 + n % 4],
                false, 0, 0, 0, 0, 0, 0
            FROM generate_series(1, 100000) AS n
            """
        )
        cursor.execute("ANALYZE accounts_user")


def _plan(queryset) -> str:
    return queryset.explain(format="text")


def test_sign_in_lookup_by_email_uses_the_upper_email_index(hundred_thousand_users):
    """``email__iexact`` compiles to ``UPPER(email::text) = UPPER(%s)``, the expression of the
    unique index, so the lookup is an index scan, not a sequential one."""
    plan = _plan(User.objects.filter(email__iexact="Member77777@Example.com"))
    assert "accounts_user_email_upper_uniq" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert User.objects.filter(email__iexact="Member77777@Example.com").count() == 1


def test_sign_in_lookup_by_username_uses_the_upper_username_index(hundred_thousand_users):
    plan = _plan(User.objects.filter(username__iexact="MEMBER123"))
    assert "accounts_user_username_upper_uniq" in plan, plan


def test_member_list_for_one_trust_level_by_join_date_uses_an_index(hundred_thousand_users):
    """The first page of one trust level, newest members first, reads the composite index."""
    plan = _plan(User.objects.filter(trust_level=TrustLevel.TRUSTED).order_by("-date_joined")[:25])
    assert "accounts_user_trust_joined" in plan, plan
    assert "Seq Scan" not in plan and "Sort" not in plan.split("->")[1], plan
