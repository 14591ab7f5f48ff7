"""``/moderation/log/``: audit rows read as sentences with links to their topic or post,
filterable by moderator and action, in a fixed number of SQL statements (SPEC "Query
budgets" habit; STYLE "Tests": exact counts at two data sizes). Rows are written the one way
the portal writes them, ``apps.core.audit.audit_record`` inside a transaction."""

import html
import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from apps.accounts.models import TrustLevel
from apps.core.audit import audit_record
from apps.core.models import ModerationAction
from apps.forum.models import Forum, Post, Topic
from apps.forum.moderation_log import moderation_log_actor_choices, moderation_log_rows
from tests import factories

pytestmark = pytest.mark.django_db

LOG = reverse("moderation:log")
ENTRY = re.compile(r'<li class="log-entry" data-action="([^"]+)">(.*?)</li>', re.S)
SENTENCE = re.compile(r'<span class="log-sentence">(.*?)</span>', re.S)
HREF = re.compile(r'href="([^"]+)"')


def _make_moderator(username: str):
    user = factories.UserFactory(username=username, trust_level=TrustLevel.VETERAN, is_staff=True)
    user.groups.add(Group.objects.get(name="moderators"))
    return user


@pytest.fixture
def moderator(db):
    return _make_moderator("mod")


@pytest.fixture
def moderator_client(client, moderator):
    """Signed in as ``moderator`` with a warm session, as ``gardener_client`` is."""
    client.force_login(moderator)
    client.get("/healthz")
    client.get(reverse("dashboard:index"))
    return client


@pytest.fixture
def world(db):
    """Two forums, newbie's topic “Yellow leaves” in Houseplants with a reply, and rosa."""
    houseplants = factories.ForumFactory(name="Houseplants", slug="houseplants")
    pests = factories.ForumFactory(name="Pests", slug="pests")
    newbie = factories.UserFactory(username="newbie")
    topic = factories.TopicFactory(forum=houseplants, poster=newbie, subject="Yellow leaves")
    post = factories.PostFactory(topic=topic, poster=newbie)
    rosa = factories.UserFactory(username="rosa")
    return {"houseplants": houseplants, "pests": pests, "newbie": newbie, "topic": topic, "post": post, "rosa": rosa}


def _record(**fields) -> ModerationAction:
    with transaction.atomic():
        return audit_record(**fields)


def _entries(response) -> list[tuple[str, str, list[str]]]:
    """(action, sentence as text, link targets) for each entry shown, top to bottom."""
    assert response.status_code == 200
    found = []
    for action, body in ENTRY.findall(response.content.decode()):
        [sentence] = SENTENCE.findall(body)
        found.append((action, html.unescape(strip_tags(sentence)), HREF.findall(sentence)))
    return found


def _post_url(post) -> str:
    return reverse("forum:post-permalink", kwargs={"pk": post.pk})


def _topic_url(topic) -> str:
    return reverse("forum:topic-detail", kwargs={"pk": topic.pk})


def _profile_url(username: str) -> str:
    """Names in the log link to the gardener's profile (issue 12)."""
    return reverse("profile", kwargs={"username": username})


def _forum_url(forum) -> str:
    return reverse("forum:forum-detail", kwargs={"slug": forum.slug})


POST_SENTENCES = [
    ("post.approve", "", "mod approved a post by newbie in “Yellow leaves”"),
    ("post.reject", "spam", "mod rejected a post by newbie in “Yellow leaves”: spam"),
    ("post.edit_approve", "", "mod approved an edit to a post by newbie in “Yellow leaves”"),
    (
        "post.edit_reject",
        "links to a shop",
        "mod rejected an edit to a post by newbie in “Yellow leaves”: links to a shop",
    ),
    ("post.delete", "", "mod deleted a post by newbie in “Yellow leaves”"),
    ("post.delete", "off topic", "mod deleted a post by newbie in “Yellow leaves”: off topic"),
    ("report.agree", "", "mod agreed with the reports on a post by newbie in “Yellow leaves”"),
    ("report.disagree", "", "mod disagreed with the reports on a post by newbie in “Yellow leaves”"),
    ("report.ignore", "", "mod ignored the reports on a post by newbie in “Yellow leaves”"),
]


