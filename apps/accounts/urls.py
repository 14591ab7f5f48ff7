from django.urls import path, reverse_lazy

from . import views

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
]
