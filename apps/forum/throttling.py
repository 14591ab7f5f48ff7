"""Write throttles for forum forms (issue 9, "Writing rules"): topics, replies and reports by
trust level, counted by the same Redis limiter as sign-in (``apps.core.throttle``)."""

from django.http import HttpRequest

from apps.core.permissions import is_moderator
from apps.core.ratelimit import RateLimited
from apps.core.throttle import write_throttle_hit, write_throttle_message


def write_throttled(request: HttpRequest, form, *, action: str) -> int | None:
    """Count one ``action`` (``"post"`` for topics and replies, ``"report"``) by the signed-in
    gardener against ``WRITE_THROTTLES`` for their trust level. Over the limit: adds the "try
    again in ..." message to ``form`` (which keeps what was typed), sets ``form.retry_after``
    (whole seconds, for the ``Retry-After`` header) and returns 429; otherwise returns
    ``None`` and the write may go ahead. Moderators are exempt; with Redis down the limit
    fails open (``write_throttle_hit``: it protects against floods, not accounts)."""
    user = request.user
    try:
        write_throttle_hit(user_id=user.pk, action=action, trust_level=user.trust_level, exempt=is_moderator(user))
    except RateLimited as limited:
        message = write_throttle_message(action=action, retry_after=limited.retry_after)
        if getattr(form, "cleaned_data", {}).get("image"):
            message += " Files are not kept between tries: attach your photo again."
        form.add_error(None, message)
        form.retry_after = limited.retry_after
        return 429
    return None