@pytest.mark.parametrize(
    ("action", "reason", "sentence"), POST_SENTENCES, ids=[f"{a}-{r or 'no reason'}" for a, r, _ in POST_SENTENCES]
)
def test_post_actions_read_as_sentences_linking_the_post_and_its_topic(
    moderator_client, moderator, world, action, reason, sentence
):
    post, topic = world["post"], world["topic"]
    _record(
        actor=moderator,
        action=action,
        target_type="post",
        target_id=post.pk,
        reason=reason,
        metadata={"topic_id": topic.pk},
    )

    assert _entries(moderator_client.get(LOG)) == [
        (action, sentence, [_profile_url("mod"), _post_url(post), _profile_url("newbie"), _topic_url(topic)])
    ]


def test_a_post_hidden_by_reports_reads_as_automatic(moderator_client, world):
    post = world["post"]
    _record(
        actor=None,
        action="post.hide",
        target_type="post",
        target_id=post.pk,
        reason="3 reports",
        metadata={"topic_id": world["topic"].pk},
    )

    assert _entries(moderator_client.get(LOG)) == [
        (
            "post.hide",
            "A post by newbie was hidden automatically after 3 reports",
            [_post_url(post), _profile_url("newbie")],
        )
    ]


TOPIC_SENTENCES = [
    ("topic.lock", "", {}, "mod locked “Yellow leaves”"),
    ("topic.lock", "flame war", {}, "mod locked “Yellow leaves”: flame war"),
    ("topic.unlock", "", {}, "mod unlocked “Yellow leaves”"),
    ("topic.pin", "House rules", {}, "mod pinned “Yellow leaves”: House rules"),
    ("topic.unpin", "", {}, "mod unpinned “Yellow leaves”"),
    ("topic.delete", "", {"replies": 3}, "mod deleted “Yellow leaves” and its 3 replies"),
    ("topic.delete", "spam", {"replies": 1}, "mod deleted “Yellow leaves” and its 1 reply: spam"),
    ("topic.delete", "", {"replies": 0}, "mod deleted “Yellow leaves”"),
]


@pytest.mark.parametrize(
    ("action", "reason", "metadata", "sentence"), TOPIC_SENTENCES, ids=[s for *_, s in TOPIC_SENTENCES]
)
def test_topic_actions_read_as_sentences_linking_the_topic(
    moderator_client, moderator, world, action, reason, metadata, sentence
):
    topic = world["topic"]
    _record(actor=moderator, action=action, target_type="topic", target_id=topic.pk, reason=reason, metadata=metadata)

    assert _entries(moderator_client.get(LOG)) == [(action, sentence, [_profile_url("mod"), _topic_url(topic)])]


def test_a_move_names_both_forums_with_links(moderator_client, moderator, world):
    topic, houseplants, pests = world["topic"], world["houseplants"], world["pests"]
    _record(
        actor=moderator,
        action="topic.move",
        target_type="topic",
        target_id=topic.pk,
        reason="It is about mites",
        metadata={"from_forum": houseplants.pk, "to_forum": pests.pk},
    )

    assert _entries(moderator_client.get(LOG)) == [
        (
            "topic.move",
            "mod moved “Yellow leaves” from Houseplants to Pests: It is about mites",
            [_profile_url("mod"), _topic_url(topic), _forum_url(houseplants), _forum_url(pests)],
        )
    ]


def test_member_actions_read_as_sentences(moderator_client, moderator, world):
    """Promotions (automatic or by a moderator) and lock clears name the member; a lock on a
    name that matches no account says so without showing the hash."""
    newbie, rosa = world["newbie"], world["rosa"]
    _record(
        actor=None,
        action="trust.promote",
        target_type="user",
        target_id=newbie.pk,
        metadata={"from": "new", "to": "basic"},
    )
    _record(
        actor=moderator,
        action="trust.promote",
        target_type="user",
        target_id=rosa.pk,
        reason="Helps everyone",
        metadata={"from": "basic", "to": "trusted"},
    )
    _record(actor=moderator, action="lockout.clear", target_type="account", target_id=f"user:{rosa.pk}")
    _record(
        actor=moderator,
        action="lockout.clear",
        target_type="account",
        target_id="name:" + "ab" * 16,
        reason="Owner asked by email",
    )

    assert [(action, text) for action, text, _ in _entries(moderator_client.get(LOG))] == [
        ("lockout.clear", "mod cleared the sign-in lock on an unknown name: Owner asked by email"),
        ("lockout.clear", "mod cleared the sign-in lock on rosa"),
        ("trust.promote", "mod promoted rosa from Basic to Trusted: Helps everyone"),
        ("trust.promote", "newbie was promoted from New to Basic automatically"),
    ]


