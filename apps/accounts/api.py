"""JSON API for accounts: tokens and ``/api/me/`` (SPEC "HTTP contract")."""

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from apps.core.api import BadBody, csrf_failure, json_body, service_unavailable, unauthenticated
from apps.core.client_ip import client_ip
from apps.core.problems import problem_response
from apps.core.ratelimit import set_retry_after

from . import tokens
from .api_auth import api_auth_required
from .devices import family_seen_record
from .lockout import SignInLocked
from .selectors import token_user_queryset
from .session_services import api_session_record
from .signin_services import (
    InvalidCredentials,
    OTPRequired,
    PasswordOrCodeWrong,
    SecurityUnavailable,
    refresh_token_rotate,
    set_token_cookies,
    sign_in_attempt,
    token_family_revoke,
    tokens_start,
)


def _bad_request(detail: str):
    return problem_response(status=400, title="Invalid request", detail=detail, code="INVALID_REQUEST")


@csrf_exempt
@sensitive_post_parameters("password", "otp")
@never_cache
@require_POST
def token_obtain(request: HttpRequest) -> HttpResponse:
    """``POST /api/auth/token/`` ``{"username", "password"}`` (plus ``"otp"``, an authenticator
    code or a recovery code, for an account with two-factor sign-in) -> 200 ``{"access",
    "refresh", "token_type": "Bearer", "expires_in"}``. Shares the lockout counter with the
    sign-in form: 401 ``INVALID_CREDENTIALS`` (a wrong password or a wrong code alike), 401
    ``OTP_REQUIRED`` for a two-factor account without ``otp`` (the same body whether or not
    the password was right), 429 ``ACCOUNT_LOCKED`` / ``RATE_LIMITED`` with ``Retry-After``,
    400 for a malformed body, 503 when Redis is down. The new token family is recorded for the
    gardener's "Active sessions" page (device and coarse network)."""
    try:
        data = json_body(request, fields=("username", "password"), optional=("otp",))
    except BadBody as error:
        return _bad_request(str(error))
    if len(data["username"]) > 254 or len(data["password"]) > 4096 or len(data.get("otp", "")) > 64:
        return _bad_request("'username', 'password' or 'otp' is too long.")
    try:
        user = sign_in_attempt(
            name=data["username"],
            password=data["password"],
            ip=client_ip(request),
            base_url=request.build_absolute_uri("/").rstrip("/"),
            otp=data.get("otp"),
        )
        pair = tokens_start(user=user)
    except OTPRequired:
        return unauthenticated(
            "This account uses two-factor sign-in: send the code from its authenticator app (or a recovery code) "
            "as 'otp' with the username and password.",
            "OTP_REQUIRED",
        )
    except PasswordOrCodeWrong:
        return unauthenticated(
            "That password and code do not match the account, or the code was already used.", "INVALID_CREDENTIALS"
        )
    except InvalidCredentials:
        return unauthenticated("That username or email and password do not match an account.", "INVALID_CREDENTIALS")
    except SignInLocked as locked:
        code = "RATE_LIMITED" if locked.scope == "ip" else "ACCOUNT_LOCKED"
        response = problem_response(
            status=429,
            title="Too many sign-in attempts",
            detail=f"Sign-in is locked; retry in {locked.retry_after} seconds.",
            code=code,
        )
        return set_retry_after(response, locked.retry_after)
    except SecurityUnavailable:
        return service_unavailable()
    api_session_record(
        user=user, family_id=pair.family_id, user_agent=request.headers.get("User-Agent", ""), ip=client_ip(request)
    )
    return JsonResponse(pair.as_json())


@csrf_exempt
@never_cache
@require_POST
def token_refresh(request: HttpRequest) -> HttpResponse:
    """``POST /api/auth/token/refresh/`` ``{"refresh"}`` (or the ``refresh_token`` cookie, then
    CSRF-checked) -> 200 new pair, same shape. At most one SQL statement (is the user still
    active?). 401 ``TOKEN_INVALID`` / ``TOKEN_REUSED``; 503 when the used-mark cannot be
    written (nothing issued). When the family was last seen is kept in Redis, not SQL."""
    try:
        data = json_body(request, optional=("refresh",))
    except BadBody as error:
        return _bad_request(str(error))
    from_cookie = "refresh" not in data
    token = data.get("refresh") or request.COOKIES.get(settings.JWT_REFRESH_COOKIE)
    if not token:
        return _bad_request("'refresh' is required (or the refresh_token cookie).")
    if from_cookie and (failure := csrf_failure(request)):
        return failure
    try:
        claims = tokens.decode(token, expected_type=tokens.REFRESH)
    except tokens.TokenInvalid:
        return unauthenticated("The refresh token is invalid or expired.", "TOKEN_INVALID")
    if not token_user_queryset(claims).exists():
        return unauthenticated("The refresh token is invalid or expired.", "TOKEN_INVALID")
    try:
        pair = refresh_token_rotate(claims=claims)
    except tokens.TokenReused:
        return unauthenticated("This refresh token was already used; its sign-in has been revoked.", "TOKEN_REUSED")
    except tokens.TokenInvalid:
        return unauthenticated("The refresh token is invalid or revoked.", "TOKEN_INVALID")
    except redis.RedisError:
        return service_unavailable()
    family_seen_record(family_id=pair.family_id)
    response = JsonResponse(pair.as_json())
    if from_cookie:
        set_token_cookies(response, pair)
    return response


@csrf_exempt
@never_cache
@require_POST
def token_revoke(request: HttpRequest) -> HttpResponse:
    """``POST /api/auth/token/revoke/`` ``{"refresh"}`` -> 204, also for an unknown or already
    revoked token (RFC 7009 section 2.2). A valid token's whole family is revoked."""
    try:
        data = json_body(request, fields=("refresh",))
    except BadBody as error:
        return _bad_request(str(error))
    try:
        claims = tokens.decode(data["refresh"], expected_type=tokens.REFRESH)
    except tokens.TokenInvalid:
        return HttpResponse(status=204)
    try:
        token_family_revoke(family_id=claims["fam"])
    except redis.RedisError:
        return service_unavailable()
    return HttpResponse(status=204)


@api_auth_required
@require_GET
@never_cache
def me(request: HttpRequest) -> JsonResponse:
    """``GET /api/me/`` -> ``{"username", "email", "trust_level"}``."""
    user = request.user
    return JsonResponse({"username": user.username, "email": user.email, "trust_level": user.trust_level})
