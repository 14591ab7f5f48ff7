from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

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
