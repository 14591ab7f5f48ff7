"""The per-gardener dashboard panel version (issue 13): the key of every cached panel fragment
holds it, and every service that changes what a gardener's panel shows bumps it in the same
transaction, so a cached fragment is never read after the data it shows changed.

Lives in ``accounts`` (the user row) so that ``plants``, ``forum`` and ``accounts`` services
can all call it; ``apps.dashboard.panel_cache`` reads it from the signed-in user's row."""

from collections.abc import Iterable

from django.db.models import F, QuerySet

from .models import User


def panel_versions_bump(*, user_ids: Iterable[int | None] | QuerySet) -> int:
    """Add 1 to ``panel_version`` of every user in ``user_ids`` in one ``UPDATE`` statement
    (``None`` entries, e.g. a request's missing owner, are ignored; nothing is sent when none
    is left). ``user_ids`` may also be a ``values("…_id")`` / ``values_list`` queryset, which
    becomes a subquery of the same statement. Call it inside the service's transaction: the
    bump commits or rolls back with the change it announces. Returns the number of rows
    updated."""
    if not isinstance(user_ids, QuerySet):
        user_ids = sorted({user_id for user_id in user_ids if user_id is not None})
        if not user_ids:
            return 0
    return User.objects.filter(pk__in=user_ids).update(panel_version=F("panel_version") + 1)
