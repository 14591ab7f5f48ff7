"""Authenticating a JSON API call: Bearer token, access cookie or session (SPEC "HTTP
contract", "Sign-in, tokens and lockout"). Lives with the tokens it checks; the problem
responses it answers with are ``apps.core.api``'s."""

from functools import wraps

import redis
from django.conf import settings
from django.views.decorators.csrf import csrf_exempt

from apps.core.api import csrf_failure, service_unavailable, unauthenticated

from .selectors import token_user_queryset
from .tokens import TokenInvalid, access_token_verify


def api_auth_required(view):
    """Decorate a view so it runs only for an authenticated API call.

    Authenticates by ``Authorization: Bearer <access>``, else the ``access_token`` cookie
    (after a CSRF check on unsafe methods), else the session (CSRF-checked too); ``request.user``
    is then the user, whose row carries the moderator flag (one query). Answers 401
    problem+json (``WWW-Authenticate: Bearer``; ``TOKEN_INVALID`` for a malformed header or a
    bad, expired or revoked token, ``NOT_AUTHENTICATED`` for nothing at all), 403
    ``CSRF_FAILED``, or 503 ``SERVICE_UNAVAILABLE`` when Redis is down (fail closed). A token
    of a revoked family is refused by a Redis check before any SQL.
    """

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
            user = token_user_queryset(claims).first()
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
