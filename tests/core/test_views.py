"""Health checks, error pages and behaviour when Redis goes away."""

import pytest
from django.urls import reverse

from tests.redis_server import redis_server

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    """Liveness costs no SQL and says ok."""
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_ok_when_database_and_redis_answer(client):
    """Readiness checks both services."""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_503_when_redis_is_killed(client, settings):
    """A Redis that dies makes readiness answer 503 naming it."""
    with redis_server() as server:
        settings.REDIS_URL = server.url
        assert client.get("/readyz").status_code == 200
        server.kill()
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "unavailable"


def test_signed_in_pages_keep_working_when_redis_dies(client, settings, gardener):
    """Sessions are cached_db through a cache that treats errors as misses: with Redis killed,
    the dashboard and its panels still render from the database session."""
    with redis_server() as server:
        settings.CACHES = {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": server.url,
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True},
            }
        }
        client.force_login(gardener)
        assert client.get(reverse("dashboard:index")).status_code == 200
        server.kill()
        page = client.get(reverse("dashboard:index"))
        panel = client.get(reverse("dashboard:panel", args=["plant-stats"]), headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert "Hello, rosa" in page.content.decode()
    assert panel.status_code == 200


def test_unknown_page_is_a_404_page_in_the_site_look(client):
    """Browsers get the site's 404 page."""
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_unknown_api_path_is_a_problem_response(client):
    """API paths answer problem+json (RFC 9457)."""
    response = client.get("/api/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "NOT_FOUND"


def test_security_headers_on_pages(client):
    """CSP with a nonce, no framing and a strict referrer policy on every page."""
    response = client.get(reverse("accounts:login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("status", [400, 403, 404, 429, 500, 503])
def test_error_pages_render_in_the_site_look_without_context(status):
    """Each error template renders on its own (500 is rendered with no request context)."""
    from django.template import loader

    html = loader.get_template(f"{status}.html").render()
    assert "Plant Community Portal" in html
    assert "Traceback" not in html


@pytest.mark.parametrize("status", [400, 429])
def test_error_answers_to_htmx_are_fragments_for_the_form_that_asked(rf, status):
    """base.html's responseHandling swaps 400 and 429 into the requesting element, so for an
    htmx request the error template is an alert fragment (no page, no <title>); a browser's
    navigation still gets the whole page."""
    from django.contrib.auth.models import AnonymousUser
    from django_htmx.middleware import HtmxDetails

    from apps.core.responses import error_page

    request = rf.post("/plants/requests/1/suggestions/1/vote/", headers={"HX-Request": "true"})
    request.htmx = HtmxDetails(request)
    detail = "Choose agree or disagree."
    fragment = error_page(request, status, detail=detail, retry_after=5).content.decode()
    assert fragment.lstrip().startswith("<div") and 'role="alert"' in fragment
    assert "Choose agree or disagree." in fragment
    assert "<html" not in fragment and "<title>" not in fragment
    browser = rf.post("/plants/requests/1/suggestions/1/vote/")
    browser.htmx = HtmxDetails(browser)
    browser.user = AnonymousUser()
    page = error_page(browser, status, detail=detail, retry_after=5).content.decode()
    assert "<html" in page and "<h1>" in page and "Choose agree or disagree." in page


def test_htmx_swaps_400_409_and_429_but_not_204_or_other_errors(client):
    """The htmx-config on every page keeps its keys and sets responseHandling: a form with its
    messages (400), "already decided" or "changed since you looked" (409, the review queue) and
    "try again in ..." (429) are swapped, still flagged as errors."""
    import json
    import re

    page = client.get("/accounts/login/").content.decode()
    config = json.loads(re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page).group(1))
    assert config["allowEval"] is False and config["allowScriptTags"] is False
    rules = config["responseHandling"]

    def rule_for(status: int) -> dict:
        return next(rule for rule in rules if re.search(rule["code"], str(status)))

    assert rule_for(204)["swap"] is False
    assert rule_for(200)["swap"] is True and not rule_for(200).get("error")
    for status in (400, 409, 429):
        assert rule_for(status) == {"code": rule_for(status)["code"], "swap": True, "error": True}
    for status in (401, 403, 404, 422, 500, 503):
        assert rule_for(status)["swap"] is False and rule_for(status)["error"] is True


def test_server_error_handler_answers_500_page_and_problem_for_api(rf):
    """The 500 handler shows the site's page to browsers and problem+json to API clients."""
    from apps.core.views import server_error

    page = server_error(rf.get("/dashboard/"))
    api = server_error(rf.get("/api/dashboard/stats/"))
    assert page.status_code == 500 and b"Something went wrong" in page.content
    assert api.status_code == 500 and api["Content-Type"] == "application/problem+json"


def test_htmx_sign_in_redirect_returns_to_the_page_not_the_fragment(client):
    """A panel request whose session expired sends the browser to sign in and then back to
    the page it was on (HX-Current-URL), not to the bare fragment."""
    response = client.get(
        "/dashboard/panels/care-cards/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/dashboard/"},
    )
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fdashboard%2F"
    off_site = client.get(
        "/dashboard/panels/care-cards/", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}
    )
    assert off_site["HX-Redirect"] == "/accounts/login/?next=/dashboard/panels/care-cards/"


def test_wrong_method_gets_a_page_or_a_problem(client, gardener):
    """Django's empty 405 gets a body: the site's page, or problem+json under /api/."""
    page = client.get("/accounts/logout/")
    assert page.status_code == 405 and "Method not allowed" in page.content.decode()
    api = client.get("/api/auth/token/")
    assert api.status_code == 405 and api.json()["code"] == "METHOD_NOT_ALLOWED" and api["Allow"] == "POST"
    signed_out_put = client.put("/api/dashboard/stats/")
    assert signed_out_put.status_code == 401


def test_csrf_failure_page_is_in_the_site_look(gardener):
    """A stale form gets a 403 page that says what to do."""
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/accounts/login/", {"username": "rosa", "password": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "Plant Community Portal" in body and "reload the page" in body


@pytest.mark.django_db
def test_the_moderation_link_follows_the_permission_that_guards_the_pages(client):
    """The header's "Moderation" link shows exactly when /moderation/ opens: for a member of
    the moderators group (staff or not), not for staff without the permission; no extra query."""
    from django.contrib.auth.models import Group

    from tests import factories

    moderator = factories.UserFactory(username="mod")
    moderator.groups.add(Group.objects.get(name="moderators"))
    staff = factories.UserFactory(username="clerk", is_staff=True)
    for user, shown in ((moderator, True), (staff, False)):
        client.force_login(user)
        page = client.get("/plants/species/").content.decode()
        assert ('href="/moderation/">Moderation</a>' in page) is shown
        assert (client.get("/moderation/").status_code == 200) is shown
