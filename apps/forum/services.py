"""Forum writes: topics and replies, edits (with review for `new` gardeners), soft deletes, the
review queue, reports, trust levels and moderator tools.

Every transition runs through ``_TopicTransition``: it locks the topic, then its forum(s), in
that order (so writers never deadlock), reads the states of the posts it may change, lets the
transition change rows, and then settles the denormalized state in the same transaction:
the topic's flags, counters and last activity recomputed from its rows (one topic, cheap); the
forum's counters moved by the difference between the topic's public contribution before and
after; the forum's last activity re-read from its latest public topic (an index lookup); each
affected user's counters moved by the difference of their posts' states. The definitions are
``apps.forum.recount``'s; ``manage.py forum_recount --check`` proves services keep them.
Every moderation step is recorded by ``apps.core.audit.audit_record`` in the same transaction.
When a transition changes whether a post or its topic is public, the notifications about the
topic's posts are shown or hidden to match (``_notification_visibility_sync``), in the same
transaction.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import TrustLevel, User
from apps.accounts.panel_versions import panel_versions_bump
from apps.accounts.services import trust_level_promote
from apps.core.audit import audit_record
from apps.core.permissions import is_moderator
from apps.core.uploads import stored_files_delete_on_commit
from apps.notifications.models import NotificationKind
from apps.notifications.services import notifications_send, notifications_visibility_set

from .markdown import mentioned_usernames, render_markdown
from .models import Forum, Post, PostRevision, Report, Topic, post_version
from .recount import forum_state_recount, topic_expectations

# SPEC "Domain": 3 reports hide a post; 1 from a `trusted`+ gardener hides a `new` gardener's post.
REPORTS_TO_HIDE = 3
MENTIONS_NOTIFIED_MAX = 20

_POST_STATE_FIELDS = ("id", "poster_id", "is_opening_post", "is_approved", "is_hidden", "is_deleted")


class TopicClosed(Exception):
    """The topic was deleted, or locked, after the writer opened it: checked again under the
    topic's row lock, so no reply lands in a deleted topic or, from a gardener, a locked one."""


class PostChanged(Exception):
    """A moderator's decision named a version of the post (``post_version``) that is no longer
    its text: the author edited it after the moderator looked. Nothing was decided."""


def _check_version(post: Post, seen: str | None) -> None:
    if seen is not None and seen != post_version(source=post.source, pending_source=post.pending_source):
        raise PostChanged("The post changed after you opened the review queue.")


@dataclass(frozen=True)
class _PostState:
    poster_id: int
    is_opening_post: bool
    is_approved: bool
    is_hidden: bool
    is_deleted: bool


@dataclass(frozen=True)
class _TopicContribution:
    """What a topic adds to its forum's counters: nothing unless it is public."""

    forum_id: int
    public: bool
    post_count: int

    @classmethod
    def of(cls, topic: Topic) -> "_TopicContribution":
        public = topic.is_approved and not topic.is_hidden and not topic.is_deleted
        return cls(forum_id=topic.forum_id, public=public, post_count=topic.post_count if public else 0)


def _post_states(topic_id: int, post_ids: list[int] | None) -> dict[int, _PostState]:
    rows = Post.objects.filter(topic_id=topic_id)
    if post_ids is not None:
        rows = rows.filter(pk__in=post_ids)
    return {row[0]: _PostState(*row[1:]) for row in rows.values_list(*_POST_STATE_FIELDS)}


def _user_counter_deltas(before: dict[int, _PostState], after: dict[int, _PostState]) -> dict[int, list[int]]:
    """``{user_id: [topic_count, post_count, approved_post_count]}`` changes between two
    snapshots of the same posts (a post missing from ``before`` is new)."""
    deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for states, sign in ((before, -1), (after, 1)):
        for state in states.values():
            if state.is_deleted:
                continue
            delta = deltas[state.poster_id]
            delta[0] += sign * state.is_opening_post
            delta[1] += sign
            delta[2] += sign * state.is_approved
    return {user_id: delta for user_id, delta in deltas.items() if any(delta)}


