"""Steps "Hashing the 4 demo passwords" and "Drawing the image pool and writing the text pool":
what a million rows share, made once (argon2 costs ~0.1 s a hash; a Pillow image and a
Markdown render are not cheap either)."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password

from apps.accounts.models import User
from apps.forum.markdown import render_markdown
from apps.forum.models import Forum

from ..accounts import GARDENER, MODERATOR, NEWBIE, OTHER_PASSWORD, SeedSizes, _Member
from ..builder import _DemoBuilder
from ..images import image_pool_store
from ..texts import CARE_NOTES, FORUMS, PESTS, PINNED_THEME, REQUEST_NOTES, SPOTS_SHORT
from .base import _ScaledBase


class _PoolSteps(_ScaledBase):
    """The demo passwords' hashes, the 8 shared images and the rendered text pool."""

    def hash_passwords(self) -> None:
        for password in (GARDENER.password, MODERATOR.password, NEWBIE.password, OTHER_PASSWORD):
            self.hashes[password] = make_password(password)

    def prepare_pools(self) -> None:
        """The 8 shared images, and texts rendered once: ``text_templates`` topics (subject,
        opening post, 6 replies), request notes and care-card notes."""
        self.images = image_pool_store(rng=self.rng("images")) if self.scale.requests else []
        # The demo builder's text helpers need a builder; borrow one (nothing is saved).
        demo = _DemoBuilder(sizes=SeedSizes(), seed=self.seed, now=self.now_dt)
        demo.forums_by_slug = {slug: Forum(name=name, slug=slug) for name, slug, _ in FORUMS}
        rng = self.rng("texts")
        nobody = _Member(user=User(username="someone"), weight=1.0, joined=self.now_dt)
        slugs = [slug for _, slug, _ in FORUMS]
        rendered: dict[str, str] = {}

        def html(source: str) -> str:
            if source not in rendered:
                rendered[source] = render_markdown(source)
            return rendered[source]

        self.templates: list[
            tuple[str, str, str, list[tuple[str, str]]]
        ] = []  # (forum slug, subject, opening, replies)
        self.templates_by_forum: dict[str, list[int]] = {slug: [] for slug in slugs}
        for index in range(self.scale.text_templates):
            slug = slugs[index % len(slugs)]
            plan = demo._new_topic(rng, forum_slug=slug, poster=nobody, created=self.now_dt, used=set())
            opening = plan.posts[0].source
            replies = []
            for position in range(6):
                source = demo._reply_source(rng, plan, by_author=position == 5)
                replies.append((source, html(source)))
            self.templates.append((slug, plan.topic.subject, opening, [(opening, html(opening)), *replies]))
            self.templates_by_forum[slug].append(index)
        demo.topics.clear()
        welcome = demo._new_topic(
            rng,
            forum_slug="show-and-tell",
            poster=nobody,
            created=self.now_dt,
            used=set(),
            theme=PINNED_THEME,
            subject="Welcome to the Plant Community Portal: start here",
            source="Welcome! Be kind, say where your plant lives, and read the "
            "[species catalog](/plants/species/) for general care guidance.",
        )
        self.pinned_template = (welcome.topic.subject, welcome.posts[0].source, html(welcome.posts[0].source))
        self.request_notes = []
        for _ in range(400):
            context = demo._context(rng, rng.choice(self.species))
            self.request_notes.append(rng.choice(REQUEST_NOTES).format(**context))
        self.care_notes = {
            status: [
                text.format(spot_short=spot, interval=7, days=days, pest=pest)
                for text in texts
                for spot in SPOTS_SHORT[:3]
                for days, pest in ((5, PESTS[0]), (12, PESTS[2]))
            ]
            for status, texts in CARE_NOTES.items()
        }
