"""Steps "Recounting counters and trust levels (set-based)" and "Checking counters against
user_counters_recount".

The maintained counters are recomputed by two set-based ``UPDATE``s (every user, every forum;
topics were written with theirs) instead of per-row correlated subqueries: at the large scale
``user_counters_recount()`` takes ~40 s and ``forum_counters_recount()`` ~20 s on two busy
cores, against ~12 s for both here. A sample is then checked against the app's own definitions
(``apps.demo.recount.user_counters_recount``, ``apps.forum.recount``), so the two cannot drift
apart silently.
"""

from __future__ import annotations

from django.db import connection

from apps.accounts.models import TrustLevel, User
from apps.demo.recount import user_counters_recount
from apps.forum.models import Forum, Post, Topic
from apps.forum.recount import forum_expectations, topic_expectations
from apps.plants.models import IdentificationStatus, PlantIdentificationRequest, SavedCareInstructions

from .base import _ScaledBase


class _CounterSteps(_ScaledBase):
    """Recounts users' and forums' counters and trust levels in SQL, then checks a sample."""

    def recount(self) -> None:
        """The maintained counters, from the rows, by set-based statements: one ``UPDATE``
        for every user (the same definitions as ``user_counters_recount``, which runs six
        correlated subqueries per user), trust levels by SPEC's rules in the same statement,
        and the forums' counters and last activity (the topics' were written exact)."""
        q = connection.ops.quote_name
        user, post, topic = q(User._meta.db_table), q(Post._meta.db_table), q(Topic._meta.db_table)
        request, card = q(PlantIdentificationRequest._meta.db_table), q(SavedCareInstructions._meta.db_table)
        # trust_level_reached in SQL: the highest level whose requirements are met, veteran first.
        levels = sorted((level for level in TrustLevel if level > TrustLevel.NEW), reverse=True)
        case = " ".join(
            f"WHEN COALESCE(p.approved, 0) >= {int(level.requirements['approved_posts'])} AND "
            f"u.date_joined <= %(now)s - interval '{int(level.requirements['account_age_days'])} days' THEN "
            f"'{level.value}'"
            for level in levels
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH p AS (
                    SELECT poster_id AS id, COUNT(*) FILTER (WHERE NOT is_deleted) AS posts,
                           COUNT(*) FILTER (WHERE NOT is_deleted AND is_approved) AS approved
                    FROM {post} GROUP BY poster_id
                ), t AS (
                    SELECT poster_id AS id, COUNT(*) AS topics FROM {topic} WHERE NOT is_deleted GROUP BY poster_id
                ), r AS (
                    SELECT owner_id AS id, COUNT(*) AS requests,
                           COUNT(*) FILTER (WHERE status = %(identified)s) AS identified
                    FROM {request} GROUP BY owner_id
                ), c AS (
                    SELECT owner_id AS id, COUNT(*) AS cards FROM {card} GROUP BY owner_id
                )
                UPDATE {user} AS target SET
                    post_count = COALESCE(p.posts, 0),
                    approved_post_count = COALESCE(p.approved, 0),
                    topic_count = COALESCE(t.topics, 0),
                    identification_request_count = COALESCE(r.requests, 0),
                    identified_plant_count = COALESCE(r.identified, 0),
                    care_card_count = COALESCE(c.cards, 0),
                    trust_level = CASE WHEN u.trust_level_set_by_moderator THEN u.trust_level {case} ELSE 'new' END
                FROM {user} AS u
                    LEFT JOIN p ON p.id = u.id LEFT JOIN t ON t.id = u.id
                    LEFT JOIN r ON r.id = u.id LEFT JOIN c ON c.id = u.id
                WHERE target.id = u.id AND NOT u.is_superuser
                """,
                {"identified": IdentificationStatus.IDENTIFIED.value, "now": self.now_dt},
            )
            cursor.execute(
                f"UPDATE {user} SET trust_level = %s WHERE id = %s", [TrustLevel.VETERAN.value, self.moderator.id]
            )
        self._forum_counters()

    def _forum_counters(self) -> None:
        """``Forum`` counters and last activity as ``forum_counters_recount`` defines them
        (visible topics; post totals from the topics' counters; the latest topic with
        posts), one grouped statement instead of per-forum subqueries over every topic."""
        q = connection.ops.quote_name
        forum, topic = q(Forum._meta.db_table), q(Topic._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {forum} AS f SET topic_count = COALESCE(s.topics, 0), post_count = COALESCE(s.posts, 0),
                    last_topic_id = l.id, last_poster_id = l.last_poster_id, last_post_at = l.last_post_at
                FROM {forum} AS f2
                LEFT JOIN (
                    SELECT forum_id, COUNT(*) AS topics, SUM(post_count) AS posts FROM {topic}
                    WHERE is_approved AND NOT is_hidden AND NOT is_deleted GROUP BY forum_id
                ) s ON s.forum_id = f2.id
                LEFT JOIN LATERAL (
                    SELECT id, last_poster_id, last_post_at FROM {topic} t
                    WHERE t.forum_id = f2.id AND t.is_approved AND NOT t.is_hidden AND NOT t.is_deleted
                    ORDER BY t.last_post_at DESC, t.id DESC LIMIT 1
                ) l ON TRUE
                WHERE f.id = f2.id
                """
            )

    def check_counters(self) -> None:
        """Run the services' own recount (``user_counters_recount``, ``forum_counters_recount``
        on one topic's worth of definitions) on a sample and compare: the set-based statements
        must agree with the app's definitions. A disagreement fails the seed."""
        fields = (
            "post_count",
            "approved_post_count",
            "topic_count",
            "identification_request_count",
            "identified_plant_count",
            "care_card_count",
            "trust_level",
        )
        rng = self.rng("check")
        sample = {
            self.gardener.id,
            self.moderator.id,
            self.newbie.id,
            *rng.sample(self.ranks, min(200, len(self.ranks))),
        }
        sample |= set(self.ranks[:20])
        before = {row["id"]: row for row in User.objects.filter(pk__in=sample).values("id", *fields)}
        user_counters_recount(user_ids=sorted(sample))
        after = {row["id"]: row for row in User.objects.filter(pk__in=sample).values("id", *fields)}
        wrong = [uid for uid in sample if before[uid] != after[uid]]
        if wrong:
            raise RuntimeError(
                f"The set-based recount disagrees with user_counters_recount for {len(wrong)} of {len(sample)} users, "
                f"e.g. {before[wrong[0]]} vs {after[wrong[0]]}; update apps/demo/seeding/scaled/counters.py."
            )
        self._check_forums()
        self.result.counters_checked_users = len(sample)

    def _check_forums(self) -> None:
        """Forum and topic fields: compare with ``apps.forum.recount``'s definitions for every
        forum and a sample of topics (read-only: the definitions' expressions in a SELECT)."""
        sample = self.rng("check-topics").sample(self.topic_ids, min(300, len(self.topic_ids)))
        for model, rows, expectations in (
            ("Topic", Topic.objects.filter(pk__in=sample), topic_expectations()),
            ("Forum", Forum.objects.all(), forum_expectations()),
        ):
            annotated = rows.annotate(**{f"expected_{name}": value for name, value in expectations.items()})
            for row in annotated.values("id", *expectations, *[f"expected_{name}" for name in expectations]):
                if any(row[name] != row[f"expected_{name}"] for name in expectations):
                    raise RuntimeError(f"{model} fields disagree with apps.forum.recount: {row}")
