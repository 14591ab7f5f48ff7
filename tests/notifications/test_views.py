"""The notification list (issue 12; ported from the forum's): who the forum notifies, the
grouped page, the polled header badge, marking read (all, or one group by opening it with a
POST), privacy between gardeners, and query budgets."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import TrustLevel
from apps.core.permissions import is_moderator
from apps.forum.models import Post, Topic
from apps.forum.services import post_approve, post_delete, reply_create, topic_create
from apps.notifications import selectors, services
from apps.notifications.models import Notification, NotificationKind
from tests import factories

pytestmark = pytest.mark.django_db

BADGE_URL = "/notifications/badge/"
PAGE_URL = "/notifications/"
READ_ALL_URL = "/notifications/read-all/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def houseplants(db):
    """The "Houseplants" forum."""
    return factories.ForumFactory(name="Houseplants", slug="houseplants")


@pytest.fixture
def ben(db):
    """A basic gardener who replies to others."""
    return factories.UserFactory(username="ben", trust_level=TrustLevel.BASIC)


@pytest.fixture
def cleo(db):
    """Another basic gardener."""
    return factories.UserFactory(username="cleo", trust_level=TrustLevel.BASIC)


def start(forum, poster, subject, source="Opening post.", *, publish=True) -> Topic:
    return topic_create(forum=forum, poster=poster, subject=subject, source=source, publish=publish)


def reply(topic, poster, source="A reply.", *, publish=True) -> Post:
    return reply_create(topic=Topic.objects.get(pk=topic.pk), poster=poster, source=source, publish=publish)


def unread(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def group(topic) -> str:
    return f"forum.topic:{topic.pk}"


def open_url(topic) -> str:
    return reverse("notifications:open", args=[group(topic)])


def badge_label(body: str) -> str:
    return re.search(r'aria-label="(Notifications, [^"]*)"', body).group(1)


@pytest.fixture
def rosas_topics(gardener, houseplants, ben, cleo):
    """Rosa (``gardener``) started two topics: "Fern" got replies from ben, cleo, then ben
    again; "Cactus" (ben's topic) mentions her once."""
    fern = start(houseplants, gardener, "Fern fronds browning")
    reply(fern, ben, "Too much sun?")
    reply(fern, cleo, "Maybe dry air.")
    last = reply(fern, ben, "Try a pebble tray.")
    cactus = start(houseplants, ben, "Cactus soil")
    mention = reply(cactus, cleo, "@rosa knows cactus soil.")
    return {"fern": fern, "fern_last": last, "cactus": cactus, "mention": mention}


def test_replies_to_your_topic_notify_you_but_never_your_own_posts(gardener, houseplants, ben):
    """A reply by someone else to your topic is a ``reply`` notification for you; your own
    replies (and your opening post) notify nobody, including you."""
    topic = start(houseplants, gardener, "Monstera leaves")
    reply(topic, gardener, "Adding a photo later.")
    assert Notification.objects.count() == 0
    post = reply(topic, ben, "Looks healthy!")
    [note] = Notification.objects.all()
    assert (note.recipient_id, note.actor_id, note.kind, note.group_key, note.target_key) == (
        gardener.pk,
        ben.pk,
        "reply",
        f"forum.topic:{topic.pk}",
        f"forum.post:{post.pk}",
    )
    assert (note.group_title, note.url, note.is_visible) == ("Monstera leaves", f"/forum/p/{post.pk}/", True)
    assert unread(ben) == 0


def test_mentions_notify_the_mentioned_gardener_once_and_not_the_author(gardener, houseplants, ben, cleo):
    """An @mention (any letter case) notifies that gardener, once per post; mentioning
    yourself does not; the topic's author still gets their ``reply``."""
    topic = start(houseplants, ben, "Pothos cuttings")
    reply(topic, cleo, "@Rosa @rosa have a look; @cleo is me.")
    kinds = {(n.recipient_id, n.kind) for n in Notification.objects.all()}
    assert kinds == {(gardener.pk, "mention"), (ben.pk, "reply")}
    opening = start(houseplants, cleo, "Question for @rosa")
    assert Notification.objects.filter(recipient=gardener).count() == 1
    start(houseplants, cleo, "Hello", "Hi @rosa, welcome.")
    assert Notification.objects.filter(recipient=gardener, kind="mention").count() == 2
    assert opening  # a mention in a subject is not a mention (only the post's text is read)


def test_held_posts_notify_only_once_approved(gardener, houseplants, cleo):
    """A reply waiting in the review queue notifies nobody until a moderator approves it."""
    newcomer = factories.UserFactory(username="newbie", trust_level=TrustLevel.NEW)
    topic = start(houseplants, gardener, "Orchid roots")
    held = reply(topic, newcomer, "Hi @cleo", publish=False)
    assert Notification.objects.count() == 0
    post_approve(post_id=held.pk, moderator=factories.UserFactory(is_staff=True))
    assert {(n.recipient_id, n.kind) for n in Notification.objects.all()} == {
        (gardener.pk, "reply"),
        (cleo.pk, "mention"),
    }


def test_page_groups_notifications_per_topic_unread_first(gardener, gardener_client, rosas_topics):
    """One entry per topic: its unread count, the latest actors (newest first, each once),
    what they did and when; topics with unread notifications come before read ones, and each
    entry is a form that POSTs to "open" (with its CSRF token) through a link-styled button."""
    cactus = rosas_topics["cactus"]
    services.notifications_mark_group_read(user=gardener, group_key=group(cactus))
    body = gardener_client.get(PAGE_URL).content.decode()
    assert body.count('class="notification ') + body.count('class="notification"') == 2
    unread_part, read_part = body.split("<h2>Earlier</h2>")
    assert "Fern fronds browning" in unread_part and "3 new" in unread_part
    assert "ben and cleo replied" in unread_part
    assert "Cactus soil" in read_part and "cleo mentioned you" in read_part
    fern_form = re.search(
        r'<form method="post" '
        rf'action="{open_url(rosas_topics["fern"])}"[^>]*>(.*?)</form>',
        unread_part,
        re.S,
    )
    assert fern_form is not None
    assert 'name="csrfmiddlewaretoken"' in fern_form.group(1)
    assert re.search(
        r'<button type="submit" class="notification-topic link-button">Fern fronds browning', fern_form.group(1)
    )
    assert 'href="/notifications/' not in body.replace(f'href="{PAGE_URL}"', "")
    assert 'action="/notifications/read-all/"' in unread_part


def test_page_lists_many_actors_briefly(gardener, gardener_client, houseplants):
    """Five different repliers show as the latest three and "2 others"."""
    topic = start(houseplants, gardener, "Bonsai")
    for name in ("una", "vic", "wes", "xia", "yan"):
        reply(topic, factories.UserFactory(username=name, trust_level=TrustLevel.BASIC), "Nice.")
    body = gardener_client.get(PAGE_URL).content.decode()
    assert "yan, xia, wes and 2 others replied" in body
    assert "5 new" in body


def test_empty_page_explains_what_will_appear(gardener_client):
    """With no notifications the page says what would notify you."""
    body = gardener_client.get(PAGE_URL).content.decode()
    assert "No notifications yet." in body and "@rosa" in body
    assert "Mark all read" not in body


def test_badge_counts_unread_notifications_accessibly(gardener_client, rosas_topics):
    """The badge fragment names itself "Notifications, 4 unread", shows the number, sits in a
    polite live region, and keeps polling every 60 s (swapping only its inner part)."""
    response = gardener_client.get(BADGE_URL, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert badge_label(body) == "Notifications, 4 unread"
    assert '<span class="notification-count" aria-hidden="true">4</span>' in body
    assert 'aria-live="polite"' in body and 'hx-trigger="every 60s"' in body
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert "<html" not in body


def test_badge_says_none_unread_without_a_number(gardener_client):
    """No unread notifications: the name says so and no number is shown."""
    body = gardener_client.get(BADGE_URL, headers=HTMX).content.decode()
    assert badge_label(body) == "Notifications, none unread"
    assert "notification-count" not in body


def test_badge_answers_204_while_the_count_is_unchanged(gardener_client, rosas_topics, ben, houseplants):
    """Polling with the count already shown (``seen``) answers 204, which htmx does not swap,
    so screen readers are not re-told the same count every minute; a new notification gives
    the fragment again."""
    assert gardener_client.get(BADGE_URL, {"seen": "4"}, headers=HTMX).status_code == 204
    reply(rosas_topics["fern"], ben, "One more thing.")
    response = gardener_client.get(BADGE_URL, {"seen": "4"}, headers=HTMX)
    assert response.status_code == 200 and badge_label(response.content.decode()) == "Notifications, 5 unread"


def test_signed_out_badge_answers_286_so_htmx_stops_polling(client, db):
    """A signed-out poll answers 286 (htmx's "stop polling") with an empty body, never a
    redirect to the sign-in page into the header."""
    response = client.get(BADGE_URL, headers=HTMX)
    assert response.status_code == 286
    assert response.content == b""
    assert "HX-Redirect" not in response


def test_header_badge_loads_itself_without_adding_queries(
    gardener_client, houseplants, rosas_topics, django_assert_num_queries
):
    """Pages carry a placeholder that htmx fills on load and every 60 s; it costs the page no
    statement (the forum index stays at the user lookup and the forum list) and shows no
    count until the fragment arrives. Signed-out pages carry no badge at all."""
    with django_assert_num_queries(2):
        body = gardener_client.get(reverse("forum:index")).content.decode()
    badge = re.search(r'<div id="notification-badge"[^>]*>', body).group(0)
    assert f'hx-get="{BADGE_URL}"' in badge and 'hx-trigger="load, every 60s"' in badge
    assert f'href="{PAGE_URL}"' in body and "notification-count" not in body
    gardener_client.logout()
    assert "notification-badge" not in gardener_client.get(reverse("forum:index")).content.decode()


def send_many(recipient, actors, count: int, *, groups: int, visible: bool = True) -> None:
    """``count`` reply notifications for ``recipient`` over ``groups`` topics, written through
    ``notifications_send`` (the service every domain uses)."""
    for index in range(count):
        services.notifications_send(
            recipient_ids=[recipient.pk],
            actor_id=actors[index % len(actors)].pk,
            kind=NotificationKind.REPLY,
            group_key=f"forum.topic:{index % groups + 1}",
            group_title=f"Topic {index % groups + 1}",
            url=f"/forum/p/{index + 1}/",
            target_key=f"forum.post:{index + 1}",
            visible=visible,
        )


@pytest.mark.parametrize("count", [1, 500], ids=["1-notification", "500-notifications"])
def test_badge_costs_two_statements(gardener, gardener_client, ben, count, django_assert_num_queries):
    """The badge costs the user lookup and one count, at 1 and at 500 unread notifications;
    hidden ones do not count."""
    send_many(gardener, [ben], count, groups=40)
    send_many(gardener, [ben], 3, groups=2, visible=False)
    with django_assert_num_queries(2):
        response = gardener_client.get(BADGE_URL, headers=HTMX)
    assert badge_label(response.content.decode()) == f"Notifications, {count} unread"
    with django_assert_num_queries(2):
        assert gardener_client.get(BADGE_URL, {"seen": str(count)}, headers=HTMX).status_code == 204


@pytest.mark.parametrize("count", [1, 500], ids=["1-notification", "500-notifications"])
def test_page_costs_four_statements(gardener, gardener_client, ben, cleo, count, django_assert_num_queries):
    """The notifications page costs the user lookup, the grouped page, the lines' counts and
    their latest rows, at 1 and at 500 notifications (and at most 50 entries show, each with
    its line)."""
    send_many(gardener, [ben, cleo], count, groups=61)
    with django_assert_num_queries(4):
        response = gardener_client.get(PAGE_URL)
    body = response.content.decode()
    entries = min(count, 50)
    assert body.count('class="notification notification-unread"') == entries
    expected_line = "ben replied" if count == 1 else "(ben and cleo|cleo and ben) replied"
    assert len(re.findall(f'<li class="notification-line">{expected_line}</li>', body)) == entries


def test_unread_count_uses_the_partial_unread_index(gardener, houseplants, ben):
    """The badge's count reads ``notif_unread_visible`` (recipient, -created_at WHERE unread
    and visible), so it follows the unread rows, not a gardener's whole history."""
    send_many(gardener, [ben], 300, groups=30)
    services.notifications_mark_all_read(user=gardener)
    topic = start(houseplants, gardener, "Topic")
    reply(topic, ben, "Reply.")
    is_moderator(gardener)  # loaded with the user by the auth backend on a real request
    with connection.cursor() as cursor:
        # A history of read notifications, and statistics that know it (as on a live site).
        cursor.execute("ANALYZE notifications_notification")
        cursor.execute("SET enable_seqscan = off")
        try:
            with CaptureQueriesContext(connection) as captured:
                assert selectors.unread_notification_count(user=gardener) == 1
            cursor.execute("EXPLAIN " + captured.captured_queries[0]["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
    assert len(captured.captured_queries) == 1
    assert "notif_unread_visible" in plan, plan


def test_mark_all_read_as_a_plain_form(gardener, gardener_client, rosas_topics, ben, cleo, houseplants):
    """A plain POST marks all of the gardener's notifications read, redirects back to the list
    with a message, and leaves other gardeners' notifications alone."""
    bens_topic = start(houseplants, ben, "Ben's topic")
    reply(bens_topic, cleo, "Hi Ben.")
    response = gardener_client.post(READ_ALL_URL)
    assert response.status_code == 302 and response["Location"] == PAGE_URL
    # Ben keeps his two: cleo's reply to "Cactus soil" and to "Ben's topic".
    assert unread(gardener) == 0 and unread(ben) == 2
    page = gardener_client.get(PAGE_URL).content.decode()
    assert "All notifications are marked read." in page
    assert "You are all caught up." in page and "Mark all read" not in page


def test_mark_all_read_over_htmx_answers_the_badge_and_an_event(
    gardener, gardener_client, rosas_topics, django_assert_num_queries
):
    """An htmx POST answers the updated badge (to swap into the header) and the
    ``notificationsRead`` event the list listens for: the user lookup and one UPDATE."""
    with django_assert_num_queries(2):
        response = gardener_client.post(READ_ALL_URL, headers=HTMX)
    assert response.status_code == 200
    assert "notificationsRead" in json.loads(response["HX-Trigger"])
    assert badge_label(response.content.decode()) == "Notifications, none unread"
    assert unread(gardener) == 0
    listing = gardener_client.get(PAGE_URL, headers=HTMX)
    body = listing.content.decode()
    assert "<html" not in body and 'hx-trigger="notificationsRead from:body"' in body
    assert "Fern fronds browning" in body and "notification-unread" not in body
    assert "HX-Request" in listing["Vary"]


def test_mark_all_read_needs_post_and_a_signed_in_gardener(client, gardener_client, db):
    """GET is refused (405); signed out, the form goes to sign-in (htmx through HX-Redirect)."""
    assert gardener_client.get(READ_ALL_URL).status_code == 405
    gardener_client.logout()
    assert client.post(READ_ALL_URL)["Location"].startswith("/accounts/login/?next=")
    assert client.post(READ_ALL_URL, headers=HTMX)["HX-Redirect"].startswith("/accounts/login/")
    assert client.get(PAGE_URL)["Location"].startswith("/accounts/login/?next=")


def test_opening_a_topic_marks_only_that_topic_read(gardener, gardener_client, rosas_topics):
    """ "Open" (a POST) marks that topic's notifications read and answers 303 to the permalink
    of the latest notified post; the other topic stays unread."""
    fern, cactus = rosas_topics["fern"], rosas_topics["cactus"]
    response = gardener_client.post(open_url(fern))
    assert response.status_code == 303
    assert response["Location"] == reverse("forum:post-permalink", args=[rosas_topics["fern_last"].pk])
    assert not Notification.objects.filter(recipient=gardener, group_key=group(fern), read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=gardener, group_key=group(cactus), read_at__isnull=True).count() == 1
    landing = gardener_client.get(response["Location"])
    assert landing.status_code == 302 and f"#post-{rosas_topics['fern_last'].pk}" in landing["Location"]


def test_other_gardeners_cannot_see_open_or_clear_your_notifications(gardener, client, rosas_topics, ben, cleo):
    """Notifications are private: another gardener's page and badge show only their own,
    opening your topic's notifications answers 404 and changes nothing, and their "mark all
    read" leaves yours unread."""
    client.force_login(cleo)
    assert client.post(open_url(rosas_topics["fern"])).status_code == 404
    body = client.get(PAGE_URL).content.decode()
    assert "Fern fronds browning" not in body and "Cactus soil" not in body
    assert badge_label(client.get(BADGE_URL, headers=HTMX).content.decode()) == "Notifications, none unread"
    client.post(READ_ALL_URL)
    assert unread(gardener) == 4


def test_notifications_of_removed_posts_disappear(gardener, gardener_client, rosas_topics, ben):
    """When a notified post is deleted, its notification no longer counts in the badge or
    shows on the page, so neither points at a post nobody can open."""
    last = rosas_topics["fern_last"]
    post_delete(post_id=last.pk, actor=ben)
    assert badge_label(gardener_client.get(BADGE_URL, headers=HTMX).content.decode()) == "Notifications, 3 unread"
    body = gardener_client.get(PAGE_URL).content.decode()
    assert "2 new" in body and "cleo and ben replied" in body
    assert not Notification.objects.get(target_key=f"forum.post:{last.pk}").is_visible
    cactus = rosas_topics["cactus"]
    post_delete(post_id=Post.objects.get(topic=cactus, is_opening_post=True).pk, actor=ben)
    assert "Cactus soil" not in gardener_client.get(PAGE_URL).content.decode()
    assert gardener_client.post(open_url(cactus)).status_code == 404


def test_opening_with_get_is_refused_and_changes_nothing(gardener, gardener_client, rosas_topics, houseplants, ben):
    """A GET of "open" (a link, or an image in a post: ``![.](/notifications/<group>/open/)``)
    answers the site's 405 page naming POST and leaves every notification unread (SPEC "Bad
    input": a GET never changes state); so does HEAD."""
    url = open_url(rosas_topics["fern"])
    reply(rosas_topics["cactus"], ben, f"![.]({url})")
    topic_page = gardener_client.get(reverse("forum:topic-detail", args=[rosas_topics["cactus"].pk])).content.decode()
    assert f'src="{url}"' in topic_page
    response = gardener_client.get(url)
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "only answers POST requests" in response.content.decode()
    assert gardener_client.head(url).status_code == 405
    assert unread(gardener) == 4


def test_opening_needs_the_csrf_token_the_page_gives(gardener, client_factory, rosas_topics):
    """With CSRF checks on (as in a browser), a POST without the token is refused (403) and
    changes nothing; the token from the notifications page's form is accepted."""
    browser = client_factory(enforce_csrf_checks=True)
    browser.force_login(gardener)
    url = open_url(rosas_topics["fern"])
    assert browser.post(url).status_code == 403
    assert unread(gardener) == 4
    page = browser.get(PAGE_URL).content.decode()
    token = re.search(
        rf'action="{url}"[^>]*>\s*<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"', page
    ).group(1)
    response = browser.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 303
    assert unread(gardener) == 1


def test_signed_out_open_goes_to_sign_in(client, rosas_topics, gardener):
    """Signed out, the POST is sent to sign-in and marks nothing read."""
    response = client.post(open_url(rosas_topics["fern"]))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    assert unread(gardener) == 4


@pytest.mark.parametrize("signed_in", [True, False], ids=["gardener", "signed-out"])
def test_a_plain_navigation_to_the_badge_goes_to_the_notifications_page(client, gardener, signed_in):
    """Issue 15: opening ``/notifications/badge/`` in the browser (no ``HX-Request``) showed the
    bare badge; it now redirects to ``/notifications/`` (the sign-in page takes over from there
    when signed out), and the answer varies on ``HX-Request`` so a cached fragment is never
    shown for the page."""
    if signed_in:
        client.force_login(gardener)
    response = client.get(BADGE_URL, {"seen": "0"})
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert "HX-Request" in response["Vary"]
