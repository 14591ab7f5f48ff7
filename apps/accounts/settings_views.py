"""The settings pages under ``/accounts/settings/`` (SPEC "HTTP contract"; issue 11): profile,
email change, active sessions. The password change page is ``views.PasswordChangeView``.
Each page shows the shared sub-navigation (``settings_nav``)."""

import logging

import redis
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.ratelimit import RateLimited, rate_limit_hit, set_retry_after
from apps.core.responses import error_page, temporarily_unavailable, too_many_requests

from . import session_services, settings_selectors, settings_services, signin_services
from .permissions import get_user_session_for_user
from .settings_forms import EmailChangeForm, ProfileForm

logger = logging.getLogger(__name__)

PASSWORD_CHECK_UNAVAILABLE = "Checking your password is temporarily unavailable. Please try again in a minute."


def _see_other(url_name: str) -> HttpResponseRedirect:
    """303 after a POST (RFC 9110 section 15.4.4): the browser GETs the page again."""
    return HttpResponseRedirect(reverse(url_name), status=303)


def password_check_refused(request: HttpRequest, form) -> HttpResponse | None:
    """The answer for a form whose current-password check could not be made
    (``settings_forms.CurrentPasswordMixin``): the sign-in lock page with 429 and
    ``Retry-After`` when the account (or this IP) is locked, as sign-in answers; 503 when Redis
    is down (fail closed). ``None`` when the check was made."""
    if form.locked is not None:
        return too_many_requests(
            request,
            retry_after=form.locked.retry_after,
            template="accounts/locked.html",
            context={"scope": form.locked.scope},
        )
    if form.unavailable:
        return temporarily_unavailable(request, detail=PASSWORD_CHECK_UNAVAILABLE)
    return None


def _avatar_allowed(request: HttpRequest) -> int | None:
    """Count one avatar upload against ``AVATAR_UPLOADS_PER_HOUR`` before it is decoded; the
    seconds to wait when over it. Like the identification limit it protects the server's work,
    not an account, so a Redis failure lets the upload through (logged)."""
    try:
        rate_limit_hit(
            limits=[(settings_services.avatar_limit_key(user_id=request.user.pk), settings.AVATAR_UPLOADS_PER_HOUR)],
            window_seconds=3600,
        )
    except RateLimited as limited:
        return limited.retry_after
    except redis.RedisError:
        logger.warning("avatar upload limit skipped: Redis unavailable")
    return None


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """``/accounts/settings/``: display name, avatar, time zone, home location. Fields are
    validated first; only then is an avatar counted against the hourly limit (429 with the
    form kept) and decoded (``ProfileForm.avatar_process``, ``apps.core.uploads``). Bad input
    shows the form again with its messages and changes nothing. Success: 303 back here with a
    message."""
    user = request.user
    initial = {
        "display_name": user.display_name,
        "time_zone": user.time_zone,
        "home_latitude": user.home_latitude,
        "home_longitude": user.home_longitude,
    }
    if request.method == "GET":
        return render(request, "accounts/settings_profile.html", {"form": ProfileForm(initial=initial)})
    form = ProfileForm(request.POST, request.FILES, initial=initial)
    if form.is_valid():
        if form.cleaned_data["avatar"] and (retry_after := _avatar_allowed(request)) is not None:
            form.add_error("avatar", "You have changed your avatar many times this hour. Please try again later.")
            response = render(request, "accounts/settings_profile.html", {"form": form}, status=429)
            set_retry_after(response, retry_after)
            return response
        if form.avatar_process():
            settings_services.profile_update(
                user=user,
                display_name=form.cleaned_data["display_name"],
                time_zone=form.cleaned_data["time_zone"],
                home_latitude=form.cleaned_data["home_latitude"],
                home_longitude=form.cleaned_data["home_longitude"],
                avatar=form.cleaned_data["avatar"] or None,
                avatar_remove=form.cleaned_data["avatar_remove"],
            )
            messages.success(request, "Your profile is saved.")
            return _see_other("accounts:settings")
    return render(request, "accounts/settings_profile.html", {"form": form})


