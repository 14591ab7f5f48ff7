"""The user admin. Maintained counters are read-only; a trust level chosen here goes through
``services.trust_level_set_by_moderator`` (audited, and kept by automatic promotion)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .data_services import account_erase
from .models import USER_COUNTERS, User
from .services import trust_level_set_by_moderator


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ("username", "email", "trust_level", "is_staff", "date_joined")
    list_filter = ("trust_level", "is_staff", "is_active")
    readonly_fields = ("trust_level_set_by_moderator", "email_confirmed_at", *USER_COUNTERS)
    fieldsets = UserAdmin.fieldsets + (
        ("Portal", {"fields": ("trust_level", "trust_level_set_by_moderator", "email_confirmed_at", *USER_COUNTERS)}),
    )

    def save_model(self, request, obj, form, change):
        """Save the other fields as Django does; a changed trust level is then set through the
        service, so it is audited with the admin user as the moderator and marked as set by a
        moderator. A new user keeps the level chosen on the add form (nothing to audit yet)."""
        if not change or "trust_level" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        chosen = obj.trust_level
        obj.trust_level = form.initial["trust_level"]
        super().save_model(request, obj, form, change)
        trust_level_set_by_moderator(user_id=obj.pk, level=chosen, moderator=request.user, reason="Set in the admin")
        obj.refresh_from_db(fields=["trust_level", "trust_level_set_by_moderator"])

    actions = ["accounts_erase"]

    @admin.action(description="Delete the selected accounts as gardeners delete their own (posts kept, anonymized)")
    def accounts_erase(self, request, queryset):
        """Django's own delete is refused for an account with topics, posts, reports or votes
        (``on_delete=PROTECT``: it would take other gardeners' replies with it); this action
        runs ``data_services.account_erase`` on each, as the gardener's own deletion does."""
        erased = 0
        for user_id in queryset.values_list("pk", flat=True):
            account_erase(user_id=user_id)
            erased += 1
        self.message_user(request, f"{erased} account(s) deleted and anonymized; their forum posts stay.")
