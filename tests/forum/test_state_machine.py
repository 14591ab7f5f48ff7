"""Forum state stays true under any sequence of transitions (issue 9, section 2).

A Hypothesis ``RuleBasedStateMachine`` applies random sequences of forum transitions (create,
reply, approve, reject, edit, edit decisions, delete, report, report decisions, move, lock) by
several users: two `new` gardeners, a `basic`, a `trusted` and a `veteran` gardener, and a
moderator. Its oracle is ``ForumModel``, a small pure-Python model of the rules written from the
issue and SPEC, not from the code under test. After every step:

- the stored counters and last activity equal ``apps.forum.recount``'s recount (no drift);
- they equal what the model computes (topic, forum and user counters, last activity);
- ``Topic.objects.visible_to`` / ``Post.objects.visible_to`` return for each kind of viewer
  (signed out, each gardener, the moderator) exactly what the model says they may see;
- every notification's ``is_visible`` (replies, and mentions: each reply mentions a drawn
  gardener) says whether its recipient, as a gardener who is not a moderator, may see the post
  by the model's rule (issue 12: the flag follows the one visibility rule).

At the end of each run the topic pages, as each viewer gets them, show the model's posts.
Bounded by counts, not time (``FORUM_MACHINE_SETTINGS``: fixed examples and steps,
derandomized, no deadline); the database is reset between examples by a savepoint.
"""

from dataclasses import dataclass, field
from datetime import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from apps.accounts.models import TrustLevel, User
from apps.forum import services
from apps.forum.models import Forum, Post, Topic
from apps.forum.recount import forum_state_drift
from apps.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

