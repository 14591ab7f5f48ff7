from django.urls import path, reverse_lazy

from . import data_views, views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/done/", views.signup_done, name="signup-done"),
    path("confirm/<str:token>/", views.confirm_email, name="confirm-email"),
    path("login/", views.sign_in, name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("unlock/<str:token>/", views.unlock, name="unlock"),
    path(
        "password_change/",
        views.PasswordChangeView.as_view(success_url=reverse_lazy("dashboard:index")),
        name="password-change",
    ),
    path("settings/data/", data_views.data_settings, name="settings-data"),
    path("settings/data/export/", data_views.data_export_request, name="settings-data-export"),
    path(
        "settings/data/export/<str:public_id>/", data_views.data_export_download, name="settings-data-export-download"
    ),
    path("settings/data/delete/", data_views.account_delete, name="settings-data-delete"),
]
