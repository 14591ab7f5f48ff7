"""Forums, topics, posts and reports, and the one visibility rule every read path uses.

Visibility (SPEC "Domain"; issue 9): authors see their own held or hidden posts; moderators
see everything in place; everyone else sees approved, not hidden, not deleted posts in topics
that are approved, not deleted and whose opening post is itself visible. Deleted rows are kept
for the audit log and shown to nobody. The rule is written once, as ``topic_visibility`` and
``post_visibility`` below, and reached through ``Topic.objects.visible_to(viewer)`` and
``Post.objects.visible_to(viewer)``.

Counters and last activity are denormalized; ``apps.forum.recount`` defines them and the
services in ``apps.forum.services`` keep them equal to it in the same transaction as each write.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.core.models import PortalManager, PortalQuerySet
from apps.core.permissions import is_moderator
from apps.core.uploads import RandomName

# A public topic: what every viewer sees and what forum counters and last activity count.
PUBLIC_TOPIC = Q(is_approved=True, is_hidden=False, is_deleted=False)
# A public post (topic counters count these; the topic must be public too for forum counters).
PUBLIC_POST = Q(is_approved=True, is_hidden=False, is_deleted=False)
# Not deleted but not public either (held, rejected or hidden): what authors and moderators see
# beyond the public rows. Written positively so a partial index on it can serve the counts.
WAITING_TOPIC = Q(is_deleted=False) & (Q(is_approved=False) | Q(is_hidden=True))
WAITING_POST = Q(is_deleted=False) & (Q(is_approved=False) | Q(is_hidden=True))


def _signed_in(viewer) -> bool:
    return viewer is not None and viewer.is_authenticated


def _prefixed(prefix: str, **lookups) -> Q:
    return Q(**{f"{prefix}{name}": value for name, value in lookups.items()})


def topic_visibility(viewer, *, prefix: str = "") -> Q:
    """The condition for topics ``viewer`` may see (``None`` or an anonymous user: signed
    out). ``prefix`` applies it through a relation (``"topic__"`` from a post).

    Moderators: every topic that is not deleted. Others: public topics (``PUBLIC_TOPIC``) and
    their own that are not deleted. Costs the moderator check (``is_moderator``: the flag on the
    user row, so no query)."""
    not_deleted = _prefixed(prefix, is_deleted=False)
    if _signed_in(viewer) and is_moderator(viewer):
        return not_deleted
    visible = _prefixed(prefix, is_approved=True, is_hidden=False)
    if _signed_in(viewer):
        visible |= _prefixed(prefix, poster=viewer.pk)
    return not_deleted & visible


def post_visibility(viewer, *, prefix: str = "") -> Q:
    """The condition for posts ``viewer`` may see: the post itself (public, or their own, or
    anything for a moderator; never deleted) and its topic (``topic_visibility``). ``prefix``
    applies it through a relation (``"post__"``)."""
    not_deleted = _prefixed(prefix, is_deleted=False)
    if _signed_in(viewer) and is_moderator(viewer):
        own = not_deleted
    else:
        visible = _prefixed(prefix, is_approved=True, is_hidden=False)
        if _signed_in(viewer):
            visible |= _prefixed(prefix, poster=viewer.pk)
        own = not_deleted & visible
    return own & topic_visibility(viewer, prefix=f"{prefix}topic__")


def post_version(*, source: str, pending_source: str) -> str:
    """A short fingerprint (16 hex characters) of what a moderator reviews: a post's text and
    its pending edit. The review queue sends it with each decision and the services refuse a
    decision made on another version, so a gardener cannot swap the text between review and
    approval."""
    digest = hashlib.sha256(f"{source}\x00{pending_source}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


class TopicQuerySet(PortalQuerySet):
    def visible_to(self, viewer) -> "TopicQuerySet":
        """Topics ``viewer`` may see (``topic_visibility``)."""
        return self.filter(topic_visibility(viewer))

    def public(self) -> "TopicQuerySet":
        """Topics everyone sees; what forum counters count."""
        return self.filter(PUBLIC_TOPIC)


class PostQuerySet(PortalQuerySet):
    def visible_to(self, viewer) -> "PostQuerySet":
        """Posts ``viewer`` may see, their topic's visibility included (``post_visibility``)."""
        return self.filter(post_visibility(viewer))

    def public(self) -> "PostQuerySet":
        """Posts everyone sees in a public topic."""
        return self.filter(PUBLIC_POST, topic__is_approved=True, topic__is_hidden=False, topic__is_deleted=False)


class TopicManager(PortalManager.from_queryset(TopicQuerySet)):
    pass


class PostManager(PortalManager.from_queryset(PostQuerySet)):
    pass


