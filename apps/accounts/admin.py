from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .data_services import account_erase
from .models import User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ("username", "email", "trust_level", "is_staff", "date_joined")
    list_filter = ("trust_level", "is_staff", "is_active")
    fieldsets = UserAdmin.fieldsets + (
        (
            "Portal",
            {
                "fields": (
                    "trust_level",
                    "trust_level_set_by_moderator",
                    "email_confirmed_at",
                    "approved_post_count",
                    "post_count",
                    "topic_count",
                    "identification_request_count",
                    "identified_plant_count",
                    "care_card_count",
                )
            },
        ),
    )

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