def test_entries_whose_target_is_gone_still_read_well(moderator_client, moderator, world):
    """A deleted post, topic, forum, member or moderator leaves a readable sentence; an action
    the page does not know says what the row holds."""
    topic, newbie = world["topic"], world["newbie"]
    gone_post = factories.PostFactory(topic=topic, poster=world["rosa"])
    former_moderator = _make_moderator("old_mod")
    other_topic = factories.TopicFactory(forum=world["houseplants"], subject="Aphids")
    lost_forum = factories.ForumFactory(name="Lost", slug="lost")
    _record(
        actor=moderator,
        action="post.reject",
        target_type="post",
        target_id=gone_post.pk,
        reason="spam",
        metadata={"topic_id": topic.pk},
    )
    _record(actor=moderator, action="post.approve", target_type="post", target_id=987654321)
    _record(actor=moderator, action="topic.lock", target_type="topic", target_id=other_topic.pk)
    _record(
        actor=moderator,
        action="topic.move",
        target_type="topic",
        target_id=topic.pk,
        metadata={"from_forum": lost_forum.pk, "to_forum": world["pests"].pk},
    )
    _record(actor=former_moderator, action="topic.pin", target_type="topic", target_id=topic.pk)
    _record(
        actor=None,
        action="trust.promote",
        target_type="user",
        target_id=newbie.pk,
        metadata={"from": "new", "to": "basic"},
    )
    unknown_target = world["post"].pk
    _record(actor=moderator, action="post.feature", target_type="post", target_id=unknown_target)
    Post.objects.filter(pk=gone_post.pk).delete()
    Topic.objects.filter(pk=other_topic.pk).delete()
    Forum.objects.filter(pk=lost_forum.pk).delete()
    former_moderator.delete()
    world["post"].delete()
    Topic.objects.filter(poster=newbie).update(poster=world["rosa"])
    newbie.delete()

    assert [text for _, text, _ in _entries(moderator_client.get(LOG))] == [
        f"mod recorded “post.feature” on post {unknown_target}",
        "A former member was promoted from New to Basic automatically",
        "A former member pinned “Yellow leaves”",
        "mod moved “Yellow leaves” from a removed forum to Pests",
        "mod locked a topic that no longer exists",
        "mod approved a post that no longer exists",
        "mod rejected a removed post in “Yellow leaves”: spam",
    ]


@pytest.fixture
def mixed_log(world, moderator):
    """Entries by two moderators and a veteran who moved a topic."""
    other = _make_moderator("mod2")
    veteran = factories.UserFactory(username="vera", trust_level=TrustLevel.VETERAN)
    topic = world["topic"]
    _record(actor=moderator, action="topic.lock", target_type="topic", target_id=topic.pk)
    _record(actor=other, action="topic.lock", target_type="topic", target_id=topic.pk, reason="second opinion")
    _record(actor=other, action="topic.pin", target_type="topic", target_id=topic.pk)
    _record(
        actor=veteran,
        action="topic.move",
        target_type="topic",
        target_id=topic.pk,
        metadata={"from_forum": world["houseplants"].pk, "to_forum": world["pests"].pk},
    )
    return {"other": other, "veteran": veteran}


def test_filters_by_moderator_and_action(moderator_client, moderator, mixed_log):
    other, veteran = mixed_log["other"], mixed_log["veteran"]

    def shown(**params):
        return [(action, text) for action, text, _ in _entries(moderator_client.get(LOG, params))]

    assert len(shown()) == 4
    assert shown(moderator=other.pk) == [
        ("topic.pin", "mod2 pinned “Yellow leaves”"),
        ("topic.lock", "mod2 locked “Yellow leaves”: second opinion"),
    ]
    assert shown(action="topic.lock") == [
        ("topic.lock", "mod2 locked “Yellow leaves”: second opinion"),
        ("topic.lock", "mod locked “Yellow leaves”"),
    ]
    assert shown(moderator=moderator.pk, action="topic.lock") == [("topic.lock", "mod locked “Yellow leaves”")]
    assert shown(moderator=veteran.pk, action="topic.lock") == []
    assert (
        "No entries match this filter."
        in moderator_client.get(LOG, {"moderator": veteran.pk, "action": "topic.lock"}).content.decode()
    )


