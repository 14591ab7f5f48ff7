"""Reads of the notification list (issue 12): the header badge's unread count, the grouped
list page, and where "open" leads.

Only visible rows count anywhere (``is_visible``: the writing domain keeps it equal to its
visibility rule, SPEC "Visibility"), so the badge, the list and the link a notification leads
to always agree, even after a moderator removes a post or a suggestion is hidden.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, Max, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from apps.accounts.models import User

from .models import Notification, NotificationKind

# The page shows every group with unread notifications, then groups whose notifications were
# read recently, up to this many entries in all (Discourse's menu works the same way).
NOTIFICATION_GROUPS_SHOWN = 50
READ_NOTIFICATIONS_KEPT_DAYS = 30
# Names of the latest actors shown per line ("ana, ben, cleo and 3 others").
ACTORS_SHOWN = 3
# Agreement and disagreement are about how many: from this many gardeners on, a line says
# "3 gardeners agreed with ..." instead of naming them.
COUNTED_FROM = 3
FORMER_MEMBER = "A former member"


def _names(actors: list[str], more: int) -> str:
    """ "ana", "ana and ben", "ana, ben, cleo and 2 others"."""
    names = list(actors)
    if more:
        names.append(f"{more} other{'s' if more != 1 else ''}")
    if len(names) <= 1:
        return names[0] if names else "Someone"
    return f"{', '.join(names[:-1])} and {names[-1]}"


@dataclass(frozen=True)
class NotificationLine:
    """One line of a group entry: one kind of event about one ``detail`` (a species name, or
    nothing for forum replies), with the latest distinct actors and how many there were."""

    kind: str
    detail: str
    actors: list[str]
    actor_count: int
    latest_at: datetime

    @property
    def text(self) -> str:
        """The line as the list shows it, e.g. "ana and ben replied", "3 gardeners agreed with
        Monstera deliciosa", "Community consensus: Monstera deliciosa"."""
        shown = self.actors[:ACTORS_SHOWN]
        who = _names(shown, max(0, self.actor_count - len(shown)))
        detail = self.detail
        match self.kind:
            case NotificationKind.REPLY:
                return f"{who} replied"
            case NotificationKind.MENTION:
                return f"{who} mentioned you"
            case NotificationKind.SUGGESTION:
                return f"{who} suggested {detail}" if detail else f"{who} suggested a name"
            case NotificationKind.AGREEMENT | NotificationKind.DISAGREEMENT:
                verb = "agreed" if self.kind == NotificationKind.AGREEMENT else "disagreed"
                if self.actor_count >= COUNTED_FROM:
                    who = f"{self.actor_count} gardeners"
                return f"{who} {verb} with {detail}" if detail else f"{who} {verb}"
            case NotificationKind.CONSENSUS:
                return f"Community consensus: {detail}" if detail else "Community consensus reached"
            case NotificationKind.MACHINE_RESULT:
                return f"Machine suggestions arrived: {detail}" if detail else "Machine suggestions arrived"
            case NotificationKind.MACHINE_FAILED:
                return "Machine suggestions unavailable"
            case NotificationKind.ACCEPTED:
                return f"{who} accepted your suggestion {detail}" if detail else f"{who} accepted your suggestion"
        return NotificationKind(self.kind).label if self.kind in NotificationKind.values else self.kind


@dataclass(frozen=True)
class NotificationGroup:
    """One entry of the notifications page: a group (a topic, an identification request) and
    its notifications for one gardener."""

    group_key: str
    title: str
    url: str
    unread: int
    total: int
    latest_at: datetime
    lines: list[NotificationLine] = field(default_factory=list)

    @property
    def is_unread(self) -> bool:
        """True when at least one notification of this group is unread."""
        return self.unread > 0


def _visible_for(user: User) -> QuerySet:
    return Notification.objects.filter(recipient_id=user.pk, is_visible=True)


def unread_notification_count(*, user: User) -> int:
    """How many of ``user``'s visible notifications are unread. One ``COUNT`` over the
    partial index ``notif_unread_visible`` (recipient, -created_at WHERE unread and visible),
    so its cost follows the unread rows, not the gardener's whole history."""
    return _visible_for(user).filter(read_at__isnull=True).count()