def _topic_for_update(topic_id: int) -> Topic:
    return (
        Topic.objects.select_for_update()
        .only(
            "id",
            "forum_id",
            "poster_id",
            "subject",
            "is_approved",
            "is_hidden",
            "is_deleted",
            "is_locked",
            "is_pinned",
            "post_count",
            "created_at",
        )
        .get(pk=topic_id)
    )


def _forum_last_activity_refresh(forum_id: int) -> None:
    latest = Topic.objects.public().filter(forum_id=forum_id).order_by("-last_post_at", "-id")
    row = latest.values("id", "last_poster_id", "last_post_at").first() or {}
    Forum.objects.filter(pk=forum_id).update(
        last_topic_id=row.get("id"), last_poster_id=row.get("last_poster_id"), last_post_at=row.get("last_post_at")
    )


class _TopicTransition:
    """One transition of one topic, as a context manager inside ``transaction.atomic``.

    ``post_ids``: the posts the transition may change or create (``None``: all of the topic's).
    ``to_forum_id``: the forum the topic moves to, if it moves. On entry the topic and the
    forum rows are locked (topic first, forums by id) and the "before" states read; on exit
    everything derived is settled (see the module docstring). ``topic`` holds the locked row.
    """

    def __init__(
        self, topic_id: int, *, post_ids: list[int] | None = None, to_forum_id: int | None = None, new: bool = False
    ):
        self.topic_id = topic_id
        self.post_ids = post_ids
        self.to_forum_id = to_forum_id
        # A topic created in this transaction has no opening post yet: it contributed nothing.
        self.new = new

    def __enter__(self) -> "_TopicTransition":
        self.topic = _topic_for_update(self.topic_id)
        forum_ids = sorted({self.topic.forum_id, self.to_forum_id or self.topic.forum_id})
        list(Forum.objects.select_for_update().filter(pk__in=forum_ids).order_by("pk").values_list("pk", flat=True))
        self.before = _TopicContribution.of(self.topic)
        if self.new:
            self.before = _TopicContribution(forum_id=self.topic.forum_id, public=False, post_count=0)
        self.posts_before = _post_states(self.topic_id, self.post_ids)
        self.topic_state_before = _topic_state(self.topic)
        self.subject_before = self.topic.subject
        return self

    def track(self, post_id: int) -> None:
        """Include a post created during the transition in the user-counter settlement."""
        if self.post_ids is not None:
            self.post_ids.append(post_id)

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:
            return
        Topic.objects.filter(pk=self.topic_id).update(**topic_expectations())
        self.topic = _topic_for_update(self.topic_id)
        after = _TopicContribution.of(self.topic)
        _forum_counters_move(self.before, after)
        posts_after = _post_states(self.topic_id, self.post_ids)
        if _topic_state(self.topic) != self.topic_state_before:
            _notification_visibility_sync(topic=self.topic)
        else:
            before = self.posts_before
            changed = {
                post_id: state
                for post_id, state in posts_after.items()
                if post_id in before and _is_public_state(before[post_id]) != _is_public_state(state)
            }
            if changed:
                _notification_visibility_sync(topic=self.topic, posts=changed)
        for user_id, (topics, posts, approved) in sorted(_user_counter_deltas(self.posts_before, posts_after).items()):
            User.objects.filter(pk=user_id).update(
                topic_count=F("topic_count") + topics,
                post_count=F("post_count") + posts,
                approved_post_count=F("approved_post_count") + approved,
            )
        self._panel_versions_bump(posts_after)

    def _panel_versions_bump(self, posts_after: dict[int, _PostState]) -> None:
        """Bump the dashboard panel version (issue 13) of everyone whose panels this transition
        changed: a change to the topic itself (visibility, forum, subject) reaches every poster
        in it, whose recent activity names the topic; otherwise the posters of the posts that
        were created or changed state. Edits of text and locks or pins show on no panel."""
        topic = self.topic
        topic_changed = (
            _topic_state(topic) != self.topic_state_before
            or topic.forum_id != self.before.forum_id
            or topic.subject != self.subject_before
        )
        if topic_changed:
            panel_versions_bump(user_ids=Post.objects.filter(topic_id=self.topic_id).values("poster_id"))
            return
        changed = [state.poster_id for post_id, state in posts_after.items() if self.posts_before.get(post_id) != state]
        panel_versions_bump(user_ids=changed)


