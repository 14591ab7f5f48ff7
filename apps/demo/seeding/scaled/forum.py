"""Steps "Writing forums, N topics and M posts" and "Writing moderation log and reports".

Topics: two pinned house-rules topics per forum by the moderator, the newbie's one in the
review queue, the rest by rank over the history. Replies: a topic drawn by weight (a few busy
threads, most with a handful), a poster by rank, a time after both the topic and the poster's
sign-up. Each topic's counters and last post are computed here while its posts are written,
so topics need no recount; a gardener still at level ``new`` has their recent posts held.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from apps.core.models import ModerationAction
from apps.forum.models import Forum, Post, Report, Topic

from ..texts import FORUM_WEIGHTS, FORUMS
from .base import _ScaledBase
from .draw import _dt, _User
from .sizes import DAY, HISTORY_DAYS, REVIEW_WINDOW_DAYS

# A planned post: (created, topic index, poster id, text index (0: opening post), deleted).
_PostPlan = tuple[float, int, int, int, bool]


@dataclass(slots=True)
class _TopicRow:
    """A planned topic; its approval, counters and last post are filled in as its posts are."""

    id: int
    forum_id: int
    poster: int
    created: float
    template: int
    approved: bool
    pinned: bool = False
    locked: bool = False
    post_count: int = 0
    last_post_at: float = 0.0
    last_post_key: tuple = (0.0, 0)
    last_poster: int | None = None


class _ForumSteps(_ScaledBase):
    """Writes forums, topics, posts, the moderators' pins and a few open reports; sets
    ``topic_ids``, ``post_sample`` and ``pinned_topics``."""

    def write_forum(self) -> None:
        rng = self.rng("forum")
        forums = Forum.objects.bulk_create(
            Forum(name=name, slug=slug, description=description, position=index)
            for index, (name, slug, description) in enumerate(FORUMS, start=1)
        )
        self.result.rows[Forum._meta.db_table] = len(forums)
        topics_total = max(self.scale.topics, len(forums) + 2)
        topics = self._plan_topics(rng, forums=forums, total=topics_total)
        posts = self._plan_posts(rng, topics=topics, replies=max(self.scale.posts - topics_total, 0))
        post_rows = self._post_rows(posts=posts, topics=topics)
        old = [t for t in topics if not t.pinned and t.created < self.now - 400 * DAY]
        for topic in rng.sample(old, min(len(old), max(2, len(topics) // 200))):
            topic.locked = True

        def topic_rows() -> Iterator[tuple]:
            for t in topics:
                subject = self.pinned_template[0] if t.template < 0 else self.templates[t.template][1]
                last_post_at = t.last_post_key[0] if t.post_count else t.created
                # No public post: the topic's own time and poster (apps.forum.recount's definition).
                last_poster = t.last_poster if t.post_count else t.poster
                yield (
                    t.id,
                    t.forum_id,
                    t.poster,
                    subject,
                    _dt(t.created),
                    t.approved,
                    t.locked,
                    t.pinned,
                    False,
                    _dt(last_post_at),
                    last_poster,
                    t.post_count,
                )

        self._copy(
            Topic,
            (
                "id",
                "forum_id",
                "poster_id",
                "subject",
                "created_at",
                "is_approved",
                "is_locked",
                "is_pinned",
                "is_deleted",
                "last_post_at",
                "last_poster_id",
                "post_count",
            ),
            topic_rows(),
        )
        self._copy(
            Post,
            (
                "id",
                "topic_id",
                "poster_id",
                "source",
                "html",
                "is_opening_post",
                "created_at",
                "is_approved",
                "is_hidden",
                "is_deleted",
            ),
            post_rows,
        )
        self.topic_ids = [t.id for t in topics]
        self.post_sample = [row[0] for row in post_rows[-5000:] if row[7] and not row[9] and not row[5]]
        self.pinned_topics = [(t.id, t.created) for t in topics if t.pinned]

    def _plan_topics(self, rng: random.Random, *, forums: list[Forum], total: int) -> list[_TopicRow]:
        """``total`` topics in time order with their ids: two pinned house-rules topics per
        forum by the moderator, the newbie's one in the review queue, the rest by rank."""
        now = self.now
        forum_ids = [forum.pk for forum in forums]
        slug_of = {forum.pk: forum.slug for forum in forums}
        plans: list[
            tuple[float, int, int, int, bool, bool]
        ] = []  # (created, forum, poster, template, pinned, by newbie)
        for forum_id in forum_ids:
            for _ in range(2):
                plans.append(
                    (now - (HISTORY_DAYS - rng.uniform(0, 5)) * DAY, forum_id, self.moderator.id, -1, True, False)
                )
        plans.append(
            (
                now - 0.7 * DAY,
                forum_ids[0],
                self.newbie.id,
                self.templates_by_forum[slug_of[forum_ids[0]]][0],
                False,
                True,
            )
        )
        cum = list(itertools.accumulate(FORUM_WEIGHTS))
        while len(plans) < total:
            poster = self.user_by_id[self.draw["topics"].draw(rng)]
            forum_id = forum_ids[bisect.bisect_right(cum, rng.random() * cum[-1])]
            template = rng.choice(self.templates_by_forum[slug_of[forum_id]])
            plans.append((self._when(rng, poster), forum_id, poster.id, template, False, False))
        plans.sort(key=lambda plan: plan[0])
        first_topic = self._next_id(Topic)
        return [
            _TopicRow(id=first_topic + i, forum_id=f, poster=p, created=c, template=t, approved=True, pinned=pin)
            for i, (c, f, p, t, pin, _) in enumerate(plans)
        ]

    def _plan_posts(self, rng: random.Random, *, topics: list[_TopicRow], replies: int) -> list[_PostPlan]:
        """Every topic's opening post and ``replies`` replies, in time order: a topic drawn by
        weight (a few busy threads), a poster by rank, a time after both the topic and the
        poster's sign-up; the newbie's two replies go to the welcome topic."""
        now = self.now
        newbie_topics = {t.id for t in topics if t.poster == self.newbie.id}
        weights = list(
            itertools.accumulate(0.0 if t.id in newbie_topics else min(rng.paretovariate(1.3), 300.0) for t in topics)
        )
        posts: list[_PostPlan] = []
        for index, topic in enumerate(topics):
            posts.append((topic.created, index, topic.poster, 0, False))
        newbie_replies = 2
        welcome_index = max(i for i, t in enumerate(topics) if t.pinned)
        for n in range(replies):
            index = bisect.bisect_right(weights, rng.random() * weights[-1])
            index = min(index, len(topics) - 1)
            topic = topics[index]
            if n < newbie_replies:
                poster = self.newbie
                created = now - rng.uniform(0.1, 2.0) * DAY
                index = welcome_index
                created = max(created, topics[index].created + 60)
            else:
                poster = self.user_by_id[self.draw["replies"].draw(rng)]
                delay = math.exp(rng.gauss(math.log(10 * 3600), 1.6))
                created = topic.created + delay
                if created >= now:
                    created = topic.created + (now - topic.created) * rng.random()
                if poster.joined > created:
                    created = poster.joined + (now - poster.joined) * rng.random()
            posts.append((created, index, poster.id, 1 + rng.randrange(6), rng.random() < 0.003))
        posts.sort(key=lambda post: post[0])
        return posts

    def _post_rows(self, *, posts: list[_PostPlan], topics: list[_TopicRow]) -> list[tuple]:
        """The ``Post`` rows to ``COPY``, with ids in time order; updates each topic's
        approval, public post count and last post as it goes. A gardener still at level ``new``
        at the end of the load (SPEC: 5 approved posts and 7 days for basic) has their posts of
        the last ``REVIEW_WINDOW_DAYS`` (2) waiting in the review queue."""
        now = self.now
        review_from = now - REVIEW_WINDOW_DAYS * DAY
        for created, _, poster, _, deleted in posts:
            if created < review_from and not deleted:
                self.user_by_id[poster].posts_before_review += 1
        basic = settings.TRUST_LEVEL_REQUIREMENTS["basic"]

        def still_new(user: _User) -> bool:
            if user.id == self.moderator.id:
                return False
            return (
                user.posts_before_review < basic["approved_posts"]
                or now - user.joined < basic["account_age_days"] * DAY
            )

        first_post = self._next_id(Post)
        post_rows: list[tuple] = []
        for offset, (created, index, poster, text, deleted) in enumerate(posts):
            topic = topics[index]
            post_id = first_post + offset
            opening = text == 0
            approved = not (created >= review_from and still_new(self.user_by_id[poster]))
            if opening:
                topic.approved = approved
            elif not topic.approved:
                approved = approved and topic.approved
            if topic.template < 0 and opening:
                source, html = self.pinned_template[1], self.pinned_template[2]
            elif topic.template < 0:
                source, html = self.templates[topic.id % len(self.templates)][3][text]
            else:
                source, html = self.templates[topic.template][3][text]
            if approved and not deleted:
                topic.post_count += 1
                key = (created, post_id)
                if key > topic.last_post_key:
                    topic.last_post_key, topic.last_poster = key, poster
            post_rows.append((post_id, topic.id, poster, source, html, opening, _dt(created), approved, False, deleted))
        return post_rows

    def write_moderation(self) -> None:
        rng = self.rng("moderation")
        actions = [
            ModerationAction(
                actor_id=self.moderator.id,
                action="topic.pin",
                target_type="topic",
                target_id=str(topic_id),
                reason="House rules and how-to",
            )
            for topic_id, _ in self.pinned_topics
        ]
        ModerationAction.objects.bulk_create(actions)
        self.result.rows[ModerationAction._meta.db_table] = len(actions)
        reports = []
        for post_id in rng.sample(self.post_sample, min(20, len(self.post_sample))):
            reporter = self.draw["replies"].draw(rng)
            reports.append(
                Report(
                    post_id=post_id,
                    reporter_id=reporter,
                    reason=Report.Reason.OFF_TOPIC,
                    detail="Not really about plants.",
                    created_at=self.now_dt - timedelta(hours=rng.uniform(1, 40)),
                )
            )
        Report.objects.bulk_create(reports, ignore_conflicts=True)
        self.result.rows[Report._meta.db_table] = len(reports)
