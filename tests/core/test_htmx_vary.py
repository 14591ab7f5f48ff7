"""One rule for ``Vary``: a response chosen by an htmx header says so (``apps.core.htmx``).

The rule is checked on every GET route of the registry (``e2e/routes.py``) as every role with
Django's test client: where the answer to ``HX-Request: true`` differs from the plain answer
(another status, another redirect, a fragment instead of a document), both carry
``Vary: HX-Request``. The middleware itself is checked on small views that read, or do not
read, ``request.htmx``.
"""

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory

from apps.core.htmx import HtmxMiddleware
from e2e.routes import DATA, POST_ONLY, REGISTRY, ROLES, SIGNED_OUT, make_world
from tests import factories


def _shape(response) -> tuple:
    body = response.content.decode(errors="replace").lstrip().lower()
    return response.status_code, response.get("Location"), body.startswith("<!doctype html")


def _varies_on_hx_request(response) -> bool:
    return "hx-request" in {part.strip().lower() for part in response.get("Vary", "").split(",")}


@pytest.mark.django_db(transaction=True)  # the world's sign-up and reset mails go out on commit
def test_every_route_that_answers_htmx_differently_says_so_in_vary(mailoutbox):
    world = make_world()
    checked, differing, missing = 0, [], []
    for role in ROLES:
        client = Client()
        if role != SIGNED_OUT:
            client.login(username=world.accounts[role], password=factories.DEFAULT_PASSWORD)
        for entry in REGISTRY:
            if entry.kind in (DATA, POST_ONLY):
                continue
            url = entry.url(world)
            plain = client.get(url)
            htmx = client.get(url, headers={"HX-Request": "true"})
            checked += 1
            if _shape(plain) == _shape(htmx):
                continue
            differing.append(url)
            if not (_varies_on_hx_request(plain) and _varies_on_hx_request(htmx)):
                missing.append(
                    f"{role} {url}: plain {_shape(plain)} Vary={plain.get('Vary')!r}, "
                    f"htmx {_shape(htmx)} Vary={htmx.get('Vary')!r}"
                )
    assert not missing, "answers that depend on HX-Request without saying so:\n" + "\n".join(missing)
    # The rule was exercised: panels, the request list, the sign-in redirect for htmx differ.
    assert checked > 100 and len(set(differing)) >= 5, (checked, sorted(set(differing)))


def _through_middleware(view, **headers):
    request = RequestFactory().get("/somewhere/", headers=headers)
    return HtmxMiddleware(view)(request)


def test_a_view_that_reads_hx_request_varies_on_it():
    def view(request):
        return HttpResponse("fragment" if request.htmx else "page")

    for headers in ({}, {"HX-Request": "true"}):
        assert _through_middleware(view, **headers)["Vary"] == "HX-Request"


def test_a_view_that_reads_another_htmx_header_varies_on_that_one_too():
    def view(request):
        return HttpResponse(f"{bool(request.htmx)} {request.htmx.target}")

    assert _through_middleware(view, **{"HX-Request": "true", "HX-Target": "main"})["Vary"] == "HX-Request, HX-Target"


def test_a_view_that_ignores_htmx_adds_nothing_to_vary_and_keeps_its_own():
    def plain_view(request):
        return HttpResponse("same for everyone")

    def own_vary_view(request):
        response = HttpResponse("by language")
        response["Vary"] = "Accept-Language"
        return response

    assert not _through_middleware(plain_view, **{"HX-Request": "true"}).has_header("Vary")
    assert _through_middleware(own_vary_view)["Vary"] == "Accept-Language"
