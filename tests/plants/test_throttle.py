"""Suggestions and votes are throttled per gardener by trust level, at the real default limits
(no settings override): over the limit the answer is 429 with ``Retry-After``, the form (htmx
fragment or whole page) keeps what was typed and says when to try again, and nothing is
written. Moderators are exempt; a Redis outage lets writes through (SPEC "Bad input")."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse

from apps.core.permissions import MODERATORS_GROUP
from apps.core.throttle import write_throttle_message
from apps.plants.models import IdentificationStatus, IdentificationSuggestion, SuggestionVote
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def open_request(gardener):
    return factories.IdentificationRequestFactory(owner=gardener, thumbnail="", status=IdentificationStatus.NEEDS_HELP)


@pytest.fixture
def new_helper_client(client):
    """Signed in as another gardener at trust level ``new`` (the strictest limits)."""
    client.force_login(factories.UserFactory(username="basil"))
    return client


def _assert_throttled(response, *, action: str, htmx: bool) -> str:
    """429 with whole seconds in ``Retry-After`` and the matching message, as a fragment for
    htmx or the whole page otherwise; returns the body."""
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert retry_after >= 1
    body = response.content.decode()
    assert write_throttle_message(action=action, retry_after=retry_after) in body
    assert 'role="alert"' in body
    assert ("<html" in body) is not htmx
    return body


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_second_suggestion_within_30_seconds_is_429_and_keeps_the_typed_name(new_helper_client, open_request, htmx):
    """``new``: one suggestion per 30 s. The refused name stays in the box; no row is written."""
    assert settings.WRITE_THROTTLES["new"]["suggestion"][0] == (1, 30)
    url = reverse("plants:suggestion-create", args=[open_request.pk])
    headers = HTMX if htmx else {}
    first = new_helper_client.post(url, {"name": "Monstera deliciosa"}, headers=headers)
    assert first.status_code == (200 if htmx else 302)

    refused = new_helper_client.post(url, {"name": "Some kind of philodendron"}, headers=headers)
    body = _assert_throttled(refused, action="suggestion", htmx=htmx)
    assert int(refused["Retry-After"]) in (29, 30)
    assert 'value="Some kind of philodendron"' in body and "Suggest this name" in body
    assert list(IdentificationSuggestion.objects.values_list("free_text_name", flat=True)) == [""]
    assert SuggestionVote.objects.count() == 1


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_the_eleventh_vote_within_a_minute_is_429_and_changes_nothing(new_helper_client, open_request, htmx):
    """``new``: ten votes a minute (agreeing and withdrawing both count); the eleventh is
    refused with the suggestions shown again and the counts untouched."""
    assert settings.WRITE_THROTTLES["new"]["vote"][0] == (10, 60)
    suggestion = factories.SuggestionFactory(request=open_request)
    url = reverse("plants:suggestion-vote", args=[open_request.pk, suggestion.pk])
    headers = HTMX if htmx else {}
    for _ in range(10):
        assert new_helper_client.post(url, {"agrees": "1"}, headers=headers).status_code == (200 if htmx else 302)
    suggestion.refresh_from_db()
    assert (suggestion.vote_count, SuggestionVote.objects.count()) == (0, 0)  # ten toggles: back to none

    refused = new_helper_client.post(url, {"agrees": "1"}, headers=headers)
    body = _assert_throttled(refused, action="vote", htmx=htmx)
    assert 55 <= int(refused["Retry-After"]) <= 60
    assert f'id="suggestion-{suggestion.pk}"' in body
    suggestion.refresh_from_db()
    assert (suggestion.vote_count, SuggestionVote.objects.count()) == (0, 0)


def test_invalid_input_does_not_use_up_the_limit(new_helper_client, open_request):
    """A refused (too short) suggestion is not a write: the next valid one still goes through.
    Over htmx the form comes back as a 400, which htmx is configured to swap."""
    url = reverse("plants:suggestion-create", args=[open_request.pk])
    blank = new_helper_client.post(url, {"name": "x"}, headers=HTMX)
    assert blank.status_code == 400 and "Write at least two letters." in blank.content.decode()
    assert new_helper_client.post(url, {"name": "Monstera deliciosa"}).status_code == 302


def test_moderators_are_exempt(client, open_request):
    """A moderator (here at trust level ``new``) suggests and votes with no throttle."""
    moderator = factories.UserFactory(username="mod")
    moderator.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    client.force_login(moderator)
    url = reverse("plants:suggestion-create", args=[open_request.pk])
    for name in ("Monstera deliciosa", "Some kind of philodendron", "Swiss cheese plant?"):
        assert client.post(url, {"name": name}, headers=HTMX).status_code == 200
    suggestion = IdentificationSuggestion.objects.get(free_text_name="Some kind of philodendron")
    vote_url = reverse("plants:suggestion-vote", args=[open_request.pk, suggestion.pk])
    assert all(client.post(vote_url, {"agrees": "0"}, headers=HTMX).status_code == 200 for _ in range(12))
    assert IdentificationSuggestion.objects.count() == 3


def test_a_redis_outage_lets_suggestions_through(client, open_request, own_redis, caplog):
    """With the throttle's Redis SIGKILLed mid-test the gardener can still suggest (fail open,
    logged); the page keeps working on database sessions."""
    client.force_login(factories.UserFactory(username="basil"))
    url = reverse("plants:suggestion-create", args=[open_request.pk])
    assert client.post(url, {"name": "Monstera deliciosa"}).status_code == 302
    assert client.post(url, {"name": "Some kind of philodendron"}).status_code == 429
    own_redis.kill()
    assert client.post(url, {"name": "Some kind of philodendron"}).status_code == 302
    assert IdentificationSuggestion.objects.filter(free_text_name="Some kind of philodendron").exists()
    assert any(record.name == "apps.core.throttle" and record.levelname == "WARNING" for record in caplog.records)
