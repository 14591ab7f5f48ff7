"""The per-gardener dashboard panel version (issue 13): the key of every cached panel fragment
holds it, and every service that changes what a gardener's panel shows bumps it in the same
transaction, so a cached fragment is never read after the data it shows changed.

Lives in ``accounts`` (the user row) so that ``plants``, ``forum`` and ``accounts`` services
can all call it; ``apps.dashboard.panel_cache`` reads it from the signed-in user's row."""

from collections.abc import Iterable

from django.db import transaction
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


class PanelVersionAdminMixin:
    """For a ``ModelAdmin`` whose rows some dashboard panel shows (a care card's nickname, a
    request's status, a species' or a forum's name): an admin edit goes around the services,
    so it bumps the panel version of every gardener whose panels show the row (issue 13:
    nothing cached may go stale), in the admin's transaction. Subclasses give
    ``panel_user_ids(obj)``: user ids, or a ``values("…_id")`` queryset; and, when the row has
    an owner the admin can change, ``panel_owner_field`` (e.g. ``"owner_id"``): the previous
    owner's panels are bumped too. Deleting evaluates the ids first."""

    panel_owner_field: str | None = None

    def panel_user_ids(self, obj) -> Iterable[int | None] | QuerySet:
        raise NotImplementedError

    def _bump(self, obj) -> None:
        panel_versions_bump(user_ids=self.panel_user_ids(obj))

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            if change and self.panel_owner_field and obj.pk is not None:
                rows = type(obj)._default_manager.filter(pk=obj.pk)
                panel_versions_bump(user_ids=list(rows.values_list(self.panel_owner_field, flat=True)))
            super().save_model(request, obj, form, change)
            self._bump(obj)

    def save_related(self, request, form, formsets, change):
        # Inline rows (a request's suggestions) are saved after the object.
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            self._bump(form.instance)

    def delete_model(self, request, obj):
        with transaction.atomic():
            user_ids = list(self.panel_user_ids(obj))
            super().delete_model(request, obj)
            panel_versions_bump(user_ids=user_ids)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            user_ids = [user_id for obj in queryset for user_id in self.panel_user_ids(obj)]
            super().delete_queryset(request, queryset)
            panel_versions_bump(user_ids=user_ids)
