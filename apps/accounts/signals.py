"""Signal receivers of the accounts app."""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from apps.core.client_ip import client_ip
from apps.core.middleware import SESSION_AUTH_AT_KEY

from . import moderator_flag  # noqa: F401 (imported to connect its receivers)
from .session_services import browser_session_record


@receiver(user_logged_in)
def remember_sign_in_time(sender, request, user, **kwargs):
    """Store when the session signed in, for the absolute session lifetime."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_AUTH_AT_KEY] = int(time.time())


@receiver(user_logged_in)
def record_browser_session(sender, request, user, **kwargs):
    """Record the signed-in browser for the "Active sessions" settings page, whatever door
    signed it in (the sign-in form, the admin's, a test's ``force_login``)."""
    session = getattr(request, "session", None) if request is not None else None
    if session is None or not session.session_key:
        return
    browser_session_record(
        user=user,
        session_key=session.session_key,
        user_agent=request.headers.get("User-Agent", ""),
        ip=client_ip(request),
    )
