"""Writing in the forum: topics, replies, the review queue for new gardeners, links and
images by trust level, edits, soft deletes, counters, trust promotion, moderator tools."""

import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from PIL import Image

from apps.accounts.models import TrustLevel, User
from apps.accounts.services import trust_levels_update_all
from apps.core.models import ModerationAction
from apps.forum.models import Post, PostRevision, Report, Topic
from apps.forum.services import forum_counters_recount
from tests import factories

from .conftest import seen

HTMX = {"HX-Request": "true"}
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unthrottled")]


@pytest.fixture
def forum(db):
    return factories.ForumFactory(name="Houseplants", slug="houseplants")


@pytest.fixture
def basic_gardener(db):
    return factories.UserFactory(username="fern", trust_level=TrustLevel.BASIC)


@pytest.fixture
def moderator(db):
    user = factories.UserFactory(username="mod", trust_level=TrustLevel.VETERAN, is_staff=True)
    user.groups.add(Group.objects.get(name="moderators"))
    return user


def _new_topic(client, forum, subject="Yellow leaves on my pothos", source="What should I do?", **extra):
    return client.post(
        reverse("forum:topic-create", args=[forum.slug]), {"subject": subject, "source": source, **extra}
    )


def test_new_gardeners_topic_waits_in_the_review_queue_and_moderator_approves(client, forum, gardener, moderator):
    """A `new` gardener's topic is visible only to them and moderators until approved; approval
    publishes it, moves the counters and is audited."""
    client.force_login(gardener)
    response = _new_topic(client, forum)
    topic = Topic.objects.get()
    assert response["Location"] == topic.get_absolute_url() and not topic.is_approved
    assert "Awaiting review" in client.get(topic.get_absolute_url()).content.decode()
    client.force_login(factories.UserFactory())
    assert client.get(topic.get_absolute_url()).status_code == 404
    assert "Yellow leaves" not in client.get(forum.get_absolute_url()).content.decode()

    client.force_login(moderator)
    queue = client.get(reverse("moderation:queue")).content.decode()
    assert "Yellow leaves on my pothos" in queue and "1 held from new members" in queue
    opening = Post.objects.get()
    approved = client.post(
        reverse("moderation:post-approve", args=[opening.pk]),
        {"seen": seen(opening.pk)},
        headers={"HX-Request": "true"},
    )
    # Issue 15: the event carries the decision's message for the polite live region.
    assert json.loads(approved["HX-Trigger"]) == {"postApproved": {"message": "Approved: it is visible now."}}
    # The decision is announced by a status region inside a valid list item (issue 15: axe
    # "list" / "aria-allowed-role" on <li role="status">) that keeps the item's id, so focus can
    # go to it after the swap.
    decided = approved.content.decode()
    assert '<p class="queue-decided" role="status">' in decided
    assert f'<li class="card queue-item" id="queue-{opening.pk}">' in decided
    assert 'li class="card queue-item" role=' not in decided
    forum.refresh_from_db()
    topic.refresh_from_db()
    assert topic.is_approved and topic.post_count == 1 and (forum.topic_count, forum.post_count) == (1, 1)
    assert User.objects.get(pk=gardener.pk).approved_post_count == 1
    assert ModerationAction.objects.filter(action="post.approve", target_id=str(opening.pk), actor=moderator).exists()
    client.force_login(factories.UserFactory())
    assert client.get(topic.get_absolute_url()).status_code == 200


def test_rejected_post_shows_its_reason_to_the_author_only(client, forum, gardener, moderator, basic_gardener):
    topic = factories.TopicFactory(forum=forum, poster=basic_gardener)
    client.force_login(gardener)
    client.post(reverse("forum:reply-create", args=[topic.pk]), {"source": "Buy my miracle fertiliser"})
    post = Post.objects.get(poster=gardener)
    client.force_login(moderator)
    client.post(
        reverse("moderation:post-reject", args=[post.pk]),
        {"reason": "Advertising is not allowed", "seen": seen(post.pk)},
    )
    client.force_login(gardener)
    assert "Advertising is not allowed" in client.get(topic.get_absolute_url()).content.decode()
    client.force_login(basic_gardener)
    assert "miracle" not in client.get(topic.get_absolute_url()).content.decode()
    assert client.post(reverse("moderation:post-reject", args=[post.pk]), {"reason": "x"}).status_code == 403


