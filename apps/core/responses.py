"""HTML error answers in the site's look, one function per kind (SPEC "HTTP contract", "Bad input").

JSON answers under ``/api/`` are problem details instead (``apps.core.problems``). Every page here
extends ``error_base.html``, whose layout ``error_page`` picks: for an htmx request the
``error_fragment.html`` that ``htmx.config.responseHandling`` swaps for 400, 409 and 429
(``templates/base.html``); for a 4xx page ``error_site.html``, the site's header, navigation and a
species search (issue 15); for a 5xx page the static ``error_page.html``, which needs neither the
database nor Redis (SPEC "HTTP contract": "500 and 503 static").

- ``error_page``: any status with its ``<status>.html`` template (400 bad input, 409 a conflict
  that keeps what was typed).
- ``too_many_requests``: 429 with ``Retry-After`` (a lockout, a rate limit, a write throttle).
- ``temporarily_unavailable``: 503 with ``Retry-After`` when a store the action needs is down
  and the action fails closed (sign-in, lock clearing).
"""

import logging
import math

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader

from .ratelimit import set_retry_after

logger = logging.getLogger(__name__)

# How long a client should wait after a 503 from a store being down, in seconds.
UNAVAILABLE_RETRY_AFTER = 30


def error_page(
    request: HttpRequest,
    status: int,
    *,
    detail: str | None = None,
    template: str | None = None,
    context: dict | None = None,
    retry_after: int | None = None,
) -> HttpResponse:
    """Render ``template`` (``"<status>.html"`` by default) with ``detail`` (the sentence that
    says what went wrong and what to do; the template's generic sentence when ``None``) and
    ``context``, answering ``status``. ``retry_after`` (seconds) sets ``Retry-After``
    (RFC 9110 section 10.2.3) and is shown on the page. Raises ``TemplateDoesNotExist`` for a
    status without a template.

    A 4xx page is the site's page (header, navigation, the signed-in user), which reads the
    session and the user; if rendering it raises (the database went down during a 404), the
    answer is still ``status``, with the static ``<status>.html`` rendered without a request
    (no session, user or context processor). Error handlers must not fail (Django turns an
    exception in ``handler404`` into a 500)."""
    page_context = {"detail": detail, **(context or {})}
    if retry_after is not None:
        page_context |= {"retry_after": retry_after, "retry_minutes": math.ceil(retry_after / 60)}
    if getattr(request, "htmx", False):
        layout = "error_fragment.html"
    elif status < 500:
        layout = "error_site.html"
    else:
        layout = "error_page.html"
    try:
        response = render(request, template or f"{status}.html", page_context | {"error_layout": layout}, status=status)
    except Exception:
        if layout == "error_page.html":
            raise
        # Any failure, not only a database one: the plain page is always better than a 500 here.
        logger.warning("the %s page failed to render; answering with the static page", status, exc_info=True)
        response = HttpResponse(loader.get_template(f"{status}.html").render(page_context), status=status)
    if retry_after is not None:
        set_retry_after(response, retry_after)
    return response


def too_many_requests(
    request: HttpRequest,
    *,
    retry_after: int,
    detail: str | None = None,
    template: str = "429.html",
    context: dict | None = None,
) -> HttpResponse:
    """429 Too Many Requests (RFC 6585 section 4) with ``Retry-After: retry_after`` seconds;
    ``template`` and ``context`` let a page say more (the sign-in lockout page names the
    minutes left and keeps the form)."""
    return error_page(request, 429, detail=detail, template=template, context=context, retry_after=retry_after)


def temporarily_unavailable(
    request: HttpRequest, *, detail: str | None = None, retry_after: int = UNAVAILABLE_RETRY_AFTER
) -> HttpResponse:
    """503 Service Unavailable with ``Retry-After`` (default 30 s) for an action that needs a
    store that is down and so fails closed (OWASP ASVS 4.0 V7.4: fail securely)."""
    return error_page(request, 503, detail=detail, retry_after=retry_after)
