"""Health checks and error handlers shared by every app."""

import logging

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .problems import problem_response
from .redis import get_strict_redis
from .responses import error_page

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches neither the database nor Redis."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness (SPEC "HTTP contract"): 200 when the database answers and, when configured,
    Redis answers; 503 naming what is down otherwise."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError:
        logger.exception("readiness: database unreachable")
        checks["database"] = "unavailable"
    if settings.REDIS_URL:
        try:
            get_strict_redis().ping()
            checks["redis"] = "ok"
        except redis.RedisError:
            logger.warning("readiness: Redis unreachable", exc_info=True)
            checks["redis"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def _wants_problem(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


# Exceptions raised from these packages carry a message written for the person reading the
# page (``Http404("No such species.")``, ``PermissionDenied("Only moderators can do this.")``).
USER_MESSAGE_PACKAGES = ("apps.",)


def user_message(exception: BaseException | None) -> str | None:
    """The message ``exception`` carries for the person reading the error page, or ``None``.

    It is the exception's first argument when that is a non-empty string and the exception was
    raised in the project's own code (the innermost frame of its traceback is in a module under
    ``USER_MESSAGE_PACKAGES``). Django's own exceptions carry text for developers: the
    resolver's 404 the URL patterns it tried, ``get_object_or_404`` the model's name ("No
    PlantSpecies matches the given query."), ``DisallowedHost`` the Host header as sent; those
    get the page's generic sentence (issue 15). Raises nothing."""
    if exception is None or not exception.args or not isinstance(exception.args[0], str):
        return None
    message = exception.args[0].strip()
    traceback = exception.__traceback__
    if not message or traceback is None:
        return None
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    module = traceback.tb_frame.f_globals.get("__name__", "")
    return message if module.startswith(USER_MESSAGE_PACKAGES) else None


def _error(request: HttpRequest, status: int, title: str, detail: str, code: str, exception=None) -> HttpResponse:
    if _wants_problem(request):
        return problem_response(status=status, title=title, detail=detail, code=code)
    return error_page(request, status, detail=user_message(exception), context={"title": title})


def bad_request(request, exception=None):
    """400 in the site's look (or problem+json under ``/api/``), with ``exception``'s message
    when it is one for people (``user_message``)."""
    return _error(request, 400, "Bad request", "The request could not be understood.", "BAD_REQUEST", exception)


def permission_denied(request, exception=None):
    """403 in the site's look (or problem+json under ``/api/``), with ``exception``'s message
    when it is one for people (``user_message``: "Only moderators can do this.")."""
    return _error(request, 403, "Forbidden", "You do not have permission to see this page.", "FORBIDDEN", exception)


def page_not_found(request, exception=None):
    """404 in the site's look (or problem+json under ``/api/``), with ``exception``'s message
    when it is one for people (``user_message``: "No such species."), else "There is nothing
    at this address." (never the resolver's URL patterns)."""
    return _error(request, 404, "Not found", "There is nothing at this address.", "NOT_FOUND", exception)


def server_error(request):
    """500 without a stack trace; rendered with no request context, so it cannot fail itself."""
    if _wants_problem(request):
        return problem_response(
            status=500, title="Server error", detail="Something went wrong on our side.", code="SERVER_ERROR"
        )
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def csrf_failure(request, reason=""):
    """403 for a failed CSRF check, in the site's look (or problem+json under ``/api/``), with
    what to do: usually a form left open too long or opened in another tab."""
    detail = "This form expired or was opened in another tab. Go back, reload the page and try again."
    if _wants_problem(request):
        return problem_response(status=403, title="CSRF check failed", detail=detail, code="CSRF_FAILED")
    return error_page(request, 403, detail=detail, context={"title": "Please try again"})