def _topic_state(topic: Topic) -> tuple[bool, bool, bool]:
    return (topic.is_approved, topic.is_hidden, topic.is_deleted)


def _is_public_state(state: _PostState) -> bool:
    return state.is_approved and not state.is_hidden and not state.is_deleted


def _forum_counters_move(before: _TopicContribution, after: _TopicContribution) -> None:
    changes: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for contribution, sign in ((before, -1), (after, 1)):
        changes[contribution.forum_id][0] += sign * contribution.public
        changes[contribution.forum_id][1] += sign * contribution.post_count
    for forum_id, (topics, posts) in sorted(changes.items()):
        if topics or posts:
            Forum.objects.filter(pk=forum_id).update(
                topic_count=F("topic_count") + topics, post_count=F("post_count") + posts
            )
        _forum_last_activity_refresh(forum_id)


def _is_public(post: Post) -> bool:
    return post.is_approved and not post.is_hidden and not post.is_deleted


# --- Notifications -------------------------------------------------------------------------


def _notification_keys(*, topic_id: int, post_id: int) -> tuple[str, str]:
    return f"forum.topic:{topic_id}", f"forum.post:{post_id}"


def _sees_public_post(*, recipient_id: int, topic: Topic) -> bool:
    """Whether gardener ``recipient_id`` (not a moderator, not the post's author: nobody is
    notified of their own post) may see a public post of ``topic`` by the one visibility rule
    (``models.post_visibility``): the topic is public, or it is theirs and not deleted."""
    if topic.is_deleted:
        return False
    return (topic.is_approved and not topic.is_hidden) or topic.poster_id == recipient_id


def _notification_visibility_sync(*, topic: Topic, posts: dict[int, _PostState] | None = None) -> None:
    """Show or hide the notifications about ``topic``'s posts (those of ``posts``, their
    states after the transition, when given; every post of the topic otherwise) so that each
    one's ``is_visible`` says whether its recipient may see the post by the one visibility rule
    (``models.post_visibility``, SPEC "Visibility"), as a gardener who is not a moderator and
    not the post's author sees it: a public post in a public topic, for everyone; a public post
    in a held or hidden (not deleted) topic, for the topic's author only; nothing else, for
    nobody. Called by ``_TopicTransition`` whenever a transition changes a post's or its
    topic's public state; ``_notify`` applies the same rule to new rows. At most one SELECT
    and three UPDATEs.

    Moderators see held and hidden posts in place, but their notifications follow the same
    flag: moderator rights come and go without a forum transition to recompute it."""
    if posts is None:
        posts = _post_states(topic.pk, None)
    public_keys, hidden_keys = [], []
    for post_id, state in posts.items():
        public = _is_public_state(state) and not topic.is_deleted
        (public_keys if public else hidden_keys).append(f"forum.post:{post_id}")
    notifications_visibility_set(target_keys=hidden_keys, visible=False)
    if topic.is_approved and not topic.is_hidden:
        notifications_visibility_set(target_keys=public_keys, visible=True)
    else:
        # A held or hidden topic: only its author still sees it (and its public posts).
        notifications_visibility_set(target_keys=public_keys, visible=False)
        notifications_visibility_set(target_keys=public_keys, visible=True, recipient_ids=[topic.poster_id])


def _active_users_named(names: set[str]) -> QuerySet:
    """Active gardeners whose username is one of ``names`` (lowercased, as
    ``markdown.mentioned_usernames`` gives them), in any letter case; unevaluated."""
    query = Q()
    for name in names:
        query |= Q(username__iexact=name)
    return User.objects.filter(query, is_active=True)


def mention_targets(source: str) -> dict[str, str]:
    """``{lowercased name: username}`` of the active gardeners ``source`` (a post's Markdown)
    mentions, for ``render_markdown(source, mentions=…)``. One statement when the post
    mentions anyone, none otherwise; an unknown or inactive name is left out (its ``@name``
    stays text)."""
    names = mentioned_usernames(source)
    if not names:
        return {}
    return {username.lower(): username for username in _active_users_named(names).values_list("username", flat=True)}


