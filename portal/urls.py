"""Root URLs. Each app's paths are namespaced (``plants:request-detail``)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from apps.accounts import api as account_api
from apps.accounts import views as account_views
from apps.core import views as core_views
from apps.dashboard import views as dashboard_views
from apps.notifications import preferences_views as notification_preferences_views

password_reset_urls = [
    path(
        "password_reset/",
        account_views.RateLimitedPasswordResetView.as_view(
            template_name="accounts/password_reset_form.html",
            email_template_name="accounts/email/password_reset.txt",
            subject_template_name="accounts/email/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        account_views.LockClearingPasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    # In the accounts settings area, but the notifications app's page (accounts never imports it).
    path(
        "accounts/settings/notifications/",
        notification_preferences_views.notification_settings,
        name="notification-settings",
    ),
    path("accounts/", include("apps.accounts.urls")),
    path("accounts/", include(password_reset_urls)),
    path("dashboard/", include("apps.dashboard.urls")),
    path("plants/", include("apps.plants.urls")),
    path("forum/", include("apps.forum.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("moderation/", include("portal.moderation_urls")),
    path("u/<str:username>/", dashboard_views.profile, name="profile"),
    path("api/auth/token/", account_api.token_obtain, name="api-token"),
    path("api/auth/token/refresh/", account_api.token_refresh, name="api-token-refresh"),
    path("api/auth/token/revoke/", account_api.token_revoke, name="api-token-revoke"),
    path("api/me/", account_api.me, name="api-me"),
    path("api/dashboard/stats/", dashboard_views.stats_api, name="api-dashboard-stats"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"

if settings.SERVE_MEDIA:
    # Local and test runs serve uploaded media from MEDIA_ROOT; production serves them from the
    # storage backend (a web server or an S3-compatible bucket), never from Django.
    from django.urls import re_path
    from django.views.static import serve

    def serve_media(request, path):
        # MEDIA_ROOT is read per request so tests that give each test its own folder work.
        return serve(request, path, document_root=settings.MEDIA_ROOT)

    urlpatterns += [re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", serve_media)]
