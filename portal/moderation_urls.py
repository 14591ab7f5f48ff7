"""``/moderation/...``: moderators' pages, gathered from the apps that own them."""

from django.urls import path

from apps.accounts import moderation_views as account_moderation
from apps.forum import moderation_views as forum_moderation

app_name = "moderation"

urlpatterns = [
    path("", forum_moderation.review_queue, name="queue"),
    path("posts/<int:pk>/approve/", forum_moderation.post_approve, name="post-approve"),
    path("posts/<int:pk>/reject/", forum_moderation.post_reject, name="post-reject"),
    path("posts/<int:pk>/reports/<slug:decision>/", forum_moderation.reports_decide, name="reports-decide"),
    path("posts/<int:pk>/edit/<slug:decision>/", forum_moderation.post_edit_decide, name="edit-decide"),
    path("log/", forum_moderation.moderation_log, name="log"),
    path("lockouts/", account_moderation.lockout_list, name="lockouts"),
    path("lockouts/clear/", account_moderation.lockout_clear, name="lockout-clear"),
]
