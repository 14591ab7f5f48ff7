"""``Cache-Control: private, no-store`` on every answer that depends on the session or a token
(SPEC "Bad input", issue 11: signed-in pages had no ``Cache-Control``), checked over every GET
route of the registry (``e2e/routes.py``) as every signed-in role with Django's test client,
and over the JSON API; public pages signed out stay cacheable."""

import pytest
from django.test import Client

from e2e.routes import POST_ONLY, REGISTRY, ROLES, SIGNED_OUT, make_world
from tests import factories


def _directives(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def _private(response) -> bool:
    return {"private", "no-store"} <= _directives(response)


@pytest.mark.django_db(transaction=True)  # the world's sign-up and reset mails go out on commit
def test_every_signed_in_answer_is_private_and_not_stored(mailoutbox):
    """Every registered GET route (pages, fragments, redirects, 403s and 404s alike), plain and
    as htmx, as the gardener, the newbie and the moderator; and the API by session and by
    Bearer token."""
    world = make_world()
    checked, missing = 0, []
    for role in ROLES:
        if role == SIGNED_OUT:
            continue
        client = Client()
        assert client.login(username=world.accounts[role], password=factories.DEFAULT_PASSWORD)
        for entry in REGISTRY:
            if entry.kind == POST_ONLY:
                continue
            url = entry.url(world)
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, headers=headers)
                checked += 1
                if not _private(response):
                    missing.append(f"{role} {url} {headers}: {response.status_code} {response.get('Cache-Control')!r}")
        pair = client.post(
            "/api/auth/token/",
            {"username": world.accounts[role], "password": factories.DEFAULT_PASSWORD},
            content_type="application/json",
        )
        assert _private(pair), pair.get("Cache-Control")
        bearer = Client(headers={"Authorization": f"Bearer {pair.json()['access']}"})
        for api_client, how in ((client, "session"), (bearer, "bearer")):
            for url in ("/api/me/", "/api/dashboard/stats/"):
                response = api_client.get(url)
                assert response.status_code == 200, (role, how, url)
                checked += 1
                if not _private(response):
                    missing.append(f"{role} {how} {url}: {response.get('Cache-Control')!r}")
    assert not missing, "signed-in answers a cache may keep:\n" + "\n".join(missing)
    assert checked > 150, checked


@pytest.mark.django_db(transaction=True)
def test_sign_in_sign_out_and_token_answers_are_private(client, mailoutbox):
    """The answers that set or end the session or token cookies, and a refused token."""
    factories.UserFactory(username="rosa")
    signin = client.post("/accounts/login/", {"username": "rosa", "password": factories.DEFAULT_PASSWORD})
    assert signin.status_code == 302 and _private(signin)
    assert _private(client.post("/accounts/logout/"))
    refused = Client(headers={"Authorization": "Bearer not-a-token"}).get("/api/me/")
    assert refused.status_code == 401 and _private(refused)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/forum/", "/plants/species/"])
def test_public_pages_signed_out_stay_cacheable(client, path):
    """Signed out, with no session, the public pages keep no ``private`` / ``no-store``."""
    response = client.get(path)
    assert response.status_code == 200
    assert not {"private", "no-store"} & _directives(response)
    species = client.get(f"/plants/species/{factories.SpeciesFactory().slug}/")
    assert species.status_code == 200 and not {"private", "no-store"} & _directives(species)
