"""Writes of notifications. Forum and plants call these (never each other): creating, hiding
or showing again when the target's visibility changes, and removing when the target goes.

Rules every caller gets for free (issue 12): no notification to yourself (``actor`` equal to
the recipient), none to an inactive (deactivated or deleted) account, none when the caller
says the target is not visible (held or hidden content is written invisible, or not at all).
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.db.models.signals import post_delete
from django.utils import timezone

from apps.accounts.models import User

from .delivery import notification_emails_enqueue
from .models import (
    NOTIFICATION_DELIVERY_DEFAULTS,
    Notification,
    NotificationDelivery,
    NotificationKind,
    NotificationPreference,
)


def notifications_send(
    *,
    recipient_ids: Iterable[int],
    actor_id: int | None,
    kind: NotificationKind | str,
    group_key: str,
    group_title: str,
    url: str,
    target_key: str,
    detail: str = "",
    visible: bool = True,
    created_at: datetime | None = None,
) -> list[Notification]:
    """Notify each gardener of ``recipient_ids`` (user primary keys; duplicates collapse) that
    ``actor_id`` (a user pk, or ``None`` for the machine) did ``kind`` to ``target_key``.

    ``group_key`` / ``group_title`` / ``url`` say where it is listed and leads ("forum.topic:12",
    the topic's subject, the post's permalink); ``detail`` is the short text the list shows
    (the name agreed with). Skipped: the actor themself and inactive accounts. ``visible``
    false stores it hidden (the domain shows it later with ``notifications_visibility_set``).
    Two statements at most (the active-recipient lookup with each one's email choice for
    ``kind``, one bulk INSERT); call inside the domain's transaction so it commits or rolls
    back with the event. Returns the rows made.

    Email (``delivery``): each row records its recipient's choice for ``kind``
    (``NotificationPreference``, else ``NOTIFICATION_DELIVERY_DEFAULTS``); the visible rows
    whose choice is "email at once" are queued for ``delivery.notification_emails_task`` after
    the commit (nothing is queued if the transaction rolls back).
    """
    wanted = {pk for pk in recipient_ids if pk is not None and pk != actor_id}
    if not wanted:
        return []
    chosen = NotificationPreference.objects.filter(user_id=OuterRef("pk"), kind=kind).values("delivery")[:1]
    active = (
        User.objects.filter(pk__in=wanted, is_active=True)
        .annotate(delivery=Subquery(chosen))
        .order_by("pk")
        .values_list("pk", "delivery")
    )
    default_delivery = NOTIFICATION_DELIVERY_DEFAULTS.get(kind, NotificationDelivery.SITE)
    created_at = created_at or timezone.now()
    rows = Notification.objects.bulk_create(
        Notification(
            recipient_id=recipient_id,
            actor_id=actor_id,
            kind=kind,
            group_key=group_key,
            group_title=group_title[:200],
            url=url,
            target_key=target_key,
            detail=detail[:200],
            is_visible=visible,
            created_at=created_at,
            email_delivery=delivery or default_delivery,
        )
        for recipient_id, delivery in active
    )
    if visible:
        notification_emails_enqueue(
            notification_ids=[row.pk for row in rows if row.email_delivery == NotificationDelivery.IMMEDIATE]
        )
    return rows


def notifications_visibility_set(
    *, target_keys: Iterable[str], visible: bool, recipient_ids: Iterable[int] | None = None
) -> int:
    """Hide (``visible=False``) or show again the notifications about ``target_keys`` (the
    domain's rule decided; SPEC "Visibility"), only those of ``recipient_ids`` (user pks) when
    given: a topic's author still sees their held topic, so their notifications in it stay
    shown while everyone else's are hidden. One UPDATE; returns rows changed.

    Showing rows that were never emailed and whose recipient chose "email at once" (a reply
    held for review, then approved) queues their email after the commit, as if they had just
    been made; that costs one SELECT before the UPDATE, and only when showing."""
    keys = list(set(target_keys))
    if not keys:
        return 0
    rows = Notification.objects.filter(target_key__in=keys)
    if recipient_ids is not None:
        rows = rows.filter(recipient_id__in=list(recipient_ids))
    to_email = []
    if visible:
        to_email = list(
            rows.filter(
                is_visible=False,
                email_delivery=NotificationDelivery.IMMEDIATE,
                emailed_at__isnull=True,
                read_at__isnull=True,
            ).values_list("pk", flat=True)
        )
    changed = rows.exclude(is_visible=visible).update(is_visible=visible)
    notification_emails_enqueue(notification_ids=to_email)
    return changed


def notifications_delete(
    *, group_key: str | None = None, target_keys: Iterable[str] = (), actor_id: int | None = None, kind: str = ""
) -> int:
    """Remove notifications for good: every one in ``group_key`` (its request was deleted),
    or those about ``target_keys`` (optionally only by ``actor_id`` and of ``kind``: a
    withdrawn agreement). One DELETE; returns rows deleted. Raises ``ValueError`` when
    neither a group nor a target is named (it would delete everything)."""
    keys = list(set(target_keys))
    if group_key is None and not keys:
        raise ValueError("notifications_delete needs a group_key or target_keys")
    query = Q()
    if group_key is not None:
        query &= Q(group_key=group_key)
    if keys:
        query &= Q(target_key__in=keys)
    if actor_id is not None:
        query &= Q(actor_id=actor_id)
    if kind:
        query &= Q(kind=kind)
    deleted, _ = Notification.objects.filter(query).delete()
    return deleted


def notifications_mark_group_read(*, user: User, group_key: str, now: datetime | None = None) -> int:
    """Mark ``user``'s unread notifications in ``group_key`` read (opening the group from the
    list). Only the user's own rows are touched. One ``UPDATE``; returns how many changed."""
    return Notification.objects.filter(recipient_id=user.pk, group_key=group_key, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )


