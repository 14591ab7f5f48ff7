"""Who and how much: the seed sizes, the named demo accounts with their printed passwords,
what a seed returns, and the planned (unsaved) member the builder works with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apps.accounts.models import User


@dataclass(frozen=True)
class SeedSizes:
    """How much demo data to write. ``users`` counts the gardeners besides the three named demo
    accounts; ``posts`` includes each topic's opening post, so it must be at least ``topics``."""

    users: int = 30
    topics: int = 120
    posts: int = 600
    requests: int = 150
    care_cards: int = 80

    def validate(self) -> None:
        """Raise ``ValueError`` with a readable message when the sizes cannot be honoured."""
        for name in ("users", "topics", "posts", "requests", "care_cards"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name.replace('_', '-')} must be 0 or more.")
        if self.posts < self.topics:
            raise ValueError(
                f"--posts ({self.posts}) counts each topic's opening post, so it must be at least --topics "
                f"({self.topics})."
            )


@dataclass(frozen=True)
class DemoAccount:
    """A sign-in the summary prints: ``username`` / ``password`` and what the account is for."""

    username: str
    password: str
    role: str


GARDENER = DemoAccount("gardener", "demo-gardener-pass-2026", "gardener, trust level basic, lots of data")
MODERATOR = DemoAccount("moderator", "demo-moderator-pass-2026", "moderator (staff, group 'moderators'), veteran")
NEWBIE = DemoAccount("newbie", "demo-newbie-pass-2026", "new gardener, trust level new, posts wait in the review queue")
OTHER_PASSWORD = "demo-password-2026"


@dataclass
class SeedResult:
    """What :func:`demo_data_seed` wrote besides rows (count those with
    :func:`demo_data_counts`): the named ``accounts``, the generated gardeners'
    ``other_usernames`` (all with ``other_password``) and the ``stored_images`` names."""

    accounts: list[DemoAccount]
    other_usernames: list[str]
    stored_images: list[str]
    other_password: str = OTHER_PASSWORD


@dataclass(eq=False)
class _Member:
    """A planned user: the unsaved row plus the numbers the plan needs about it."""

    user: User
    weight: float
    joined: datetime
    approved_posts: int = 0
    fixed_level: str | None = None
