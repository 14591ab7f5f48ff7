"""Signal receivers of the accounts app."""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from apps.core.middleware import SESSION_AUTH_AT_KEY


@receiver(user_logged_in)
def remember_sign_in_time(sender, request, user, **kwargs):
    """Store when the session signed in, for the absolute session lifetime."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_AUTH_AT_KEY] = int(time.time())
