"""Redis outages are real: a ``redis-server`` the test started is SIGKILLed mid-test. Sign-in
and tokens fail closed with 503; signed-in pages keep working (SPEC "Sign-in, tokens and
lockout")."""

import pytest

from apps.core.checks import security_store_shared_check
from apps.core.redis import get_strict_redis
from tests.factories import DEFAULT_PASSWORD
from tests.redis_server import redis_server

pytestmark = pytest.mark.django_db


def test_sign_in_and_refresh_answer_503_when_redis_dies_while_pages_still_render(
    client, client_factory, gardener, own_redis
):
    browser = client_factory()
    assert browser.post("/accounts/login/", {"username": "rosa", "password": DEFAULT_PASSWORD}).status_code == 302
    pair = client.post(
        "/api/auth/token/", {"username": "rosa", "password": DEFAULT_PASSWORD}, content_type="application/json"
    ).json()
    own_redis.kill()

    form = client.post("/accounts/login/", {"username": "rosa", "password": DEFAULT_PASSWORD})
    assert form.status_code == 503
    assert "temporarily unavailable" in form.content.decode()
    assert "_auth_user_id" not in client.session
    for response in (
        client.post(
            "/api/auth/token/", {"username": "rosa", "password": DEFAULT_PASSWORD}, content_type="application/json"
        ),
        client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, content_type="application/json"),
        client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {pair['access']}"),
    ):
        assert response.status_code == 503
        assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    wrong = client.post("/accounts/login/", {"username": "rosa", "password": "guess-guess-1"})
    assert wrong.status_code == 503

    assert browser.get("/dashboard/").status_code == 200
    assert browser.get("/dashboard/panels/plant-stats/", headers={"HX-Request": "true"}).status_code == 200
    assert browser.get("/plants/requests/").status_code == 200
    signed_out = browser.post("/accounts/logout/")
    assert signed_out.status_code == 302


def test_embedded_default_counts_in_process(client, settings, gardener):
    """With no REDIS_URL the same monitor runs on the in-process store (one process)."""
    settings.REDIS_URL = None
    get_strict_redis().flushall()
    for _ in range(10):
        assert client.post("/accounts/login/", {"username": "rosa", "password": "guess-guess-1"}).status_code == 200
    assert client.post("/accounts/login/", {"username": "rosa", "password": DEFAULT_PASSWORD}).status_code == 429
    get_strict_redis().flushall()


def test_production_refuses_a_store_processes_do_not_share(settings):
    """System check core.E001 fires with DEBUG off and no shared Redis."""
    settings.DEBUG = False
    settings.REDIS_URL = None
    assert [error.id for error in security_store_shared_check(None)] == ["core.E001"]
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert security_store_shared_check(None) == []


def test_revocation_survives_a_redis_outage_and_restart(
    client, client_factory, gardener, own_redis, settings, django_capture_on_commit_callbacks
):
    """Sign-out and password change while Redis is down still revoke: the database records
    (``RevokedTokenFamily``, ``tokens_valid_after``) are checked by the token query, so an
    empty Redis afterwards does not bring the old tokens back."""
    browser, phone = client_factory(), client_factory()
    browser.post("/accounts/login/", {"username": "rosa", "password": DEFAULT_PASSWORD})
    browser_refresh = browser.cookies["refresh_token"].value
    phone_pair = phone.post(
        "/api/auth/token/", {"username": "rosa", "password": DEFAULT_PASSWORD}, content_type="application/json"
    ).json()
    own_redis.kill()
    assert browser.post("/accounts/logout/").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        gardener.set_password("a-new-long-passphrase-77")
        gardener.save()
    with redis_server() as fresh:
        settings.REDIS_URL = fresh.url
        refreshed = [
            client.post("/api/auth/token/refresh/", {"refresh": token}, content_type="application/json")
            for token in (browser_refresh, phone_pair["refresh"])
        ]
        me = client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {phone_pair['access']}")
    assert [response.status_code for response in refreshed] == [401, 401]
    assert me.status_code == 401


@pytest.mark.parametrize(
    "body", ['{"username": "gard\\u0000ener", "password": "x"}', '{"username": "\\ud800", "password": "x"}']
)
def test_nul_and_lone_surrogates_in_api_bodies_are_400(client, body):
    response = client.post("/api/auth/token/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "INVALID_REQUEST"
    refresh = client.post("/api/auth/token/refresh/", '{"refresh": "\\ud800"}', content_type="application/json")
    assert refresh.status_code == 400
