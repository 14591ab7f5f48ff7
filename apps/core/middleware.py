"""Project middleware: session expiry renewal and HTMX-friendly redirects."""

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django_htmx.http import HttpResponseClientRedirect

SESSION_RENEWED_AT_KEY = "_renewed_at"


class SessionRenewalMiddleware:
    """Push a signed-in session's expiry forward at most once per interval.

    Django saves a session only when it changes, so by default the expiry is fixed at sign-in.
    Renewing on every request would cost a database write per request; instead the session is
    marked modified when ``SESSION_RENEWAL_INTERVAL_SECONDS`` (60 s) have passed since the last
    renewal, giving a sliding inactivity timeout of ``SESSION_COOKIE_AGE`` with at most one
    write a minute (SPEC "Query budgets": a warm session is "not due for renewal").
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or not session.session_key or response.status_code >= 500:
            return response
        if SESSION_KEY not in session:
            return response
        now = int(time.time())
        renewed_at = session.get(SESSION_RENEWED_AT_KEY, 0)
        if now - renewed_at >= settings.SESSION_RENEWAL_INTERVAL_SECONDS:
            session[SESSION_RENEWED_AT_KEY] = now
        return response


class HtmxLoginRedirectMiddleware:
    """Turn a redirect answered to an htmx request into ``HX-Redirect``.

    htmx follows a 302 inside its XHR and would swap the sign-in page into a panel; a full
    navigation is what the user needs (SPEC "HTTP contract": an HTMX request gets the redirect
    to ``/accounts/login/?next=...`` through ``HX-Redirect``). Must sit after ``HtmxMiddleware``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "htmx", False) and response.status_code in (301, 302, 303, 307, 308):
            client_redirect = HttpResponseClientRedirect(response["Location"])
            for cookie in response.cookies.values():
                client_redirect.cookies[cookie.key] = cookie
            return client_redirect
        return response


class SessionLifetimeMiddleware:
    """End a signed-in session ``SESSION_ABSOLUTE_LIFETIME_SECONDS`` (30 days) after sign-in,
    however active it is (OWASP ASVS 4.0 3.3.2). The sign-in time is stored in the session at
    sign-in (``apps.accounts.signals``); reading it costs no SQL on a warm session. Must sit
    after ``AuthenticationMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            signed_in_at = session.get(SESSION_AUTH_AT_KEY)
            if signed_in_at and time.time() - signed_in_at > settings.SESSION_ABSOLUTE_LIFETIME_SECONDS:
                from django.contrib.auth import logout

                logout(request)
        return self.get_response(request)


SESSION_AUTH_AT_KEY = "_auth_at"
