"""Demo data for ``manage.py seed_demo``: gardeners, a moderator, forums, identification
requests with generated photos, care cards and a little moderation history.

Everything is drawn from one seed (``random.Random``), so the same seed gives the same rows,
names, texts and images; only timestamps move, because they are relative to the moment of the
run. Rows are written with ``bulk_create``, which bypasses the services, so the denormalized
counters are recomputed at the end with the recount services (``user_counters_recount``,
``forum_counters_recount``). Trust levels follow the SPEC rules ("Domain": basic 5 approved
posts and 7 days, trusted 25 and 30, veteran 100 and 90) from the generated posts, except for
the three named demo accounts, whose levels are fixed so each role can be tried (README "Two commands").

Sizes come from one place, :class:`SeedSizes`; a larger preset only needs another instance.

Where things live:

- ``accounts``: sizes, the named demo accounts and their passwords, the result dataclass.
- ``state``: what is in the database now (exists, conflicts, counts) and the flush.
- ``builder``: :func:`demo_data_seed` and the steps it runs, in order (:data:`SEED_STEPS`).
  The steps are methods of one builder assembled from ``base`` (shared state, time and member
  helpers), ``users``, ``forum`` (topics, posts, moderation) and ``plants`` (images,
  identification requests, care cards).
- ``texts``: the text corpora and topic themes; ``images``: the Pillow drawing of plant photos.
"""

from .accounts import (
    GARDENER,
    MODERATOR,
    NEWBIE,
    OTHER_PASSWORD,
    DemoAccount,
    SeedResult,
    SeedSizes,
)
from .builder import SEED_STEPS, demo_data_seed
from .images import PLANT_KINDS, draw_plant_image
from .state import demo_data_conflicts, demo_data_counts, demo_data_exists, demo_data_flush

__all__ = [
    "GARDENER",
    "MODERATOR",
    "NEWBIE",
    "OTHER_PASSWORD",
    "PLANT_KINDS",
    "SEED_STEPS",
    "DemoAccount",
    "SeedResult",
    "SeedSizes",
    "demo_data_conflicts",
    "demo_data_counts",
    "demo_data_exists",
    "demo_data_flush",
    "demo_data_seed",
    "draw_plant_image",
]
