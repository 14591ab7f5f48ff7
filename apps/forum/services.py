"""Forum writes: topics and replies, edits and soft deletes, the review queue, reports, trust
levels and moderator tools. Counters move with ``F()`` in the same transaction as the write
(never a recount per request); every moderation step is recorded in the audit log."""

import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import BigIntegerField, Case, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from apps.accounts.models import TRUST_LEVEL_ORDER, TrustLevel, User
from apps.core.db import SubqueryCount
from apps.core.models import ModerationAction

from .markdown import render_markdown
from .models import Forum, Notification, Post, PostRevision, Report, Topic

MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,30})")
REPORTS_TO_HIDE = 3


def _audit(*, actor: User | None, action: str, target, reason: str = "", **metadata) -> None:
    ModerationAction.objects.create(
        actor=actor, action=action, target_type=target._meta.model_name, target_id=str(target.pk),
        reason=reason[:500], metadata=metadata,
    )


def _newer(field: str, when, value, current: str):
    """``value`` when ``when`` is later than the row's ``field`` (or it is empty), else the
    row's ``current`` column: last activity never moves backwards when an older post is
    approved or shown again."""
    later = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": when})
    return Case(When(later, then=Value(value)), default=F(current), output_field=BigIntegerField())


def _post_became_visible(post: Post, topic: Topic) -> None:
    """Counters and last activity when ``post`` turns visible (published, approved, unhidden)."""
    when = post.created_at
    Topic.objects.filter(pk=topic.pk).update(
        post_count=F("post_count") + 1,
        last_poster_id=_newer("last_post_at", when, post.poster_id, "last_poster_id"),
        last_post_at=Greatest(F("last_post_at"), Value(when)),
    )
    if topic.is_approved or post.is_opening_post:
        Forum.objects.filter(pk=topic.forum_id).update(
            post_count=F("post_count") + 1,
            last_topic_id=_newer("last_post_at", when, topic.pk, "last_topic_id"),
            last_poster_id=_newer("last_post_at", when, post.poster_id, "last_poster_id"),
            last_post_at=Coalesce(Greatest(F("last_post_at"), Value(when)), Value(when)),
        )


def _post_became_invisible(post: Post, topic: Topic) -> None:
    Topic.objects.filter(pk=topic.pk).update(post_count=F("post_count") - 1)
    if topic.is_approved:
        Forum.objects.filter(pk=topic.forum_id).update(post_count=F("post_count") - 1)


def trust_level_promote(*, user_id: int, now=None) -> str | None:
    """Raise ``user_id``'s trust level to the highest one their approved posts and account age
    reach (SPEC "Domain": basic 5 / 7 days, trusted 25 / 30, veteran 100 / 90). Never lowers a
    level and never overrides one a moderator set. Audited. Returns the new level or ``None``."""
    now = now or timezone.now()
    user = User.objects.select_for_update().only(
        "id", "trust_level", "trust_level_set_by_moderator", "approved_post_count", "date_joined"
    ).get(pk=user_id)
    if user.trust_level_set_by_moderator:
        return None
    reached = user.trust_level
    for level in TRUST_LEVEL_ORDER[TRUST_LEVEL_ORDER.index(user.trust_level) + 1:]:
        needs = settings.TRUST_LEVEL_REQUIREMENTS[level.value]
        if user.approved_post_count >= needs["approved_posts"] and now - user.date_joined >= timedelta(
            days=needs["account_age_days"]
        ):
            reached = level
    if reached == user.trust_level:
        return None
    User.objects.filter(pk=user_id).update(trust_level=reached)
    ModerationAction.objects.create(
        actor=None, action="trust.promote", target_type="user", target_id=str(user_id),
        reason=f"Automatic: {user.trust_level} -> {reached}", metadata={"from": user.trust_level, "to": str(reached)},
    )
    return str(reached)


