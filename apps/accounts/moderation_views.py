"""Moderators' view of account locks: see current locks and clear them, audited."""

import redis
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.core.permissions import check_moderate_permission
from apps.core.responses import temporarily_unavailable

from .forms import LockoutClearForm
from .selectors import lock_account_label, lockout_rows
from .services import lockout_clear_by_moderator

TEMPLATE = "accounts/lockouts.html"
LOCKS_UNAVAILABLE = (
    "Account locks cannot be read or cleared right now because the sign-in security store is not answering. "
    "Please try again in a minute; nothing was changed."
)


def _lockouts_page(request: HttpRequest, *, invalid_form: LockoutClearForm | None = None) -> HttpResponse:
    """The lockouts page; ``invalid_form`` (a refused clear) is shown in its lock's row, or above
    the table when that lock is no longer listed."""
    try:
        rows = lockout_rows()
    except redis.RedisError:
        return temporarily_unavailable(request, detail=LOCKS_UNAVAILABLE)
    refused_key = invalid_form.data.get("key") if invalid_form is not None else None
    for row in rows:
        row["form"] = invalid_form if row["key"] == refused_key else LockoutClearForm(key=row["key"])
    unplaced = (
        invalid_form if invalid_form is not None and not any(row["form"] is invalid_form for row in rows) else None
    )
    return render(request, TEMPLATE, {"rows": rows, "unplaced_form": unplaced})


@login_required
@require_GET
def lockout_list(request: HttpRequest) -> HttpResponse:
    """``/moderation/lockouts/``: every account lock in force, with the time left."""
    check_moderate_permission(request.user)
    return _lockouts_page(request)


@login_required
@require_POST
def lockout_clear(request: HttpRequest) -> HttpResponse:
    """POST ``key`` and optional ``reason`` (``LockoutClearForm``): clear one lock, audited.

    Invalid input changes nothing: an htmx request gets 400 with the form and its messages
    (retargeted onto the form itself), a plain POST the page again (200). A clear answers htmx
    with the row saying "Cleared", a plain POST with a redirect to the page and that message.
    Redis down: the "temporarily unavailable" page (503), nothing recorded.
    """
    check_moderate_permission(request.user)
    form = LockoutClearForm(request.POST)
    if not form.is_valid():
        if not request.htmx:
            return _lockouts_page(request, invalid_form=form)
        key = form.cleaned_data.get("key")
        label = lock_account_label(key=key) if key else None
        response = render(request, f"{TEMPLATE}#clear-form", {"form": form, "label": label}, status=400)
        response["HX-Retarget"] = "this"
        response["HX-Reswap"] = "outerHTML"
        return response
    key = form.cleaned_data["key"]
    try:
        cleared = lockout_clear_by_moderator(key=key, moderator=request.user, reason=form.cleaned_data["reason"])
    except redis.RedisError:
        return temporarily_unavailable(request, detail=LOCKS_UNAVAILABLE)
    label = lock_account_label(key=key)
    if request.htmx:
        return render(request, f"{TEMPLATE}#cleared-row", {"label": label, "cleared": cleared})
    if cleared:
        messages.success(request, f"Cleared the sign-in lock on {label}.")
    else:
        messages.info(request, f"The sign-in lock on {label} had already ended; nothing to clear.")
    return redirect("moderation:lockouts")
