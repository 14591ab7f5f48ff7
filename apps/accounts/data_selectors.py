"""Reads of the "Your data" page (issue 11): the gardener's recent data exports."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import DataExport, User


@dataclass(frozen=True)
class DataExportsView:
    """What the page shows: ``exports`` (the recent ones, newest first: evaluated ``DataExport``
    rows with ``id``, ``public_id``, ``status``, ``requested_at``, ``finished_at``,
    ``expires_at``, ``size_bytes``) and ``next_allowed_at`` (``None`` when an export may be asked
    for now)."""

    exports: list[DataExport]
    next_allowed_at: datetime | None


def data_exports_for_user(*, user: User, now: datetime | None = None) -> DataExportsView:
    """``user``'s exports asked for within the last ``DATA_EXPORT_INTERVAL_SECONDS`` plus
    ``DATA_EXPORT_LIFETIME_SECONDS`` (the ones that can still be pending, downloadable or
    blocking a new one), and when the next may be asked for (the service's rule: one per
    interval, failed ones not counted). One query."""
    now = now or timezone.now()
    interval = timedelta(seconds=settings.DATA_EXPORT_INTERVAL_SECONDS)
    window = interval + timedelta(seconds=settings.DATA_EXPORT_LIFETIME_SECONDS)
    exports = list(
        DataExport.objects.filter(user=user, requested_at__gt=now - window)
        .only("id", "public_id", "status", "requested_at", "finished_at", "expires_at", "size_bytes")
        .order_by("-requested_at", "-id")
    )
    blocking = [
        export.requested_at + interval
        for export in exports
        if export.status != DataExport.Status.FAILED and export.requested_at > now - interval
    ]
    return DataExportsView(exports=exports, next_allowed_at=max(blocking) if blocking else None)


def data_export_for_download(*, user: User, public_id: str) -> DataExport | None:
    """The export behind the link ``public_id`` when ``user`` owns it, else ``None`` (the view
    answers 404 then: someone else's link and a made-up one look the same). One query."""
    return (
        DataExport.objects.filter(user=user, public_id=public_id)
        .only("id", "status", "expires_at", "file_name", "requested_at")
        .first()
    )
