"""Client IP resolution (SPEC "Sign-in, tokens and lockout")."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """Return the client's IP address as a string.

    ``REMOTE_ADDR`` unless ``settings.TRUSTED_PROXY_COUNT`` (int, default 0) says how many
    reverse proxies in front of the site append to ``X-Forwarded-For``; then the address that
    many hops from the right of that header (the one the outermost trusted proxy saw). A header
    shorter than that, or an entry that is not an IP address, falls back to ``REMOTE_ADDR``, so
    a client cannot choose its own address by sending the header (OWASP ASVS 4.0 13.1.3 spirit;
    the rightmost-N rule is MDN's recommendation for ``X-Forwarded-For``).
    """
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
