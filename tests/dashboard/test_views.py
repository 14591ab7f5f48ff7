"""Dashboard pages: the shell, panels, their error state and session renewal."""

import time

import pytest
from django.db import connection
from django.urls import reverse

from apps.core.middleware import SESSION_RENEWED_AT_KEY

pytestmark = pytest.mark.django_db


def test_unknown_panel_is_404(gardener_client):
    assert gardener_client.get("/dashboard/panels/nope/").status_code == 404


def test_new_gardener_sees_empty_states_that_say_what_to_do(gardener_client):
    """Every panel has an empty state that tells a new gardener what to do next."""
    expected = {
        "plant-stats": "You have not asked us to identify a plant yet",
        "forum-stats": "You have not posted in the forum yet",
        "recent-activity": "Nothing here yet",
        "previous-searches": "No identification requests yet",
        "care-cards": "No care cards yet",
        "care-due": "No care tasks yet",
        "trust-progress": "5 more approved posts",
    }
    for name, text in expected.items():
        response = gardener_client.get(reverse("dashboard:panel", args=[name]), headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert text in response.content.decode(), name


def test_a_plain_navigation_to_a_panel_goes_to_the_whole_dashboard(gardener_client):
    """SPEC "HTTP contract": a panel is a fragment for htmx; a plain browser navigation is
    redirected to the dashboard with every panel rendered, at that panel."""
    response = gardener_client.get(reverse("dashboard:panel", args=["care-cards"]))
    assert response.status_code == 302 and response["Location"] == "/dashboard/?all=1#panel-care-cards"
    page = gardener_client.get(response["Location"]).content.decode()
    assert 'id="panel-care-cards"' in page and "No care cards yet" in page


def test_panel_whose_data_cannot_be_loaded_shows_an_error_inside_itself(gardener_client):
    """A real database failure in one panel answers 200 with an error state (so htmx swaps
    it), and the other panels are unaffected. The table is renamed inside the test's
    transaction, which the test rolls back."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE plants_savedcareinstructions RENAME TO plants_gone")
    response = gardener_client.get(reverse("dashboard:panel", args=["care-cards"]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "could not be loaded" in body
    assert 'id="panel-care-cards-title"' in body


def test_session_expiry_is_renewed_at_most_once_a_minute(client, gardener, django_assert_num_queries):
    """A warm session costs no session write; one due for renewal costs exactly one save."""
    client.force_login(gardener)
    client.get(reverse("dashboard:index"))
    renewed_at = client.session[SESSION_RENEWED_AT_KEY]
    with django_assert_num_queries(1):  # the user (with the moderator flag); no session write
        client.get(reverse("dashboard:index"))
    assert client.session[SESSION_RENEWED_AT_KEY] == renewed_at
    session = client.session
    session[SESSION_RENEWED_AT_KEY] = int(time.time()) - 61
    session.save()
    client.get(reverse("dashboard:index"))
    assert client.session[SESSION_RENEWED_AT_KEY] >= int(time.time()) - 2


def test_session_ends_after_its_absolute_lifetime(client, gardener, settings):
    """However active, a session ends SESSION_ABSOLUTE_LIFETIME_SECONDS after sign-in."""
    from apps.core.middleware import SESSION_AUTH_AT_KEY

    client.force_login(gardener)
    assert client.get(reverse("dashboard:index")).status_code == 200
    session = client.session
    session[SESSION_AUTH_AT_KEY] = int(time.time()) - settings.SESSION_ABSOLUTE_LIFETIME_SECONDS - 1
    session.save()
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_dashboard_without_javascript_can_show_every_panel(gardener_client):
    """``?all=1`` renders all six panels into the page on the server (the <noscript> link)."""
    response = gardener_client.get(reverse("dashboard:index") + "?all=1")
    body = response.content.decode()
    assert response.status_code == 200
    assert "hx-get" not in body.split('<div class="dashboard-grid">')[1]
    for title in ("Your plants", "Forum activity", "Recent activity", "Previous searches", "Care cards", "Trust level"):
        assert title in body
    assert "JavaScript is off" not in body


def test_the_shell_without_javascript_offers_one_link_and_no_endless_loading(gardener_client):
    """Issue 15: the shell showed "Loading…" forever in every panel and the same "Show every
    panel" link six times. Now a <noscript> refresh in <head> goes on to ``?all=1`` (every panel
    rendered), one <noscript> link in the page for a browser that ignores it, and each panel's
    placeholder is a link to itself rendered (replaced as soon as htmx loads the panel). The
    ``?all=1`` page itself neither refreshes nor links to itself."""
    body = gardener_client.get(reverse("dashboard:index")).content.decode()
    head, page = body.split("</head>")
    assert head.count('<noscript><meta http-equiv="refresh" content="0; url=/dashboard/?all=1"></noscript>') == 1
    assert page.count("<noscript>") == 1 and "Show every panel on one page" not in body
    assert "Loading…" not in body
    assert page.count('href="/dashboard/?all=1"') == 1
    every_panel = gardener_client.get(reverse("dashboard:index") + "?all=1").content.decode()
    assert "<noscript>" not in every_panel and 'http-equiv="refresh"' not in every_panel
    for name in ("plant-stats", "care-due", "trust-progress"):
        assert f'href="/dashboard/?all=1#panel-{name}"' in body


def test_session_deleted_while_its_cached_copy_survived_is_signed_out_at_renewal(client, gardener):
    """A session whose database row is gone (signed out while Redis was down) but whose cached
    copy came back is flushed at the next renewal check instead of living on."""
    from django.contrib.sessions.models import Session

    client.force_login(gardener)
    assert client.get(reverse("dashboard:index")).status_code == 200
    session = client.session
    session[SESSION_RENEWED_AT_KEY] = int(time.time()) - 61
    session.save()
    # Signed out while Redis was down: the row is gone, the cached copy is not.
    Session.objects.filter(session_key=session.session_key).delete()
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