FORUM_MACHINE_SETTINGS = settings(
    max_examples=30,
    stateful_step_count=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
LEVELS = {"new1": "new", "new2": "new", "basic": "basic", "trusted": "trusted", "veteran": "veteran", "mod": "veteran"}
ORDER = ["new", "basic", "trusted", "veteran"]
REPORTS_TO_HIDE = 3  # SPEC "Domain"


# --- The model: the rules, written on their own ------------------------------------------------


@dataclass
class MPost:
    id: int
    topic: int
    poster: str
    opening: bool
    created_at: datetime
    approved: bool
    hidden: bool = False
    deleted: bool = False
    rejected: bool = False
    pending: bool = False
    reports: dict[str, str] = field(default_factory=dict)  # reporter -> "open" / a decision

    @property
    def public(self) -> bool:
        return self.approved and not self.hidden and not self.deleted


@dataclass
class MTopic:
    id: int
    forum: int
    poster: str
    created_at: datetime
    locked: bool = False


class ForumModel:
    """What SPEC and issue 9 say the forum's state is, for a handful of users."""

    def __init__(self):
        self.topics: dict[int, MTopic] = {}
        self.posts: dict[int, MPost] = {}

    @staticmethod
    def is_moderator(user: str | None) -> bool:
        return user == "mod"

    @staticmethod
    def level(user: str) -> str:
        return LEVELS[user]

    def opening(self, topic_id: int) -> MPost:
        return next(p for p in self.posts.values() if p.topic == topic_id and p.opening)

    def topic_posts(self, topic_id: int) -> list[MPost]:
        return sorted((p for p in self.posts.values() if p.topic == topic_id), key=lambda p: (p.created_at, p.id))

    def topic_public(self, topic_id: int) -> bool:
        return self.opening(topic_id).public

    def topic_visible(self, viewer: str | None, topic_id: int) -> bool:
        opening = self.opening(topic_id)
        if opening.deleted:
            return False
        return self.is_moderator(viewer) or opening.public or self.topics[topic_id].poster == viewer

    def post_visible(self, viewer: str | None, post: MPost) -> bool:
        if post.deleted or not self.topic_visible(viewer, post.topic):
            return False
        return self.is_moderator(viewer) or post.public or post.poster == viewer

    def post_visible_as_gardener(self, viewer: str, post: MPost) -> bool:
        """``post_visible`` for ``viewer`` without moderator powers (what a notification's
        ``is_visible`` follows, for moderators too)."""
        opening = self.opening(post.topic)
        if opening.deleted or post.deleted:
            return False
        topic_seen = opening.public or self.topics[post.topic].poster == viewer
        return topic_seen and (post.public or post.poster == viewer)

    def topic_state(self, topic_id: int) -> dict:
        topic, opening = self.topics[topic_id], self.opening(topic_id)
        public = [p for p in self.topic_posts(topic_id) if p.public]
        last = public[-1] if public else None
        return {
            "is_approved": opening.approved,
            "is_hidden": opening.hidden,
            "is_deleted": opening.deleted,
            "post_count": len(public),
            "last_post_at": last.created_at if last else topic.created_at,
            "last_poster": last.poster if last else topic.poster,
            "forum": topic.forum,
            "is_locked": topic.locked,
        }

    def forum_state(self, forum_id: int) -> dict:
        public = [t for t in self.topics.values() if t.forum == forum_id and self.topic_public(t.id)]
        states = {t.id: self.topic_state(t.id) for t in public}
        latest = max(public, key=lambda t: (states[t.id]["last_post_at"], t.id), default=None)
        return {
            "topic_count": len(public),
            "post_count": sum(state["post_count"] for state in states.values()),
            "last_topic": latest.id if latest else None,
            "last_poster": states[latest.id]["last_poster"] if latest else None,
            "last_post_at": states[latest.id]["last_post_at"] if latest else None,
        }

    def user_state(self, user: str) -> dict:
        live = [p for p in self.posts.values() if p.poster == user and not p.deleted]
        return {
            "topic_count": sum(p.opening for p in live),
            "post_count": len(live),
            "approved_post_count": sum(p.approved for p in live),
        }

    # Transitions (each mirrors the rule in SPEC "Domain" / issue 9).
    def publishes(self, user: str) -> bool:
        return self.level(user) != "new" or self.is_moderator(user)

    def delete(self, post: MPost) -> None:
        if post.opening:
            for other in self.topic_posts(post.topic):
                other.deleted = True
        post.deleted = True

    def report(self, reporter: str, post: MPost) -> None:
        if reporter in post.reports:
            return
        post.reports[reporter] = "open"
        if post.hidden:
            return
        open_reports = sum(status == "open" for status in post.reports.values())
        weighty = ORDER.index(self.level(reporter)) >= ORDER.index("trusted")
        if open_reports >= REPORTS_TO_HIDE or (weighty and self.level(post.poster) == "new"):
            post.hidden = True

    def resolve(self, post: MPost, decision: str) -> None:
        for reporter, status in post.reports.items():
            if status == "open":
                post.reports[reporter] = decision
        if decision == "agree":
            self.delete(post)
        else:
            post.hidden = False


# --- The machine ------------------------------------------------------------------------------

VIEWERS = [None, *LEVELS]


class ForumMachine(RuleBasedStateMachine):
    """Random transitions through the real services, checked against ``ForumModel``."""

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint_create()
        moderators = Group.objects.get(name="moderators")
        self.users: dict[str, User] = {}
        for name, level in LEVELS.items():
            self.users[name] = factories.UserFactory(trust_level=TrustLevel(level))
            if name == "mod":
                self.users[name].groups.add(moderators)
        self.names = {user.pk: name for name, user in self.users.items()}
        self.forums = [factories.ForumFactory().pk, factories.ForumFactory().pk]
        self.model = ForumModel()

    def teardown(self):
        try:
            self._check_pages()
        finally:
            transaction.savepoint_rollback(self.savepoint)

    # Helpers -----------------------------------------------------------------------------------
    def _user(self, name: str) -> User:
        return User.objects.get(pk=self.users[name].pk)

    def _add_post(self, post: Post, poster: str) -> None:
        self.model.posts[post.pk] = MPost(
            id=post.pk,
            topic=post.topic_id,
            poster=poster,
            opening=post.is_opening_post,
            created_at=post.created_at,
            approved=self.model.publishes(poster),
        )

    def _live_posts(self, data, condition) -> MPost | None:
        candidates = [p for p in sorted(self.model.posts.values(), key=lambda p: p.id) if condition(p)]
        return data.draw(st.sampled_from(candidates)) if candidates else None

    # Rules -------------------------------------------------------------------------------------
    @rule(data=st.data(), poster=st.sampled_from(list(LEVELS)), forum_index=st.integers(0, 1))
    def create_topic(self, data, poster, forum_index):
        publish = self.model.publishes(poster)
        topic = services.topic_create(
            forum=Forum.objects.get(pk=self.forums[forum_index]),
            poster=self._user(poster),
            subject="A topic",
            source="Opening post",
            publish=publish,
        )
        opening = Post.objects.get(topic=topic, is_opening_post=True)
        self.model.topics[topic.pk] = MTopic(
            id=topic.pk, forum=self.forums[forum_index], poster=poster, created_at=opening.created_at
        )
        self._add_post(opening, poster)

    @precondition(lambda self: self.model.topics)
    @rule(data=st.data(), poster=st.sampled_from(list(LEVELS)), mentioned=st.sampled_from(list(LEVELS)))
    def reply(self, data, poster, mentioned):
        topics = [
            t
            for t in sorted(self.model.topics)
            if self.model.topic_visible(poster, t)
            and (not self.model.topics[t].locked or self.model.is_moderator(poster))
        ]
        if not topics:
            return
        topic_id = data.draw(st.sampled_from(topics))
        post = services.reply_create(
            topic=Topic.objects.get(pk=topic_id),
            poster=self._user(poster),
            source=f"Reply to @{self.users[mentioned].username}",
            publish=self.model.publishes(poster),
        )
        self._add_post(post, poster)

    @precondition(lambda self: self.model.posts)
    @rule(data=st.data())
    def approve(self, data):
        post = self._live_posts(data, lambda p: not p.approved and not p.deleted and not p.rejected)
        if post is None:
            return
        assert services.post_approve(post_id=post.id, moderator=self._user("mod"))
        post.approved = True
        assert not services.post_approve(post_id=post.id, moderator=self._user("mod"))  # twice counts once

    @precondition(lambda self: self.model.posts)
    @rule(data=st.data())
    def reject(self, data):
        post = self._live_posts(data, lambda p: not p.approved and not p.deleted and not p.rejected)
        if post is None:
            return
        assert services.post_reject(post_id=post.id, moderator=self._user("mod"), reason="Off-topic")
        post.rejected = True

    @precondition(lambda self: self.model.posts)
    @rule(data=st.data(), actor=st.sampled_from(list(LEVELS)))
    def edit(self, data, actor):
        post = self._live_posts(
            data, lambda p: self.model.post_visible(actor, p) and (p.poster == actor or self.model.is_moderator(actor))
        )
        if post is None:
            return
        review = post.approved and not self.model.publishes(actor)
        applied = services.post_edit(post_id=post.id, editor=self._user(actor), source="Edited text", review=review)
        assert applied is not review
        # An edit for review replaces the author's pending one; the author's direct edit drops
        # it; a moderator's direct edit leaves it waiting for its decision (services.post_edit).
        post.pending = review or (post.pending and actor != post.poster)

    @precondition(lambda self: self.model.posts)
    @rule(data=st.data(), approve=st.booleans())
    def decide_edit(self, data, approve):
        post = self._live_posts(data, lambda p: p.pending and not p.deleted)
        if post is None:
            return
        assert services.post_edit_decide(
            post_id=post.id,
            moderator=self._user("mod"),
            approve=approve,
            reason="" if approve else "Please keep the original",
        )
        post.pending = False

    @precondition(lambda self: self.model.posts)
    @rule(data=st.data(), actor=st.sampled_from(list(LEVELS)))
    def delete(self, data, actor):
        post = self._live_posts(
            data, lambda p: self.model.post_visible(actor, p) and (p.poster == actor or self.model.is_moderator(actor))
        )
        if post is None:
            return
        services.post_delete(post_id=post.id, actor=self._user(actor))
        self.model.delete(post)

    @precondition(lambda self: self.model.posts)
    @rule(data=st.data(), reporter=st.sampled_from(["basic", "trusted", "veteran", "mod"]))
    def report(self, data, reporter):
        post = self._live_posts(
            data,
            lambda p: self.model.post_visible(reporter, p) and p.poster != reporter and p.approved and not p.hidden,
        )
        if post is None:
            return
        hid = services.report_create(post_id=post.id, reporter=self._user(reporter), reason="spam", detail="")
        was_hidden = post.hidden
        self.model.report(reporter, post)
        assert hid is (post.hidden and not was_hidden)

    @precondition(lambda self: self.model.posts)
    @rule(data=st.data(), decision=st.sampled_from(["agree", "disagree", "ignore"]))
    def resolve_reports(self, data, decision):
        post = self._live_posts(data, lambda p: not p.deleted and "open" in p.reports.values())
        if post is None:
            return
        assert services.reports_resolve(post_id=post.id, moderator=self._user("mod"), decision=decision)
        self.model.resolve(post, decision)

    @precondition(lambda self: self.model.topics)
    @rule(data=st.data(), actor=st.sampled_from(["veteran", "mod"]))
    def move(self, data, actor):
        topics = [t for t in sorted(self.model.topics) if self.model.topic_visible(actor, t)]
        if not topics:
            return
        topic = self.model.topics[data.draw(st.sampled_from(topics))]
        target = self.forums[1] if topic.forum == self.forums[0] else self.forums[0]
        assert services.topic_move(topic_id=topic.id, actor=self._user(actor), to_forum=Forum.objects.get(pk=target))
        topic.forum = target

    @precondition(lambda self: self.model.topics)
    @rule(data=st.data())
    def lock(self, data):
        topics = [t for t in sorted(self.model.topics) if self.model.topic_visible("mod", t)]
        if not topics:
            return
        topic = self.model.topics[data.draw(st.sampled_from(topics))]
        services.topic_flag_set(
            topic_id=topic.id, moderator=self._user("mod"), action="unlock" if topic.locked else "lock"
        )
        topic.locked = not topic.locked

    # Checks ------------------------------------------------------------------------------------
    @invariant()
    def stored_state_equals_the_recount(self):
        assert forum_state_drift() == []

    @invariant()
    def stored_state_equals_the_model(self):
        for row in Topic.objects.values(
            "id",
            "forum_id",
            "is_approved",
            "is_hidden",
            "is_deleted",
            "post_count",
            "last_post_at",
            "last_poster_id",
            "is_locked",
        ):
            expected = self.model.topic_state(row["id"])
            assert {
                "is_approved": row["is_approved"],
                "is_hidden": row["is_hidden"],
                "is_deleted": row["is_deleted"],
                "post_count": row["post_count"],
                "last_post_at": row["last_post_at"],
                "last_poster": self.names[row["last_poster_id"]],
                "forum": row["forum_id"],
                "is_locked": row["is_locked"],
            } == expected, row["id"]
        for row in Forum.objects.filter(pk__in=self.forums).values(
            "id", "topic_count", "post_count", "last_topic_id", "last_poster_id", "last_post_at"
        ):
            assert {
                "topic_count": row["topic_count"],
                "post_count": row["post_count"],
                "last_topic": row["last_topic_id"],
                "last_poster": self.names.get(row["last_poster_id"]),
                "last_post_at": row["last_post_at"],
            } == self.model.forum_state(row["id"]), row["id"]
        for name, user in self.users.items():
            row = User.objects.filter(pk=user.pk).values("topic_count", "post_count", "approved_post_count").get()
            assert row == self.model.user_state(name), name
        pending = set(Post.objects.filter(pending_at__isnull=False).values_list("id", flat=True))
        assert pending == {p.id for p in self.model.posts.values() if p.pending}

    @invariant()
    def selectors_show_what_the_model_says(self):
        for viewer in VIEWERS:
            user = self._user(viewer) if viewer else None
            topics = set(Topic.objects.visible_to(user).values_list("id", flat=True))
            assert topics == {t for t in self.model.topics if self.model.topic_visible(viewer, t)}, viewer
            posts = set(Post.objects.visible_to(user).values_list("id", flat=True))
            assert posts == {p.id for p in self.model.posts.values() if self.model.post_visible(viewer, p)}, viewer

    @invariant()
    def notifications_are_visible_exactly_when_the_rule_says(self):
        rows = Notification.objects.values_list("recipient_id", "target_key", "is_visible")
        for recipient_id, target_key, visible in rows:
            name = self.names[recipient_id]
            post = self.model.posts[int(target_key.removeprefix("forum.post:"))]
            assert visible == self.model.post_visible_as_gardener(name, post), (name, post)

    def _check_pages(self):
        """Each viewer's topic pages (first page, 20 posts) list the model's visible posts in
        order; an invisible topic is a 404."""
        for viewer in VIEWERS:
            client = Client()
            if viewer:
                client.force_login(self.users[viewer])
            for topic_id in self.model.topics:
                response = client.get(f"/forum/t/{topic_id}/")
                if not self.model.topic_visible(viewer, topic_id):
                    assert response.status_code == 404, (viewer, topic_id)
                    continue
                assert response.status_code == 200, (viewer, topic_id)
                shown = [p.id for p in self.model.topic_posts(topic_id) if self.model.post_visible(viewer, p)][:20]
                body = response.content.decode()
                positions = [body.index(f'id="post-{post_id}"') for post_id in shown]
                assert positions == sorted(positions), (viewer, topic_id)
                assert body.count('class="post"') == len(shown), (viewer, topic_id)


def test_forum_state_machine():
    """Random sequences of forum transitions keep stored state equal to the recount and the
    model, and every viewer sees what the model says (see the module docstring)."""
    run_state_machine_as_test(ForumMachine, settings=FORUM_MACHINE_SETTINGS)
