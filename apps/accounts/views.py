"""Sign-up, sign-in, sign-out, email confirmation, unlock links and password flows."""

import logging
import math

import redis
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.client_ip import client_ip
from apps.core.ratelimit import RateLimited, limit_key, rate_limit_hit
from apps.core.responses import error_page, temporarily_unavailable, too_many_requests

from . import lockout, selectors, services, signin_services, two_factor
from .forms import SignInForm, SignUpForm
from .settings_forms import LockoutPasswordChangeForm
from .settings_views import password_check_refused
from .signin_services import SecurityUnavailable

logger = logging.getLogger(__name__)
BACKEND = "apps.accounts.backends.UsernameOrEmailBackend"


def _safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


SIGN_IN_UNAVAILABLE = (
    "Signing in is temporarily unavailable. Please try again in a minute; if you are already signed in, the rest of "
    "the portal keeps working."
)


def _unavailable(request: HttpRequest) -> HttpResponse:
    """503 while the security store is down: sign-in, sign-up, unlock and reset fail closed."""
    return temporarily_unavailable(request, detail=SIGN_IN_UNAVAILABLE)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """SPEC ``/accounts/login/``: ``username`` (a username or an email), ``password``, optional
    ``next`` (followed only when it stays on this site). A plain form POST; on success the
    session key is rotated and the two token cookies are set. Locked: 429 with ``Retry-After``;
    Redis down: 503. A two-factor account's right password leads to the second step
    (``views_two_factor.sign_in_second_step``) instead, signed in only after the code."""
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = SignInForm(request.POST if request.method == "POST" else None, request=request)
    if request.method == "POST":
        if form.is_valid():
            if form.needs_second_factor:
                return _second_step_begin(request, user=form.user, next_url=next_url)
            try:
                pair = signin_services.tokens_start(user=form.user)
            except SecurityUnavailable:
                return _unavailable(request)
            login(request, form.user, backend=BACKEND)
            signin_services.session_tokens_remember(session=request.session, pair=pair)
            response = redirect(next_url or settings.LOGIN_REDIRECT_URL)
            signin_services.set_token_cookies(response, pair)
            return response
        if form.locked is not None:
            return too_many_requests(
                request,
                retry_after=form.locked.retry_after,
                template="accounts/locked.html",
                context={"scope": form.locked.scope},
            )
        if form.unavailable:
            return _unavailable(request)
    return render(request, "accounts/login.html", {"form": form, "next": next_url or ""})