def test_the_filter_offers_moderators_and_actors_and_readable_actions(moderator_client, moderator, mixed_log, world):
    """The moderator select lists moderators and anyone who acted (the veteran), not other
    members; the action select shows readable labels, grouped."""
    page = moderator_client.get(LOG).content.decode()
    moderator_select = page[
        page.index('<select name="moderator"') : page.index("</select>", page.index('<select name="moderator"'))
    ]
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]+)</option>', moderator_select)
    assert options == [
        ("", "Anyone"),
        (str(moderator.pk), "mod"),
        (str(mixed_log["other"].pk), "mod2"),
        (str(mixed_log["veteran"].pk), "vera"),
    ]
    assert '<optgroup label="Topics">' in page
    assert '<option value="topic.lock">Locked a topic</option>' in page
    assert '<option value="lockout.clear">Cleared a sign-in lock</option>' in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"moderator": "abc"}, "Choose a moderator from the list."),
        ({"moderator": "1\x00"}, "Choose a moderator from the list."),
        ({"moderator": "9" * 40}, "Choose a moderator from the list."),
        ({"action": "post.approve'; DROP TABLE core_moderationaction; --"}, "Choose an action from the list."),
        ({"action": "topic.lock\x00"}, "Choose an action from the list."),
        ({"action": "x" * 5000}, "Choose an action from the list."),
    ],
    ids=["text-id", "nul-id", "huge-id", "sql-action", "nul-action", "long-action"],
)
def test_bad_filter_values_show_the_forms_message(moderator_client, mixed_log, params, message):
    response = moderator_client.get(LOG, params)

    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert 'role="alert"' in body
    assert _entries(response) == []
    assert ModerationAction.objects.count() == 4


def test_a_member_who_never_acted_is_not_a_moderator_choice(moderator_client, mixed_log, world):
    response = moderator_client.get(LOG, {"moderator": world["rosa"].pk})
    assert "Choose a moderator from the list." in response.content.decode()
    assert _entries(response) == []


def test_pages_keep_the_filters(moderator_client, moderator, world):
    """60 locks and 10 pins: filtered by action, two pages of locks whose links keep the filter;
    a page number that is not one shows the first page, one past the end the last."""
    topic = world["topic"]
    for _ in range(60):
        _record(actor=moderator, action="topic.lock", target_type="topic", target_id=topic.pk)
    for _ in range(10):
        _record(actor=moderator, action="topic.pin", target_type="topic", target_id=topic.pk)

    first = moderator_client.get(LOG, {"action": "topic.lock", "moderator": moderator.pk})
    assert [action for action, *_ in _entries(first)] == ["topic.lock"] * 50
    body = first.content.decode()
    assert "Page 1 of 2" in body and "60 entries" in body
    [next_href] = re.findall(r'<a href="([^"]+)" rel="next">', body)
    next_href = html.unescape(next_href)
    assert next_href == f"?action=topic.lock&moderator={moderator.pk}&page=2"
    second = moderator_client.get(LOG + next_href)
    assert [action for action, *_ in _entries(second)] == ["topic.lock"] * 10
    [prev_href] = re.findall(r'<a href="([^"]+)" rel="prev">', second.content.decode())
    assert html.unescape(prev_href) == f"?action=topic.lock&moderator={moderator.pk}&page=1"
    assert "Page 1 of 2" in moderator_client.get(LOG, {"action": "topic.lock", "page": "abc"}).content.decode()
    assert "Page 2 of 2" in moderator_client.get(LOG, {"action": "topic.lock", "page": "99"}).content.decode()


