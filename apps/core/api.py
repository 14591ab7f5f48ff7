"""API plumbing: Bearer/cookie/session authentication, CSRF for cookie-authenticated calls,
and JSON body parsing, all answering RFC 9457 problem responses (SPEC "HTTP contract")."""

import json
from functools import wraps

import redis
from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from .problems import problem_response
from .tokens import TokenInvalid, access_token_verify

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class BadBody(Exception):
    """The request body is not the JSON object the endpoint needs; ``str`` is the detail."""


def json_body(request, *, fields: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> dict:
    """Parse the body as a JSON object whose ``fields`` are non-empty strings (``optional``
    ones may be missing). Raises ``BadBody`` with a message for the client (400)."""
    if len(request.body) > 16 * 1024:
        raise BadBody("The request body is too large.")
    try:
        data = json.loads(request.body or b"{}")
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
        status=403, title="CSRF check failed", detail="Send the X-CSRFToken header with cookie authentication.",
        code="CSRF_FAILED",
    )


def unauthenticated(detail: str = "Sign in or send an Authorization: Bearer token.", code: str = "NOT_AUTHENTICATED"):
    return problem_response(
        status=401, title="Authentication required", detail=detail, code=code,
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


def service_unavailable():
    """503 problem response when the security store (Redis) is down: fail closed."""
    return problem_response(
        status=503, title="Temporarily unavailable",
        detail="Authentication is temporarily unavailable. Please retry shortly.",
        code="SERVICE_UNAVAILABLE", headers={"Retry-After": "30"},
    )


def _user_for_claims(claims: dict):
    from .permissions import first_user_with_moderator_flag
    from .tokens import token_user_queryset

    return first_user_with_moderator_flag(token_user_queryset(claims))


def api_auth_required(view):
    """Authenticate an API call by ``Authorization: Bearer <access>``, else the
    ``access_token`` cookie (after a CSRF check on unsafe methods), else the session; answer
    401 problem+json (``WWW-Authenticate: Bearer``) otherwise. A token of a revoked family is
    refused by a Redis check before any SQL; Redis down gives 503."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        header = request.headers.get("Authorization")
        cookie = request.COOKIES.get(settings.JWT_ACCESS_COOKIE)
        if header is not None or cookie:
            if header is not None:
                scheme, _, token = header.partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    return unauthenticated("Use 'Authorization: Bearer <access token>'.", "TOKEN_INVALID")
                token = token.strip()
            else:
                if failure := csrf_failure(request):
                    return failure
                token = cookie
            try:
                claims = access_token_verify(token)
            except TokenInvalid:
                return unauthenticated("The access token is invalid, expired or revoked.", "TOKEN_INVALID")
            except redis.RedisError:
                return service_unavailable()
            user = _user_for_claims(claims)
            if user is None:
                return unauthenticated("The access token is invalid, expired or revoked.", "TOKEN_INVALID")
            request.user = user
            return view(request, *args, **kwargs)
        if request.user.is_authenticated:
            if failure := csrf_failure(request):
                return failure
            return view(request, *args, **kwargs)
        return unauthenticated()

    return wrapper