class Forum(models.Model):
    """A board of topics, e.g. "Houseplants" or "Pests and diseases"."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    topic_count = models.PositiveIntegerField(default=0)
    post_count = models.PositiveIntegerField(default=0)
    last_post_at = models.DateTimeField(null=True, blank=True)
    last_topic = models.ForeignKey("Topic", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_poster = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PortalManager()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("forum:forum-detail", kwargs={"slug": self.slug})


class Topic(models.Model):
    """A conversation in a forum; its first post is the opening post."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="topics")
    # PROTECT: deleting a user must never take other gardeners' replies with their topics; an
    # account is deleted by anonymizing it (``apps.accounts.personal_data.account_delete``).
    poster = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="topics")
    subject = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    is_approved = models.BooleanField(default=True)
    is_locked = models.BooleanField(default=False)
    is_pinned = models.BooleanField(default=False)
    is_deleted = models.BooleanField(default=False)
    is_hidden = models.BooleanField(default=False, help_text="Its opening post is hidden by reports.")
    last_post_at = models.DateTimeField(default=timezone.now)
    last_poster = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    post_count = models.PositiveIntegerField(default=0, help_text="Public posts (approved, not hidden, not deleted).")

    objects = TopicManager()

    class Meta:
        indexes = [
            # Topic list: a forum's topics, pinned first, then by last activity. The condition is
            # only "not deleted" so that every viewer's visibility filter (public, or their own,
            # or everything for moderators) can walk it in order.
            models.Index(
                fields=["forum", "-is_pinned", "-last_post_at", "-id"],
                condition=models.Q(is_deleted=False),
                name="forum_topic_list",
            ),
            # A forum's last activity: its latest public topic (services and the recount).
            models.Index(
                fields=["forum", "-last_post_at", "-id"],
                condition=models.Q(is_approved=True, is_hidden=False, is_deleted=False),
                name="forum_topic_latest_public",
            ),
            # The public home's latest topics, across forums (issue 15).
            models.Index(
                fields=["-last_post_at", "-id"],
                condition=models.Q(is_approved=True, is_hidden=False, is_deleted=False),
                name="forum_topic_public_recent",
            ),
            models.Index(fields=["poster", "-created_at"], name="forum_topic_poster_recent"),
            # Topics only their author and moderators see (few): the forum page's count of them.
            models.Index(fields=["forum", "poster"], condition=WAITING_TOPIC, name="forum_topic_waiting"),
            # Deleted topics (few): the review queue's counts skip posts in them with an
            # anti-join over this index instead of scanning every live topic.
            models.Index(fields=["id"], condition=models.Q(is_deleted=True), name="forum_topic_deleted"),
        ]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("forum:topic-detail", kwargs={"pk": self.pk})


class Post(models.Model):
    """One message of a topic: Markdown source and the sanitized HTML rendered when saved."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="posts")
    poster = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts")
    source = models.TextField(max_length=20000)
    html = models.TextField()
    is_opening_post = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(null=True, blank=True)
    is_approved = models.BooleanField(default=True)
    is_hidden = models.BooleanField(default=False, help_text="Hidden by reports until a moderator decides.")
    is_deleted = models.BooleanField(default=False)
    rejection_reason = models.CharField(max_length=500, blank=True, help_text="Shown to the author.")
    image = models.ImageField(upload_to=RandomName("forum"), blank=True)
    edit_count = models.PositiveIntegerField(default=0)
    # An edit by a `new` gardener of an already approved post waits for review; the approved
    # text above stays public until a moderator decides (issue 9, "Writing rules").
    pending_source = models.TextField(max_length=20000, blank=True)
    pending_html = models.TextField(blank=True)
    pending_at = models.DateTimeField(null=True, blank=True)
    edit_rejection_reason = models.CharField(max_length=500, blank=True, help_text="Shown to the author.")

    objects = PostManager()

    @property
    def is_rejected(self) -> bool:
        return bool(self.rejection_reason) and not self.is_approved

    @property
    def has_pending_edit(self) -> bool:
        return self.pending_at is not None

    class Meta:
        indexes = [
            models.Index(fields=["topic", "created_at", "id"], name="forum_post_topic_order"),
            models.Index(fields=["poster", "-created_at"], name="forum_post_poster_recent"),
            # The forum-stats panel's last-30-days counts (issue 13): an index-only range per
            # gardener over their live posts, the opening-post flag carried in the index.
            models.Index(
                fields=["poster", "created_at"],
                include=["is_opening_post"],
                condition=models.Q(is_deleted=False),
                name="forum_post_poster_live",
            ),
            models.Index(
                fields=["created_at"],
                condition=models.Q(is_approved=False, is_deleted=False, rejection_reason=""),
                name="forum_post_pending_queue",
            ),
            models.Index(
                fields=["created_at"],
                condition=models.Q(is_hidden=True, is_deleted=False),
                name="forum_post_hidden_queue",
            ),
            models.Index(
                fields=["pending_at"],
                condition=models.Q(pending_at__isnull=False, is_deleted=False),
                name="forum_post_edit_queue",
            ),
        ]

    def __str__(self):
        return f"Post #{self.pk}"

    def get_absolute_url(self):
        return reverse("forum:post-permalink", kwargs={"pk": self.pk})


class Report(models.Model):
    """A gardener's report of a post that breaks the rules."""

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        ABUSE = "abuse", "Abuse"
        OFF_TOPIC = "off_topic", "Off-topic"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        AGREED = "agreed", "Agreed"
        DISAGREED = "disagreed", "Disagreed"
        IGNORED = "ignored", "Ignored"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reports")
    # PROTECT: a report may be what keeps someone else's post hidden; it outlives its reporter.
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    detail = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PortalManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "reporter"], name="forum_report_one_per_reporter")]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(status="open"), name="forum_report_open"),
        ]


class PostRevision(models.Model):
    """An earlier version of an edited post (edits are recorded, Discourse-style)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    previous_source = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = PortalManager()

    class Meta:
        indexes = [models.Index(fields=["post", "-created_at"], name="forum_revision_post")]
