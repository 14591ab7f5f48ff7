"""How much a scaled seed writes and what it returns: the two presets (``SCALES``), the shares
that shape who writes what (``POPULATION``, ``TOP_SHARE``), the time spans, and the result."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..accounts import GARDENER, MODERATOR, NEWBIE, OTHER_PASSWORD

DAY = 86_400.0
MEMBERSHIP_DAYS = 3 * 365
HISTORY_DAYS = 2 * 365
REVIEW_WINDOW_DAYS = 2  # a level-"new" gardener's posts this recent still wait for a moderator
PROGRESS_EVERY = 10_000


@dataclass(frozen=True)
class ScaleSizes:
    """Rows of each kind for one ``--scale``. ``posts`` includes each topic's opening post.
    ``text_templates`` is how many topic texts (an opening post and its replies) are written
    and rendered once, then reused."""

    name: str
    users: int
    topics: int
    posts: int
    requests: int
    care_cards: int
    text_templates: int
    top_share: float = 0.01  # of replies and requests written by the gardener (topics: half)

    @property
    def planned_rows(self) -> int:
        """Rough total of rows written (photos ~ requests, suggestions ~ 1.8 per request,
        votes ~ 0.6 per request): the progress bar's total."""
        return self.users + self.topics + self.posts + int(self.requests * 4.4) + self.care_cards


SCALES: dict[str, ScaleSizes] = {
    "small": ScaleSizes(
        "small", users=2_000, topics=2_000, posts=20_000, requests=20_000, care_cards=1_000, text_templates=120
    ),
    "large": ScaleSizes(
        "large",
        users=100_000,
        topics=100_000,
        posts=1_000_000,
        requests=1_000_000,
        care_cards=50_000,
        text_templates=500,
    ),
}

# Share of all gardeners who ever write each kind of row, and the share of those rows the most
# active gardener (rank 0, the demo ``gardener``) writes, relative to ``ScaleSizes.top_share``.
POPULATION = {"replies": 0.35, "topics": 0.25, "requests": 0.60, "care_cards": 0.30, "votes": 0.50}
TOP_SHARE = {"replies": 1.0, "topics": 0.5, "requests": 1.0, "care_cards": 1.0, "votes": 0.1}  # x scale.top_share


class ScaleUnavailable(Exception):
    """The database cannot take a scaled seed (not PostgreSQL); ``str`` says why and what to do."""


@dataclass
class ScaledSeedResult:
    """What :func:`scaled_data_seed` did: ``rows`` written per table, ``seconds`` per step,
    the most active gardener and a quiet one (usernames), and how the counters were checked."""

    scale: ScaleSizes
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    most_active: str = GARDENER.username
    quiet: str | None = None
    foreign_keys_checked: int = 0
    counters_checked_users: int = 0
    fk_triggers_disabled: bool = False
    indexes_rebuilt: int = 0
    other_password: str = OTHER_PASSWORD
    accounts: tuple = (GARDENER, MODERATOR, NEWBIE)
