"""htmx request details that set ``Vary`` by themselves.

A response chosen by an htmx request header (a fragment for ``HX-Request: true``, the whole page
otherwise) must say so in ``Vary``, or a cache or the browser's back button can serve one for the
other (django-htmx docs, "Vary"). Setting ``Vary`` by hand in each view is easy to forget, so the
rule is kept in one place: ``HtmxMiddleware`` gives every request a ``request.htmx`` that records
which htmx headers were read while the response was built (in the view, a template or a
middleware below this one) and adds exactly those to ``Vary``. A view that never looks at
``request.htmx`` gets no ``Vary`` from it.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails


class VaryingHtmxDetails(HtmxDetails):
    """django-htmx's ``HtmxDetails`` that remembers the request headers it was asked for."""

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self.headers_read: set[str] = set()

    def _get_header_value(self, name: str) -> str | None:
        self.headers_read.add(name)
        return super()._get_header_value(name)


class HtmxMiddleware:
    """In place of ``django_htmx.middleware.HtmxMiddleware``: sets ``request.htmx`` and adds
    every htmx header the response depended on to its ``Vary`` (RFC 9110 section 12.5.5)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.htmx = details = VaryingHtmxDetails(request)
        response = self.get_response(request)
        if details.headers_read:
            patch_vary_headers(response, sorted(details.headers_read))
        return response
