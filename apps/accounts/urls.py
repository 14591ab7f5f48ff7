from django.urls import path, reverse_lazy

from . import data_views, settings_views, views, views_two_factor

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/done/", views.signup_done, name="signup-done"),
    path("confirmation/resend/", views.confirmation_resend, name="confirmation-resend"),
    path("confirm/<str:token>/", views.confirm_email, name="confirm-email"),
    path("login/", views.sign_in, name="login"),
    path("login/two-factor/", views_two_factor.sign_in_second_step, name="login-two-factor"),
    path("logout/", views.sign_out, name="logout"),
    path("unlock/<str:token>/", views.unlock, name="unlock"),
    path(
        "password_change/",
        views.PasswordChangeView.as_view(success_url=reverse_lazy("accounts:password-change")),
        name="password-change",
    ),
    # Settings (issue 11); the sub-navigation is apps/accounts/settings_nav.py.
    path("settings/", settings_views.profile, name="settings"),
    path("settings/email/", settings_views.email_change, name="settings-email"),
    path("settings/email/confirm/<str:token>/", settings_views.email_change_confirm, name="settings-email-confirm"),
    path("settings/sessions/", settings_views.sessions, name="settings-sessions"),
    path("settings/sessions/<int:pk>/revoke/", settings_views.session_revoke, name="settings-session-revoke"),
    path(
        "settings/sessions/revoke-others/",
        settings_views.sessions_revoke_others,
        name="settings-sessions-revoke-others",
    ),
    path("settings/two-factor/", views_two_factor.two_factor_settings, name="two-factor"),
    path(
        "settings/two-factor/confirm-password/",
        views_two_factor.two_factor_password_confirm,
        name="two-factor-confirm-password",
    ),
    path("settings/two-factor/setup/", views_two_factor.two_factor_setup, name="two-factor-setup"),
    path("settings/two-factor/enable/", views_two_factor.two_factor_enable, name="two-factor-enable"),
    path("settings/two-factor/disable/", views_two_factor.two_factor_disable, name="two-factor-disable"),
    path(
        "settings/two-factor/recovery-codes/",
        views_two_factor.two_factor_recovery_codes,
        name="two-factor-recovery-codes",
    ),
    path("settings/data/", data_views.data_settings, name="settings-data"),
    path("settings/data/export/", data_views.data_export_request, name="settings-data-export"),
    path(
        "settings/data/export/<str:public_id>/", data_views.data_export_download, name="settings-data-export-download"
    ),
    path("settings/data/delete/", data_views.account_delete, name="settings-data-delete"),
]