def trust_levels_update_all(*, now=None) -> int:
    """The daily pass for account age (``manage.py update_trust_levels``): promote every user
    who now qualifies. Reads only candidates (below veteran, not moderator-set, with at least
    the smallest post requirement). Returns how many were promoted."""
    now = now or timezone.now()
    smallest = min(needs["approved_posts"] for needs in settings.TRUST_LEVEL_REQUIREMENTS.values())
    candidates = User.objects.filter(
        trust_level_set_by_moderator=False, approved_post_count__gte=smallest
    ).exclude(trust_level=TrustLevel.VETERAN).values_list("id", flat=True)
    promoted = 0
    for user_id in candidates.iterator():
        with transaction.atomic():
            promoted += trust_level_promote(user_id=user_id, now=now) is not None
    return promoted


def _notify(post: Post, topic: Topic) -> None:
    """Notifications for a post others can now see: the topic's author (a reply) and every
    @mentioned gardener, never the post's own author, one per person."""
    recipients: dict[int, str] = {}
    if not post.is_opening_post and topic.poster_id != post.poster_id:
        recipients[topic.poster_id] = Notification.Kind.REPLY
    names = {name.rstrip(".").lower() for name in MENTION.findall(post.source) if name.rstrip(".")}
    if names:
        query = Q()
        for name in names:
            query |= Q(username__iexact=name)
        for user_id in User.objects.filter(query, is_active=True).values_list("id", flat=True)[:20]:
            if user_id != post.poster_id:
                recipients.setdefault(user_id, Notification.Kind.MENTION)
    Notification.objects.bulk_create(
        Notification(recipient_id=user_id, actor_id=post.poster_id, kind=kind, topic=topic, post=post,
                     created_at=post.created_at)
        for user_id, kind in recipients.items()
    )


def _published(post: Post, topic: Topic) -> None:
    """What follows when a post becomes visible for the first time."""
    _post_became_visible(post, topic)
    User.objects.filter(pk=post.poster_id).update(approved_post_count=F("approved_post_count") + 1)
    trust_level_promote(user_id=post.poster_id)
    _notify(post, topic)


@transaction.atomic
def topic_create(*, forum: Forum, poster: User, subject: str, source: str, image=None, publish: bool) -> Topic:
    """Start a topic with its opening post. ``publish`` (from ``permissions.publishes_at_once``)
    false puts both in the review queue. Returns the topic."""
    now = timezone.now()
    topic = Topic.objects.create(
        forum=forum, poster=poster, subject=subject, created_at=now, last_post_at=now, last_poster=poster,
        is_approved=publish,
    )
    post = Post.objects.create(
        topic=topic, poster=poster, source=source, html=render_markdown(source), is_opening_post=True,
        created_at=now, is_approved=publish, image=image or "",
    )
    User.objects.filter(pk=poster.pk).update(post_count=F("post_count") + 1, topic_count=F("topic_count") + 1)
    if publish:
        Forum.objects.filter(pk=forum.pk).update(topic_count=F("topic_count") + 1)
        topic.is_approved = True
        _published(post, topic)
    return topic


@transaction.atomic
def reply_create(*, topic: Topic, poster: User, source: str, image=None, publish: bool) -> Post:
    """Reply to ``topic``; held in the review queue unless ``publish``. Returns the post."""
    post = Post.objects.create(
        topic=topic, poster=poster, source=source, html=render_markdown(source), created_at=timezone.now(),
        is_approved=publish, image=image or "",
    )
    User.objects.filter(pk=poster.pk).update(post_count=F("post_count") + 1)
    if publish:
        _published(post, topic)
    return post


@transaction.atomic
def post_edit(*, post: Post, editor: User, source: str) -> None:
    """Replace a post's text, keeping the previous version as a revision (edits are recorded)."""
    PostRevision.objects.create(post=post, editor=editor, previous_source=post.source)
    Post.objects.filter(pk=post.pk).update(
        source=source, html=render_markdown(source), updated_at=timezone.now(), edit_count=F("edit_count") + 1
    )


