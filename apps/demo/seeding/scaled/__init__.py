"""Benchmark-sized demo data: ``manage.py seed_demo --scale small|large`` (PostgreSQL only).

``large`` is the size a popular community reaches (issue "Performance at scale"): 100,000
gardeners, 100,000 topics with 1,000,000 posts, 1,000,000 identification requests (each with a
photo; identified and needs-help ones with 1-3 machine suggestions, some with a community one
and votes) and 50,000 care cards. ``small`` is the same shape at 1/50 for ``make bench``.

Shape (all drawn from ``random.Random(f"{seed}:{part}")``, so a seed gives the same rows; times
are relative to the run):

- Skew: the demo ``gardener`` writes a fixed share of the replies and identification
  requests (``ScaleSizes.top_share``, 1 %: about 10,000 of each at the large scale), so the
  most active gardener is always the same account. Everyone else is drawn by rank from a
  power law, ``rank = 1 + floor((A - 1) * u ** p)`` with ``u`` uniform, over the ``A``
  gardeners who ever do that kind of thing (most gardeners never post), with ``p`` chosen so
  that the busiest of them writes a quarter of the gardener's share: a few hundred busy
  gardeners, then a long tail of quiet ones.
- History: gardeners joined over the last 3 years; forum and identification history covers
  the last 2 years, a little busier recently; a row is never older than its author's account,
  a reply never older than its topic. Replies arrive log-normally after the topic (median 10
  hours); a few topics are busy (hundreds of posts), most have a handful.
- Rules: trust levels follow SPEC "Domain" from the approved posts and account age, computed
  in SQL after the load; a gardener still at level ``new`` has their posts of the last 2 days
  in the review queue; 0.3 % of replies are deleted.

Speed (issue 6 asks for under 15 minutes on two cores): one precomputed password hash for
every generated gardener (argon2 costs ~0.1 s a hash), the 8-image Pillow pool of the demo
seed shared by all requests, a few hundred texts rendered once and reused, ids assigned in
Python (in time order, as a live site would) so every table is written once with PostgreSQL
``COPY`` (psycopg's ``cursor.copy``, a sender thread overlapping generation and the server),
the secondary indexes of the big tables dropped for the load and built once afterwards,
foreign-key triggers off for the load when the role may do that and every foreign key checked
afterwards by one anti-join per key, and the maintained counters recomputed by two set-based
``UPDATE``s (every user, every forum; topics are written with theirs) instead of per-row
correlated subqueries (at the large scale ``user_counters_recount()`` takes ~40 s and
``forum_counters_recount()`` ~20 s on two busy cores, against ~12 s for both here); a sample is
then checked against ``apps.demo.recount.user_counters_recount``. ``VACUUM (ANALYZE)`` ends the
run so the planner sees the sizes and index-only scans work, as they would on a settled database.

Where things live (each step is a mixin on ``base._ScaledBase``; ``builder`` runs them in order):

- ``sizes``: the presets (:data:`SCALES`), who writes how much, the result dataclass.
- ``draw``: the power law (``_Ranked``) and the planned-row types.
- ``state``: PostgreSQL or not, which scale is present, the ``TRUNCATE`` flush.
- ``builder``: :func:`scaled_data_seed` and its steps, in order.
- ``base``: shared state, ``rng`` per part, the ``COPY`` writer.
- ``pools``: hashes, the image pool, texts rendered once.
- ``users``, ``forum``, ``plants``: the writing steps (gardeners; forums, topics, posts,
  moderation; identification requests, care cards).
- ``load``: the bulk-load envelope (indexes, foreign-key triggers and their check, sequences,
  ``VACUUM``).
- ``counters``: the set-based recount and its check against the app's definitions.
"""

from .builder import quiet_gardener_username, scaled_data_seed
from .sizes import SCALES, ScaledSeedResult, ScaleSizes, ScaleUnavailable
from .state import ensure_postgresql, scaled_data_flush, scaled_seed_present

__all__ = [
    "SCALES",
    "ScaleSizes",
    "ScaleUnavailable",
    "ScaledSeedResult",
    "ensure_postgresql",
    "quiet_gardener_username",
    "scaled_data_flush",
    "scaled_data_seed",
    "scaled_seed_present",
]
