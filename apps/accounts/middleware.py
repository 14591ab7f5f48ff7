"""Accounts middleware: the signed-in gardener's time zone for every date a page shows."""

import zoneinfo

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.utils import timezone


class UserTimeZoneMiddleware:
    """Activate the signed-in gardener's time zone (``User.time_zone``, chosen in the profile
    settings) for the request, so templates and ``timezone.localtime`` show every date in it;
    UTC otherwise (Django's documented pattern, "Selecting the current time zone"). Deactivated
    after the response, so a worker thread never carries one gardener's zone into the next
    request.

    Only requests of a signed-in browser session look the user up, and then through
    ``request.user``, which the page loads anyway (no extra statement); requests under
    ``TIME_ZONE_EXEMPT_PATH_PREFIXES`` (the API, whose JSON dates are UTC, the health checks,
    files) are left alone, so the token refresh keeps its budget of one statement. Must sit
    after ``AuthenticationMiddleware``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = self._time_zone_name(request)
        if name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @staticmethod
    def _time_zone_name(request) -> str | None:
        session = getattr(request, "session", None)
        if session is None or SESSION_KEY not in session:
            return None
        if request.path.startswith(settings.TIME_ZONE_EXEMPT_PATH_PREFIXES):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return getattr(user, "time_zone", None)
