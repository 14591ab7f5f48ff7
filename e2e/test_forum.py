"""The forum in a real browser: a new gardener's post waits in the
review queue and others cannot see it; a moderator approves it over htmx and it appears; a
post full of script payloads fires nothing; a trusted gardener's report hides a new gardener's
post. axe on the topic page and the queue (e2e/test_crawl.py covers every page as every role)."""

import re

import pytest
from django.contrib.auth.models import Group

from apps.accounts.models import TrustLevel
from apps.forum.services import topic_create
from tests import factories

from .helpers import assert_no_axe_violations, submit_sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

XSS = """Hello <script>window.__pwned = 1</script>
<img src=x onerror="window.__pwned = 2">
[click me](javascript:window.__pwned=3)
<a href="javascript:window.__pwned=4" onmouseover="window.__pwned=5">hover</a>
<svg onload="window.__pwned=6"></svg>
![img](javascript:window.__pwned=7)
"""

# Chromium puts a space before the visually hidden ", 1 unread" in the computed name.
UNREAD_WINDOWSILL = re.compile(r"^Show us your windowsill\s*, 1 unread$")


@pytest.fixture
def community(transactional_db):
    forum = factories.ForumFactory(name="Houseplants", slug="houseplants", description="Indoor plants")
    moderator = factories.UserFactory(username="mod", is_staff=True, trust_level=TrustLevel.VETERAN)
    moderator.groups.add(Group.objects.get(name="moderators"))
    factories.UserFactory(username="newbie")  # signs in below
    trusted = factories.UserFactory(username="holly", trust_level=TrustLevel.TRUSTED)
    topic = topic_create(
        forum=forum, poster=trusted, subject="Show us your windowsill", source="Mine has three ferns.", publish=True
    )
    return {"forum": forum, "topic": topic}


def _context_page(browser, live_server, username):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/accounts/login/")
    submit_sign_in(page, username=username, password=factories.DEFAULT_PASSWORD)
    return context, page, errors


def test_held_post_approved_over_htmx_then_visible(browser, live_server, community):
    topic_url = f"{live_server.url}/forum/t/{community['topic'].pk}/"
    newbie_context, newbie, newbie_errors = _context_page(browser, live_server, "newbie")
    newbie.goto(topic_url)
    newbie.locator('textarea[name="source"]').fill("My fern is called Fernando.")
    with newbie.expect_navigation():
        newbie.get_by_role("button", name="Post reply").click()
    assert newbie.get_by_text("waits for a moderator").is_visible()
    assert newbie.get_by_text("My fern is called Fernando.").is_visible()

    reader_context, reader, _ = _context_page(browser, live_server, "holly")
    reader.goto(topic_url)
    assert reader.get_by_text("Fernando").count() == 0

    mod_context, mod, mod_errors = _context_page(browser, live_server, "mod")
    mod.goto(f"{live_server.url}/moderation/")
    assert_no_axe_violations(mod)
    mod.get_by_role("button", name="Approve post by newbie").click()
    # The decided item's own status (the live region, also a status, says it too: htmx-focus.js).
    mod.locator("li.queue-item").get_by_role("status").get_by_text("Approved").wait_for()
    reader.reload()
    assert reader.get_by_text("My fern is called Fernando.").is_visible()
    assert_no_axe_violations(reader)
    for context in (newbie_context, reader_context, mod_context):
        context.close()
    assert newbie_errors == [] and mod_errors == []


def test_script_payloads_in_a_post_fire_nothing(browser, live_server, community):
    trusted_context, page, errors = _context_page(browser, live_server, "holly")
    page.goto(f"{live_server.url}/forum/t/{community['topic'].pk}/")
    page.locator('textarea[name="source"]').fill(XSS)
    with page.expect_navigation():
        page.get_by_role("button", name="Post reply").click()
    page.get_by_text("hover").first.hover()
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    dangerous = page.evaluate("""() => [...document.querySelectorAll('.post-body *')].flatMap((el) =>
        [...el.attributes].filter((a) => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value))
          .map((a) => el.tagName + ' ' + a.name)).concat(
        [...document.querySelectorAll('.post-body script, .post-body svg, .post-body iframe')]
          .map((el) => el.tagName))""")
    assert dangerous == []
    assert "<script>window.__pwned = 1</script>" in page.locator(".post").last.inner_text()  # shown as text
    trusted_context.close()


def test_trusted_gardeners_report_hides_a_new_gardeners_post(browser, live_server, community):
    from apps.forum.services import reply_create

    newbie = factories.UserFactory._meta.model.objects.get(username="newbie")
    post = reply_create(topic=community["topic"], poster=newbie, source="Cheap pills here", publish=True)
    context, page, errors = _context_page(browser, live_server, "holly")
    page.goto(f"{live_server.url}/forum/t/{community['topic'].pk}/")
    article = page.locator(f"#post-{post.pk}")
    article.locator("summary").click()
    article.get_by_label("Reason").select_option("spam")
    article.get_by_role("button", name="Send report").click()
    page.get_by_role("status").get_by_text("hidden until a moderator").wait_for()
    page.reload()
    assert page.get_by_text("Cheap pills here").count() == 0
    context.close()
    assert errors == []


def test_opening_a_notification_is_a_button_that_works_from_the_keyboard_and_without_javascript(
    browser, live_server, community
):
    """Each notification is a form whose button looks like a link (opening marks it read, so it
    is a POST: a GET never changes state). From the keyboard (focus, Enter) it lands on the
    notified post; with JavaScript off the button works the same; axe finds nothing."""
    from apps.forum.services import reply_create

    ivy = factories.UserFactory(username="ivy", trust_level=TrustLevel.BASIC)
    post = reply_create(topic=community["topic"], poster=ivy, source="Lovely ferns, @holly!", publish=True)
    topic_path = f"/forum/t/{community['topic'].pk}/"

    context, page, errors = _context_page(browser, live_server, "holly")
    page.goto(f"{live_server.url}/notifications/")
    assert_no_axe_violations(page)
    button = page.get_by_role("button", name=UNREAD_WINDOWSILL)
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"{topic_path}#post-{post.pk}")
    page.goto(f"{live_server.url}/notifications/")
    assert page.get_by_text("You are all caught up.").is_visible()
    context.close()
    assert errors == []

    reply_create(topic=community["topic"], poster=ivy, source="And one more.", publish=True)
    no_js = browser.new_context(java_script_enabled=False)
    page = no_js.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    submit_sign_in(page, username="holly", password=factories.DEFAULT_PASSWORD)
    page.goto(f"{live_server.url}/notifications/")
    with page.expect_navigation():
        page.get_by_role("button", name=UNREAD_WINDOWSILL).click()
    assert topic_path in page.url and "#post-" in page.url
    no_js.close()
