"""API authentication seam. Sessions now; Bearer tokens plug in here with the auth issue."""

from functools import wraps

from .problems import problem_response


def api_auth_required(view):
    """Let the view run for an authenticated caller; otherwise answer 401 problem+json with
    ``WWW-Authenticate: Bearer`` (SPEC "HTTP contract": a signed-out API call gets 401)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return problem_response(
                status=401,
                title="Authentication required",
                detail="Sign in or send an Authorization: Bearer token.",
                code="NOT_AUTHENTICATED",
                headers={"WWW-Authenticate": 'Bearer realm="api"'},
            )
        return view(request, *args, **kwargs)

    return wrapper