def notification_groups_for_user(*, user: User, now: datetime | None = None) -> list[NotificationGroup]:
    """``user``'s visible notifications grouped per ``group_key``: groups with unread ones
    first (newest unread first), then groups whose notifications were all read, within the
    last ``READ_NOTIFICATIONS_KEPT_DAYS`` (30) days; at most ``NOTIFICATION_GROUPS_SHOWN`` (50).

    Each entry carries its title and link (the latest notification's), unread and total
    counts, and its lines: one per (kind, detail), newest first, with the latest distinct
    actors. Three statements whatever the number of notifications: the grouped page, the
    lines' counts, and the latest rows of each line (a window function).
    """
    since = (now or timezone.now()) - timedelta(days=READ_NOTIFICATIONS_KEPT_DAYS)
    shown = _visible_for(user).filter(Q(read_at__isnull=True) | Q(created_at__gte=since))
    groups = list(
        shown.values("group_key")
        .annotate(
            unread=Count("id", filter=Q(read_at__isnull=True)),
            total=Count("id"),
            latest_at=Max("created_at"),
            latest_unread_at=Max("created_at", filter=Q(read_at__isnull=True)),
        )
        .order_by(F("latest_unread_at").desc(nulls_last=True), "-latest_at", "group_key")[:NOTIFICATION_GROUPS_SHOWN]
    )
    if not groups:
        return []
    keys = [group["group_key"] for group in groups]
    in_groups = shown.filter(group_key__in=keys)
    line_rows = (
        in_groups.values("group_key", "kind", "detail")
        .annotate(actor_count=Count("actor_id", distinct=True))
        .order_by()
    )
    counts = {(row["group_key"], row["kind"], row["detail"]): row for row in line_rows}
    # The latest rows of each line: enough to name ACTORS_SHOWN distinct actors in most cases.
    latest_rows = (
        in_groups.annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("group_key"), F("kind"), F("detail")],
                order_by=[F("created_at").desc(), F("id").desc()],
            )
        )
        .filter(position__lte=ACTORS_SHOWN * 4)
        .values("group_key", "kind", "detail", "group_title", "url", "created_at", actor_name=F("actor__username"))
        .order_by("group_key", "-created_at", "-id")
    )
    rows_by_group: dict[str, list[dict]] = {}
    for row in latest_rows:
        rows_by_group.setdefault(row["group_key"], []).append(row)

    result = []
    for group in groups:
        rows = rows_by_group.get(group["group_key"], [])
        lines: dict[tuple[str, str], dict] = {}
        for row in rows:
            line = lines.setdefault((row["kind"], row["detail"]), {"actors": [], "latest_at": row["created_at"]})
            name = row["actor_name"] or FORMER_MEMBER
            if row["actor_name"] is None and row["kind"] in (
                NotificationKind.CONSENSUS,
                NotificationKind.MACHINE_RESULT,
                NotificationKind.MACHINE_FAILED,
            ):
                continue
            if name not in line["actors"]:
                line["actors"].append(name)
        built = []
        for (kind, detail), line in lines.items():
            count = counts.get((group["group_key"], kind, detail), {})
            # A deleted account and the machine have no actor id; count them as one more.
            actor_count = count.get("actor_count", 0) + (1 if FORMER_MEMBER in line["actors"] else 0)
            built.append(
                NotificationLine(
                    kind=kind,
                    detail=detail,
                    actors=line["actors"],
                    actor_count=max(actor_count, len(line["actors"])),
                    latest_at=line["latest_at"],
                )
            )
        latest = rows[0] if rows else {"group_title": group["group_key"], "url": ""}
        result.append(
            NotificationGroup(
                group_key=group["group_key"],
                title=latest["group_title"],
                url=latest["url"],
                unread=group["unread"],
                total=group["total"],
                latest_at=group["latest_at"],
                lines=built,
            )
        )
    return result


def latest_notification_url(*, user: User, group_key: str) -> str | None:
    """The url of ``user``'s latest visible notification in ``group_key``, or ``None`` when
    they have none there: the place "open" leads to. One statement."""
    return (
        _visible_for(user)
        .filter(group_key=group_key)
        .order_by("-created_at", "-id")
        .values_list("url", flat=True)
        .first()
    )


def notification_ever_sent(*, group_key: str, kind: NotificationKind | str, detail: str) -> bool:
    """Whether a ``kind`` notification with ``detail`` was ever written in ``group_key``, to
    anyone, visible or not: lets a domain announce a moment once ("consensus on Monstera
    deliciosa" once per request, however often votes then break and restore it). One
    statement over the ``notif_group`` index."""
    return Notification.objects.filter(group_key=group_key, kind=kind, detail=detail[:200]).exists()
