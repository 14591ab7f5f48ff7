"""Bad request data answers the site's 400 whatever ``DEBUG`` says (issue 11: with ``make run``'s
DEBUG on, 1,100 query parameters answered 500, because Django's debug page reads the query
string again and fails the same way)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

pytestmark = pytest.mark.django_db

TOO_MANY = "&".join(f"f{index}=1" for index in range(1100))


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def _site_page(response) -> str:
    assert response.status_code == 400
    body = response.content.decode()
    assert "<title>Bad request" in body
    assert "Traceback" not in body and "DATA_UPLOAD_MAX_NUMBER_FIELDS" not in body
    return body


@pytest.mark.parametrize("path", ["/plants/species/", "/forum/search/", "/accounts/login/", "/forum/"])
def test_too_many_query_parameters_answer_the_400_page(client, debug, path):
    """``TooManyFieldsSent`` from the query string, on pages that read it and pages that do not:
    the same 400 page with DEBUG on as off."""
    _site_page(client.get(f"{path}?{TOO_MANY}"))


def test_too_many_form_fields_answer_the_400_page(client, debug):
    """``TooManyFieldsSent`` from a form body (read first by the CSRF check)."""
    _site_page(client.post("/accounts/login/", TOO_MANY, content_type="application/x-www-form-urlencoded"))


def test_too_many_files_answer_the_400_page(client, debug, settings):
    """``TooManyFilesSent`` from a multipart body."""
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    files = {f"image{index}": SimpleUploadedFile(f"{index}.jpg", b"x") for index in range(5)}
    _site_page(client.post("/accounts/login/", files))


def test_a_form_body_over_the_memory_limit_answers_the_400_page(client, debug, settings):
    """``RequestDataTooBig`` for a form body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _site_page(
        client.post("/accounts/login/", "username=" + "x" * 2000, content_type="application/x-www-form-urlencoded")
    )


def test_the_api_answers_problem_json_for_bad_request_data(client, debug, settings):
    """Under ``/api/`` the same cases answer 400 problem+json, DEBUG on or off."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    for response in (
        client.post("/api/auth/token/", '{"username": "' + "x" * 2000 + '"}', content_type="application/json"),
        client.get(f"/api/me/?{TOO_MANY}"),
    ):
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("path", ["/api/auth/token/", "/api/auth/token/refresh/", "/api/auth/token/revoke/"])
def test_a_form_body_sent_to_a_json_endpoint_answers_400(client, debug, path):
    """A multipart form (already parsed, so unreadable again, by ``BadRequestPageMiddleware``)
    or a urlencoded one sent where JSON is expected is a 400 ``INVALID_REQUEST``, never a 500."""
    for response in (
        client.post(path, {"username": "rosa", "password": "x"}),
        client.post(path, "username=rosa&password=x", content_type="application/x-www-form-urlencoded"),
    ):
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "INVALID_REQUEST"


@pytest.mark.parametrize(
    "path",
    [
        "/u/rosa%00/",
        "/plants/species/monstera%00/",
        "/accounts/confirm/abc%00def/",
        "/accounts/settings/data/export/x%00/",
        "/notifications/forum.topic:1%00/open/",
        "/plants/care/%00/",
    ],
)
def test_a_nul_character_in_the_address_answers_the_400_page(client, debug, path):
    """A NUL in the path is refused before any view runs (PostgreSQL text cannot hold one:
    ``/u/rosa%00/`` raised ``DataError``, a 500, in issue 12's review), whether or not the
    path names a page."""
    _site_page(client.get(path))


def test_a_nul_character_answers_400_to_a_signed_in_gardener_too(client, debug):
    """The rule holds after the session and user lookup as well (the profile view's path)."""
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="rosa"))
    _site_page(client.get("/u/rosa%00/"))
    assert client.get("/u/rosa/").status_code == 200
