"""In-app notifications: reads for the header badge and the notifications page, and the two
mark-read writes.

Rows are created by ``services._notify`` when a post becomes visible (a reply to your topic, an
@mention of you). A notification counts only while its recipient may see the post it points to
(the one visibility rule, ``models.post_visibility``). So the badge, the page and the link a
notification leads to always agree, even after a moderator removes or reports hide the post.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, Max, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from apps.accounts.models import User

from .models import Notification, post_visibility

# The page shows every topic with unread notifications, then topics whose notifications were
# read recently, up to this many entries in all (Discourse's menu works the same way).
NOTIFICATION_GROUPS_SHOWN = 50
READ_NOTIFICATIONS_KEPT_DAYS = 30
# Names of the latest actors shown per topic ("ana, ben and 3 others").
ACTORS_SHOWN = 3


@dataclass(frozen=True)
class NotificationGroup:
    """One entry of the notifications page: a topic and its notifications for one gardener."""

    topic_id: int
    subject: str
    unread: int
    total: int
    latest_at: datetime
    latest_post_id: int
    actors: list[str]
    more_actors: int
    kinds: list[str]

    @property
    def is_unread(self) -> bool:
        """True when at least one notification of this topic is unread."""
        return self.unread > 0

    @property
    def actors_text(self) -> str:
        """ "ana", "ana and ben", "ana, ben, cleo and 2 others"."""
        names = list(self.actors)
        if self.more_actors:
            names.append(f"{self.more_actors} other{'s' if self.more_actors != 1 else ''}")
        if len(names) <= 1:
            return names[0] if names else "Someone"
        return f"{', '.join(names[:-1])} and {names[-1]}"

    @property
    def verb(self) -> str:
        """What the actors did: "replied", "mentioned you", or "replied or mentioned you"."""
        if self.kinds == ["mention"]:
            return "mentioned you"
        if self.kinds == ["reply"]:
            return "replied"
        return "replied or mentioned you"


def _visible_for(user: User) -> QuerySet:
    return Notification.objects.filter(post_visibility(user, prefix="post__"), recipient_id=user.pk)


def unread_notification_count(*, user: User) -> int:
    """How many of ``user``'s notifications are unread (and still point at public posts).

    One ``COUNT`` statement; the notification side is a range of the partial index
    ``forum_notif_unread`` (``recipient, -created_at WHERE read_at IS NULL``), so its cost
    follows the unread rows, not the gardener's whole history."""
    return _visible_for(user).filter(read_at__isnull=True).count()


def notification_groups_for_user(*, user: User, now: datetime | None = None) -> list[NotificationGroup]:
    """``user``'s notifications grouped per topic: topics with unread ones first (newest
    activity first), then topics whose notifications were all read, within the last
    ``READ_NOTIFICATIONS_KEPT_DAYS`` (30) days; at most ``NOTIFICATION_GROUPS_SHOWN`` (50) entries.

    Each entry carries the unread and total counts, the time and post of the latest
    notification, the latest distinct actors (up to ``ACTORS_SHOWN``) and the kinds (``reply``,
    ``mention``). Two statements whatever the number of notifications: the grouped page of
    topics, then the latest few rows of each of those topics (a window function).
    """
    since = (now or timezone.now()) - timedelta(days=READ_NOTIFICATIONS_KEPT_DAYS)
    shown = _visible_for(user).filter(Q(read_at__isnull=True) | Q(created_at__gte=since))
    groups = list(
        shown.values("topic_id", "topic__subject")
        .annotate(
            unread=Count("id", filter=Q(read_at__isnull=True)),
            total=Count("id"),
            latest_at=Max("created_at"),
            latest_unread_at=Max("created_at", filter=Q(read_at__isnull=True)),
            actor_count=Count("actor_id", distinct=True),
            replies=Count("id", filter=Q(kind=Notification.Kind.REPLY)),
            mentions=Count("id", filter=Q(kind=Notification.Kind.MENTION)),
        )
        # Topics with unread notifications first, newest unread first; then the read ones.
        .order_by(F("latest_unread_at").desc(nulls_last=True), "-latest_at", "-topic_id")[:NOTIFICATION_GROUPS_SHOWN]
    )
    if not groups:
        return []
    latest_rows = (
        shown.filter(topic_id__in=[group["topic_id"] for group in groups])
        .annotate(
            position=Window(
                RowNumber(), partition_by=[F("topic_id")], order_by=[F("created_at").desc(), F("id").desc()]
            )
        )
        .filter(position__lte=ACTORS_SHOWN * 4)
        .values("topic_id", "post_id", "kind", "position", actor_name=F("actor__username"))
        .order_by("topic_id", "position")
    )
    latest: dict[int, list[dict]] = {}
    for row in latest_rows:
        latest.setdefault(row["topic_id"], []).append(row)

    result = []
    for group in groups:
        rows = latest.get(group["topic_id"], [])
        actors: list[str] = []
        for row in rows:
            name = row["actor_name"] or "A former member"
            if name not in actors:
                actors.append(name)
        kinds = [kind for kind, count in (("reply", group["replies"]), ("mention", group["mentions"])) if count]
        result.append(
            NotificationGroup(
                topic_id=group["topic_id"],
                subject=group["topic__subject"],
                unread=group["unread"],
                total=group["total"],
                latest_at=group["latest_at"],
                latest_post_id=rows[0]["post_id"] if rows else 0,
                actors=actors[:ACTORS_SHOWN],
                more_actors=max(0, group["actor_count"] - len(actors[:ACTORS_SHOWN])),
                kinds=kinds,
            )
        )
    return result


def latest_notified_post_id(*, user: User, topic_id: int) -> int | None:
    """The post of ``user``'s latest (still public) notification in topic ``topic_id``, or
    ``None`` when they have none there: the place "open" leads to. One statement."""
    return (
        _visible_for(user)
        .filter(topic_id=topic_id)
        .order_by("-created_at", "-id")
        .values_list("post_id", flat=True)
        .first()
    )


def notifications_mark_topic_read(*, user: User, topic_id: int, now: datetime | None = None) -> int:
    """Mark ``user``'s unread notifications in topic ``topic_id`` read (opening the topic from
    a notification). Only the user's own rows are touched. One ``UPDATE``; returns how many
    rows changed."""
    return Notification.objects.filter(recipient_id=user.pk, topic_id=topic_id, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )


def notifications_mark_all_read(*, user: User, now: datetime | None = None) -> int:
    """Mark every unread notification of ``user`` read ("Mark all read"). One ``UPDATE`` over
    the partial unread index; returns how many rows changed."""
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=now or timezone.now())
