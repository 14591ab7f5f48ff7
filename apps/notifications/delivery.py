"""Email delivery of notifications (issue 12): "email at once" and the daily digest.

Who gets an email, and when (README "Notification emails"):
- Each notification carries its recipient's choice for its kind when it was made
  (``Notification.email_delivery``, from ``NotificationPreference`` or
  ``NOTIFICATION_DELIVERY_DEFAULTS``). ``site`` rows are never emailed.
- ``immediate``: ``notifications_send`` (and ``notifications_visibility_set`` when a held row is
  shown) enqueues ``notification_emails_task`` after the commit. The task sends one email per
  row that, at send time, is still visible, unread, not emailed, still ``immediate`` and whose
  recipient is active with a confirmed address; then marks it ``emailed_at``. So a reply held
  for review is emailed when a moderator approves it, a post hidden or deleted before the
  worker ran is not emailed at all, and one already read on the site is not repeated by email.
- ``digest``: ``send_notification_digests`` (cron, hourly) claims one ``NotificationDigest``
  per gardener per local date once their clock reads ``NOTIFICATION_DIGEST_LOCAL_HOUR`` (08:00)
  or later, attaches the waiting rows to it, and enqueues ``notification_digests_task``, which
  sends one email listing the rows still visible and unread, grouped by ``group_title``.

Never emailed: the actor themself and inactive accounts (``notifications_send`` writes no row),
rows that are not visible (held, hidden) or are gone (deleted with their request), addresses not
confirmed yet (Discourse mails no unconfirmed account either: the address may not be theirs).
A mail server failure is logged; the row stays unsent (an at-once row can go in no digest).
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from functools import partial
from itertools import batched

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.core.db import insert_new_returning_pks, unsent_claims_lock
from apps.core.localtime import local_date_from_hour

from .models import Notification, NotificationDelivery, NotificationDigest, NotificationKind

logger = logging.getLogger(__name__)

# How many digests one task sends (its queries are a constant per batch, not per gardener).
DIGEST_BATCH_SIZE = 200

# What happened, in one sentence per kind: {actor} a username (or "Someone"), {where} the
# group's title with its preposition (left out under the group's heading in a digest),
# {detail} the name concerned.
SENTENCES = {
    NotificationKind.REPLY: ("{actor} replied{where}.", "in"),
    NotificationKind.MENTION: ("{actor} mentioned you{where}.", "in"),
    NotificationKind.SUGGESTION: ("{actor} suggested a name{where}{detail}.", "for"),
    NotificationKind.AGREEMENT: ("{actor} agreed with a name{where}{detail}.", "on"),
    NotificationKind.DISAGREEMENT: ("{actor} disagreed with a name{where}{detail}.", "on"),
    NotificationKind.CONSENSUS: ("The community reached a consensus{where}{detail}.", "on"),
    NotificationKind.MACHINE_RESULT: ("Machine suggestions arrived{where}{detail}.", "for"),
    NotificationKind.MACHINE_FAILED: ("Machine suggestions are unavailable{where} for now.", "for"),
    NotificationKind.ACCEPTED: ("{actor} accepted your suggestion{where}{detail}.", "on"),
}


def notification_sentence(notification: Notification, *, with_title: bool = True) -> str:
    """What ``notification`` says happened, as plain text ("rosa replied in “Yellow leaves”.";
    without the title when ``with_title`` is false: "rosa replied."). Needs ``actor`` loaded
    (``select_related``); an unknown kind gets a generic sentence."""
    actor = notification.actor.username if notification.actor_id else "Someone"
    detail = f": {notification.detail}" if notification.detail else ""
    template, preposition = SENTENCES.get(notification.kind, ("Something new{where}{detail}.", "in"))
    where = f" {preposition} “{notification.group_title}”" if with_title else ""
    return template.format(actor=actor, where=where, detail=detail)


def absolute_url(path: str) -> str:
    """``path`` ("/forum/t/3/#post-9") on ``settings.SITE_URL``; a full URL is returned as is."""
    if path.startswith(("http://", "https://")):
        return path
    return f"{settings.SITE_URL}{path if path.startswith('/') else '/' + path}"


def notification_settings_link() -> str:
    """The absolute URL of the notification settings page (every email links to it, to turn
    itself off)."""
    return absolute_url(reverse("notification-settings"))


def emails_send_each(messages: list[tuple[int, EmailMessage]]) -> list[int]:
    """Send each ``(key, message)`` (``key`` the caller's, e.g. a row's primary key) on one
    mailer connection; the keys of those sent. A failure is logged and skipped, so one bad
    address does not hold back the others."""
    sent = []
    if not messages:
        return sent
    mailer = mailers.default
    mailer.open()
    try:
        for key, message in messages:
            try:
                mailer.send_messages([message])
            except Exception:
                logger.exception("email %r to %s could not be sent", message.subject, message.to)
            else:
                sent.append(key)
    finally:
        mailer.close()
    return sent


def email_recipients():
    """The users who may be emailed at all, as a ``User`` queryset: active, with a confirmed
    address (Discourse mails no unconfirmed account either: the address may not be theirs).
    ``recipient_can_receive`` is the same rule for a row in hand."""
    return User.objects.filter(is_active=True, email_confirmed_at__isnull=False).exclude(email="")


def recipient_can_receive(user: User) -> bool:
    """Whether ``user`` (a loaded row) may be emailed now: the rule of ``email_recipients``,
    checked again at send time (an account deactivated between the claim and the send)."""
    return user.is_active and user.email_confirmed_at is not None and bool(user.email)


# --- Email at once ----------------------------------------------------------------------------


def notification_emails_enqueue(*, notification_ids: Iterable[int]) -> None:
    """Queue ``notification_emails_task`` for ``notification_ids`` after the current transaction
    commits (at once outside one), so the worker reads committed rows. A failure to enqueue is
    logged, never raised into the domain's write (``robust=True``)."""
    ids = sorted(set(notification_ids))
    if ids:
        transaction.on_commit(partial(notification_emails_task.enqueue, ids), robust=True)


