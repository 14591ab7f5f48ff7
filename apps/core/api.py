"""API plumbing that knows no user model: JSON body parsing, the CSRF check of
cookie-authenticated calls and the 401/503 answers, all RFC 9457 problem responses (SPEC "HTTP
contract"). Authenticating an API call by token lives with the tokens, in
``apps.accounts.api_auth``."""

import json

from django.http.request import RawPostDataException
from django.middleware.csrf import CsrfViewMiddleware

from .problems import problem_response
from .responses import UNAVAILABLE_RETRY_AFTER

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class BadBody(Exception):
    """The request body is not the JSON object the endpoint needs; ``str`` is the detail."""


def json_body(request, *, fields: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> dict:
    """Parse the body as a JSON object whose ``fields`` are non-empty strings (``optional``
    ones may be missing). Raises ``BadBody`` with a message for the client (400), also for a
    multipart form body: ``BadRequestPageMiddleware`` has already parsed that stream, so it
    cannot be read again, and it is no JSON object anyway."""
    try:
        body = request.body
    except RawPostDataException:
        raise BadBody("The request body must be a JSON object.") from None
    if len(body) > 16 * 1024:
        raise BadBody("The request body is too large.")
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadBody("The request body must be a JSON object.") from None
    if not isinstance(data, dict):
        raise BadBody("The request body must be a JSON object.")
    for name in fields + optional:
        if name not in data:
            if name in fields:
                raise BadBody(f"'{name}' is required.")
            continue
        if not isinstance(data[name], str) or not data[name]:
            raise BadBody(f"'{name}' must be a non-empty string.")
        try:
            data[name].encode("utf-8")
        except UnicodeEncodeError:
            raise BadBody(f"'{name}' is not valid text.") from None
        if "\x00" in data[name]:
            raise BadBody(f"'{name}' must not contain NUL characters.")
    return data


def csrf_failure(request):
    """Run Django's CSRF check on a request a cookie authenticates; a problem response when it
    fails, else ``None`` (SPEC: "CSRF is checked on every unsafe request that a cookie
    authenticates")."""
    if request.method not in UNSAFE_METHODS:
        return None
    rejected = CsrfViewMiddleware(lambda _request: None).process_view(request, None, (), {})
    if rejected is None:
        return None
    return problem_response(
        status=403,
        title="CSRF check failed",
        detail="Send the X-CSRFToken header with cookie authentication.",
        code="CSRF_FAILED",
    )


def unauthenticated(detail: str = "Sign in or send an Authorization: Bearer token.", code: str = "NOT_AUTHENTICATED"):
    """401 problem response with ``WWW-Authenticate: Bearer`` (RFC 6750 section 3); ``detail``
    and ``code`` (e.g. ``TOKEN_INVALID``) say what was wrong."""
    return problem_response(
        status=401,
        title="Authentication required",
        detail=detail,
        code=code,
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


def service_unavailable():
    """503 problem response when the security store (Redis) is down: fail closed."""
    return problem_response(
        status=503,
        title="Temporarily unavailable",
        detail="Authentication is temporarily unavailable. Please retry shortly.",
        code="SERVICE_UNAVAILABLE",
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
    )
