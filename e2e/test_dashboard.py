"""The gardener's dashboard in a real browser: sign-in, seven panels loading over htmx with real
photos, accessibility (axe), CSP, sign-out, and the HTMX sign-in redirect (SPEC "HTTP contract")."""

from datetime import timedelta
from io import BytesIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from PIL import Image

from apps.core.uploads import encode_jpeg, open_checked
from apps.demo.recount import user_counters_recount
from apps.forum.markdown import render_markdown
from apps.forum.services import forum_counters_recount
from apps.plants.care.schedule import local_today
from apps.plants.models import (
    CareCardStatus,
    CareTask,
    IdentificationStatus,
    PlantPhoto,
    PlantSpecies,
    SavedCareInstructions,
)
from tests import factories

from .helpers import assert_no_axe_violations

# The species catalog comes from migrations; the root conftest puts it back after every
# transactional test (which the live server needs) flushes the tables.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PANEL_IDS = [
    "panel-care-due",
    "panel-plant-stats",
    "panel-forum-stats",
    "panel-recent-activity",
    "panel-previous-searches",
    "panel-care-cards",
    "panel-trust-progress",
]
TOPIC_SUBJECT = "Brown tips on my calathea after repotting"
CARE_CARD_NICKNAMES = ["Landing fern", "Kitchen windowsill friend"]
# Statuses of the requests, newest first; the first is identified with a catalog species.
REQUEST_STATUSES = [
    IdentificationStatus.IDENTIFIED,
    IdentificationStatus.NEEDS_HELP,
    IdentificationStatus.PROCESSING,
    IdentificationStatus.PENDING,
]
PANELS_FILLED = """() =>
  !document.querySelector('.panel[aria-busy="true"]') && !document.querySelector('.panel-loading')"""
THUMBS_LOADED = """(selector) => {
  const images = [...document.querySelectorAll(selector)];
  return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
}"""


def _photo_request(*, owner, path, status, created_at, species=None):
    """An identification request whose thumbnail and stored photo are made from a real photo,
    the way the upload path makes them (``open_checked`` then ``encode_jpeg``)."""
    image = open_checked(path.read_bytes())
    id_request = factories.IdentificationRequestFactory(
        owner=owner,
        status=status,
        created_at=created_at,
        species=species,
        identified_at=created_at + timedelta(minutes=5) if species else None,
        thumbnail=encode_jpeg(image, max_px=300, name=f"{path.stem}-thumb.jpg"),
        notes=f"Photographed in the garden ({path.stem}).",
    )
    photo = encode_jpeg(image, max_px=1600, name=f"{path.stem}.jpg")
    width, height = Image.open(BytesIO(photo.read())).size
    photo.seek(0)
    PlantPhoto.objects.create(request=id_request, image=photo, position=0, width=width, height=height)
    return id_request


@pytest.fixture
def dashboard_gardener(transactional_db, real_photos):
    """A gardener (trust level ``new``) with identification requests made from real photos in
    mixed statuses, suggestions, two care cards, and a topic plus a reply in a forum; counters
    recounted as after any bulk load. Returns ``(user, facts)`` for the assertions."""
    now = timezone.now()
    user = factories.UserFactory(username="rosa", email="rosa@example.com")
    catalog = list(PlantSpecies.objects.order_by("scientific_name")[:4])
    assert len(catalog) == 4, "the species catalog (loaded by migrations) is missing"

    photos = real_photos[: len(REQUEST_STATUSES)]
    requests = []
    for index, (path, status) in enumerate(zip(photos, REQUEST_STATUSES, strict=False)):
        requests.append(
            _photo_request(
                owner=user,
                path=path,
                status=status,
                created_at=now - timedelta(hours=2 + 6 * index),
                species=catalog[0] if status == IdentificationStatus.IDENTIFIED else None,
            )
        )
    identified = requests[0]
    accepted = factories.SuggestionFactory(request=identified, species=catalog[0], probability=0.94)
    factories.SuggestionFactory(request=identified, species=catalog[1], probability=0.03)
    identified.accepted_suggestion = accepted
    identified.save(update_fields=["accepted_suggestion"])
    if len(requests) > 1:
        factories.SuggestionFactory(request=requests[1], species=catalog[2], probability=0.41)

    cards = [
        SavedCareInstructions.objects.create(
            owner=user, species=species, nickname=nickname, status=status, is_favourite=status == "thriving"
        )
        for nickname, species, status in zip(
            CARE_CARD_NICKNAMES, catalog[2:4], [CareCardStatus.THRIVING, CareCardStatus.STRUGGLING], strict=True
        )
    ]
    # Care tasks (issue 14): watering the fern due today, misting the windowsill plant overdue
    # by two days, and feeding the fern in five days (the care-due panel's "next" once both
    # are done).
    today = local_today(user.time_zone)
    for card, kind, due in (
        (cards[0], "water", today),
        (cards[1], "mist", today - timedelta(days=2)),
        (cards[0], "fertilize", today + timedelta(days=5)),
    ):
        CareTask.objects.create(care_card=card, owner=user, kind=kind, interval_days=7, next_due_on=due)

    forum = factories.ForumFactory(name="Houseplants", slug="houseplants")
    topic = factories.TopicFactory(forum=forum, poster=user, subject=TOPIC_SUBJECT, created_at=now - timedelta(hours=1))
    opening = "Repotted last week; now the **leaf tips** are brown. Too much water?"
    factories.PostFactory(
        topic=topic,
        poster=user,
        is_opening_post=True,
        source=opening,
        html=render_markdown(opening),
        created_at=topic.created_at,
    )
    reply = "Update: moved it away from the radiator, new leaves look fine."
    factories.PostFactory(
        topic=topic,
        poster=user,
        is_opening_post=False,
        source=reply,
        html=render_markdown(reply),
        created_at=now - timedelta(minutes=30),
    )

    user_counters_recount(user_ids=[user.pk])
    forum_counters_recount()
    return user, {"requests": len(requests), "identified_species": catalog[0]}