def _render(source: str) -> str:
    """A post's HTML as stored: its Markdown rendered with its ``@mentions`` linked."""
    return render_markdown(source, mentions=mention_targets(source))


def _notify(post: Post, topic: Topic) -> None:
    """Notifications for a post that just became public for the first time: the topic's author
    (a reply) and every @mentioned gardener (mentions outside code and links, see
    ``markdown.mentioned_usernames``), never the post's own author, one per person. Written
    through ``apps.notifications`` (group: the topic; target: the post; link: its permalink),
    shown only to those who may see the post now (``_sees_public_post``: a mention in a reply
    to a held topic waits, hidden, until the topic is approved)."""
    recipients: dict[int, str] = {}
    if not post.is_opening_post and topic.poster_id != post.poster_id:
        recipients[topic.poster_id] = NotificationKind.REPLY
    names = mentioned_usernames(post.source)
    if names:
        mentioned = (
            _active_users_named(names)
            .exclude(pk=post.poster_id)
            .order_by("id")
            .values_list("id", flat=True)[:MENTIONS_NOTIFIED_MAX]
        )
        for user_id in mentioned:
            recipients.setdefault(user_id, NotificationKind.MENTION)
    batches: dict[tuple[str, bool], list[int]] = defaultdict(list)
    for user_id, kind in recipients.items():
        batches[(kind, _sees_public_post(recipient_id=user_id, topic=topic))].append(user_id)
    group_key, target_key = _notification_keys(topic_id=topic.pk, post_id=post.pk)
    for (kind, visible), user_ids in sorted(batches.items()):
        notifications_send(
            recipient_ids=user_ids,
            actor_id=post.poster_id,
            kind=kind,
            group_key=group_key,
            group_title=topic.subject,
            url=post.get_absolute_url(),
            target_key=target_key,
            visible=visible,
            created_at=post.created_at,
        )


def _first_published(post: Post, topic: Topic) -> None:
    """What follows a post's first publication (created public, or approved): the author's
    trust level may rise, and readers are notified."""
    trust_level_promote(user_id=post.poster_id)
    _notify(post, topic)


# --- Writing -------------------------------------------------------------------------------


@transaction.atomic
def topic_create(*, forum: Forum, poster: User, subject: str, source: str, image=None, publish: bool) -> Topic:
    """Start a topic in ``forum`` with its opening post (Markdown ``source``; ``image`` an
    already checked upload or ``None``). ``publish`` (``permissions.publishes_at_once``) false
    puts both in the review queue. Returns the topic."""
    now = timezone.now()
    topic = Topic.objects.create(
        forum=forum,
        poster=poster,
        subject=subject,
        created_at=now,
        last_post_at=now,
        last_poster=poster,
        is_approved=publish,
    )
    with _TopicTransition(topic.pk, post_ids=[], new=True) as transition:
        post = Post.objects.create(
            topic=topic,
            poster=poster,
            source=source,
            html=_render(source),
            is_opening_post=True,
            created_at=now,
            is_approved=publish,
            image=image or "",
        )
        transition.track(post.pk)
    if publish:
        _first_published(post, topic)
    return transition.topic


@transaction.atomic
def reply_create(*, topic: Topic, poster: User, source: str, image=None, publish: bool) -> Post:
    """Reply to ``topic``; held in the review queue unless ``publish``. Returns the post.

    Raises ``TopicClosed`` when, under the topic's row lock, the topic turns out deleted, or
    locked and ``poster`` is not a moderator (the view's checks ran before the lock)."""
    with _TopicTransition(topic.pk, post_ids=[]) as transition:
        if transition.topic.is_deleted or (transition.topic.is_locked and not is_moderator(poster)):
            raise TopicClosed("This topic was closed or deleted a moment ago; your reply was not posted.")
        post = Post.objects.create(
            topic_id=topic.pk,
            poster=poster,
            source=source,
            html=_render(source),
            created_at=timezone.now(),
            is_approved=publish,
            image=image or "",
        )
        transition.track(post.pk)
    if publish:
        _first_published(post, transition.topic)
    return post


