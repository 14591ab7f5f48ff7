"""Project middleware: session expiry renewal, HTMX-friendly redirects, error pages, cache headers,
health checks and the database outage answer."""

import logging
import sys
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.sessions.models import Session
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import resolve_url
from django.template import loader
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from .problems import problem_response
from .ratelimit import set_retry_after
from .responses import UNAVAILABLE_RETRY_AFTER, error_page
from .views import bad_request, healthz, readyz

SESSION_RENEWED_AT_KEY = "_renewed_at"


class SessionRenewalMiddleware:
    """Push a signed-in session's expiry forward at most once per interval, and check then that
    the session still exists in the database.

    Django saves a session only when it changes, so by default the expiry is fixed at sign-in.
    Renewing on every request would cost a database write per request; instead the session is
    marked modified when ``SESSION_RENEWAL_INTERVAL_SECONDS`` (60 s) have passed since the last
    renewal, giving a sliding inactivity timeout of ``SESSION_COOKIE_AGE`` with at most one
    write a minute (SPEC "Query budgets": a warm session is "not due for renewal").

    The check guards ``cached_db`` against a session that was deleted (sign-out, password
    change) while Redis was unreachable: its cached copy would otherwise come back to life when
    Redis returns. At most one renewal interval later it is found missing and flushed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        due = False
        if (
            session is not None
            and session.session_key
            and SESSION_KEY in session
            and request.path not in settings.SESSION_RENEWAL_EXEMPT_PATHS
        ):
            due = int(time.time()) - session.get(SESSION_RENEWED_AT_KEY, 0) >= settings.SESSION_RENEWAL_INTERVAL_SECONDS
            if due and not _stored_in_database(session.session_key):
                session.flush()
                due = False
        response = self.get_response(request)
        if due and response.status_code < 500 and SESSION_KEY in request.session:
            request.session[SESSION_RENEWED_AT_KEY] = int(time.time())
        return response


def _stored_in_database(session_key: str) -> bool:
    return Session.objects.filter(session_key=session_key, expire_date__gt=timezone.now()).exists()


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
        if response.status_code in (301, 302, 303, 307, 308) and getattr(request, "htmx", False):
            client_redirect = HttpResponseClientRedirect(_return_to_page(request, response["Location"]))
            for cookie in response.cookies.values():
                client_redirect.cookies[cookie.key] = cookie
            return client_redirect
        return response


def _return_to_page(request, location: str) -> str:
    """A sign-in redirect caused by a fragment request (a dashboard panel) should come back to
    the page the user was on, not to the bare fragment: swap ``next`` for the path of
    ``HX-Current-URL`` when it is on this site."""
    parts = urlsplit(location)
    current = request.htmx.current_url
    if parts.path != resolve_url(settings.LOGIN_URL) or not current:
        return location
    if not url_has_allowed_host_and_scheme(current, allowed_hosts={request.get_host()}):
        return location
    current_parts = urlsplit(current)
    page = current_parts.path + (f"?{current_parts.query}" if current_parts.query else "")
    query = parse_qs(parts.query)
    query["next"] = [page]
    return f"{parts.path}?{urlencode(query, doseq=True)}"


class MethodNotAllowedPageMiddleware:
    """Give Django's empty 405 answers a body: the site's page for browsers, problem+json
    under ``/api/`` (SPEC: "Browsers get HTML pages for the same cases")."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or response.content:
            return response
        allowed = response.get("Allow", "")
        if request.path.startswith("/api/"):
            replacement = problem_response(
                status=405, title="Method not allowed", detail=f"Use {allowed}.", code="METHOD_NOT_ALLOWED"
            )
        else:
            replacement = error_page(request, 405, detail=f"This address only answers {allowed} requests.")
        replacement["Allow"] = allowed
        return replacement


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
                logout(request)
        return self.get_response(request)


SESSION_AUTH_AT_KEY = "_auth_at"