def test_basic_gardeners_publish_at_once_and_notify(client, forum, basic_gardener, gardener):
    topic = factories.TopicFactory(forum=forum, poster=gardener)
    client.force_login(basic_gardener)
    response = client.post(reverse("forum:reply-create", args=[topic.pk]), {"source": "Water less, @rosa!"})
    post = Post.objects.get(poster=basic_gardener)
    assert post.is_approved and response["Location"] == f"/forum/p/{post.pk}/"
    topic.refresh_from_db()
    assert topic.post_count == 1 and topic.last_poster_id == basic_gardener.pk
    from apps.notifications.models import Notification

    assert list(Notification.objects.filter(recipient=gardener).values_list("kind", flat=True)) == ["reply"]


def test_new_gardener_may_post_at_most_two_links(client, forum, gardener):
    client.force_login(gardener)
    links = "[a](https://a.example) [b](https://b.example) [c](https://c.example)"
    response = _new_topic(client, forum, source=links)
    assert response.status_code == 200 and "at most 2 links" in response.content.decode()
    assert not Topic.objects.exists()
    assert _new_topic(client, forum, source="[a](https://a.example) [b](https://b.example)").status_code == 302


def _jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (50, 50), (0, 120, 0)).save(buffer, "JPEG")
    return SimpleUploadedFile("leaf.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_images_in_posts_from_trust_level_basic(client, forum, gardener, basic_gardener):
    client.force_login(gardener)
    refused = _new_topic(client, forum, image=_jpeg())
    assert refused.status_code == 200 and "open from trust level Basic" in refused.content.decode()
    client.force_login(basic_gardener)
    assert _new_topic(client, forum, image=_jpeg()).status_code == 302
    assert Post.objects.get().image.name.endswith(".jpg")
    bad = _new_topic(client, forum, subject="Another topic here", image=SimpleUploadedFile("x.jpg", b"nope"))
    assert bad.status_code == 200 and "not an image we can read" in bad.content.decode()


def test_unconfirmed_email_cannot_post(client, forum):
    unconfirmed = factories.UserFactory(email_confirmed_at=None)
    client.force_login(unconfirmed)
    response = _new_topic(client, forum)
    assert response.status_code == 403 and not Topic.objects.exists()


def test_edits_are_recorded_and_only_the_author_edits(client, forum, basic_gardener):
    topic = factories.TopicFactory(forum=forum, poster=basic_gardener)
    post = factories.PostFactory(topic=topic, poster=basic_gardener, source="first version")
    client.force_login(basic_gardener)
    client.post(reverse("forum:post-edit", args=[post.pk]), {"source": "second **version**"})
    post.refresh_from_db()
    assert post.source == "second **version**" and "<strong>version</strong>" in post.html and post.edit_count == 1
    assert PostRevision.objects.get(post=post).previous_source == "first version"
    client.force_login(factories.UserFactory())
    assert client.post(reverse("forum:post-edit", args=[post.pk]), {"source": "hijack"}).status_code == 403


def test_soft_delete_keeps_counters_exact(client, forum, basic_gardener):
    client.force_login(basic_gardener)
    _new_topic(client, forum)
    topic = Topic.objects.get()
    client.post(reverse("forum:reply-create", args=[topic.pk]), {"source": "A reply"})
    reply = Post.objects.get(is_opening_post=False)
    client.post(reverse("forum:post-delete", args=[reply.pk]))
    reply.refresh_from_db()
    topic.refresh_from_db()
    forum.refresh_from_db()
    assert reply.is_deleted and topic.post_count == 1 and forum.post_count == 1
    user = User.objects.get(pk=basic_gardener.pk)
    assert (user.post_count, user.approved_post_count) == (1, 1)
    opening = Post.objects.get(is_opening_post=True)
    asked = client.post(reverse("forum:post-delete", args=[opening.pk]))
    assert asked.status_code == 200 and "Delete this topic?" in asked.content.decode()
    assert not Topic.objects.get().is_deleted
    client.post(reverse("forum:post-delete", args=[opening.pk]), {"confirm": "on"})
    forum.refresh_from_db()
    assert (forum.topic_count, forum.post_count) == (0, 0)
    assert client.get(topic.get_absolute_url()).status_code == 404


def test_trust_level_rises_on_approval_and_daily_by_age_but_not_over_a_moderator(client, forum, moderator):
    """5 approved posts and 7 days make basic; the daily command catches account age; a level
    a moderator set is kept; every change is audited."""
    young = factories.UserFactory(date_joined=timezone.now() - timedelta(days=3))
    old = factories.UserFactory(date_joined=timezone.now() - timedelta(days=40))
    pinned = factories.UserFactory(date_joined=timezone.now() - timedelta(days=400), trust_level_set_by_moderator=True)
    topic = factories.TopicFactory(forum=forum, poster=moderator)
    for user in (young, old, pinned):
        client.force_login(user)
        for index in range(5):
            client.post(reverse("forum:reply-create", args=[topic.pk]), {"source": f"Tip number {index}"})
    client.force_login(moderator)
    for post in Post.objects.filter(is_approved=False):
        client.post(reverse("moderation:post-approve", args=[post.pk]), {"seen": seen(post.pk)})
    levels = dict(User.objects.filter(pk__in=[young.pk, old.pk, pinned.pk]).values_list("pk", "trust_level"))
    assert levels == {young.pk: "new", old.pk: "basic", pinned.pk: "new"}
    User.objects.filter(pk=young.pk).update(date_joined=timezone.now() - timedelta(days=8))
    assert trust_levels_update_all() == 1
    assert User.objects.get(pk=young.pk).trust_level == "basic"
    assert ModerationAction.objects.filter(action="trust.promote").count() == 2


def test_one_report_from_a_trusted_gardener_hides_a_new_gardeners_post(client, forum, gardener, moderator):
    trusted = factories.UserFactory(trust_level=TrustLevel.TRUSTED)
    topic = factories.TopicFactory(forum=forum, poster=moderator)
    post = factories.PostFactory(topic=topic, poster=gardener, source="spam spam")
    forum_counters_recount()
    client.force_login(trusted)
    client.post(reverse("forum:post-report", args=[post.pk]), {"reason": "spam"})
    post.refresh_from_db()
    assert post.is_hidden
    client.force_login(factories.UserFactory(trust_level=TrustLevel.BASIC))
    assert "spam spam" not in client.get(topic.get_absolute_url()).content.decode()
    client.force_login(moderator)
    queue = client.get(reverse("moderation:queue")).content.decode()
    assert "Hidden after reports" in queue and f'">{trusted.username}</a></strong>: Spam' in queue
    client.post(reverse("moderation:reports-decide", args=[post.pk, "disagree"]), {"seen": seen(post.pk)})
    post.refresh_from_db()
    assert not post.is_hidden and Report.objects.get().status == "disagreed"


def test_three_basic_reports_hide_any_post_and_new_gardeners_cannot_report(client, forum, basic_gardener, gardener):
    topic = factories.TopicFactory(forum=forum, poster=basic_gardener)
    post = factories.PostFactory(topic=topic, poster=basic_gardener)
    forum_counters_recount()
    client.force_login(gardener)
    assert client.post(reverse("forum:post-report", args=[post.pk]), {"reason": "spam"}).status_code == 403
    for _ in range(2):
        client.force_login(factories.UserFactory(trust_level=TrustLevel.BASIC))
        client.post(reverse("forum:post-report", args=[post.pk]), {"reason": "abuse"})
    post.refresh_from_db()
    assert not post.is_hidden
    client.force_login(factories.UserFactory(trust_level=TrustLevel.BASIC))
    client.post(reverse("forum:post-report", args=[post.pk]), {"reason": "off_topic"})
    post.refresh_from_db()
    assert post.is_hidden


def test_moderators_lock_pin_and_veterans_move_topics(client, forum, moderator, basic_gardener):
    other_forum = factories.ForumFactory(name="Garden", slug="garden")
    topic = factories.TopicFactory(forum=forum, poster=basic_gardener)
    factories.PostFactory(topic=topic, poster=basic_gardener, is_opening_post=True)
    forum_counters_recount()
    client.force_login(basic_gardener)
    assert client.post(reverse("forum:topic-moderate", args=[topic.pk]), {"action": "lock"}).status_code == 403
    client.force_login(moderator)
    client.post(reverse("forum:topic-moderate", args=[topic.pk]), {"action": "lock"})
    client.post(reverse("forum:topic-moderate", args=[topic.pk]), {"action": "pin"})
    topic.refresh_from_db()
    assert topic.is_locked and topic.is_pinned
    client.force_login(basic_gardener)
    assert client.post(reverse("forum:reply-create", args=[topic.pk]), {"source": "late"}).status_code == 403
    veteran = factories.UserFactory(trust_level=TrustLevel.VETERAN)
    client.force_login(veteran)
    client.post(reverse("forum:topic-move", args=[topic.pk]), {"forum": "garden"})
    topic.refresh_from_db()
    forum.refresh_from_db()
    other_forum.refresh_from_db()
    assert topic.forum_id == other_forum.pk
    assert (forum.topic_count, other_forum.topic_count, other_forum.post_count) == (0, 1, 1)
    actions = set(ModerationAction.objects.values_list("action", flat=True))
    assert {"topic.lock", "topic.pin", "topic.move"} <= actions
    client.force_login(moderator)
    log = client.get(reverse("moderation:log")).content.decode()
    assert f"{veteran.username} moved" in strip_tags(log)


def test_moderation_pages_are_for_moderators(client, basic_gardener):
    assert client.get(reverse("moderation:queue")).status_code == 302
    client.force_login(basic_gardener)
    for name in ("moderation:queue", "moderation:log", "moderation:lockouts"):
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("dashboard:panel", args=["moderation-queue"]), headers=HTMX).status_code == 403


