"""Comparing two answers for tells (OWASP ASVS 2.2.1-style "same answer" checks).

``comparable(response)`` is what may not differ between, say, a right and a wrong password: the
status, the body and the headers, with the two values that differ between any two requests
taken out: ``Expires`` (``never_cache`` sets it to "now", to the second, so two answers either
side of a second differ) and the CSP nonce (fresh per response).
"""

import re

_NONCE = re.compile(r"'nonce-[^']+'")


def comparable(response) -> tuple[int, bytes, list[tuple[str, str]]]:
    """``(status, body, sorted headers)`` of a Django test response, without ``Expires`` and
    with any CSP nonce replaced by ``'nonce-N'``."""
    headers = sorted(
        (name, _NONCE.sub("'nonce-N'", value)) for name, value in response.headers.items() if name != "Expires"
    )
    return response.status_code, response.content, headers
