"""The scaled run: :func:`scaled_data_seed` and the steps it runs, in order, each a method of
:class:`_ScaledBuilder`, which puts the step mixins together."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

from django.db import models, transaction
from django.utils import timezone

from apps.accounts.models import User

from ..accounts import GARDENER, MODERATOR, NEWBIE
from .counters import _CounterSteps
from .forum import _ForumSteps
from .load import _LoadSteps
from .plants import _PlantSteps
from .pools import _PoolSteps
from .sizes import ScaledSeedResult, ScaleSizes
from .state import ensure_postgresql
from .users import _UserSteps


class _ScaledBuilder(_PoolSteps, _UserSteps, _ForumSteps, _PlantSteps, _LoadSteps, _CounterSteps):
    """One scaled seeding run: the state in ``base.py``, the steps in ``pools.py``,
    ``users.py``, ``forum.py``, ``plants.py``, ``load.py`` and ``counters.py``, run in order by
    :func:`scaled_data_seed`."""


def scaled_data_seed(
    *,
    scale: ScaleSizes,
    seed: int,
    now: datetime | None = None,
    on_step: Callable[[str], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
    vacuum: bool = True,
) -> ScaledSeedResult:
    """Write ``scale``'s data into an empty PostgreSQL database (no demo data; see
    :func:`scaled_data_flush`) in one transaction, then ``VACUUM (ANALYZE)`` the tables
    (``vacuum=False`` skips that, e.g. inside a test's transaction).

    ``on_step(label)`` is called before each step, ``on_rows(n)`` after every batch of rows
    written (a progress bar). Raises :class:`ScaleUnavailable` on another database, and
    ``RuntimeError`` when a foreign key check or the counter check finds a wrong row (the
    transaction is rolled back).
    """
    ensure_postgresql()
    builder = _ScaledBuilder(scale=scale, seed=seed, now=now or timezone.now(), on_rows=on_rows or (lambda n: None))
    result = builder.result
    steps: Sequence[tuple[str, Callable[[], None]]] = (
        ("Hashing the 4 demo passwords", builder.hash_passwords),
        ("Drawing the image pool and writing the text pool", builder.prepare_pools),
        (f"Writing {scale.users:,} gardeners", builder.write_users),
        (f"Writing forums, {scale.topics:,} topics and {scale.posts:,} posts", builder.write_forum),
        (f"Writing {scale.requests:,} identification requests, photos, suggestions and votes", builder.write_requests),
        (f"Writing {scale.care_cards:,} care cards", builder.write_care_cards),
        ("Writing moderation log and reports", builder.write_moderation),
        ("Building the secondary indexes dropped for the load", builder.build_indexes),
        ("Checking every foreign key (one anti-join each)", builder.check_foreign_keys),
        ("Recounting counters and trust levels (set-based)", builder.recount),
        ("Checking counters against user_counters_recount", builder.check_counters),
    )
    with transaction.atomic():
        builder.begin()
        for label, step in steps:
            if on_step is not None:
                on_step(label)
            started = time.perf_counter()
            step()
            result.seconds[label] = time.perf_counter() - started
        builder.finish()
    if vacuum:
        if on_step is not None:
            on_step("VACUUM (ANALYZE) of the seeded tables")
        started = time.perf_counter()
        builder.vacuum_analyze()
        result.seconds["VACUUM (ANALYZE)"] = time.perf_counter() - started
    result.quiet = quiet_gardener_username()
    return result


def quiet_gardener_username() -> str | None:
    """A quiet gardener, picked the same way every time: of the generated accounts with at
    least one identification request, post, topic and care card, the one with the fewest
    requests and posts (then the lowest id)."""
    return (
        User.objects.exclude(username__in=[GARDENER.username, MODERATOR.username, NEWBIE.username])
        .filter(
            is_superuser=False,
            identification_request_count__gte=1,
            post_count__gte=1,
            topic_count__gte=1,
            care_card_count__gte=1,
        )
        .order_by(models.F("identification_request_count") + models.F("post_count"), "id")
        .values_list("username", flat=True)
        .first()
    )