# What Django answers 400 for (django.core.handlers.exception.response_for_exception): every
# SuspiciousOperation (TooManyFieldsSent, TooManyFilesSent, RequestDataTooBig, ...), BadRequest
# and a malformed multipart body.
BAD_REQUEST_EXCEPTIONS = (SuspiciousOperation, BadRequest, MultiPartParserError)


class NulCharacterInRequest(BadRequest):
    """A NUL (U+0000) in the URL path. No address of the site has one, and PostgreSQL text
    cannot hold one: a path converter passed it on to a lookup (``/u/rosa%00/``), which raised
    ``DataError``, a 500, while SQLite matched the name without it (issue 12's review). Query
    strings and bodies reach the database through forms, whose fields refuse NUL with a message
    (Django's ``ProhibitNullCharactersValidator``), so they are left to them."""


class BadRequestPageMiddleware:
    """Answer bad request data with the site's 400 (problem+json under ``/api/``) whatever
    ``DEBUG`` says (SPEC "Bad input": a 4xx, never a 500).

    With ``DEBUG`` on, Django answers these with its debug page, which reads the query string
    again: 1,100 query parameters raised ``TooManyFieldsSent`` a second time inside the debug
    page and the answer was a 500 (issue 11). So the query string and a form body are parsed
    here, before the CSRF check and any view read them, and a failure answers 400 at once (so
    does a NUL character in the path, ``NulCharacterInRequest``); an
    exception of the same kind raised by a view (a JSON body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``) is answered the same way by ``process_exception``. Each is
    logged to ``django.security.<exception>`` as Django does. Sits last in ``MIDDLEWARE`` so the
    400 page has what every page has (``request.htmx``, the CSP nonce, ``request.user``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            # Reading is the point: parsing raises for bad data. POST is a form or multipart
            # body (files included), empty for any other body.
            if "\x00" in request.path:
                raise NulCharacterInRequest("NUL character in the address")
            request.GET
            request.POST
        except BAD_REQUEST_EXCEPTIONS as error:
            return _bad_request_answer(request, error)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, BAD_REQUEST_EXCEPTIONS):
            return _bad_request_answer(request, exception)
        return None


def _bad_request_answer(request, error: Exception):
    if hasattr(request, "_mark_post_parse_error"):
        # Django's own step: the body cannot be read again, or the error would repeat.
        request._mark_post_parse_error()
    logging.getLogger(f"django.security.{type(error).__name__}").warning(
        "%s: %s", request.path, error, extra={"status_code": 400, "request": request}
    )
    return bad_request(request, error)


class PrivateCacheMiddleware:
    """``Cache-Control: private, no-store`` on every response that depends on the session or a
    token (SPEC "Bad input"; OWASP ASVS 4.0 8.2.1): no shared cache, browser cache or
    back-forward copy keeps a signed-in page, an API answer or a token. A response depends on
    them when:

    - the request was authenticated: a signed-in session or an API token (``request.user``,
      as resolved by the time the response leaves; resolving it is not forced here, so this
      costs no query);
    - the session was read and holds something, or was changed (sign-in, sign-out);
    - the request carried credentials (an ``Authorization`` header, the access or refresh
      cookie), whatever the view did with them;
    - the response sets or deletes the session or a token cookie.

    Anything else keeps the cache headers it had, so the signed-out forum and the species
    pages stay cacheable (their ``Vary: Cookie`` keeps a signed-in copy apart). Static files
    never get here: WhiteNoise, before this middleware, answers them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if _depends_on_credentials(request, response):
            patch_cache_control(response, private=True, no_store=True)
        return response


def _depends_on_credentials(request, response) -> bool:
    token_cookies = {settings.JWT_ACCESS_COOKIE, settings.JWT_REFRESH_COOKIE}
    session = getattr(request, "session", None)
    if session is not None and (session.modified or (session.accessed and not session.is_empty())):
        return True
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        user = request.__dict__.get("_cached_user")
    if user is not None and user.is_authenticated:
        return True
    if "Authorization" in request.headers or token_cookies & request.COOKIES.keys():
        return True
    return bool((token_cookies | {settings.SESSION_COOKIE_NAME}) & response.cookies.keys())


