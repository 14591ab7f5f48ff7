"""Keyboard-only journeys (issue 15, "good on a keyboard"): after an htmx action focus stays
where the gardener is, never falling back to <body> (where the next Tab would start from the top
of the page), and the polite live region says what happened (static/js/htmx-focus.js).

Only the keyboard drives the pages: Tab to reach a control, Enter or Space to press it, typing
into fields. The data is made through the factories and the services."""

import pytest
from django.contrib.auth.models import Group

from apps.accounts.models import TrustLevel
from apps.forum.services import reply_create, topic_create
from apps.plants.care.models import CareTask
from apps.plants.models import PlantSpecies, SavedCareInstructions
from tests import factories

from .helpers import assert_no_axe_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What has focus: its id, its tag, its text (spaces collapsed), whether it is <body>, and the id
# of the review-queue item holding it.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el) return null;
  const item = el.closest(".queue-item");
  return {id: el.id, tag: el.tagName, text: el.textContent.replace(/\\s+/g, " ").trim(),
          body: el === document.body, item: item ? item.id : null};
}"""
# Every message the polite live region receives, in order (it is cleared before each one).
RECORD_ANNOUNCEMENTS = """
window.__said = [];
new MutationObserver(() => {
  const region = document.querySelector("[data-live-announcer]");
  if (region && region.getAttribute("aria-live") === "polite" && region.getAttribute("role") === "status"
      && region.textContent && region.textContent !== window.__last) window.__said.push(region.textContent);
  window.__last = region ? region.textContent : "";
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def _sign_in(page, live_server, username: str) -> None:
    """Sign in with the keyboard: type into the fields, Enter submits. Records announcements."""
    page.add_init_script(RECORD_ANNOUNCEMENTS)
    page.goto(f"{live_server.url}/accounts/login/")
    form = page.locator("main form")
    form.locator('input[name="username"]').focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(factories.DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/accounts/login/" not in page.url, page.url


def _tab_to(page, wanted: str, *, limit: int = 250) -> dict:
    """Press Tab until the focused element's id is ``wanted`` (or, with a ``text:`` prefix, its
    text starts with the rest); the focused element's description. Fails after ``limit``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if wanted.startswith("text:") and focused["text"].startswith(wanted[5:]):
            return focused
        if focused["id"] == wanted:
            return focused
    raise AssertionError(f"{wanted!r} never got focus in {limit} presses of Tab")


def _retype_in_disclosure(page, *, summary: str, field: tuple[str, int], text: str, submit: tuple[str, int]) -> None:
    """Keyboard only: Tab to the ``<summary>`` (``_tab_to`` syntax) and open it with Enter, Tab
    to ``field`` (id, at most so many presses), replace its text with ``text``, Tab to
    ``submit`` and press Enter."""
    _tab_to(page, summary)
    page.keyboard.press("Enter")
    _tab_to(page, field[0], limit=field[1])
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text)
    _tab_to(page, submit[0], limit=submit[1])
    page.keyboard.press("Enter")


def _wait_for_announcement(page, text: str, count: int, *, prefix: bool = False) -> None:
    """Wait until the polite live region has had ``count`` messages on this page, the last
    being ``text`` (with ``prefix``: starting with it)."""
    page.wait_for_function("(count) => window.__said.length >= count", arg=count)
    said = page.evaluate("() => window.__said")
    assert len(said) == count, said
    assert said[-1].startswith(text) if prefix else said[-1] == text, said


@pytest.fixture
def voting(transactional_db):
    """A request by ``rosa`` with a machine suggestion, and ``basil`` who votes on it."""
    rosa = factories.UserFactory(username="rosa")
    factories.UserFactory(username="basil")
    species = PlantSpecies.objects.get(scientific_name="Monstera deliciosa")
    id_request = factories.IdentificationRequestFactory(owner=rosa)
    suggestion = factories.SuggestionFactory(request=id_request, species=species)
    return {"request": id_request, "suggestion": suggestion, "name": species.display_name}


def test_voting_keeps_focus_on_the_vote_buttons_and_announces_each_vote(
    page, live_server, voting, console_errors, browser
):
    """basil Tabs to "Agree", presses Enter: the list is swapped, focus is still on Agree (now
    pressed) and the live region says "You agree with ..."; the next Tab goes on to Disagree
    (not to the top of the page), Space there: focus on Disagree, "You disagree with ...". The
    owner accepting the name with the keyboard lands in the same suggestion's row."""
    pk = voting["suggestion"].pk
    name = voting["name"]
    _sign_in(page, live_server, "basil")
    page.goto(f"{live_server.url}{voting['request'].get_absolute_url()}")
    _tab_to(page, f"suggestion-{pk}-agree")
    page.keyboard.press("Enter")
    page.locator(f'#suggestion-{pk}-agree[aria-pressed="true"]').wait_for()
    _wait_for_announcement(page, f"You agree with {name}.", 1)
    focused = page.evaluate(FOCUSED)
    assert focused["id"] == f"suggestion-{pk}-agree" and not focused["body"], focused

    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["id"] == f"suggestion-{pk}-disagree"
    page.keyboard.press("Space")
    page.locator(f'#suggestion-{pk}-disagree[aria-pressed="true"]').wait_for()
    _wait_for_announcement(page, f"You disagree with {name}.", 2)
    assert page.evaluate(FOCUSED)["id"] == f"suggestion-{pk}-disagree"
    assert page.locator(f'#suggestion-{pk}-agree[aria-pressed="false"]').count() == 1
    assert_no_axe_violations(page)
    assert console_errors == [], "console errors or CSP violations:\n" + "\n".join(console_errors)

    # The owner's Accept button goes once accepted: focus stays in that suggestion's row.
    owner_context = browser.new_context(viewport={"width": 1280, "height": 900})
    owner_context.set_default_timeout(10_000)
    owner = owner_context.new_page()
    _sign_in(owner, live_server, "rosa")
    owner.goto(f"{live_server.url}{voting['request'].get_absolute_url()}")
    _tab_to(owner, f"suggestion-{pk}-accept")
    owner.keyboard.press("Enter")
    _wait_for_announcement(owner, f"Accepted: the request is identified as {name}.", 1)
    assert owner.locator(f"#suggestion-{pk}-accept").count() == 0
    focused = owner.evaluate(FOCUSED)
    assert focused["id"] == f"suggestion-{pk}-agree", focused
    owner_context.close()


@pytest.fixture
def fern_gardener(transactional_db):
    return factories.UserFactory(username="fern")


def test_saving_care_cards_keeps_focus_on_the_save_buttons(page, live_server, fern_gardener, console_errors):
    """On a species page "Save care card" (Enter) keeps focus on the same toggle, now "Remove
    care card", and the live region says "Care card saved: ..."; on the care cards page the
    card's "Name, notes and status" opens with Enter, a nickname is typed, Save (Enter) keeps
    focus on Save and the live region says "Saved: <nickname>."."""
    species = PlantSpecies.objects.get(scientific_name="Monstera deliciosa")
    _sign_in(page, live_server, "fern")
    page.goto(f"{live_server.url}{species.get_absolute_url()}")
    _tab_to(page, "care-card-toggle")
    page.keyboard.press("Enter")
    page.locator("#care-card-toggle", has_text="Remove care card").wait_for()
    _wait_for_announcement(page, f"Care card saved: {species.display_name}.", 1)
    focused = page.evaluate(FOCUSED)
    assert focused["id"] == "care-card-toggle" and focused["text"] == "Remove care card", focused
    card = SavedCareInstructions.objects.get(owner=fern_gardener, species=species)
    assert_no_axe_violations(page)

    page.goto(f"{live_server.url}/plants/care-cards/")
    _tab_to(page, "text:Name, notes and status")
    page.keyboard.press("Enter")  # opens the <details>
    _tab_to(page, f"id_card-{card.pk}-nickname", limit=5)
    page.keyboard.type("Big Monty")
    _tab_to(page, f"care-card-{card.pk}-save", limit=10)
    page.keyboard.press("Enter")
    page.locator(f"#care-card-{card.pk}-form [role=status]", has_text="Saved.").wait_for()
    _wait_for_announcement(page, "Saved: Big Monty.", 1)
    assert page.evaluate(FOCUSED)["id"] == f"care-card-{card.pk}-save"
    card.refresh_from_db()
    assert card.nickname == "Big Monty"
    assert page.locator(f"#care-card-{card.pk}-title").inner_text() == "Big Monty"

    # Saving again (Space this time) announces again, focus still on Save.
    page.keyboard.press("Space")
    _wait_for_announcement(page, "Saved: Big Monty.", 2)
    assert page.evaluate(FOCUSED)["id"] == f"care-card-{card.pk}-save"
    assert_no_axe_violations(page)

    # The card's care tasks go through the same mechanism (static/js/care-tasks.js only asks the
    # task region to reload): the interval's Save sits in a <details> that is closed again after
    # the reload, so focus goes to the same task's first control, "Done today"; pressing it keeps
    # focus there. Each answer's message is announced.
    water = CareTask.objects.get(care_card=card, kind="water")
    page.goto(f"{live_server.url}/plants/care-cards/")
    _retype_in_disclosure(
        page,
        summary="text:Done another day, interval of water",
        field=(f"care-task-{water.pk}-interval", 12),
        text="5",
        submit=(f"care-task-{water.pk}-edit", 3),
    )
    _wait_for_announcement(page, "Water Big Monty: every 5 days, next", 1, prefix=True)
    page.wait_for_function(f"() => document.activeElement.id === 'care-task-{water.pk}-done'")
    assert page.locator(f"#care-task-{water.pk} details[open]").count() == 0
    water.refresh_from_db()
    assert water.interval_days == 5
    page.keyboard.press("Enter")
    _wait_for_announcement(page, "Water Big Monty: done. Next due", 2, prefix=True)
    page.locator(f"#care-task-{water.pk} .history-list").wait_for()  # the region is reloaded
    page.wait_for_function(f"() => document.activeElement.id === 'care-task-{water.pk}-done'")
    water.refresh_from_db()
    assert water.last_done_on is not None
    assert console_errors == [], "console errors or CSP violations:\n" + "\n".join(console_errors)


@pytest.fixture
def held_posts(transactional_db):
    """Two replies held for review from two new gardeners, and a moderator."""
    forum = factories.ForumFactory(name="Houseplants", slug="houseplants")
    moderator = factories.UserFactory(username="mod", is_staff=True, trust_level=TrustLevel.VETERAN)
    moderator.groups.add(Group.objects.get(name="moderators"))
    holly = factories.UserFactory(username="holly", trust_level=TrustLevel.TRUSTED)
    topic = topic_create(forum=forum, poster=holly, subject="Show us your windowsill", source="Ferns.", publish=True)
    posts = [
        reply_create(
            topic=topic, poster=factories.UserFactory(username=name), source=f"Hello from {name}.", publish=False
        )
        for name in ("newbie", "sprout")
    ]
    return posts


def test_approving_in_the_review_queue_keeps_focus_in_the_queue(page, live_server, held_posts, console_errors):
    """The moderator Tabs to the first item's Approve and presses Enter: the item becomes its
    decision ("Approved: ...") and focus goes to that status, never <body>; focus there reads it,
    so the live region stays quiet (no second reading), and the counts line is not a live
    region either; the next Tab reaches the next item, whose Approve (Space) does the same."""
    _sign_in(page, live_server, "mod")
    page.goto(f"{live_server.url}/moderation/")
    order = page.locator("li.queue-item").evaluate_all("(items) => items.map((item) => item.id)")
    assert sorted(order) == sorted(f"queue-{post.pk}" for post in held_posts)
    first, second = order

    focused = _tab_to(page, "text:Approve")
    assert focused["item"] == first
    page.keyboard.press("Enter")
    page.locator(f"#{first} .queue-decided").wait_for()
    page.wait_for_function("() => document.activeElement.matches('.queue-decided')")
    focused = page.evaluate(FOCUSED)
    assert not focused["body"] and focused["item"] == first, focused
    assert focused["text"] == "Approved: it is visible now."
    # Focus on that status reads it; the live region does not say it a second time.
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__said") == []

    # From there, Tab goes on into the next item (not back to the top of the page).
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["item"] == second
    focused = _tab_to(page, "text:Approve", limit=10)
    assert focused["item"] == second
    page.keyboard.press("Space")
    page.locator(f"#{second} .queue-decided").wait_for()
    page.wait_for_function("() => document.activeElement.matches('.queue-decided')")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__said") == []
    focused = page.evaluate(FOCUSED)
    assert not focused["body"] and focused["item"] == second, focused
    assert "0 held from new members" in page.locator("#queue-counts").inner_text()
    assert page.locator("#queue-counts").get_attribute("aria-live") is None
    assert_no_axe_violations(page)
    assert console_errors == [], "console errors or CSP violations:\n" + "\n".join(console_errors)


def test_a_refused_care_card_save_puts_focus_on_the_field_to_fix(page, live_server, fern_gardener, console_errors):
    """A nickname the form refuses (a typed right-to-left override: apps.core.text) comes back
    400 with its message; focus goes to that field (aria-invalid, its message read with it),
    not back to Save, and nothing is saved."""
    species = PlantSpecies.objects.get(scientific_name="Monstera deliciosa")
    card = factories.CareCardFactory(owner=fern_gardener, species=species, nickname="Monty")
    _sign_in(page, live_server, "fern")
    page.goto(f"{live_server.url}/plants/care-cards/")
    _retype_in_disclosure(
        page,
        summary="text:Name, notes and status",
        field=(f"id_card-{card.pk}-nickname", 5),
        text="\u202eytnoM",
        submit=(f"care-card-{card.pk}-save", 10),
    )
    page.locator(f"#care-card-{card.pk}-form [role=alert]", has_text="text-direction").wait_for()
    page.wait_for_function(f"() => document.activeElement.id === 'id_card-{card.pk}-nickname'")
    assert page.locator(f"#id_card-{card.pk}-nickname").get_attribute("aria-invalid") == "true"
    card.refresh_from_db()
    assert card.nickname == "Monty"
    assert_no_axe_violations(page)
    # The browser notes the 400 ("Failed to load resource"), and so does htmx ("Response Status
    # Error Code 400": base.html's responseHandling flags a 400 as an error while swapping it, so
    # nothing waiting for success clears the form); nothing else may be logged.
    expected = ("status of 400", "Response Status Error Code 400")
    assert [error for error in console_errors if not any(note in error for note in expected)] == []