def _second_step_begin(request: HttpRequest, *, user, next_url: str | None) -> HttpResponse:
    """After a two-factor account's right password: remember "password verified for this user,
    now" in a session with a new key and send the browser to the second step. No ``login()`` and
    no token cookies yet, so every signed-in page and API call still treats the browser as
    signed out. A browser signed in as someone else is signed out first (its token family
    revoked), as switching accounts does."""
    response = redirect("accounts:login-two-factor")
    if request.user.is_authenticated:
        signin_services.session_tokens_revoke(session=request.session)
        logout(request)
        signin_services.delete_token_cookies(response)
    else:
        request.session.cycle_key()
    two_factor.pending_sign_in_start(session=request.session, user_id=user.pk, next_url=next_url or "")
    return response


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """SPEC ``/accounts/logout/``: POST only; ends the session, revokes this browser's token
    family (other devices stay signed in), clears the token cookies."""
    signin_services.session_tokens_revoke(session=request.session)
    logout(request)
    messages.info(request, "You are signed out.")
    response = redirect(settings.LOGOUT_REDIRECT_URL)
    signin_services.delete_token_cookies(response)
    return response


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Show the sign-up form; on valid input always answer "check your email". At most
    ``SIGNUP_LIMIT_PER_IP`` (5) sign-ups an hour per client IP (429 beyond)."""
    if request.user.is_authenticated:
        return redirect("dashboard:index")
    form = SignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            rate_limit_hit(
                limits=[(limit_key("signup:ip", client_ip(request)), settings.SIGNUP_LIMIT_PER_IP)],
                window_seconds=settings.SIGNUP_WINDOW_SECONDS,
            )
        except RateLimited as limited:
            return too_many_requests(request, retry_after=limited.retry_after)
        except redis.RedisError:
            return _unavailable(request)
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


@never_cache
@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """The confirmation link sent at sign-up (``/accounts/confirm/<token>/``, ``token`` the
    signed value from ``services.email_confirmation_token``).

    GET shows a page with a "Confirm my email" button and changes nothing (SPEC "Bad input": a
    GET never changes state; mail scanners and link previews open links too); POST confirms
    and answers 303 to the dashboard (signed in) or the sign-in page, with a message. A
    tampered, expired or outdated link gets a clear 400 page on either method; an address
    already confirmed says so on GET and needs no button."""
    if request.method == "GET":
        user = selectors.user_for_email_confirmation(token=token)
        if user is None:
            return error_page(request, 400, template="accounts/confirm_email_invalid.html")
        return render(
            request, "accounts/confirm_email.html", {"already_confirmed": user.email_confirmed_at is not None}
        )
    user = services.user_confirm_email(token=token)
    if user is None:
        return error_page(request, 400, template="accounts/confirm_email_invalid.html")
    messages.success(request, "Thanks, your email is confirmed.")
    target = "dashboard:index" if request.user.is_authenticated else "accounts:login"
    return HttpResponseRedirect(reverse(target), status=303)


@login_required
@require_POST
def confirmation_resend(request: HttpRequest) -> HttpResponse:
    """``POST /accounts/confirmation/resend/``: email the signed-in gardener a new confirmation
    link (``services.email_confirmation_send``, the email sign-up sends) and answer 303 to
    ``next`` when it stays on this site, else the dashboard, with a message. At most
    ``CONFIRMATION_RESEND_LIMIT_PER_USER`` (3) an hour per gardener: 429 with ``Retry-After``
    beyond, nothing sent; Redis down: 503, nothing sent. An address already confirmed sends
    nothing and counts nothing."""
    target = _safe_next(request, request.POST.get("next")) or reverse("dashboard:index")
    user = request.user
    if user.is_email_confirmed:
        messages.info(request, "Your email address is already confirmed.")
        return HttpResponseRedirect(target, status=303)
    try:
        rate_limit_hit(
            limits=[(limit_key("confirm-resend:user", str(user.pk)), settings.CONFIRMATION_RESEND_LIMIT_PER_USER)],
            window_seconds=settings.CONFIRMATION_RESEND_WINDOW_SECONDS,
        )
    except RateLimited as limited:
        detail = (
            f"We already sent the confirmation email {settings.CONFIRMATION_RESEND_LIMIT_PER_USER} times recently. "
            f"Please check your inbox and spam folder, or ask again in {math.ceil(limited.retry_after / 60)} minutes."
        )
        return too_many_requests(request, retry_after=limited.retry_after, detail=detail)
    except redis.RedisError:
        return temporarily_unavailable(
            request, detail="Sending the confirmation email is temporarily unavailable. Please try again in a minute."
        )
    services.email_confirmation_send(user=user, base_url=request.build_absolute_uri("/").rstrip("/"))
    days = selectors.EMAIL_CONFIRMATION_MAX_AGE_SECONDS // 86400
    messages.success(request, f"We sent a new confirmation link to {user.email}. It works for {days} days.")
    return HttpResponseRedirect(target, status=303)


@require_http_methods(["GET", "POST"])
def unlock(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time unlock link from the lock email. GET shows a button (so mail scanners that
    open links do not use it up); POST unlocks. A used or unknown link gets a clear 400 page."""
    if request.method == "GET":
        return render(request, "accounts/unlock.html", {"token": token})
    try:
        unlocked = signin_services.account_unlock_with_token(token=token)
    except SecurityUnavailable:
        return _unavailable(request)
    if not unlocked:
        return error_page(request, 400, template="accounts/unlock_invalid.html")
    messages.success(request, "Your account is unlocked. You can sign in now.")
    return redirect("accounts:login")


class RateLimitedPasswordResetView(auth_views.PasswordResetView):
    """Django's reset-by-email, limited to ``PASSWORD_RESET_LIMIT_PER_IP`` (5) an hour per IP
    and ``PASSWORD_RESET_LIMIT_PER_EMAIL`` (3) per address (SPEC); answers the same whether
    or not the address has an account. Works while the account is locked."""

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        try:
            rate_limit_hit(
                limits=[
                    (limit_key("reset:ip", client_ip(self.request)), settings.PASSWORD_RESET_LIMIT_PER_IP),
                    (limit_key("reset:email", email), settings.PASSWORD_RESET_LIMIT_PER_EMAIL),
                ],
                window_seconds=settings.PASSWORD_RESET_WINDOW_SECONDS,
            )
        except RateLimited as limited:
            return too_many_requests(self.request, retry_after=limited.retry_after)
        except redis.RedisError:
            return _unavailable(self.request)
        return super().form_valid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the password (``/accounts/password_change/``, the settings' "Password" page):
    every refresh token family of the user is revoked (``User.save``) and other sessions end
    (Django's session auth hash); this browser stays signed in with a fresh token family.

    The current password is checked under the sign-in lockout
    (``settings_forms.LockoutPasswordChangeForm``): wrong guesses count on the account's one
    counter, so after ``LOCKOUT_FAILURE_LIMIT`` of them this page, like sign-in, answers 429
    with ``Retry-After`` (and sign-in is locked too); Redis down: 503."""

    template_name = "accounts/password_change_form.html"
    form_class = LockoutPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        return password_check_refused(self.request, form) or super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        try:
            pair = signin_services.tokens_start(user=self.request.user)
        except SecurityUnavailable:
            signin_services.delete_token_cookies(response)
            return response
        signin_services.session_tokens_remember(session=self.request.session, pair=pair)
        signin_services.set_token_cookies(response, pair)
        messages.success(self.request, "Your password is changed. Other devices have been signed out.")
        return response


class LockClearingPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset confirmation; a completed reset also ends a sign-in lock on the account:
    following the emailed link proves ownership of the address as the unlock link does."""

    def form_valid(self, form):
        response = super().form_valid(form)
        try:
            lockout.lock_clear(key=f"user:{form.user.pk}")
        except redis.RedisError:
            logger.warning("could not clear the lock of user %s after a reset", form.user.pk)
        return response