@transaction.atomic
def post_delete(*, post: Post, actor: User, topic: Topic) -> None:
    """Soft-delete a post (deleting the opening post deletes the topic). Counters follow."""
    visible = post.is_approved and not post.is_hidden
    Post.objects.filter(pk=post.pk).update(is_deleted=True)
    User.objects.filter(pk=post.poster_id).update(
        post_count=F("post_count") - 1,
        approved_post_count=F("approved_post_count") - (1 if post.is_approved else 0),
    )
    if post.is_opening_post:
        Topic.objects.filter(pk=topic.pk).update(is_deleted=True)
        User.objects.filter(pk=topic.poster_id).update(topic_count=F("topic_count") - 1)
        if topic.is_approved:
            Forum.objects.filter(pk=topic.forum_id).update(
                topic_count=F("topic_count") - 1, post_count=F("post_count") - (topic.post_count)
            )
    elif visible:
        _post_became_invisible(post, topic)
    if actor.pk != post.poster_id:
        _audit(actor=actor, action="post.delete", target=post)


def _locked_post(post_id: int) -> tuple[Post, Topic]:
    post = Post.objects.select_for_update().get(pk=post_id)
    topic = Topic.objects.select_for_update().get(pk=post.topic_id)
    return post, topic


@transaction.atomic
def post_approve(*, post_id: int, moderator: User) -> None:
    """Approve a held post (and its topic when it is the opening post): it becomes visible,
    counts for its author's trust level, and notifies. Idempotent."""
    post, topic = _locked_post(post_id)
    if post.is_approved or post.is_deleted:
        return
    Post.objects.filter(pk=post.pk).update(is_approved=True, rejection_reason="")
    post.is_approved = True
    if post.is_opening_post and not topic.is_approved:
        Topic.objects.filter(pk=topic.pk).update(is_approved=True)
        Forum.objects.filter(pk=topic.forum_id).update(topic_count=F("topic_count") + 1)
        topic.is_approved = True
    if not post.is_hidden:
        _published(post, topic)
    else:
        User.objects.filter(pk=post.poster_id).update(approved_post_count=F("approved_post_count") + 1)
    _audit(actor=moderator, action="post.approve", target=post)


@transaction.atomic
def post_reject(*, post_id: int, moderator: User, reason: str) -> None:
    """Reject a held post with a reason its author sees; it stays invisible to everyone else."""
    post, _ = _locked_post(post_id)
    if post.is_approved or post.is_deleted:
        return
    Post.objects.filter(pk=post.pk).update(rejection_reason=reason or "Rejected by a moderator.")
    _audit(actor=moderator, action="post.reject", target=post, reason=reason)


@transaction.atomic
def report_create(*, post_id: int, reporter: User, reason: str, detail: str) -> bool:
    """Report a post. 3 open reports, or 1 from a ``trusted``+ gardener on a ``new`` gardener's
    post, hide it until a moderator decides (SPEC "Domain"). One report per reporter and post.
    Returns True when this report hid the post."""
    post, topic = _locked_post(post_id)
    _, created = Report.objects.get_or_create(
        post=post, reporter=reporter, defaults={"reason": reason, "detail": detail[:500]}
    )
    if not created or post.is_hidden or post.is_deleted:
        return False
    open_reports = Report.objects.filter(post=post, status=Report.Status.OPEN).count()
    poster_level = User.objects.filter(pk=post.poster_id).values_list("trust_level", flat=True).get()
    weighty = TRUST_LEVEL_ORDER.index(reporter.trust_level) >= TRUST_LEVEL_ORDER.index(TrustLevel.TRUSTED)
    if open_reports >= REPORTS_TO_HIDE or (weighty and poster_level == TrustLevel.NEW):
        Post.objects.filter(pk=post.pk).update(is_hidden=True)
        if post.is_approved:
            _post_became_invisible(post, topic)
        _audit(actor=None, action="post.hide", target=post, reason=f"{open_reports} report(s)")
        return True
    return False


@transaction.atomic
def reports_resolve(*, post_id: int, moderator: User, decision: str) -> None:
    """A moderator decides on a reported post: ``agree`` deletes it; ``disagree`` and ``ignore``
    show it again. Its open reports close with the decision."""
    post, topic = _locked_post(post_id)
    status = {"agree": Report.Status.AGREED, "disagree": Report.Status.DISAGREED, "ignore": Report.Status.IGNORED}[decision]
    Report.objects.filter(post=post, status=Report.Status.OPEN).update(status=status)
    if decision == "agree":
        if post.is_hidden:
            Post.objects.filter(pk=post.pk).update(is_hidden=False)
            post.is_hidden = False
            if post.is_approved:
                _post_became_visible(post, topic)
        post_delete(post=post, actor=moderator, topic=Topic.objects.get(pk=topic.pk))
    elif post.is_hidden:
        Post.objects.filter(pk=post.pk).update(is_hidden=False)
        if post.is_approved:
            _post_became_visible(post, topic)
    _audit(actor=moderator, action=f"report.{decision}", target=post)