def notification_emails_send(*, notification_ids: Iterable[int], now: datetime | None = None) -> int:
    """Send the at-once email of each notification of ``notification_ids`` (primary keys) that
    is still due: ``email_delivery`` immediate, visible, unread, not emailed, in no digest, its
    recipient active with a confirmed address. Marks each one sent ``emailed_at = now``.

    Rows are locked (``FOR UPDATE SKIP LOCKED``) while they are sent, so a task delivered twice,
    or by two workers, sends each email once. Three statements whatever the number of rows
    (the locked read with recipient and actor, the mails, one UPDATE). Returns how many were sent.
    """
    ids = sorted(set(notification_ids))
    if not ids:
        return 0
    now = now or timezone.now()
    settings_link = notification_settings_link()
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("recipient", "actor")
            .filter(
                pk__in=ids,
                email_delivery=NotificationDelivery.IMMEDIATE,
                emailed_at__isnull=True,
                digest__isnull=True,
                is_visible=True,
                read_at__isnull=True,
            )
            .order_by("pk")
        )
        messages = []
        for row in rows:
            if not recipient_can_receive(row.recipient):
                continue
            sentence = notification_sentence(row)
            body = render_to_string(
                "notifications/email/notification.txt",
                {
                    "user": row.recipient,
                    "sentence": sentence,
                    "link": absolute_url(row.url),
                    "settings_link": settings_link,
                    "kind_label": NotificationKind(row.kind).label if row.kind in NotificationKind.values else "",
                },
            )
            subject = sentence if len(sentence) <= 120 else sentence[:119] + "…"
            messages.append((row.pk, EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [row.recipient.email])))
        sent = emails_send_each(messages)
        if sent:
            Notification.objects.filter(pk__in=sent).update(emailed_at=now)
    return len(sent)


@task
def notification_emails_task(notification_ids: list[int]) -> int:
    """``notification_emails_send`` for ``notification_ids``; returns how many were sent. Safe
    to deliver twice (a sent row is marked)."""
    return notification_emails_send(notification_ids=notification_ids)


# --- The daily digest -------------------------------------------------------------------------


def _waiting_for_digest():
    return Notification.objects.filter(
        email_delivery=NotificationDelivery.DIGEST, digest__isnull=True, read_at__isnull=True, is_visible=True
    )


def digests_due(*, now: datetime) -> dict[int, date]:
    """Gardeners whose digest is due at ``now`` (aware): active, with a confirmed address,
    something waiting for a digest, and a local time (their ``time_zone``; UTC when unknown) at
    or after ``NOTIFICATION_DIGEST_LOCAL_HOUR``. Returns ``{user_id: local_date}``; one query."""
    candidates = (
        email_recipients()
        .filter(pk__in=_waiting_for_digest().filter(created_at__lte=now).values("recipient_id"))
        .order_by("pk")
        .values_list("pk", "time_zone")
    )
    due = {}
    for user_id, zone_name in candidates:
        local_date = local_date_from_hour(now=now, time_zone=zone_name, hour=settings.NOTIFICATION_DIGEST_LOCAL_HOUR)
        if local_date is not None:
            due[user_id] = local_date
    return due


def _digests_insert(*, due: dict[int, date], now: datetime) -> list[int]:
    """Claim one digest row per ``(user_id, local_date)`` of ``due``; the primary keys of the
    rows this call inserted (``insert_new_returning_pks``: the unique constraint picks the one
    winner when another run claims the same gardener's date at the same moment). One statement
    per 500 gardeners."""
    return insert_new_returning_pks(
        NotificationDigest,
        fields=("user", "local_date", "created_at", "sent_at", "notification_count"),
        rows=[(user_id, local_date, now, None, 0) for user_id, local_date in sorted(due.items())],
        unique_fields=("user", "local_date"),
    )