class HealthCheckMiddleware:
    """Answer ``/healthz`` and ``/readyz`` before the session, CSRF and authentication
    middleware run (SPEC "HTTP contract": liveness, and readiness that checks the database and
    Redis). A probe's answer must not depend on the cookies it happens to carry: with the
    database down, a signed-in browser's session and user lookups made both answer 500
    (issue 11). Here ``/healthz`` answers 200 and ``/readyz`` 200 or 503 whatever the session.
    Sits right after ``SecurityMiddleware``; the paths are exempt from its HTTPS redirect
    (``SECURE_REDIRECT_EXEMPT``) so a load balancer may probe the plain-HTTP port."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = HEALTH_CHECKS.get(request.path_info)
        return probe(request) if probe is not None else self.get_response(request)


HEALTH_CHECKS = {"/healthz": healthz, "/readyz": readyz}

# Exceptions that say the database cannot be reached or the connection broke; anything else
# (a ProgrammingError, an IntegrityError) is a bug and stays a 500.
DATABASE_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
_DATABASE_UNAVAILABLE_MARK = "_portal_database_unavailable"


def database_unavailable_mark(sender, request=None, **kwargs):
    """``got_request_exception`` receiver (connected in ``CoreConfig.ready``): mark ``request``
    when the exception being handled, or one it was raised from, is a database outage. Django
    turns an exception raised in a view, a template or any middleware into a 500 response where
    it happens, so the outer ``DatabaseUnavailableMiddleware`` only ever sees the response; this
    mark tells it why. Raises nothing."""
    error = sys.exception()
    while error is not None:
        if isinstance(error, DATABASE_UNAVAILABLE_ERRORS):
            if request is not None:
                setattr(request, _DATABASE_UNAVAILABLE_MARK, True)
            return
        error = error.__cause__ or error.__context__


class DatabaseUnavailableMiddleware:
    """With the database unreachable, answer 503 with ``Retry-After`` instead of 500 (SPEC
    "HTTP contract": "500 and 503 static, so they render while the database or Redis is down";
    issue 11): the static "temporarily unavailable" page, or 503 ``SERVICE_UNAVAILABLE``
    problem+json under ``/api/``. The same with ``DEBUG`` on, where Django would show its
    debug page instead.

    Sits outside the session and authentication middleware, so it also catches the session
    load and the user lookup; the page is rendered with no request context (no session, user,
    messages or context processors), so it needs nothing from the database. Nothing is kept
    between requests: the first request after PostgreSQL is back is served normally
    (``CONN_HEALTH_CHECKS`` drops a broken persistent connection before it is reused)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _DATABASE_UNAVAILABLE_MARK, False):
            return database_unavailable_response(request, replacing=response)
        return response


def database_unavailable_response(request, *, replacing=None):
    """503 for ``request`` while the database is down: problem+json ``SERVICE_UNAVAILABLE``
    under ``/api/``, else ``503.html`` rendered without a request (static: no query can fail
    it), both with ``Retry-After: UNAVAILABLE_RETRY_AFTER`` (30 s; RFC 9110 section 15.6.4)
    and ``Cache-Control: no-store``. Keeps the Content-Security-Policy header of ``replacing``
    (the 500 it replaces), when it had one."""
    retry_after = UNAVAILABLE_RETRY_AFTER
    if request.path_info.startswith("/api/"):
        response = problem_response(
            status=503,
            title="Temporarily unavailable",
            detail=f"The service is temporarily unavailable. Please retry in {retry_after} seconds.",
            code="SERVICE_UNAVAILABLE",
        )
    else:
        page = loader.get_template("503.html").render({"retry_after": retry_after})
        response = HttpResponse(page, status=503)
    set_retry_after(response, retry_after)
    response["Cache-Control"] = "no-store"
    for header in ("Content-Security-Policy", "Content-Security-Policy-Report-Only"):
        if replacing is not None and header in replacing:
            response[header] = replacing[header]
    return response
