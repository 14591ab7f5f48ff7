"""Moderators' view of account locks: see current locks and clear them, audited."""

import redis
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.core import lockout
from apps.core.models import ModerationAction
from apps.core.permissions import check_moderate_permission

from .models import User
from .views import unavailable


@login_required
@require_GET
def lockout_list(request: HttpRequest) -> HttpResponse:
    """``/moderation/lockouts/``: every account lock in force, with the time left."""
    check_moderate_permission(request.user)
    try:
        locks = lockout.current_locks()
    except redis.RedisError:
        return unavailable(request)
    user_ids = [lock.user_id for lock in locks if lock.user_id]
    users = {user.pk: user for user in User.objects.filter(pk__in=user_ids).only("id", "username", "email")}
    rows = [{"lock": lock, "user": users.get(lock.user_id)} for lock in locks]
    return render(request, "accounts/lockouts.html", {"rows": rows})


@login_required
@require_POST
def lockout_clear(request: HttpRequest) -> HttpResponse:
    """Clear one lock (POST ``key``), record it in the audit log; htmx swaps the row away."""
    check_moderate_permission(request.user)
    key = request.POST.get("key", "")
    reason = request.POST.get("reason", "").strip()[:500]
    if not (key.startswith("user:") or key.startswith("name:")) or len(key) > 80:
        messages.error(request, "That lock could not be found.")
        return redirect("moderation:lockouts")
    try:
        existed = lockout.lock_clear(key=key)
    except redis.RedisError:
        return unavailable(request)
    if existed:
        ModerationAction.objects.create(
            actor=request.user, action="lockout.clear", target_type="account", target_id=key,
            reason=reason or "Cleared from the lockouts page",
        )
    if request.htmx:
        return HttpResponse("")
    messages.success(request, "The lock is cleared." if existed else "That lock had already ended.")
    return redirect("moderation:lockouts")
