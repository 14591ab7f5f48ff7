"""``/accounts/settings/notifications/``: how a gardener hears of each kind of notification
(issue 12). Wired from ``portal/urls.py`` under the accounts settings area; listed in its
sub-navigation by path (``apps.accounts.settings_nav``), so accounts imports nothing from here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .preferences_forms import NotificationPreferencesForm, care_reminder_initial
from .preferences_selectors import notification_preferences_of
from .preferences_services import notification_preferences_set

TEMPLATE = "notifications/settings_notifications.html"


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """GET: one radio group per kind (forum, then identification) at the gardener's current
    choices, and the daily care reminder (off or an hour, named in the gardener's time zone).
    POST: every kind's choice (``site``, ``immediate`` or ``digest``) and ``care_reminder_hour``
    (``off`` or ``0``..``23``; left as it is when not posted); saved, then 303 back here with
    "Your notification settings are saved." A missing or unknown choice shows the form again
    (200, Django's habit) with its messages and saves nothing. Statements: GET 2 (the session's
    user, the choices); a valid POST adds the upsert and, when a kind changed, one UPDATE of
    waiting notifications, and one UPDATE of the user when the reminder hour changed."""
    current = notification_preferences_of(user_id=request.user.pk)
    current["care_reminder_hour"] = care_reminder_initial(request.user.care_reminder_hour)
    time_zone = request.user.time_zone
    if request.method == "POST":
        form = NotificationPreferencesForm(request.POST, initial=current, time_zone=time_zone)
        if form.is_valid():
            choices = dict(form.cleaned_data)
            hour = choices.pop("care_reminder_hour")
            notification_preferences_set(user=request.user, choices=choices, care_reminder_hour=hour)
            messages.success(request, "Your notification settings are saved.")
            return HttpResponseRedirect(reverse("notification-settings"), status=303)
    else:
        form = NotificationPreferencesForm(initial=current, time_zone=time_zone)
    return render(request, TEMPLATE, {"form": form})