@login_required
@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def email_change(request: HttpRequest) -> HttpResponse:
    """``/accounts/settings/email/``: ``email`` (the new address) and ``password`` (the current
    one, counted by the sign-in lockout: 429 when locked, 503 when Redis is down). A valid
    request sends a confirmation link to the new address (or, if it has an account, a message
    saying so) and a notice to the current one, and answers the same either way; at most
    ``EMAIL_CHANGE_LIMIT_PER_USER`` (5) an hour (429)."""
    user = request.user
    form = EmailChangeForm(request.POST if request.method == "POST" else None, user=user, request=request)
    if request.method == "POST":
        if form.is_valid():
            try:
                limit = settings_services.email_change_limit_key(user_id=user.pk)
                rate_limit_hit(
                    limits=[(limit, settings.EMAIL_CHANGE_LIMIT_PER_USER)],
                    window_seconds=settings.EMAIL_CHANGE_WINDOW_SECONDS,
                )
            except RateLimited as limited:
                return too_many_requests(
                    request, retry_after=limited.retry_after, detail="You have asked for many email changes this hour."
                )
            except redis.RedisError:
                return temporarily_unavailable(request)
            new_email = form.cleaned_data["email"]
            settings_services.email_change_request(
                user=user, new_email=new_email, base_url=request.build_absolute_uri("/").rstrip("/")
            )
            messages.success(
                request,
                f"We have sent a message to {new_email}. Open the link in it to confirm the change; "
                f"until then your address stays {user.email}.",
            )
            return _see_other("accounts:settings-email")
        if refused := password_check_refused(request, form):
            return refused
    return render(request, "accounts/settings_email.html", {"form": form})


def _link_hours() -> dict:
    return {"hours": settings.EMAIL_CHANGE_MAX_AGE_SECONDS // 3600}


@never_cache
@require_http_methods(["GET", "POST"])
def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """``/accounts/settings/email/confirm/<token>/``, the link sent to the new address. GET
    shows the change and a button and changes nothing (mail scanners open links too); POST
    applies it and answers 303 (to the email settings when signed in, else to sign-in). A bad,
    expired, used or voided link answers 400 on either method; an address taken since the link
    was sent answers 400 saying so. No sign-in needed: the link proves the new address, and
    the current password was checked when the change was asked for."""
    if request.method == "GET":
        change = settings_selectors.email_change_for_token(token=token)
        if change is None:
            return error_page(request, 400, template="accounts/email_change_invalid.html", context=_link_hours())
        return render(request, "accounts/settings_email_confirm.html", {"new_email": change.new_email})
    outcome = settings_services.email_change_confirm(token=token)
    if not outcome.applied:
        return error_page(
            request,
            400,
            template="accounts/email_change_invalid.html",
            context={"taken": outcome.reason == "taken", **_link_hours()},
        )
    messages.success(request, f"Your email address is now {outcome.email}.")
    return _see_other("accounts:settings-email" if request.user.is_authenticated else "accounts:login")


@login_required
@never_cache
@require_GET
def sessions(request: HttpRequest) -> HttpResponse:
    """``/accounts/settings/sessions/``: every signed-in browser and app (API token family) with
    its device, coarse network, sign-in time and last seen; revoke one, or all but this
    browser. Two SQL statements with the user lookup, whatever the number of sessions."""
    rows = settings_selectors.active_sessions_for_user(
        user=request.user, current_session_key=request.session.session_key
    )
    return render(request, "accounts/settings_sessions.html", rows)


@login_required
@require_POST
def session_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """POST ``/accounts/settings/sessions/<pk>/revoke/``: end one of your browsers (its next
    request is signed out) or revoke one app's token family (its tokens fail at once). Someone
    else's or an unknown record: 404. This browser: 400 (sign out instead). 303 back."""
    record = get_user_session_for_user(user=request.user, pk=pk)
    if record.session_id and record.session_id == request.session.session_key:
        return error_page(
            request, 400, detail="That is the browser you are using. To end this session, use “Sign out”."
        )
    session_services.session_revoke(record=record)
    messages.success(request, f"Signed out: {record.device}.")
    return _see_other("accounts:settings-sessions")


@login_required
@require_POST
def sessions_revoke_others(request: HttpRequest) -> HttpResponse:
    """POST ``/accounts/settings/sessions/revoke-others/``: "Sign out everywhere else". Every
    other browser is signed out and every token family revoked; this browser stays signed in
    with a fresh token family (no token cookies if Redis is down). 303 back."""
    count = session_services.sessions_revoke_others(user=request.user, current_session_key=request.session.session_key)
    response = _see_other("accounts:settings-sessions")
    try:
        pair = signin_services.tokens_start(user=request.user)
    except signin_services.SecurityUnavailable:
        signin_services.delete_token_cookies(response)
    else:
        signin_services.session_tokens_remember(session=request.session, pair=pair)
        signin_services.set_token_cookies(response, pair)
    browsers = f"{count} other browser{'s' if count != 1 else ''}"
    messages.success(request, f"Signed out everywhere else: {browsers}, and every app.")
    return response
