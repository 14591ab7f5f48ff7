"""Two-factor sign-in pages: the sign-in form's second step and the settings page that turns it
on and off (README "Two-factor sign-in")."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.client_ip import client_ip
from apps.core.responses import too_many_requests

from . import signin_services, two_factor
from .forms import PasswordConfirmForm, SecondFactorForm, TotpConfirmForm
from .lockout import SignInLocked
from .signin_services import InvalidCredentials, PendingSignInStale, SecurityUnavailable
from .views import BACKEND, _unavailable

WRONG_CODE = "That code is not right or was already used. Enter the newest code your app shows, or a recovery code."
CONFIRM_FIRST = "Confirm your password first: changes to two-factor sign-in need it from the last few minutes."


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _locked(request: HttpRequest, locked: SignInLocked) -> HttpResponse:
    return too_many_requests(
        request, retry_after=locked.retry_after, template="accounts/locked.html", context={"scope": locked.scope}
    )


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_second_step(request: HttpRequest) -> HttpResponse:
    """``/accounts/login/two-factor/``: ``code``, an authenticator code or a recovery code, for
    the account whose password the sign-in form verified in this session within
    ``TWO_FACTOR_PENDING_SECONDS`` (5 min). A right code signs in as the form does (``login()``
    rotates the session key, the two token cookies are set) and goes to the ``next`` the form
    was given. A wrong or reused code shows the form again (200) and counts as a failed
    sign-in; a lock answers 429 with ``Retry-After``; Redis down 503. Without a pending step
    (none, expired, or the password changed since), back to the sign-in page (with ``next``,
    as every signed-in page sends a signed-out visitor; signed in: the dashboard)."""
    pending = two_factor.pending_sign_in(session=request.session)
    if pending is None:
        if two_factor.SESSION_PENDING_KEY in request.session:
            two_factor.pending_sign_in_clear(session=request.session)
            messages.info(request, "That sign-in took too long. Please sign in again.")
        if request.user.is_authenticated:
            return redirect(settings.LOGIN_REDIRECT_URL)
        return redirect_to_login(request.get_full_path())
    form = SecondFactorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = signin_services.second_factor_attempt(
                user_id=pending["user_id"],
                verified_at=pending["at"],
                code=form.cleaned_data["code"],
                ip=client_ip(request),
                base_url=_base_url(request),
            )
            pair = signin_services.tokens_start(user=user)
        except PendingSignInStale:
            two_factor.pending_sign_in_clear(session=request.session)
            messages.info(request, "Please sign in again.")
            return redirect("accounts:login")
        except InvalidCredentials:
            form.add_error("code", WRONG_CODE)
        except SignInLocked as locked:
            two_factor.pending_sign_in_clear(session=request.session)
            return _locked(request, locked)
        except SecurityUnavailable:
            return _unavailable(request)
        else:
            two_factor.pending_sign_in_clear(session=request.session)
            login(request, user, backend=BACKEND)
            signin_services.session_tokens_remember(session=request.session, pair=pair)
            response = redirect(pending["next"] or settings.LOGIN_REDIRECT_URL)
            signin_services.set_token_cookies(response, pair)
            return response
    return render(request, "accounts/login_two_factor.html", {"form": form})


# --- Settings -------------------------------------------------------------------------------


def _settings_page(request: HttpRequest, *, password_form=None, confirm_form=None, status: int = 200) -> HttpResponse:
    user = request.user
    state = two_factor.two_factor_status(user=user)
    confirmed = two_factor.password_recently_confirmed(session=request.session)
    secret = two_factor.setup_secret(session=request.session, user=user) if confirmed and not state["enabled"] else None
    setup = None
    if secret:
        setup = {
            "qr_svg": two_factor.totp_qr_svg(
                uri=two_factor.totp_provisioning_uri(secret=secret, username=user.username),
                title="QR code for your authenticator app",
            ),
            "secret": two_factor.secret_for_typing(secret),
        }
    context = {
        "state": state,
        "password_confirmed": confirmed,
        "reauth_minutes": settings.TWO_FACTOR_REAUTH_SECONDS // 60,
        "password_form": password_form or PasswordConfirmForm(),
        "confirm_form": confirm_form or TotpConfirmForm(),
        "setup": setup,
    }
    return render(request, "accounts/two_factor.html", context, status=status)


def _back_to_settings() -> HttpResponse:
    return HttpResponseRedirect(reverse("accounts:two-factor"), status=303)


@login_required
@never_cache
@require_GET
def two_factor_settings(request: HttpRequest) -> HttpResponse:
    """``/accounts/settings/two-factor/``: whether two-factor sign-in is on and how many recovery
    codes are left; with the password confirmed in the last ``TWO_FACTOR_REAUTH_SECONDS``, the
    set-up (QR code and key) or the buttons that turn it off and make new recovery codes,
    else the password form. Reads only: 2 statements (the user, the status)."""
    return _settings_page(request)


@sensitive_post_parameters("password")
@login_required
@never_cache
@require_POST
def two_factor_password_confirm(request: HttpRequest) -> HttpResponse:
    """POST ``password``: re-authentication for the next ``TWO_FACTOR_REAUTH_SECONDS`` (10 min),
    counted by the sign-in lockout (``signin_services.current_password_check``). Right: 303 back to
    the settings page; wrong: the page again with the message (200); locked: 429."""
    form = PasswordConfirmForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, password_form=form)
    try:
        signin_services.current_password_check(
            user=request.user,
            password=form.cleaned_data["password"],
            ip=client_ip(request),
            base_url=_base_url(request),
        )
    except InvalidCredentials:
        form.add_error("password", "That is not your password.")
        return _settings_page(request, password_form=form)
    except SignInLocked as locked:
        return _locked(request, locked)
    except SecurityUnavailable:
        return _unavailable(request)
    two_factor.password_confirmed_record(session=request.session)
    return _back_to_settings()


@login_required
@never_cache
@require_POST
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """POST: start a set-up (a new shared key, kept in the session until confirmed) and 303 to
    the settings page, which shows it as a QR code and as text. Needs a recent password."""
    if not two_factor.password_recently_confirmed(session=request.session):
        messages.error(request, CONFIRM_FIRST)
    elif not two_factor.two_factor_status(user=request.user)["enabled"]:
        two_factor.setup_secret(session=request.session, user=request.user, create=True)
    return _back_to_settings()


@sensitive_post_parameters("code")
@login_required
@never_cache
@require_POST
def two_factor_enable(request: HttpRequest) -> HttpResponse:
    """POST ``code``: the first code of the app set up with the session's key. Right: two-factor
    sign-in is on and the 10 recovery codes are shown on this one page (never again: only their
    hashes are kept). Wrong: the settings page again with the message (200). Needs a recent
    password and a set-up in progress (else 303 back with a message)."""
    secret = two_factor.setup_secret(session=request.session, user=request.user)
    if not two_factor.password_recently_confirmed(session=request.session) or secret is None:
        messages.error(request, CONFIRM_FIRST if secret else "Start the set-up first.")
        return _back_to_settings()
    form = TotpConfirmForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, confirm_form=form)
    try:
        codes = two_factor.two_factor_enable(
            user=request.user, secret=secret, code=form.cleaned_data["code"], base_url=_base_url(request)
        )
    except two_factor.AlreadyEnabled:
        two_factor.setup_clear(session=request.session)
        messages.info(request, "Two-factor sign-in is already on.")
        return _back_to_settings()
    if codes is None:
        form.add_error("code", "That code does not match. Check the app shows the Plant Community Portal entry.")
        return _settings_page(request, confirm_form=form)
    two_factor.setup_clear(session=request.session)
    return render(
        request,
        "accounts/two_factor_recovery_codes.html",
        {"codes": codes, "just_enabled": True},
    )


@login_required
@never_cache
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    """POST: turn two-factor sign-in off (the authenticator and the recovery codes are deleted)
    and 303 to the settings page. Needs a recent password."""
    if not two_factor.password_recently_confirmed(session=request.session):
        messages.error(request, CONFIRM_FIRST)
    elif two_factor.two_factor_disable(user=request.user, base_url=_base_url(request)):
        messages.success(request, "Two-factor sign-in is off. Signing in needs only your password now.")
    return _back_to_settings()


@login_required
@never_cache
@require_POST
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    """POST: replace the recovery codes with 10 new ones, shown on this one page; the old ones
    stop working. Needs a recent password and two-factor sign-in on (else 303 back)."""
    if not two_factor.password_recently_confirmed(session=request.session):
        messages.error(request, CONFIRM_FIRST)
        return _back_to_settings()
    codes = two_factor.recovery_codes_regenerate(user=request.user, base_url=_base_url(request))
    if codes is None:
        return _back_to_settings()
    return render(
        request,
        "accounts/two_factor_recovery_codes.html",
        {"codes": codes, "just_enabled": False},
    )
