"""The seeding run: :func:`demo_data_seed` and the steps it announces (:data:`SEED_STEPS`),
each a method of :class:`_DemoBuilder`, which puts the step mixins together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.demo.recount import user_counters_recount
from apps.forum.services import forum_counters_recount

from .accounts import GARDENER, MODERATOR, NEWBIE, SeedResult, SeedSizes
from .forum import _ForumSteps
from .plants import _PlantSteps
from .users import _UserSteps

# The steps ``demo_data_seed`` announces through ``on_step``, in order (a progress bar's total).
SEED_STEPS: tuple[str, ...] = (
    "Hashing demo passwords",
    "Planning gardeners",
    "Writing forum topics and posts",
    "Saving gardeners and the moderators group",
    "Saving forums, topics and posts",
    "Drawing plant images",
    "Saving identification requests, photos, suggestions and votes",
    "Saving care cards",
    "Saving moderation log and reports",
    "Recounting counters",
)


class _DemoBuilder(_UserSteps, _ForumSteps, _PlantSteps):
    """One seeding run: the state in ``base.py``, the steps in ``users.py``, ``forum.py`` and
    ``plants.py``, run in the order of :data:`SEED_STEPS` by :func:`demo_data_seed`."""

    def recount(self) -> None:
        user_counters_recount()
        forum_counters_recount()


def demo_data_seed(
    *,
    sizes: SeedSizes,
    seed: int,
    now: datetime | None = None,
    on_step: Callable[[str], None] | None = None,
) -> SeedResult:
    """Write the demo data in one transaction and return what was written.

    ``sizes`` says how many rows of each kind (validated; ``ValueError`` when impossible),
    ``seed`` (int) drives every random choice, images included. ``now`` (aware datetime,
    default ``timezone.now()``) is the reference point: forum history covers the last 120 days,
    the gardener's identification requests the last 12 weeks. ``on_step(label)`` is called
    before each of :data:`SEED_STEPS`. Does not check whether demo data already exists (see
    :func:`demo_data_exists`); unique constraints raise ``IntegrityError`` if it does.
    """
    sizes.validate()
    builder = _DemoBuilder(sizes=sizes, seed=seed, now=now or timezone.now())
    steps: Sequence[Callable[[], None]] = (
        builder.hash_passwords,
        builder.plan_users,
        builder.plan_forum,
        builder.save_users,
        builder.save_forum,
        builder.draw_images,
        builder.save_identifications,
        builder.save_care_cards,
        builder.save_moderation,
        builder.recount,
    )
    with transaction.atomic():
        for label, step in zip(SEED_STEPS, steps, strict=True):
            if on_step is not None:
                on_step(label)
            step()
    return SeedResult(
        accounts=[GARDENER, MODERATOR, NEWBIE],
        other_usernames=[member.user.username for member in builder.others],
        stored_images=[name for thumb, photo, _, _ in builder.images for name in (thumb, photo)],
    )