def notification_digests_claim(*, now: datetime | None = None) -> list[int]:
    """Claim today's digest of every gardener it is due for (``digests_due``) and queue the
    emails; the claimed ``NotificationDigest`` primary keys.

    In one transaction: INSERT the (user, local date) rows, the unique constraint deciding
    between concurrent runs (``_digests_insert``), then attach to each claimed digest its
    gardener's waiting notifications made up to ``now`` (one UPDATE), so tomorrow's digest
    does not repeat them. After the commit, ``notification_digests_task`` is enqueued per
    ``DIGEST_BATCH_SIZE`` digests. Running it again the same local day claims nothing for a
    gardener who already has that day's row; notifications that arrive later wait for the next
    local day. Statements: 1 (who is due), then 2 per 500 gardeners due, then one enqueue per
    batch. ``now`` (aware) defaults to the current time."""
    now = now or timezone.now()
    due = digests_due(now=now)
    if not due:
        return []
    with transaction.atomic():
        claimed = _digests_insert(due=due, now=now)
        if claimed:
            digest_of_recipient = NotificationDigest.objects.filter(pk__in=claimed, user_id=OuterRef("recipient_id"))
            _waiting_for_digest().filter(
                recipient_id__in=NotificationDigest.objects.filter(pk__in=claimed).values("user_id"),
                created_at__lte=now,
            ).update(digest_id=Subquery(digest_of_recipient.values("pk")[:1]))
            for batch in batched(claimed, DIGEST_BATCH_SIZE):
                transaction.on_commit(partial(notification_digests_task.enqueue, list(batch)), robust=True)
    return claimed


def _digest_groups(rows: list[Notification]) -> list[dict]:
    """``rows`` (oldest first) grouped by ``group_key`` as ``{"title", "link", "items"}``,
    the group with the newest activity first (ties: the later row); ``link`` is the newest
    row's URL, ``title`` the first row's."""
    groups: dict[str, dict] = {}
    for row in rows:
        group = groups.setdefault(row.group_key, {"title": row.group_title, "items": []})
        group["items"].append(notification_sentence(row, with_title=False))
        group["link"] = absolute_url(row.url)
        group["latest"] = (row.created_at, row.pk)
    return sorted(groups.values(), key=lambda group: group["latest"], reverse=True)


def notification_digests_send(*, digest_ids: Iterable[int], now: datetime | None = None) -> int:
    """Send each unsent digest of ``digest_ids`` (primary keys): one email to its gardener
    listing its notifications that are still visible and unread, grouped by ``group_title``,
    with a link to each and to the settings page. Marks it ``sent_at = now`` with the number
    listed. A digest whose notifications were all read or hidden meanwhile, or whose gardener
    is no longer active or confirmed, sends nothing and stays unsent.

    The digests are locked while sent (``FOR UPDATE SKIP LOCKED``), so a task delivered twice
    sends each once. Statements per call, whatever the batch size: the locked read (with the
    user), the notifications (with actors), one UPDATE. Returns how many emails were sent."""
    ids = sorted(set(digest_ids))
    if not ids:
        return 0
    now = now or timezone.now()
    settings_link = notification_settings_link()
    with transaction.atomic():
        digests = unsent_claims_lock(NotificationDigest, pks=ids)
        digests = [digest for digest in digests if recipient_can_receive(digest.user)]
        if not digests:
            return 0
        rows_of: dict[int, list[Notification]] = defaultdict(list)
        for row in (
            Notification.objects.select_related("actor")
            .filter(digest__in=[digest.pk for digest in digests], is_visible=True, read_at__isnull=True)
            .order_by("created_at", "pk")
        ):
            rows_of[row.digest_id].append(row)
        messages, counts = [], {}
        for digest in digests:
            rows = rows_of.get(digest.pk)
            if not rows:
                continue
            counts[digest.pk] = len(rows)
            body = render_to_string(
                "notifications/email/digest.txt",
                {
                    "user": digest.user,
                    "local_date": digest.local_date,
                    "count": len(rows),
                    "groups": _digest_groups(rows),
                    "settings_link": settings_link,
                    "notifications_link": absolute_url("/notifications/"),
                },
            )
            noun = "update" if len(rows) == 1 else "updates"
            subject = f"Your daily digest: {len(rows)} {noun} ({digest.local_date:%d %b %Y})"
            messages.append((digest.pk, EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [digest.user.email])))
        sent = set(emails_send_each(messages))
        done = [digest for digest in digests if digest.pk in sent]
        for digest in done:
            digest.sent_at = now
            digest.notification_count = counts[digest.pk]
        if done:
            NotificationDigest.objects.bulk_update(done, ["sent_at", "notification_count"])
    return len(done)


@task
def notification_digests_task(digest_ids: list[int]) -> int:
    """``notification_digests_send`` for ``digest_ids``; returns how many emails were sent.
    Safe to deliver twice (a sent digest is marked and locked while it is sent)."""
    return notification_digests_send(digest_ids=digest_ids)