@transaction.atomic
def topic_set_flag(*, topic: Topic, moderator: User, flag: str, value: bool, reason: str = "") -> None:
    """Lock/unlock (``flag="is_locked"``) or pin/unpin (``"is_pinned"``) a topic; audited."""
    Topic.objects.filter(pk=topic.pk).update(**{flag: value})
    verb = {"is_locked": ("lock", "unlock"), "is_pinned": ("pin", "unpin")}[flag][0 if value else 1]
    _audit(actor=moderator, action=f"topic.{verb}", target=topic, reason=reason)


def _forum_last_activity(forum_id: int) -> None:
    latest = Topic.objects.filter(forum_id=forum_id, is_approved=True, is_deleted=False, post_count__gt=0).order_by(
        "-last_post_at", "-id"
    ).values("id", "last_post_at", "last_poster_id").first()
    Forum.objects.filter(pk=forum_id).update(
        last_topic_id=latest and latest["id"], last_post_at=latest and latest["last_post_at"],
        last_poster_id=latest and latest["last_poster_id"],
    )


@transaction.atomic
def topic_move(*, topic: Topic, actor: User, to_forum: Forum, reason: str = "") -> None:
    """Move a topic to another forum; both forums' counters and last activity follow; audited."""
    from_forum_id = topic.forum_id
    if from_forum_id == to_forum.pk:
        return
    Topic.objects.filter(pk=topic.pk).update(forum=to_forum)
    if topic.is_approved:
        Forum.objects.filter(pk=from_forum_id).update(
            topic_count=F("topic_count") - 1, post_count=F("post_count") - topic.post_count
        )
        Forum.objects.filter(pk=to_forum.pk).update(
            topic_count=F("topic_count") + 1, post_count=F("post_count") + topic.post_count
        )
    _forum_last_activity(from_forum_id)
    _forum_last_activity(to_forum.pk)
    _audit(actor=actor, action="topic.move", target=topic, reason=reason, from_forum=from_forum_id, to_forum=to_forum.pk)


def forum_counters_recount() -> None:
    """Recompute the denormalized counters and last-activity columns of every topic and forum
    from their visible posts (approved, not hidden, not deleted).

    Services keep these current in the same transaction as the write; this is for bulk loads
    (``seed_demo``) and repair. Two ``UPDATE`` statements for topics, one for forums.
    """
    visible_posts = Post.objects.filter(topic=OuterRef("pk"), is_approved=True, is_hidden=False, is_deleted=False)
    latest = visible_posts.order_by("-created_at", "-id")
    Topic.objects.update(
        post_count=SubqueryCount(visible_posts),
        last_poster_id=Subquery(latest.values("poster_id")[:1]),
    )
    Topic.objects.filter(post_count__gt=0).update(last_post_at=Subquery(latest.values("created_at")[:1]))
    Topic.objects.filter(post_count=0).update(last_post_at=F("created_at"))

    visible_topics = Topic.objects.filter(forum=OuterRef("pk"), is_approved=True, is_deleted=False)
    latest_topic = visible_topics.filter(post_count__gt=0).order_by("-last_post_at", "-id")
    Forum.objects.update(
        topic_count=SubqueryCount(visible_topics),
        post_count=Coalesce(
            Subquery(visible_topics.values("forum").annotate(total=Sum("post_count")).values("total")[:1]), 0
        ),
        last_topic_id=Subquery(latest_topic.values("id")[:1]),
        last_poster_id=Subquery(latest_topic.values("last_poster_id")[:1]),
        last_post_at=Subquery(latest_topic.values("last_post_at")[:1]),
    )
