"""Forums, topics, posts and reports. Counters are kept by services with ``F()`` updates."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from apps.core.models import PortalManager


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
    poster = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="topics")
    subject = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    is_approved = models.BooleanField(default=True)
    is_locked = models.BooleanField(default=False)
    is_pinned = models.BooleanField(default=False)
    is_deleted = models.BooleanField(default=False)
    last_post_at = models.DateTimeField(default=timezone.now)
    last_poster = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    post_count = models.PositiveIntegerField(default=0, help_text="Approved, visible posts.")

    objects = PortalManager()

    class Meta:
        indexes = [
            # Topic list: visible topics of a forum, pinned first, then by last activity.
            models.Index(
                fields=["forum", "-is_pinned", "-last_post_at", "-id"],
                condition=models.Q(is_approved=True, is_deleted=False),
                name="forum_topic_list",
            ),
            models.Index(fields=["poster", "-created_at"], name="forum_topic_poster_recent"),
        ]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("forum:topic-detail", kwargs={"pk": self.pk})


class Post(models.Model):
    """One message of a topic: Markdown source and the sanitized HTML rendered when saved."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="posts")
    poster = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    source = models.TextField(max_length=20000)
    html = models.TextField()
    is_opening_post = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(null=True, blank=True)
    is_approved = models.BooleanField(default=True)
    is_hidden = models.BooleanField(default=False, help_text="Hidden by reports until a moderator decides.")
    is_deleted = models.BooleanField(default=False)
    rejection_reason = models.CharField(max_length=500, blank=True, help_text="Shown to the author.")
    image = models.ImageField(upload_to="forum/%Y/%m/", blank=True)
    edit_count = models.PositiveIntegerField(default=0)

    objects = PortalManager()

    @property
    def is_rejected(self) -> bool:
        return bool(self.rejection_reason) and not self.is_approved

    class Meta:
        indexes = [
            models.Index(fields=["topic", "created_at", "id"], name="forum_post_topic_order"),
            models.Index(fields=["poster", "-created_at"], name="forum_post_poster_recent"),
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
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    detail = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PortalManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "reporter"], name="forum_report_one_per_reporter")
        ]
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


class Notification(models.Model):
    """An in-app notification: a reply to your topic or an @mention of you."""

    class Kind(models.TextChoices):
        REPLY = "reply", "Reply"
        MENTION = "mention", "Mention"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = PortalManager()

    class Meta:
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"], condition=models.Q(read_at__isnull=True), name="forum_notif_unread"
            ),
            models.Index(fields=["recipient", "-created_at"], name="forum_notif_recent"),
        ]
