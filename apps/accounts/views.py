"""Sign-up, sign-in, sign-out and email confirmation (thin views over ``services``)."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import services
from .forms import SignInForm, SignUpForm


class SignInView(auth_views.LoginView):
    """SPEC ``/accounts/login/``: ``username`` (a username or an email), ``password``, optional
    ``next``. Django's view rotates the session key and only follows a same-site ``next``."""

    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    """SPEC ``/accounts/logout/``: POST only; ends the session and returns to the sign-in page
    with a note that it worked."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
        return response


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Show the sign-up form; on valid input always answer "check your email"."""
    if request.user.is_authenticated:
        return redirect("dashboard:index")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_sign_up(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            base_url=request.build_absolute_uri("/").rstrip("/"),
        )
        return redirect("accounts:signup-done")
    return render(request, "accounts/signup.html", {"form": form})


def signup_done(request: HttpRequest) -> HttpResponse:
    """The one answer sign-up gives, whatever happened."""
    return render(request, "accounts/signup_done.html")


def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm an email from the link sent at sign-up; a bad link gets a clear 400 page."""
    user = services.user_confirm_email(token=token)
    if user is None:
        return render(request, "accounts/confirm_email_invalid.html", status=400)
    messages.success(request, "Thanks, your email is confirmed.")
    return redirect("dashboard:index" if request.user.is_authenticated else "accounts:login")