def _post_for_update(post_id: int) -> Post:
    return (
        Post.objects.select_for_update()
        .only(
            "id",
            "topic_id",
            "poster_id",
            "source",
            "is_opening_post",
            "is_approved",
            "is_hidden",
            "is_deleted",
            "rejection_reason",
            "created_at",
            "pending_source",
            "pending_at",
            "image",
        )
        .get(pk=post_id)
    )


def _audit_post(*, actor: User | None, action: str, post: Post, reason: str = "", **metadata) -> None:
    audit_record(
        actor=actor,
        action=action,
        target_type="post",
        target_id=post.pk,
        reason=reason,
        metadata={"topic_id": post.topic_id, **metadata},
    )


@transaction.atomic
def post_edit(*, post_id: int, editor: User, source: str, review: bool) -> bool:
    """Replace post ``post_id``'s Markdown with ``source``; the previous text is kept as a
    ``PostRevision``. With ``review`` (a `new` gardener editing a post others can already see;
    ``permissions.edit_needs_review``) the new text waits in the review queue as a pending
    edit and the approved text stays public until a moderator decides. Returns True when the
    edit was applied at once. A direct edit by the author replaces their own pending edit; a
    moderator's direct edit leaves a pending edit waiting for its decision. Raises
    ``TopicClosed`` when the post was deleted meanwhile."""
    with _TopicTransition(_post_topic_id(post_id), post_ids=[post_id]):
        post = _post_for_update(post_id)
        if post.is_deleted:
            raise TopicClosed("This post was deleted a moment ago.")
        if review:
            Post.objects.filter(pk=post.pk).update(
                pending_source=source,
                pending_html=_render(source),
                pending_at=timezone.now(),
                edit_rejection_reason="",
            )
            return False
        _apply_edit(post=post, editor_id=editor.pk, source=source, clear_pending=editor.pk == post.poster_id)
    return True


def _apply_edit(*, post: Post, editor_id: int, source: str, clear_pending: bool) -> None:
    PostRevision.objects.create(post=post, editor_id=editor_id, previous_source=post.source)
    pending = {"pending_source": "", "pending_html": "", "pending_at": None} if clear_pending else {}
    Post.objects.filter(pk=post.pk).update(
        source=source,
        html=_render(source),
        updated_at=timezone.now(),
        edit_count=F("edit_count") + 1,
        **pending,
    )


def _post_topic_id(post_id: int) -> int:
    return Post.objects.filter(pk=post_id).values_list("topic_id", flat=True).get()


@transaction.atomic
def post_edit_decide(
    *, post_id: int, moderator: User, approve: bool, reason: str = "", seen: str | None = None
) -> bool:
    """A moderator approves (the pending text replaces the public one, recorded as a revision
    by its author) or rejects (the pending text is dropped; ``reason`` is shown to the author)
    a pending edit. Audited (``post.edit_approve`` / ``post.edit_reject``). Returns False when
    there was no pending edit (already decided), changing nothing. ``seen`` is the
    ``post_version`` the moderator reviewed; another version raises ``PostChanged``."""
    with _TopicTransition(_post_topic_id(post_id), post_ids=[post_id]):
        post = _post_for_update(post_id)
        if post.pending_at is None or post.is_deleted:
            return False
        _check_version(post, seen)
        if approve:
            _apply_edit(post=post, editor_id=post.poster_id, source=post.pending_source, clear_pending=True)
        else:
            Post.objects.filter(pk=post.pk).update(
                pending_source="",
                pending_html="",
                pending_at=None,
                edit_rejection_reason=reason or "Declined by a moderator.",
            )
        _audit_post(
            actor=moderator, action="post.edit_approve" if approve else "post.edit_reject", post=post, reason=reason
        )
    return True


@transaction.atomic
def post_delete(*, post_id: int, actor: User, reason: str = "") -> int:
    """Soft-delete post ``post_id``. Deleting the opening post deletes the topic and every
    reply in it. A moderator deleting someone else's post is audited (``post.delete``, or
    ``topic.delete`` with the number of replies). The deleted posts' images are unlinked and
    their files removed after commit: a deleted post is shown to nobody, so its image must
    not stay reachable at its URL (SPEC "Bad input"). Returns how many replies went with the
    topic (0 for a reply). Deleting an already deleted post changes nothing."""
    return _post_delete(post_id=post_id, actor=actor, reason=reason, audited=True)


