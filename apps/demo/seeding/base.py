"""The state the seeding steps share: sizes, seed, the reference time, the species catalog and
the plan built so far, plus the helpers every step uses (one RNG per part, times relative to
now, picking an active member). The steps themselves are mixins in ``users.py``,
``forum.py`` and ``plants.py``; ``builder.py`` puts them together. The plan types live here,
below the steps, so no step module and this one import each other."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apps.forum.models import Forum, Post, Topic
from apps.plants.models import PlantSpecies

from .accounts import SeedSizes, _Member
from .texts import _Theme

BATCH_SIZE = 500
FORUM_HISTORY_DAYS = 120


@dataclass(eq=False)
class _TopicPlan:
    """A planned (unsaved) topic with its posts, made by ``forum.py`` and kept on the builder."""

    topic: Topic
    forum_slug: str
    species: PlantSpecies
    theme: _Theme
    context: dict[str, Any]
    weight: float
    posts: list[Post] = field(default_factory=list)


class _BuilderBase:
    """Holds the plan between steps. Each part of the data gets its own ``random.Random``
    derived from the seed and the part's name, so changing one size does not reshuffle the
    other parts."""

    # Set by ``plan_users`` (users.py); read by every later step.
    gardener: _Member
    moderator: _Member
    newbie: _Member
    active: list[_Member]
    active_cum_weights: list[float]
    member_of: dict[int, _Member]  # id(unsaved User) -> its member
    # Set by ``plan_forum`` (forum.py).
    forums_by_slug: dict[str, Forum]

    def __init__(self, *, sizes: SeedSizes, seed: int, now: datetime) -> None:
        self.sizes = sizes
        self.seed = seed
        self.now = now
        # Sorted in Python: database collations order names differently, and the RNG's choices
        # must see the same list on SQLite and PostgreSQL.
        self.species = sorted(PlantSpecies.objects.all(), key=lambda species: species.scientific_name)
        if not self.species:
            raise ValueError("The species catalog is empty; run migrations (or load_species_catalog) first.")
        self.houseplants = [s for s in self.species if s.category == PlantSpecies.Category.HOUSEPLANT] or self.species
        self.garden_plants = [s for s in self.species if s.category == PlantSpecies.Category.GARDEN] or self.species
        self.hashes: dict[str, str] = {}
        self.members: list[_Member] = []
        self.others: list[_Member] = []
        self.topics: list[_TopicPlan] = []
        self.images: list[tuple[str, str, int, int]] = []  # (thumbnail name, photo name, width, height)

    def rng(self, part: str) -> random.Random:
        return random.Random(f"{self.seed}:{part}")

    def ago(self, *, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def _pick(self, rng: random.Random, *, accept: Callable[[_Member], bool] | None = None) -> _Member:
        """A member of the active crowd, by activity weight; with ``accept``, the first of a
        few draws it accepts (the moderator when none is), so picking stays O(log n)."""
        for _ in range(25):
            member = rng.choices(self.active, cum_weights=self.active_cum_weights, k=1)[0]
            if accept is None or accept(member):
                return member
        return self.moderator

    def _reply_time(self, rng: random.Random, *, after: datetime) -> datetime:
        """When an answer arrives: a log-normal delay after ``after`` (median 10 hours, a long
        tail of days and weeks), never in the future."""
        delay = timedelta(hours=math.exp(rng.gauss(math.log(10), 1.6)))
        if after + delay >= self.now:
            return self._time_after(rng, start=after)
        return after + delay

    def _time_after(self, rng: random.Random, *, start: datetime, skew: float = 1.0) -> datetime:
        """A time between ``start`` and now, nearer ``start`` when ``skew`` > 1."""
        span = max((self.now - start).total_seconds(), 60.0)
        return start + timedelta(seconds=span * rng.random() ** skew)