def notifications_mark_all_read(*, user: User, now: datetime | None = None) -> int:
    """Mark every unread notification of ``user`` read ("Mark all read"), hidden ones too (a
    hidden one shown again later should not come back as news). One ``UPDATE``; returns how
    many rows changed."""
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=now or timezone.now())


def notifications_follow_rows(
    model, *, target_key: Callable[[Any], str] | None = None, group_key: Callable[[Any], str] | None = None
) -> None:
    """Delete the notifications about a ``model`` row whenever the row is deleted, however (a
    service, a cascade, a queryset ``delete()``, the admin): a ``post_delete`` receiver, as
    ``apps.core.uploads.files_follow_rows`` does for files, so no notification outlives what it
    points at (issue 12: none when the request is deleted). ``target_key(row)`` names the rows
    notifications are about ("forum.post:12"); ``group_key(row)`` a whole group
    ("plants.request:34"). One DELETE per deleted row, inside its transaction. Called from the
    owning app's ``AppConfig.ready``; raises ``ValueError`` without a key function."""
    if target_key is None and group_key is None:
        raise ValueError("notifications_follow_rows needs target_key or group_key")

    def remove_notifications(sender, instance, **kwargs) -> None:
        if group_key is not None:
            notifications_delete(group_key=group_key(instance))
        if target_key is not None:
            notifications_delete(target_keys=[target_key(instance)])

    post_delete.connect(
        remove_notifications, sender=model, weak=False, dispatch_uid=f"notifications:{model._meta.label}"
    )


def notifications_retitle(*, group_key: str, title: str) -> int:
    """Give every notification in ``group_key`` the title ``title`` (a request identified as
    "Meadow sage", a topic's subject edited), so the list never shows a stale name. One UPDATE
    touching only rows whose title differs; returns rows changed."""
    title = title[:200]
    return Notification.objects.filter(group_key=group_key).exclude(group_title=title).update(group_title=title)
