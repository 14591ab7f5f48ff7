"""One list of notifications for every domain (SPEC "Domain": forum replies and mentions,
identification events), with a generic target so this app knows no forum or plants model.

A notification points at its target by strings the writing domain chooses:
- ``group_key`` groups the list ("forum.topic:12", "plants.request:34"); the list shows one
  entry per group, titled ``group_title``, linking to ``url`` (the latest notification's).
- ``target_key`` names the object it is about ("forum.post:123", "plants.suggestion:9"), so
  the domain's services can hide it (``is_visible``) when that object is held, hidden or
  deleted, and show it again when it comes back (SPEC "Domain", "Visibility": notifications
  follow the one visibility rule).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.models import PortalManager


class NotificationKind(models.TextChoices):
    """What happened. The labels name the kind on the notification settings page."""

    REPLY = "reply", "Replies to your topics"
    MENTION = "mention", "Mentions of you"
    SUGGESTION = "suggestion", "A name suggested for your plant"
    AGREEMENT = "agreement", "Agreement with a name on your plant"
    DISAGREEMENT = "disagreement", "Disagreement with a name on your plant"
    CONSENSUS = "consensus", "Community consensus on your plant"
    MACHINE_RESULT = "machine_result", "Machine suggestions arrived"
    MACHINE_FAILED = "machine_failed", "Machine suggestions unavailable"
    ACCEPTED = "accepted", "Your suggestion accepted"


class Notification(models.Model):
    """Something that happened for ``recipient``, done by ``actor`` (``None`` for the
    machine or a deleted account), about ``target_key``, shown in group ``group_key``."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    group_key = models.CharField(max_length=80)
    group_title = models.CharField(max_length=200)
    url = models.CharField(max_length=300)
    target_key = models.CharField(max_length=80)
    detail = models.CharField(max_length=200, blank=True, help_text='e.g. the name agreed with: "Monstera deliciosa"')
    is_visible = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = PortalManager()

    class Meta:
        indexes = [
            # The badge: a range of the recipient's unread, visible rows.
            models.Index(
                fields=["recipient", "-created_at"],
                condition=models.Q(read_at__isnull=True, is_visible=True),
                name="notif_unread_visible",
            ),
            models.Index(fields=["recipient", "group_key", "-created_at"], name="notif_recipient_group"),
            # Domains flip visibility or delete by target or group.
            models.Index(fields=["target_key"], name="notif_target"),
            models.Index(fields=["group_key"], name="notif_group"),
        ]

    def __str__(self):
        return f"{self.kind} for user #{self.recipient_id} ({self.group_key})"
