"""HTML error answers in the site's look, one function per kind (SPEC "HTTP contract", "Bad input").

JSON answers under ``/api/`` are problem details instead (``apps.core.problems``). Every page here
extends ``error_base.html`` and, for an htmx request, the ``error_fragment.html`` that
``htmx.config.responseHandling`` swaps for 400, 409 and 429 (``templates/base.html``).

- ``error_page``: any status with its ``<status>.html`` template (400 bad input, 409 a conflict
  that keeps what was typed).
- ``too_many_requests``: 429 with ``Retry-After`` (a lockout, a rate limit, a write throttle).
- ``temporarily_unavailable``: 503 with ``Retry-After`` when a store the action needs is down
  and the action fails closed (sign-in, lock clearing).
"""

import math

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .ratelimit import set_retry_after

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
    status without a template."""
    page_context = {"detail": detail, **(context or {})}
    if retry_after is not None:
        page_context |= {"retry_after": retry_after, "retry_minutes": math.ceil(retry_after / 60)}
    response = render(request, template or f"{status}.html", page_context, status=status)
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
