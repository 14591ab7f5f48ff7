"""``/moderation/...``: moderators' pages, gathered from the apps that own them."""

from django.urls import path

from apps.accounts import moderation_views as account_moderation

app_name = "moderation"

urlpatterns = [
    path("lockouts/", account_moderation.lockout_list, name="lockouts"),
    path("lockouts/clear/", account_moderation.lockout_clear, name="lockout-clear"),
]
