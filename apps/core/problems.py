"""RFC 9457 problem details responses for the JSON API (SPEC "HTTP contract")."""

from django.http import JsonResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://plant-portal.example/problems/"


def problem_response(
    *, status: int, title: str, detail: str, code: str, headers: dict[str, str] | None = None
) -> JsonResponse:
    """Return an ``application/problem+json`` response.

    ``status`` is the HTTP status (int); ``title`` a short summary that does not change between
    occurrences; ``detail`` the explanation of this occurrence; ``code`` the machine-readable
    code in UPPER_SNAKE (``INVALID_CREDENTIALS``, ``RATE_LIMITED``, ...). The ``type`` member is
    a URI derived from the code, as RFC 9457 section 3.1.1 recommends. Raises nothing.
    """
    body = {
        "type": PROBLEM_TYPE_BASE + code.lower().replace("_", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
