"""Shared model plumbing (the manager every project model uses) and the audit log."""

from django.conf import settings
from django.db import models


class PortalQuerySet(models.QuerySet):
    """Base queryset of the project's models (a place for shared query helpers)."""


class PortalManager(models.Manager.from_queryset(PortalQuerySet)):
    """Default manager that applies ``settings.PORTAL_DEFAULT_FETCH_MODE``.

    Django 6.1 has no global fetch-mode switch, so the test settings make ``FETCH_RAISE`` the
    default here: a selector that forgets ``select_related``/``prefetch_related``/``only`` and
    lets a template walk a relation raises ``FieldFetchBlocked`` instead of adding queries
    (SPEC "Query budgets"). Production keeps ``FETCH_ONE``.
    """

    def get_queryset(self):
        return super().get_queryset().fetch_mode(settings.PORTAL_DEFAULT_FETCH_MODE)


class ModerationAction(models.Model):
    """Audit log entry: who did what to which object, when and why (SPEC "Domain")."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40)
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PortalManager()

    class Meta:
        indexes = [
            models.Index(fields=["-created_at"], name="core_modaction_recent"),
            # The moderation log's action filter: a rare action's newest entries are an index
            # range in page order, not a walk through the whole log. (The actor filter uses the
            # foreign key's index: one actor's rows are few, or common enough for the one above.)
            models.Index(fields=["action", "-created_at", "-id"], name="core_modaction_action_recent"),
        ]
        permissions = [("use_moderation_tools", "Can use the moderation tools (review queue, lockouts, log)")]

    def __str__(self):
        return f"{self.action} {self.target_type}#{self.target_id}"