def _sign_in(page, live_server, *, login: str):
    """Open the dashboard signed out, get sent to the sign-in page, sign in and come back."""
    page.goto(f"{live_server.url}/dashboard/")
    location = urlsplit(page.url)
    assert location.path == "/accounts/login/", page.url
    assert parse_qs(location.query) == {"next": ["/dashboard/"]}, page.url

    form = page.locator("main form")
    form.locator('input[name="username"]').fill(login)
    form.locator('input[name="password"]').fill(factories.DEFAULT_PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")


def test_gardener_dashboard_journey(page, live_server, dashboard_gardener, console_errors, output_dir):
    """A gardener signs in with their email in another letter case, sees all six panels filled
    over htmx with their data and real photo thumbnails, the page passes axe with no console
    error or CSP violation, and signing out ends the session."""
    user, facts = dashboard_gardener
    _sign_in(page, live_server, login=user.email.upper())

    page.wait_for_function(PANELS_FILLED)
    for panel_id in PANEL_IDS:
        panel = page.locator(f"#{panel_id}")
        assert panel.get_attribute("aria-busy") == "false", panel_id
        assert panel.locator(".panel-error").count() == 0, f"{panel_id} shows its error state"

    stats = page.locator("#panel-plant-stats")
    total = stats.locator("dt", has_text="Total searches").locator("xpath=following-sibling::dd")
    assert total.inner_text().strip() == str(facts["requests"])
    identified = stats.locator("dt", has_text="Plants identified").locator("xpath=following-sibling::dd")
    assert identified.inner_text().strip() == "1"
    cards = stats.locator("dt", has_text="Saved care cards").locator("xpath=following-sibling::dd")
    assert cards.inner_text().strip() == str(len(CARE_CARD_NICKNAMES))

    forum_text = page.locator("#panel-forum-stats").inner_text()
    assert "Topics started" in forum_text and "Posts written" in forum_text

    activity = page.locator("#panel-recent-activity")
    assert activity.get_by_role("link", name=TOPIC_SUBJECT, exact=True).count() == 1
    assert activity.get_by_role("link", name=f"Re: {TOPIC_SUBJECT}", exact=True).count() == 1

    searches = page.locator("#panel-previous-searches")
    species_name = facts["identified_species"].display_name
    assert searches.get_by_role("link", name=species_name, exact=True).count() == 1
    assert "Needs community help" in searches.inner_text()

    care = page.locator("#panel-care-cards")
    for nickname in CARE_CARD_NICKNAMES:
        assert care.get_by_role("link", name=nickname, exact=True).count() == 1

    trust_text = page.locator("#panel-trust-progress").inner_text()
    assert "Your trust level: New" in trust_text
    assert "To reach Basic" in trust_text

    # Thumbnails are lazy: bring each into view, then every one must be a decoded image.
    thumbs = searches.locator("img.thumb")
    shown = min(facts["requests"], 5)
    assert thumbs.count() == shown
    for index in range(shown):
        thumbs.nth(index).scroll_into_view_if_needed()
    page.wait_for_function(THUMBS_LOADED, arg="#panel-previous-searches img.thumb")
    loaded = thumbs.evaluate_all("(images) => images.map((img) => img.complete && img.naturalWidth > 0)")
    assert loaded == [True] * shown

    page.screenshot(path=str(output_dir / "dashboard.png"), full_page=True)
    assert console_errors == [], "console errors or CSP violations:\n" + "\n".join(console_errors)
    assert_no_axe_violations(page)

    # Signing out lands on the sign-in page with a note, and the header offers "Sign in" again.
    with page.expect_navigation():
        page.locator("header").get_by_role("button", name="Sign out").click()
    assert urlsplit(page.url).path == "/accounts/login/", page.url
    assert page.get_by_role("status").get_by_text("You are signed out.").is_visible()
    header = page.locator("header")
    assert header.get_by_role("link", name="Sign in", exact=True).is_visible()
    assert header.get_by_role("button", name="Sign out").count() == 0
    page.goto(f"{live_server.url}/dashboard/")
    assert urlsplit(page.url).path == "/accounts/login/"
    assert parse_qs(urlsplit(page.url).query) == {"next": ["/dashboard/"]}
    assert console_errors == [], "console errors or CSP violations:\n" + "\n".join(console_errors)


FOCUSED_NAME = """() => {
  const el = document.activeElement;
  return el ? [el.tagName, el.getAttribute("aria-label")] : null;
}"""


def test_done_in_the_due_today_panel(page, live_server, dashboard_gardener, console_errors, output_dir):
    """The care-due panel lists the overdue misting first, then today's watering; pressing
    Done removes the task from the panel (the panel reloads on careTaskDone), the status line
    says what happened, and focus moves to the button now in its place; once both are done the
    empty state names the next task and focus rests on the panel's heading."""
    user, _facts = dashboard_gardener
    _sign_in(page, live_server, login=user.username)
    page.wait_for_function(PANELS_FILLED)
    panel = page.locator("#panel-care-due")
    items = panel.locator("li")
    assert items.count() == 2
    assert "Mist Kitchen windowsill friend" in items.nth(0).inner_text()
    assert "overdue by 2 days" in items.nth(0).inner_text()
    assert "Water Landing fern" in items.nth(1).inner_text() and "due today" in items.nth(1).inner_text()
    assert_no_axe_violations(page)

    panel.get_by_role("button", name="Done: mist Kitchen windowsill friend").click()
    page.wait_for_function("() => document.querySelectorAll('#panel-care-due li').length === 1")
    assert "Kitchen windowsill friend" not in panel.inner_text()
    status = page.get_by_role("status").filter(has_text="done.")
    assert "Mist Kitchen windowsill friend: done. Next due" in status.inner_text()
    page.wait_for_function("() => document.activeElement && document.activeElement.closest('#panel-care-due li')")
    assert page.evaluate(FOCUSED_NAME) == ["BUTTON", "Done: water Landing fern"]
    assert CareTask.objects.get(kind="mist").last_done_on == local_today(user.time_zone)

    page.keyboard.press("Enter")  # the focused Done: water Landing fern
    page.wait_for_function("() => !document.querySelector('#panel-care-due li')")
    text = panel.inner_text()
    assert "Nothing due today. Next: fertilize Landing fern on" in text, text
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'panel-care-due-title'")
    page.screenshot(path=str(output_dir / "dashboard-care-due-done.png"), full_page=True)
    assert_no_axe_violations(page)
    assert console_errors == [], "console errors or CSP violations:\n" + "\n".join(console_errors)


def test_signed_out_htmx_panel_request_gets_hx_redirect(page, live_server):
    """A signed-out htmx panel request is answered with ``HX-Redirect`` to the sign-in page
    (carrying ``next``) instead of a 302 that htmx would follow into the panel."""
    response = page.request.get(
        f"{live_server.url}/dashboard/panels/plant-stats/", headers={"HX-Request": "true"}, max_redirects=0
    )
    assert response.status < 300, response.status
    target = urlsplit(response.headers.get("hx-redirect", ""))
    assert target.path == "/accounts/login/", response.headers
    assert parse_qs(target.query) == {"next": ["/dashboard/panels/plant-stats/"]}

    # The same request without HX-Request is an ordinary redirect.
    plain = page.request.get(f"{live_server.url}/dashboard/panels/plant-stats/", max_redirects=0)
    assert plain.status == 302
    assert urlsplit(plain.headers["location"]).path == "/accounts/login/"


def test_without_javascript_the_dashboard_shows_every_panel_filled(browser, live_server, dashboard_gardener):
    """JavaScript off (issue 15): signing in lands on the dashboard, whose ``<noscript>``
    refresh goes on to ``?all=1``; every panel is rendered on the server with the gardener's
    data (no "Show ..." placeholder left); the refresh replaces the shell's history entry, so Back
    from a dashboard opened from the forum returns to the forum."""
    user, facts = dashboard_gardener
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/forum/")
        page.goto(f"{live_server.url}/accounts/login/?next=/dashboard/")
        form = page.locator("main form")
        form.locator('input[name="username"]').fill(user.username)
        form.locator('input[name="password"]').fill(factories.DEFAULT_PASSWORD)
        form.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/dashboard/?all=1")

        assert page.locator(".panel-loading").count() == 0
        for panel_id in PANEL_IDS:
            assert page.locator(f"#{panel_id} h2").count() == 1, panel_id
            assert page.locator(f"#{panel_id} .panel-error").count() == 0, panel_id
        stats = page.locator("#panel-plant-stats")
        total = stats.locator("dt", has_text="Total searches").locator("xpath=following-sibling::dd")
        assert total.inner_text().strip() == str(facts["requests"])
        for nickname in CARE_CARD_NICKNAMES:
            assert page.locator("#panel-care-cards").get_by_role("link", name=nickname).count() == 1

        # A 0 s refresh replaces the shell's history entry: Back from a visit leaves the dashboard.
        page.goto(f"{live_server.url}/forum/")
        page.locator('a[href="/dashboard/"]').first.dispatch_event("click")
        page.wait_for_url(f"{live_server.url}/dashboard/?all=1")
        page.go_back()
        page.wait_for_timeout(500)  # time for a refresh that should not come
        assert urlsplit(page.url).path == "/forum/", page.url
    finally:
        context.close()
