"""Issue 15: a 429 page says how long to wait in minutes and then, exactly, "Try again in N
seconds." with the N of the ``Retry-After`` header the view set (the generic 429 page, its htmx
fragment, and the sign-in lock page for an account and for a network)."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from apps.core.responses import too_many_requests
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _seconds_line(response) -> str:
    seconds = int(response["Retry-After"])
    return f"Try again in {seconds} second{'' if seconds == 1 else 's'}."


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def test_generic_429_page_says_minutes_then_the_exact_seconds(client, settings):
    """Sign-up over its per-IP limit (a 429 with no sentence of its own): the generic sentence
    names the minutes, the next line the seconds of Retry-After."""
    settings.SIGNUP_LIMIT_PER_IP = 1
    form = {"password1": "window-basil-trellis-42", "password2": "window-basil-trellis-42"}
    client.post(reverse("accounts:signup"), {**form, "username": "newbie0", "email": "n0@example.com"})
    refused = client.post(reverse("accounts:signup"), {**form, "username": "newbie1", "email": "n1@example.com"})
    assert refused.status_code == 429
    text = _text(refused)
    assert "Please wait 60 minutes and try again." in text
    assert text.index("Please wait 60 minutes") < text.index(_seconds_line(refused))


@pytest.mark.parametrize(
    ("retry_after", "minutes", "seconds"), [(1, "1 minute", "1 second"), (61, "2 minutes", "61 seconds")]
)
def test_429_page_and_fragment_print_the_seconds_of_retry_after(rf, retry_after, minutes, seconds):
    """The page and the htmx fragment (swapped into the form that asked) both carry the line,
    singular for one second; the header says the same number."""
    for htmx in (False, True):
        request = rf.post("/plants/identify/", headers={"HX-Request": "true"} if htmx else {})
        request.htmx = HtmxDetails(request)
        request.user = AnonymousUser()
        response = too_many_requests(request, retry_after=retry_after)
        assert response.status_code == 429 and response["Retry-After"] == str(retry_after)
        text = _text(response)
        assert f"Please wait {minutes} and try again." in text
        assert f"Try again in {seconds}." in text
        assert ("<html" in response.content.decode()) is not htmx


def test_account_lock_page_says_minutes_then_the_exact_seconds(client, gardener):
    for attempt in range(10):
        client.post(LOGIN, {"username": "rosa", "password": f"wrong-{attempt}"})
    locked = client.post(LOGIN, {"username": "rosa", "password": factories.DEFAULT_PASSWORD})
    assert locked.status_code == 429
    text = _text(locked)
    assert re.search(r"Please try again in 60 minutes\. Try again in 3[56]\d\d seconds\.", text), text
    assert _seconds_line(locked) in text


def test_network_block_page_says_minutes_then_the_exact_seconds(client, settings, gardener):
    settings.IP_SIGNIN_FAILURE_LIMIT = 3
    for index in range(3):
        client.post(LOGIN, {"username": f"guess{index}", "password": "wrong"}, REMOTE_ADDR="203.0.113.7")
    blocked = client.post(
        LOGIN, {"username": "rosa", "password": factories.DEFAULT_PASSWORD}, REMOTE_ADDR="203.0.113.7"
    )
    assert blocked.status_code == 429
    text = _text(blocked)
    assert "too many failed sign-ins from your network" in text
    assert re.search(r"Please try again in 15 minutes\. Try again in (8[5-9]\d|900) seconds\.", text), text
    assert _seconds_line(blocked) in text
