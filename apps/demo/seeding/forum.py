"""Builder steps for the forum: plan forums, topics and replies (texts from ``texts.py``,
filled in with a species' facts), save them, then the moderation log and open reports."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta
from typing import Any

from apps.accounts.models import TrustLevel
from apps.core.models import ModerationAction
from apps.forum.markdown import render_markdown
from apps.forum.models import Forum, Post, Report, Topic
from apps.plants.models import PlantSpecies

from .accounts import _Member
from .base import BATCH_SIZE, FORUM_HISTORY_DAYS, _BuilderBase, _TopicPlan
from .texts import (
    ADVICE,
    ASPCA_URL,
    AUTHOR_FOLLOW_UPS,
    AUTHOR_REPLIES,
    DISEASES,
    FEATURES,
    FORUM_WEIGHTS,
    FORUMS,
    FOUND_PLACES,
    GARDEN_SPOTS,
    PESTS,
    PET_FACTS,
    PINNED_THEME,
    POTS_TEXT,
    REPLY_OPENERS,
    REPLY_SIGNOFFS,
    REPLY_STEPS,
    REPLY_STEPS_INTRO,
    SPOTS,
    SYMPTOMS,
    THEMES,
    TRIED,
    WATERING_HABITS,
    _mid_sentence,
    _Theme,
)


class _ForumSteps(_BuilderBase):
    """Steps "Writing forum topics and posts", "Saving forums, topics and posts" and "Saving
    moderation log and reports"."""

    def _context(self, rng: random.Random, species: PlantSpecies) -> dict[str, Any]:
        plant = species.display_name
        guess = species if rng.random() < 0.7 else rng.choice(self.species)
        symptom, pest = rng.choice(SYMPTOMS), rng.choice(PESTS)
        article = "an" if plant[:1].lower() in "aeiou" else "a"
        return {
            "plant": _mid_sentence(plant),
            "a_plant": f"{article} {_mid_sentence(plant)}",
            "Plant": plant[:1].upper() + plant[1:],
            "url": f"/plants/species/{species.slug}/",
            "light": species.get_light_display().lower(),
            "zones": species.hardiness_zones,
            "interval": species.watering_interval_days,
            "spot": rng.choice(SPOTS),
            "habit": rng.choice(WATERING_HABITS),
            "symptom": symptom,
            "Symptom": symptom.capitalize(),
            "pest": pest,
            "Pest": pest.capitalize(),
            "disease": rng.choice(DISEASES),
            "feature": rng.choice(FEATURES),
            "found": rng.choice(FOUND_PLACES),
            "garden_spot": rng.choice(GARDEN_SPOTS),
            "n": rng.randint(2, 14),
            "cm": rng.choice([10, 15, 20, 30, 40, 60, 80, 120]),
            "guess": guess.display_name,
            "guess_scientific": guess.scientific_name,
            "guess_slug": guess.slug,
        }

    def _species_for(self, rng: random.Random, forum_slug: str, *, category: str | None = None) -> PlantSpecies:
        if category == PlantSpecies.Category.HOUSEPLANT:
            return rng.choice(self.houseplants)
        if category == PlantSpecies.Category.GARDEN:
            return rng.choice(self.garden_plants)
        if forum_slug in ("houseplants", "propagation"):
            return rng.choice(self.houseplants)
        if forum_slug == "garden-outdoors":
            return rng.choice(self.garden_plants)
        return rng.choice(self.species)

    def _opening_source(self, rng: random.Random, plan: _TopicPlan) -> str:
        theme, species, ctx = plan.theme, plan.species, plan.context
        paragraphs = [rng.choice(theme.intros).format(**ctx)]
        if theme.situation:
            paragraphs.append(f"It sits {ctx['spot']} and I water it {ctx['habit']}. The pot {rng.choice(POTS_TEXT)}.")
        if theme.tried and rng.random() < 0.7:
            tried = rng.sample(TRIED[plan.forum_slug], rng.randint(2, 3))
            paragraphs.append("What I have tried so far:\n\n" + "\n".join(f"- {item}" for item in tried))
        references = [ref for ref in species.references or [] if ref.get("url")]
        if theme.reference and references and rng.random() < 0.5:
            ref = rng.choice(references)
            paragraphs.append(f"I read the [{ref['publisher']} page]({ref['url']}) but it doesn't say much about this.")
        if plan.forum_slug == "show-and-tell":
            paragraphs.append(
                f"Routine: **{ctx['light']}**, water about every {ctx['interval']} days, and a lot of talking to it."
            )
        closing = rng.choice(theme.closing)
        if closing:
            paragraphs.append(closing)
        return "\n\n".join(paragraphs)

    def _reply_source(self, rng: random.Random, plan: _TopicPlan, *, by_author: bool) -> str:
        theme, species, ctx = plan.theme, plan.species, plan.context
        if by_author:
            return rng.choice(AUTHOR_REPLIES.get(theme.advice[0], AUTHOR_FOLLOW_UPS))
        kind = rng.choice(theme.advice)
        if kind in ("praise", "swap", "welcome"):
            return rng.choice(ADVICE[kind])
        paragraphs = []
        opener = rng.choice(REPLY_OPENERS)
        if opener:
            paragraphs.append(opener)
        if kind == "pets":
            notes = species.toxicity_notes or "it can upset their stomach."
            paragraphs.append(
                rng.choice(PET_FACTS[species.toxic_to_cats]).format(
                    aspca=ASPCA_URL, aspca_link=f"[ASPCA list]({ASPCA_URL})", notes=notes
                )
            )
        elif kind == "id":
            guess = species if rng.random() < 0.6 else rng.choice(self.species)
            paragraphs.append(
                rng.choice(ADVICE["id"]).format(
                    guess=guess.display_name, guess_scientific=guess.scientific_name, guess_slug=guess.slug
                )
            )
        else:
            paragraphs.append(rng.choice(ADVICE[kind]))
            if kind in ("water", "light") and rng.random() < 0.4:
                paragraphs.append(
                    f"The [care sheet]({ctx['url']}) says **{ctx['light']}** and water roughly every "
                    f"**{ctx['interval']} days**, which matches my experience."
                )
            if kind in REPLY_STEPS and rng.random() < 0.35:
                steps = rng.sample(REPLY_STEPS[kind], rng.randint(2, 3))
                paragraphs.append(
                    rng.choice(REPLY_STEPS_INTRO) + "\n\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
                )
        signoff = rng.choice(REPLY_SIGNOFFS)
        if signoff:
            paragraphs.append(signoff)
        return "\n\n".join(paragraphs)

    def _new_topic(
        self,
        rng: random.Random,
        *,
        forum_slug: str,
        poster: _Member,
        created: datetime,
        used: set[str],
        subject: str | None = None,
        source: str | None = None,
        theme: _Theme | None = None,
        approved: bool = True,
    ) -> _TopicPlan:
        theme = theme or rng.choice(THEMES[forum_slug])
        for _ in range(8):  # a few tries for a subject not used yet
            species = self._species_for(rng, forum_slug, category=theme.category)
            context = self._context(rng, species)
            candidate = subject or rng.choice(theme.subjects).format(**context)[:200]
            if candidate not in used or subject:
                break
        used.add(candidate)
        topic = Topic(
            forum=self.forums_by_slug[forum_slug],
            poster=poster.user,
            subject=candidate,
            created_at=created,
            last_post_at=created,
            is_approved=approved,
        )
        plan = _TopicPlan(
            topic=topic,
            forum_slug=forum_slug,
            species=species,
            theme=theme,
            context=context,
            weight=min(rng.paretovariate(1.5), 8.0),  # a few busy threads, none with half the forum
        )
        text = source or self._opening_source(rng, plan)
        plan.posts.append(
            Post(
                topic=topic,
                poster=poster.user,
                source=text,
                is_opening_post=True,
                created_at=created,
                is_approved=approved,
            )
        )
        self.topics.append(plan)
        return plan

    def _add_reply(
        self, rng: random.Random, plan: _TopicPlan, *, poster: _Member, created: datetime, approved: bool = True
    ) -> Post:
        by_author = poster.user is plan.topic.poster
        seen = {post.source for post in plan.posts}
        for _ in range(5):  # the same reply twice in one topic reads like a bot
            source = self._reply_source(rng, plan, by_author=by_author)
            if source not in seen:
                break
        post = Post(
            topic=plan.topic,
            poster=poster.user,
            source=source,
            created_at=created,
            is_approved=approved,
        )
        if rng.random() < 0.06:
            post.updated_at = min(self.now, created + timedelta(minutes=rng.uniform(3, 600)))
        plan.posts.append(post)
        return post

    def plan_forum(self) -> None:
        rng = self.rng("forum")
        self.forums_by_slug = {
            slug: Forum(name=name, slug=slug, description=description, position=index)
            for index, (name, slug, description) in enumerate(FORUMS, start=1)
        }
        slugs = [slug for _, slug, _ in FORUMS]
        used: set[str] = set()
        topics_left = self.sizes.topics
        replies_left = self.sizes.posts - self.sizes.topics

        # Two pinned topics by the moderator, written when the forum opened.
        pinned = [
            (
                "show-and-tell",
                "Welcome to the Plant Community Portal: start here",
                "Welcome! A few house rules:\n\n- **Be kind.** Everyone killed a plant once.\n"
                "- Say where the plant lives (light, window direction, country) when you ask for help.\n"
                "- New members' first posts wait in the review queue for a moderator; that's normal.\n\n"
                "The [species catalog](/plants/species/) has general care guidance for the most common plants.",
            ),
            (
                "plant-identification",
                "How to ask for an identification (read before posting)",
                "Good photos make all the difference:\n\n1. One photo of the **whole plant**\n"
                "2. One close-up of a **leaf, top and underside**\n3. Flowers or fruit if there are any\n\n"
                "Start with an [identification request](/plants/identify/); if the machine is unsure, "
                "link the request here and ask the community.",
            ),
        ]
        for slug, subject, source in pinned[: min(2, topics_left)]:
            plan = self._new_topic(
                rng,
                forum_slug=slug,
                poster=self.moderator,
                created=self.ago(days=FORUM_HISTORY_DAYS - 0.5),
                used=used,
                subject=subject,
                source=source,
                theme=PINNED_THEME,
            )
            plan.topic.is_pinned = True
            plan.weight = 6.0
            topics_left -= 1

        # The primary gardener: topics and replies at fixed ages so the dashboard's "last 7
        # days" and "last 30 days" always have something.
        gardener_topic_days = [1.6, 5.2, 9.5, 16.0, 24.5, 41.0, 67.0, 98.0][: min(8, topics_left // 10)]
        for days in gardener_topic_days:
            slug = rng.choice(["houseplants", "pests-diseases", "propagation", "show-and-tell", "houseplants"])
            plan = self._new_topic(
                rng, forum_slug=slug, poster=self.gardener, created=self.ago(days=days + rng.uniform(0, 0.4)), used=used
            )
            plan.weight = 4.0
            topics_left -= 1

        # The newbie's first topic waits in the review queue.
        if topics_left > 0:
            self._new_topic(
                rng, forum_slug="houseplants", poster=self.newbie, created=self.ago(days=0.7), used=used, approved=False
            )
            topics_left -= 1

        start = self.ago(days=FORUM_HISTORY_DAYS)
        for _ in range(topics_left):
            poster = self._pick(rng)
            slug = rng.choices(slugs, weights=FORUM_WEIGHTS, k=1)[0]
            # Recent days a little busier than old ones (power < 1 pulls towards now).
            created = self.now - (self.now - max(start, poster.joined)) * rng.random() ** 0.8
            self._new_topic(rng, forum_slug=slug, poster=poster, created=created, used=used)

        approved_topics = [plan for plan in self.topics if plan.topic.is_approved]
        if not approved_topics:
            replies_left = 0

        def topic_before(moment: datetime, poster: _Member) -> _TopicPlan | None:
            candidates = [
                p
                for p in approved_topics
                if p.topic.created_at < moment - timedelta(hours=1) and p.topic.poster is not poster.user
            ]
            if not candidates:
                return None
            return rng.choices(candidates, weights=[p.weight for p in candidates], k=1)[0]

        gardener_reply_days = [0.3, 2.1, 3.6, 6.2, 8.0, 12.5, 19.0, 27.0, 35.0, 52.0, 80.0, 110.0]
        for days in gardener_reply_days[: min(12, replies_left // 20)]:
            created = self.ago(days=days + rng.uniform(0, 0.2))
            plan = topic_before(created, self.gardener)
            if plan is not None:
                self._add_reply(rng, plan, poster=self.gardener, created=created)
                replies_left -= 1

        for days in [0.5, 1.2, 2.3][: min(3, replies_left)]:
            created = self.ago(days=days)
            plan = topic_before(created, self.newbie)
            if plan is not None:
                self._add_reply(rng, plan, poster=self.newbie, created=created, approved=False)
                replies_left -= 1

        topic_cum_weights = list(itertools.accumulate(p.weight for p in approved_topics))
        for _ in range(max(replies_left, 0)):
            plan = rng.choices(approved_topics, cum_weights=topic_cum_weights, k=1)[0]
            # The topic's author comes back now and then; otherwise the weighted crowd answers.
            author = self.member_of[id(plan.topic.poster)]
            if len(plan.posts) > 1 and author.weight > 0 and rng.random() < 0.12:
                # The author comes back to thank people, after the latest answer so far.
                poster = author
                created = self._time_after(rng, start=max(post.created_at for post in plan.posts), skew=2.0)
            else:
                poster = self._pick(rng, accept=lambda m, author=author: m is not author)
                created = self._reply_time(rng, after=max(plan.topic.created_at, poster.joined))
            self._add_reply(rng, plan, poster=poster, created=created)

        # Posts in each topic in time order; later replies cannot predate the opening post.
        for plan in self.topics:
            plan.posts.sort(key=lambda post: (not post.is_opening_post, post.created_at))
            for post in plan.posts:
                post.html = render_markdown(post.source)
                if post.is_approved:
                    self.member_of[id(post.poster)].approved_posts += 1

        # A couple of old topics are locked (the discussion ran its course).
        old = [p for p in self.topics if not p.topic.is_pinned and p.topic.created_at < self.ago(days=90)]
        for plan in rng.sample(old, min(2, len(old))):
            plan.topic.is_locked = True

    def save_forum(self) -> None:
        Forum.objects.bulk_create(list(self.forums_by_slug.values()))
        Topic.objects.bulk_create([plan.topic for plan in self.topics], batch_size=BATCH_SIZE)
        posts = [post for plan in self.topics for post in plan.posts]
        Post.objects.bulk_create(posts, batch_size=BATCH_SIZE)

    # Moderation -----------------------------------------------------------------------------

    def save_moderation(self) -> None:
        rng = self.rng("moderation")
        actor = self.moderator.user
        actions: list[tuple[ModerationAction, datetime]] = []
        for plan in self.topics:
            if plan.topic.is_pinned:
                actions.append(
                    (
                        ModerationAction(
                            actor=actor,
                            action="topic.pin",
                            target_type="topic",
                            target_id=str(plan.topic.pk),
                            reason="House rules and how-to",
                            metadata={"subject": plan.topic.subject},
                        ),
                        plan.topic.created_at + timedelta(minutes=5),
                    )
                )
        # Posts of members still at level "new" were approved from the review queue.
        approved_new = [
            post
            for plan in self.topics
            for post in plan.posts
            if post.is_approved and post.poster.trust_level == TrustLevel.NEW and post.poster is not actor
        ]
        for post in rng.sample(approved_new, min(4, len(approved_new))):
            actions.append(
                (
                    ModerationAction(
                        actor=actor,
                        action="post.approve",
                        target_type="post",
                        target_id=str(post.pk),
                        metadata={"topic_id": post.topic_id, "poster": post.poster.username},
                    ),
                    min(self.now, post.created_at + timedelta(hours=rng.uniform(0.5, 8))),
                )
            )
        ModerationAction.objects.bulk_create([action for action, _ in actions])
        # created_at is auto_now_add, so insert stamps "now"; put the real times back in one UPDATE.
        for action, when in actions:
            action.created_at = when
        if actions:
            ModerationAction.objects.bulk_update([action for action, _ in actions], ["created_at"])

        # A few open reports for the moderators' queue, on replies of members past level "new"
        # (a trusted member's report would hide a new member's post: SPEC "Domain").
        candidates = [
            post
            for plan in self.topics
            for post in plan.posts
            if not post.is_opening_post and post.is_approved and post.poster.trust_level != TrustLevel.NEW
        ]
        reports = []
        reasons = [
            (Report.Reason.OFF_TOPIC, "Not really about plants."),
            (Report.Reason.SPAM, "Link to a shop."),
            (Report.Reason.OTHER, "Advice here could hurt a cat: the plant is toxic."),
        ]
        for post, (reason, detail) in zip(rng.sample(candidates, min(3, len(candidates))), reasons):
            reporter = self._pick(rng, accept=lambda m, p=post: m.user is not p.poster)
            if reporter.user is post.poster:
                continue
            reports.append(
                Report(
                    post=post,
                    reporter=reporter.user,
                    reason=reason,
                    detail=detail,
                    created_at=self._time_after(rng, start=post.created_at, skew=2),
                )
            )
        Report.objects.bulk_create(reports)