def test_review_queue_and_panel_budgets(client, forum, moderator, rows_per_table, django_assert_num_queries):
    """Review queue 3 statements (user with the moderator flag, queue, its open reports),
    moderation-queue panel 2 (user, counts), at 1 and 500 held posts."""
    topic = factories.TopicFactory(forum=forum, poster=moderator)
    newbie = factories.UserFactory()
    Post.objects.bulk_create(
        factories.PostFactory.build(topic=topic, poster=newbie, is_approved=False) for _ in range(rows_per_table)
    )
    client.force_login(moderator)
    client.get("/healthz")
    client.get(reverse("dashboard:index"))
    with django_assert_num_queries(3):
        queue = client.get(reverse("moderation:queue"))
    assert f"{rows_per_table} held from new members" in queue.content.decode()
    with django_assert_num_queries(2):
        panel = client.get(reverse("dashboard:panel", args=["moderation-queue"]), headers=HTMX)
    assert f"<dd>{rows_per_table}</dd>" in panel.content.decode()


def test_moderation_actions_refuse_missing_decided_or_unreported_posts(client, forum, moderator, gardener):
    """Unknown ids are 404; deciding twice is a 409 that changes nothing; "agree" needs open
    reports (no deleting posts around the report flow)."""
    client.force_login(gardener)
    _new_topic(client, forum)
    post = Post.objects.get()
    client.force_login(moderator)
    for url in ("moderation:post-approve", "moderation:post-reject"):
        assert client.post(reverse(url, args=[999999]), {"reason": "x"}).status_code == 404
    assert client.post(reverse("moderation:reports-decide", args=[999999, "ignore"])).status_code == 404
    version = seen(post.pk)
    assert client.post(reverse("moderation:post-approve", args=[post.pk]), {"seen": version}).status_code == 302
    assert client.post(reverse("moderation:post-approve", args=[post.pk]), {"seen": version}).status_code == 409
    assert (
        client.post(reverse("moderation:post-reject", args=[post.pk]), {"reason": "late", "seen": version}).status_code
        == 409
    )
    assert (
        client.post(reverse("moderation:reports-decide", args=[post.pk, "agree"]), {"seen": version}).status_code == 409
    )
    post.refresh_from_db()
    assert post.is_approved and not post.is_deleted and post.rejection_reason == ""