def _post_delete(*, post_id: int, actor: User, reason: str, audited: bool) -> int:
    topic_id = _post_topic_id(post_id)
    with _TopicTransition(topic_id, post_ids=None) as transition:
        post = _post_for_update(post_id)
        if post.is_deleted:
            return 0
        images = [post.image.name]
        if post.is_opening_post:
            going = Post.objects.filter(topic_id=topic_id, is_deleted=False).exclude(pk=post.pk)
            images += going.exclude(image="").values_list("image", flat=True)
            replies = going.update(is_deleted=True, image="")
        else:
            replies = 0
        Post.objects.filter(pk=post.pk).update(is_deleted=True, image="")
        stored_files_delete_on_commit(images)
        if audited and actor.pk != post.poster_id:
            if post.is_opening_post:
                audit_record(
                    actor=actor,
                    action="topic.delete",
                    target_type="topic",
                    target_id=topic_id,
                    reason=reason,
                    metadata={"replies": replies, "subject": transition.topic.subject[:80]},
                )
            else:
                _audit_post(actor=actor, action="post.delete", post=post, reason=reason)
    return replies


# --- Review queue --------------------------------------------------------------------------


@transaction.atomic
def post_approve(*, post_id: int, moderator: User, seen: str | None = None) -> bool:
    """Approve a held post (an opening post approves its topic): it becomes visible, counts for
    its author's trust level, and notifies. Audited. Returns False (changing nothing) when it
    was already approved or deleted, so approving twice counts once; approving a rejected post
    (a moderator changing their mind) approves it and clears the reason. ``seen`` is the
    ``post_version`` the moderator reviewed; another version raises ``PostChanged``."""
    with _TopicTransition(_post_topic_id(post_id), post_ids=[post_id]) as transition:
        post = _post_for_update(post_id)
        if post.is_approved or post.is_deleted:
            return False
        _check_version(post, seen)
        Post.objects.filter(pk=post.pk).update(is_approved=True, rejection_reason="")
        _audit_post(actor=moderator, action="post.approve", post=post)
    post.is_approved = True
    if _is_public(post):
        _first_published(post, transition.topic)
    else:
        trust_level_promote(user_id=post.poster_id)
    return True


@transaction.atomic
def post_reject(*, post_id: int, moderator: User, reason: str, seen: str | None = None) -> bool:
    """Reject a held post with ``reason`` (shown to its author); it stays invisible to everyone
    else. Audited. Returns False when it was already decided or deleted; ``seen`` as for
    ``post_approve``."""
    with _TopicTransition(_post_topic_id(post_id), post_ids=[post_id]):
        post = _post_for_update(post_id)
        if post.is_approved or post.is_deleted or post.rejection_reason:
            return False
        _check_version(post, seen)
        Post.objects.filter(pk=post.pk).update(rejection_reason=reason)
        _audit_post(actor=moderator, action="post.reject", post=post, reason=reason)
    return True


@transaction.atomic
def report_create(*, post_id: int, reporter: User, reason: str, detail: str) -> bool:
    """``reporter`` reports post ``post_id`` (one report per reporter and post; a second is
    ignored). The post is hidden until a moderator decides when it has ``REPORTS_TO_HIDE`` (3)
    open reports, or when the reporter is `trusted` or higher and the post's author is `new`
    (SPEC "Domain"). Hiding is audited (``post.hide``, no actor). Returns True when this report
    hid the post."""
    with _TopicTransition(_post_topic_id(post_id), post_ids=[post_id]):
        post = _post_for_update(post_id)
        if post.is_deleted:
            return False
        _, created = Report.objects.get_or_create(
            post_id=post.pk, reporter=reporter, defaults={"reason": reason, "detail": detail[:500]}
        )
        if not created or post.is_hidden:
            return False
        open_reports = Report.objects.filter(post_id=post.pk, status=Report.Status.OPEN).count()
        poster_level = User.objects.filter(pk=post.poster_id).values_list("trust_level", flat=True).get()
        weighty = TrustLevel(reporter.trust_level) >= TrustLevel.TRUSTED
        if not (open_reports >= REPORTS_TO_HIDE or (weighty and poster_level == TrustLevel.NEW)):
            return False
        Post.objects.filter(pk=post.pk).update(is_hidden=True)
        reason_text = f"{open_reports} report{'s' if open_reports != 1 else ''}"
        if open_reports < REPORTS_TO_HIDE:
            reason_text = "a report from a Trusted gardener"
        _audit_post(actor=None, action="post.hide", post=post, reason=reason_text)
    return True


