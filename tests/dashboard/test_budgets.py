"""Query budgets (SPEC "Query budgets"): exact statement counts for a signed-in gardener with a
warm session, the same at 1 and at 500 rows per related table, on PostgreSQL."""

import pytest
from django.urls import reverse

from tests.conftest import populate_gardener

pytestmark = pytest.mark.django_db

# Panel -> (exact statements including the user lookup, text that proves the rows show).
PANEL_BUDGETS = {
    "plant-stats": 2,
    "forum-stats": 2,
    "recent-activity": 2,
    "previous-searches": 2,
    "care-cards": 2,
    "care-due": 2,
    "trust-progress": 1,
}


@pytest.mark.parametrize("panel", sorted(PANEL_BUDGETS))
def test_panel_query_budget(panel, gardener, gardener_client, rows_per_table, django_assert_num_queries):
    """Each panel costs a fixed number of statements (at most 3, the user lookup included),
    the same whether the gardener owns 1 or 500 rows per table."""
    populate_gardener(gardener, rows=rows_per_table)
    gardener_client.get("/dashboard/")  # building 500 rows may outlast the renewal interval
    with django_assert_num_queries(PANEL_BUDGETS[panel]):
        response = gardener_client.get(reverse("dashboard:panel", args=[panel]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert PANEL_BUDGETS[panel] <= 3
    body = response.content.decode()
    expected = {
        "plant-stats": f"<dd>{rows_per_table}</dd>",
        "forum-stats": f"<dd>{rows_per_table}</dd>",
        "recent-activity": "Yellow leaves on my fern",
        "previous-searches": "Your search" if rows_per_table == 1 else f"All {rows_per_table} searches",
        "care-cards": "Your care card" if rows_per_table == 1 else f"All {rows_per_table} care cards",
        "care-due": "due today" if rows_per_table == 1 else f"and {rows_per_table // 2 - 10} more tasks due",
        "trust-progress": "Your trust level",
    }[panel]
    assert expected in body


def test_stats_api_query_budget(gardener, gardener_client, rows_per_table, django_assert_num_queries):
    """``/api/dashboard/stats/`` costs 4 statements with the user lookup, at both sizes, and
    reports the gardener's rows."""
    populate_gardener(gardener, rows=rows_per_table)
    gardener_client.get("/dashboard/")  # building 500 rows may outlast the renewal interval
    with django_assert_num_queries(4):
        response = gardener_client.get(reverse("api-dashboard-stats"))
    assert response.status_code == 200
    data = response.json()
    assert data["plant_stats"]["total_searches"] == rows_per_table
    assert data["forum_stats"]["topics"] == rows_per_table
    assert len(data["recent_activity"]) == min(8, 3 * rows_per_table)


def test_previous_searches_page_query_budget(gardener, gardener_client, rows_per_table, django_assert_num_queries):
    """``/plants/requests/`` (one page) costs 2 statements at both sizes, deeper pages too."""
    populate_gardener(gardener, rows=rows_per_table)
    gardener_client.get("/dashboard/")  # building 500 rows may outlast the renewal interval
    with django_assert_num_queries(2):
        response = gardener_client.get(reverse("plants:request-list"))
    assert response.status_code == 200
    shown = response.content.decode().count('class="thumb"')
    assert shown == min(rows_per_table, 20)
    cursor = response.context["next_cursor"]
    if cursor:
        with django_assert_num_queries(2):
            deeper = gardener_client.get(
                reverse("plants:request-list"), {"after": cursor}, headers={"HX-Request": "true"}
            )
        assert deeper.status_code == 200
        assert deeper.content.decode().count('class="thumb"') == 20


def test_forum_pages_query_budget(gardener, gardener_client, rows_per_table, django_assert_num_queries):
    """Forum index 2, topic list 3, topic page 3 statements, at both sizes (budget 4 each);
    the moderator flag comes with the user lookup."""
    from apps.forum.models import Forum, Topic

    populate_gardener(gardener, rows=rows_per_table)
    gardener_client.get("/dashboard/")  # building 500 rows may outlast the renewal interval
    forum = Forum.objects.get(slug="houseplants")
    topic = Topic.objects.order_by("-created_at").first()
    with django_assert_num_queries(2):
        index = gardener_client.get(reverse("forum:index"))
    assert "Houseplants" in index.content.decode()
    with django_assert_num_queries(3):
        listing = gardener_client.get(forum.get_absolute_url())
    assert listing.content.decode().count("Yellow leaves on my fern") == min(rows_per_table, 25)
    with django_assert_num_queries(3):  # user (with the moderator flag), topic, posts
        page = gardener_client.get(topic.get_absolute_url())
    assert "less water" in page.content.decode()


def test_dashboard_shell_query_budget(gardener_client, django_assert_num_queries):
    """The shell renders at once: the user lookup (with the moderator flag) only."""
    with django_assert_num_queries(1):
        response = gardener_client.get(reverse("dashboard:index"))
    assert response.status_code == 200
    assert response.content.decode().count('<section class="panel"') == 7