def test_new_gardeners_cannot_embed_remote_images(client, forum, gardener):
    client.force_login(gardener)
    response = _new_topic(client, forum, source="![c](http://c.example/x.png)")
    assert (
        response.status_code == 200 and "Images in posts are open from trust level Basic" in response.content.decode()
    )
    assert not Topic.objects.exists()


def test_moderators_see_held_posts_in_place(client, forum, moderator, gardener, basic_gardener):
    """Held topics and replies are visible to their author and moderators, marked."""
    client.force_login(gardener)
    _new_topic(client, forum, subject="A held question here")
    topic = Topic.objects.get()
    client.force_login(moderator)
    page = client.get(topic.get_absolute_url())
    assert page.status_code == 200 and "Awaiting review" in page.content.decode()
    client.force_login(basic_gardener)
    assert client.get(topic.get_absolute_url()).status_code == 404


def test_bare_urls_count_as_links_for_new_gardeners(client, forum, gardener):
    """Issue 15: typed-out URLs are links (linkified), so three of them are refused like three
    Markdown links, with the same clear message; two are accepted and render as links."""
    client.force_login(gardener)
    bare = "See https://a.example/x and https://b.example/y and https://c.example/z"
    response = _new_topic(client, forum, source=bare)
    assert response.status_code == 200 and "at most 2 links in a post (3 found" in response.content.decode()
    mixed = "[a](https://a.example) <https://b.example> https://c.example"
    assert "(3 found" in _new_topic(client, forum, source=mixed).content.decode()
    assert not Topic.objects.exists()
    assert _new_topic(client, forum, source="https://a.example/x and https://b.example/y").status_code == 302
    html = Post.objects.get().html
    assert '<a href="https://a.example/x" rel="nofollow ugc noopener">https://a.example/x</a>' in html


def test_mentions_do_not_count_against_the_link_limit(client, forum, gardener, basic_gardener):
    """A new gardener (rosa) may mention people: ``@name`` links are not links they wrote."""
    factories.UserFactory(username="ivy")
    client.force_login(gardener)
    source = "Thanks @ivy and @fern, see https://a.example and https://b.example"
    assert _new_topic(client, forum, source=source).status_code == 302
    assert Post.objects.get().html.count('class="mention"') == 2