REPORT_DECISIONS = {
    "agree": Report.Status.AGREED,
    "disagree": Report.Status.DISAGREED,
    "ignore": Report.Status.IGNORED,
}


@transaction.atomic
def reports_resolve(*, post_id: int, moderator: User, decision: str, reason: str = "", seen: str | None = None) -> bool:
    """A moderator decides on post ``post_id``'s open reports: ``agree`` deletes the post (the
    whole topic for an opening post); ``disagree`` and ``ignore`` show it again if reports had
    hidden it. Only this post's open reports close, with the decision. Audited
    (``report.<decision>``). Returns False (changing nothing) when it has no open reports;
    ``seen`` as for ``post_approve``."""
    status = REPORT_DECISIONS[decision]
    with _TopicTransition(_post_topic_id(post_id), post_ids=None):
        post = _post_for_update(post_id)
        if post.is_deleted:
            return False
        _check_version(post, seen)
        closed = Report.objects.filter(post_id=post.pk, status=Report.Status.OPEN).update(status=status)
        if not closed:
            return False
        if decision != "agree":
            Post.objects.filter(pk=post.pk).update(is_hidden=False)
        _audit_post(actor=moderator, action=f"report.{decision}", post=post, reason=reason, reports=closed)
    if decision == "agree":
        _post_delete(post_id=post.pk, actor=moderator, reason=reason, audited=False)
    return True


# --- Moderator tools -----------------------------------------------------------------------

TOPIC_FLAG_ACTIONS = {
    "lock": ("is_locked", True),
    "unlock": ("is_locked", False),
    "pin": ("is_pinned", True),
    "unpin": ("is_pinned", False),
}


@transaction.atomic
def topic_flag_set(*, topic_id: int, moderator: User, action: str, reason: str = "") -> bool:
    """Lock, unlock, pin or unpin (``action``, a key of ``TOPIC_FLAG_ACTIONS``) topic
    ``topic_id``; audited as ``topic.<action>`` with the optional ``reason``. Returns False
    (nothing recorded) when the topic already was in that state."""
    flag, value = TOPIC_FLAG_ACTIONS[action]
    with _TopicTransition(topic_id, post_ids=[]) as transition:
        if getattr(transition.topic, flag) == value:
            return False
        Topic.objects.filter(pk=topic_id).update(**{flag: value})
        audit_record(actor=moderator, action=f"topic.{action}", target_type="topic", target_id=topic_id, reason=reason)
    return True


@transaction.atomic
def topic_move(*, topic_id: int, actor: User, to_forum: Forum, reason: str = "") -> bool:
    """Move topic ``topic_id`` to ``to_forum``; both forums' counters and last activity
    follow. Audited (``topic.move``). Returns False when it already is there."""
    with _TopicTransition(topic_id, post_ids=[], to_forum_id=to_forum.pk) as transition:
        from_forum_id = transition.topic.forum_id
        if from_forum_id == to_forum.pk:
            return False
        Topic.objects.filter(pk=topic_id).update(forum=to_forum)
        audit_record(
            actor=actor,
            action="topic.move",
            target_type="topic",
            target_id=topic_id,
            reason=reason,
            metadata={"from_forum": from_forum_id, "to_forum": to_forum.pk},
        )
    return True


def forum_counters_recount() -> None:
    """Rewrite every derived forum field from the rows (bulk loads such as ``seed_demo``, and
    repair); see ``apps.forum.recount.forum_state_recount``."""
    forum_state_recount()
