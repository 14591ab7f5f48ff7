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


class NotificationDelivery(models.TextChoices):
    """How a gardener hears of one kind of notification, besides the list and badge (which
    show every kind whatever is chosen here)."""

    SITE = "site", "In the site only"
    IMMEDIATE = "immediate", "Email at once"
    DIGEST = "digest", "Daily digest"


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
    # Email delivery (issue 12): the recipient's choice for this kind when it was made, so a
    # later change of mind applies to what comes next (the settings save moves rows still
    # waiting; ``preferences_services``). ``emailed_at``: sent in an at-once email. ``digest``:
    # claimed by that day's digest, so the next day's does not repeat it.
    email_delivery = models.CharField(
        max_length=10, choices=NotificationDelivery.choices, default=NotificationDelivery.SITE, db_default="site"
    )
    emailed_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey(
        "NotificationDigest", null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )

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
            # send_notification_digests: who has something waiting for a digest.
            models.Index(
                fields=["recipient"],
                condition=models.Q(email_delivery="digest", digest__isnull=True, read_at__isnull=True, is_visible=True),
                name="notif_digest_waiting",
            ),
        ]

    def __str__(self):
        return f"{self.kind} for user #{self.recipient_id} ({self.group_key})"


# --- Email delivery (issue 12) -----------------------------------------------------------------


# The choice for a kind the gardener never set (no ``NotificationPreference`` row). Taken from
# what members of the communities this site follows already get without asking:
# - Discourse emails replies to your topics and @-mentions of you as they happen (its default
#   "email me when I am away"; we cannot know "away", so at once);
# - iNaturalist batches identification activity on your observations (suggestions, agreements,
#   disagreements, a community taxon) into one updates email rather than one each, so those,
#   and a suggestion of yours accepted, go in the daily digest;
# - the machine's result arrives seconds after the upload, while the gardener is looking at the
#   request page, so an email would only repeat the page: site only.
NOTIFICATION_DELIVERY_DEFAULTS: dict[str, str] = {
    NotificationKind.REPLY: NotificationDelivery.IMMEDIATE,
    NotificationKind.MENTION: NotificationDelivery.IMMEDIATE,
    NotificationKind.SUGGESTION: NotificationDelivery.DIGEST,
    NotificationKind.AGREEMENT: NotificationDelivery.DIGEST,
    NotificationKind.DISAGREEMENT: NotificationDelivery.DIGEST,
    NotificationKind.CONSENSUS: NotificationDelivery.DIGEST,
    NotificationKind.ACCEPTED: NotificationDelivery.DIGEST,
    NotificationKind.MACHINE_RESULT: NotificationDelivery.SITE,
    NotificationKind.MACHINE_FAILED: NotificationDelivery.SITE,
}


class NotificationPreference(models.Model):
    """``user``'s choice of ``delivery`` for notifications of ``kind``. At most one per user and
    kind; no row means ``NOTIFICATION_DELIVERY_DEFAULTS[kind]``. Written by the settings page
    (``/accounts/settings/notifications/``), which saves every kind at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    delivery = models.CharField(max_length=10, choices=NotificationDelivery.choices)

    objects = PortalManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notif_pref_user_kind_uniq"),
            models.CheckConstraint(
                condition=models.Q(delivery__in=NotificationDelivery.values), name="notif_pref_delivery_valid"
            ),
        ]

    def __str__(self):
        return f"{self.kind}: {self.delivery} for user #{self.user_id}"


class NotificationDigest(models.Model):
    """The one daily digest email of ``user`` for their ``local_date`` (the date in their time
    zone when it was claimed). The unique constraint on (user, local_date) is the idempotence
    key: whichever run of ``send_notification_digests`` inserts the row first sends that day's
    email, every other run (the same hour again, another machine at once) finds the row taken
    and sends nothing. The notifications it lists point at it (``Notification.digest``).
    ``sent_at`` is set when the email went; ``notification_count`` is how many it listed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    notification_count = models.PositiveIntegerField(default=0)

    objects = PortalManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "local_date"], name="notif_digest_user_date_uniq"),
        ]

    def __str__(self):
        return f"digest of {self.local_date} for user #{self.user_id}"