@pytest.mark.parametrize("entries", [5, 120], ids=["5-entries", "120-entries"])
def test_the_log_page_costs_a_fixed_number_of_statements(
    moderator_client, moderator, django_assert_num_queries, entries
):
    """Each group of five entries names its own post, topic, forums and member, so the batched
    lookups grow with the page but the statements do not: user (with the moderator flag), the
    moderator choices, count, rows, then posts, topics, users and forums: 8."""
    for group in range(entries // 5):
        source, target = (factories.ForumFactory(), factories.ForumFactory())
        member = factories.UserFactory(username=f"member{group}")
        topic = factories.TopicFactory(forum=target, poster=member, subject=f"Topic {group}")
        post = factories.PostFactory(topic=topic, poster=member)
        _record(
            actor=moderator,
            action="post.reject",
            target_type="post",
            target_id=post.pk,
            reason="spam",
            metadata={"topic_id": topic.pk},
        )
        _record(actor=moderator, action="topic.lock", target_type="topic", target_id=topic.pk)
        _record(
            actor=moderator,
            action="topic.move",
            target_type="topic",
            target_id=topic.pk,
            metadata={"from_forum": source.pk, "to_forum": target.pk},
        )
        _record(
            actor=None,
            action="trust.promote",
            target_type="user",
            target_id=member.pk,
            metadata={"from": "new", "to": "basic"},
        )
        _record(actor=moderator, action="lockout.clear", target_type="account", target_id=f"user:{member.pk}")

    with django_assert_num_queries(8):
        response = moderator_client.get(LOG)

    shown = _entries(response)
    assert len(shown) == min(entries, 50)
    newest = entries // 5 - 1
    mod, member_url = _profile_url("mod"), _profile_url(f"member{newest}")
    assert shown[:5] == [
        ("lockout.clear", f"mod cleared the sign-in lock on member{newest}", [mod, member_url]),
        ("trust.promote", f"member{newest} was promoted from New to Basic automatically", [member_url]),
        (
            "topic.move",
            f"mod moved “Topic {newest}” from {source.name} to {target.name}",
            [mod, _topic_url(topic), _forum_url(source), _forum_url(target)],
        ),
        ("topic.lock", f"mod locked “Topic {newest}”", [mod, _topic_url(topic)]),
        (
            "post.reject",
            f"mod rejected a post by member{newest} in “Topic {newest}”: spam",
            [mod, _post_url(post), member_url, _topic_url(topic)],
        ),
    ]


def test_only_moderators_read_the_log(client, gardener):
    signed_out = client.get(LOG)
    assert signed_out.status_code == 302
    assert signed_out["Location"] == f"{reverse('accounts:login')}?next={LOG}"
    client.force_login(gardener)
    assert client.get(LOG).status_code == 403


@pytest.fixture
def large_log(moderator):
    """100,000 audit rows (one statement, then ANALYZE): mostly one moderator's approvals, a
    rare action and a rare actor, as a long-lived portal's log would be."""
    rare_actor = _make_moderator("rare_mod")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO core_moderationaction (actor_id, action, target_type, target_id, reason, metadata, created_at)
            SELECT CASE WHEN n %% 5000 = 0 THEN %s ELSE %s END,
                   CASE WHEN n %% 2000 = 0 THEN 'lockout.clear' ELSE 'post.approve' END,
                   'post', n::text, '', '{}'::jsonb, now() - (n || ' seconds')::interval
            FROM generate_series(1, 100000) AS n
            """,
            [rare_actor.pk, moderator.pk],
        )
        cursor.execute("ANALYZE core_moderationaction")
    return rare_actor


def test_filtered_pages_read_an_index_at_scale(large_log, moderator):
    """At 100,000 rows, the newest page of a rare action, a rare actor and the busiest actor
    each read an index (the action one added for this page), never the whole table."""
    plans = {
        "rare action": moderation_log_rows(action="lockout.clear")[:50].explain(),
        "rare actor": moderation_log_rows(actor_id=large_log.pk)[:50].explain(),
        "busy actor": moderation_log_rows(actor_id=moderator.pk)[:50].explain(),
    }
    assert "core_modaction_action_recent" in plans["rare action"], plans["rare action"]
    for name, plan in plans.items():
        assert "Seq Scan on core_moderationaction" not in plan, (name, plan)
    assert moderation_log_rows(action="lockout.clear").count() == 50
    assert moderation_log_rows(actor_id=large_log.pk).count() == 20


def test_the_moderator_choices_do_not_read_the_whole_log_at_scale(large_log, moderator):
    """The distinct actors of 100,000 rows are found by index probes (a loose index scan), not
    by reading every row; the choices are still every moderator and actor."""
    with CaptureQueriesContext(connection) as queries:
        choices = moderation_log_actor_choices()
    [statement] = [query["sql"] for query in queries.captured_queries]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {statement}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert choices == [(moderator.pk, "mod"), (large_log.pk, "rare_mod")]
    assert "Seq Scan on core_moderationaction" not in plan, plan
    assert "core_moderationaction_actor_id" in plan, plan


def test_the_portable_actor_choices_match_the_postgresql_query(moderator):
    """The embedded default (SQLite) lists the moderator filter's choices with a plain ORM
    query; on PostgreSQL it gives the same rows as the loose index scan."""
    from apps.forum.moderation_log import _actor_choices_portable

    veteran = factories.UserFactory(username="Vera")
    _record(actor=veteran, action="topic.move", target_type="topic", target_id=1)
    _record(actor=moderator, action="topic.lock", target_type="topic", target_id=1)
    expected = moderation_log_actor_choices()
    assert (veteran.pk, "Vera") in expected and (moderator.pk, moderator.username) in expected
    assert _actor_choices_portable(app_label="core", codename="use_moderation_tools") == expected
