"""Drawing authors and times: the power law that makes a few gardeners busy and most quiet
(``_Ranked``), and the small row types the steps plan with before ``COPY``."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime


def _power_exponent(population: int, top_share: float) -> float:
    """``p`` such that rank 0 of ``floor(population * u ** p)`` is drawn with probability
    ``top_share`` (``P(u ** p < 1 / population) = population ** (-1 / p)``); at least 1."""
    if population <= 1:
        return 1.0
    return max(1.0, math.log(population) / -math.log(top_share))


class _Ranked:
    """Draw an author: the gardener (rank 0) with probability ``top_share``, else a rank of
    the power law over ranks 1 to ``population - 1`` whose first rank gets a quarter of the
    gardener's share, so the gardener is the most active by a wide margin at any size."""

    def __init__(self, ranks: list[int], population: int, top_share: float) -> None:
        self.ranks = ranks
        self.population = max(2, min(population, len(ranks)))
        self.top_share = top_share
        self.power = _power_exponent(self.population - 1, top_share / 4)

    def draw(self, rng: random.Random) -> int:
        if rng.random() < self.top_share:
            return self.ranks[0]
        return self.ranks[1 + int((self.population - 1) * rng.random() ** self.power)]


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@dataclass(slots=True)
class _User:
    id: int
    joined: float
    posts_before_review: int = 0  # posts older than the review window (approved)
