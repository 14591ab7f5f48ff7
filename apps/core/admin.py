"""The audit log in the admin: read only. Rows have one writer, ``audit.audit_record``."""

from django.contrib import admin

from .models import ModerationAction


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "target_type", "target_id", "reason")
    list_filter = ("action", "target_type")
    list_select_related = ("actor",)
    readonly_fields = ("actor", "action", "target_type", "target_id", "reason", "metadata", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # The change page shows ``actor`` read-only; ``list_select_related`` covers only the
        # list, and a lazy load there is refused under the test settings' FETCH_RAISE.
        return super().get_queryset(request).select_related("actor")
