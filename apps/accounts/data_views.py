"""The "Your data" settings page (issue 11): export everything about you, delete the account.

``/accounts/settings/data/`` shows the exports and the way to delete the account;
``.../export/`` (POST) asks for an export; ``.../export/<public_id>/`` downloads one (its owner
only, for 24 h); ``.../delete/`` asks for the password (and a two-factor code when set) and
deletes the account.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.files.storage import Storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.client_ip import client_ip
from apps.core.ratelimit import set_retry_after
from apps.core.responses import error_page, temporarily_unavailable, too_many_requests

from . import data_selectors, data_services, signin_services
from .forms import AccountDeleteForm
from .models import DataExport
from .signin_services import InvalidCredentials, SecurityUnavailable
from .views import SIGN_IN_UNAVAILABLE

WRONG_PASSWORD = "That password is not right."
WRONG_CODE = "That code is not right. Use the code your authenticator app shows now, or a recovery code."


def _data_page(request: HttpRequest, *, status: int = 200, refusal: str = "") -> HttpResponse:
    view = data_selectors.data_exports_for_user(user=request.user)
    return render(
        request,
        "accounts/settings_data.html",
        {"exports": view.exports, "next_allowed_at": view.next_allowed_at, "refusal": refusal},
        status=status,
    )


@never_cache
@login_required
@require_GET
def data_settings(request: HttpRequest) -> HttpResponse:
    """``/accounts/settings/data/``: recent exports (being prepared, ready with a download link
    until it expires, expired, failed), the button to ask for one, and the link to delete the
    account. Two queries (the user, the exports)."""
    return _data_page(request)


@login_required
@require_POST
def data_export_request(request: HttpRequest) -> HttpResponse:
    """Ask for an export: 303 back to the page, which shows it being prepared. Asked again
    within the day: 429 with ``Retry-After`` and the page saying from when it can be asked for
    again (``data_services.ExportTooSoon``)."""
    try:
        data_services.data_export_request(user=request.user)
    except data_services.ExportTooSoon as too_soon:
        wait = max(1, int((too_soon.next_allowed_at - timezone.now()).total_seconds()))
        when = date_format(timezone.localtime(too_soon.next_allowed_at), "j F Y, H:i T")
        refusal = f"You can ask for one export a day. You can ask for the next one from {when}."
        return set_retry_after(_data_page(request, status=429, refusal=refusal), wait)
    messages.success(request, "Your export is being prepared. It will be listed here when it is ready.")
    return HttpResponseRedirect(reverse("accounts:settings-data"), status=303)


@never_cache
@login_required
@require_GET
def data_export_download(request: HttpRequest, public_id: str) -> HttpResponse:
    """Download an export ZIP. Only its owner: anyone else (signed in) gets 404, as for a link
    that never existed; a link still being prepared is 404 too. After its 24 h, or once its file
    is removed: 410 Gone with a page that says to ask for a new one. Sent as an attachment,
    ``Cache-Control: private, no-store``. Two queries."""
    export = data_selectors.data_export_for_download(user=request.user, public_id=public_id)
    if export is None or export.status in (DataExport.Status.PENDING, DataExport.Status.FAILED):
        raise Http404("No such export.")
    storage: Storage = data_services.export_storage()
    expired = (
        export.status == DataExport.Status.EXPIRED
        or export.expires_at is None
        or export.expires_at <= timezone.now()
        or not export.file_name
        or not storage.exists(export.file_name)
    )
    if expired:
        return error_page(
            request,
            410,
            template="accounts/settings_data_expired.html",
            context={"lifetime_hours": settings.DATA_EXPORT_LIFETIME_SECONDS // 3600},
        )
    filename = f"plant-portal-data-{timezone.localdate(export.requested_at).isoformat()}.zip"
    response = FileResponse(
        storage.open(export.file_name, "rb"), as_attachment=True, filename=filename, content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@sensitive_post_parameters("password", "otp")
@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    """``/accounts/settings/data/delete/``: what deleting removes and keeps, and a form asking
    for the password (and a two-factor code when the account has one). A wrong password counts
    on the sign-in lockout and answers 400 with the form; locked: 429; Redis down: 503. Done:
    signed out, token cookies cleared, 303 to the sign-in page with a message."""
    with_otp = data_services.account_has_second_factor(request.user)
    form = AccountDeleteForm(request.POST if request.method == "POST" else None, with_otp=with_otp)
    if request.method == "GET" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "accounts/settings_data_delete.html", {"form": form}, status=status)
    try:
        data_services.account_delete(
            user=request.user,
            password=form.cleaned_data["password"],
            otp=form.cleaned_data.get("otp") or None,
            ip=client_ip(request),
            base_url=request.build_absolute_uri("/").rstrip("/"),
        )
    except InvalidCredentials:
        form.add_error("password", WRONG_PASSWORD)
        return render(request, "accounts/settings_data_delete.html", {"form": form}, status=400)
    except data_services.SecondFactorRequired:
        form.add_error("otp" if with_otp else None, WRONG_CODE)
        return render(request, "accounts/settings_data_delete.html", {"form": form}, status=400)
    except signin_services.SignInLocked as locked:
        return too_many_requests(
            request, retry_after=locked.retry_after, template="accounts/locked.html", context={"scope": locked.scope}
        )
    except SecurityUnavailable:
        return temporarily_unavailable(request, detail=SIGN_IN_UNAVAILABLE)
    logout(request)
    messages.success(request, "Your account is deleted. Your forum posts stay, under “deleted gardener”.")
    response = HttpResponseRedirect(reverse("accounts:login"), status=303)
    signin_services.delete_token_cookies(response)
    return response
