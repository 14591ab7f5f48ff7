"""The request page while it waits, and the request's one title (issue 12): the page polls its
status region only, each time waiting longer, and stops once the status settles; a machine run
that died is retried, then failed; an accepted free-text name titles the request everywhere;
no title reads "Maybe Maybe"."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import TrustLevel
from apps.notifications.models import Notification
from apps.plants import services
from apps.plants.models import IdentificationStatus, PlantIdentificationRequest, identification_request_title
from tests import factories

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def owner_client(client, gardener):
    client.force_login(gardener)
    return client


def _request(gardener, status, **fields):
    return factories.IdentificationRequestFactory(owner=gardener, thumbnail="", status=status, **fields)


def test_a_running_request_polls_its_status_with_a_growing_wait(owner_client, gardener, settings):
    settings.IDENTIFICATION_STATUS_POLL_SECONDS = 5
    settings.IDENTIFICATION_STATUS_POLL_MAX_SECONDS = 60
    pending = _request(gardener, IdentificationStatus.PENDING)
    page = owner_client.get(pending.get_absolute_url()).content.decode()
    assert 'hx-trigger="load delay:5s"' in page and "?wait=7.5" in page
    assert "every 5s" not in page

    poll = owner_client.get(pending.get_absolute_url(), {"wait": "7.5"}, headers=HTMX).content.decode()
    assert 'hx-trigger="load delay:7.5s"' in poll and "?wait=11.25" in poll
    assert 'name="name"' not in poll and "suggestion-list" not in poll  # the form and the list stay
    capped = owner_client.get(pending.get_absolute_url(), {"wait": "500"}, headers=HTMX).content.decode()
    assert 'hx-trigger="load delay:60s"' in capped and "?wait=60" in capped
    for bad in ("soon", "nan", "-3", "1e999"):
        answer = owner_client.get(pending.get_absolute_url(), {"wait": bad}, headers=HTMX)
        assert answer.status_code == 200 and "hx-trigger" in answer.content.decode()


def test_once_settled_the_poll_stops_and_refreshes_the_list_not_the_form(owner_client, gardener):
    settled = _request(gardener, IdentificationStatus.NEEDS_HELP)
    factories.SuggestionFactory(request=settled)
    answer = owner_client.get(settled.get_absolute_url(), {"wait": "7.5"}, headers=HTMX).content.decode()
    assert "hx-trigger" not in answer.split('id="suggestion-list"')[0]
    assert '<div id="suggestion-list" hx-swap-oob="true">' in answer
    assert 'name="name"' not in answer and "Suggest this name" not in answer


def test_the_status_poll_costs_four_statements(owner_client, gardener, django_assert_num_queries):
    pending = _request(gardener, IdentificationStatus.PROCESSING)
    owner_client.get(pending.get_absolute_url())
    with django_assert_num_queries(4):
        owner_client.get(pending.get_absolute_url(), {"wait": "5"}, headers=HTMX)


def test_a_vote_swaps_the_list_only(client, gardener):
    settled = _request(gardener, IdentificationStatus.NEEDS_HELP)
    suggestion = factories.SuggestionFactory(request=settled)
    client.force_login(factories.UserFactory())
    answer = client.post(
        reverse("plants:suggestion-vote", args=[settled.pk, suggestion.pk]), {"agrees": "1"}, headers=HTMX
    ).content.decode()
    assert answer.lstrip().startswith('<div id="suggestion-list"') and 'name="name"' not in answer
    # Issue 15: on a phone the suggestions stack as blocks (table-stack), each cell labelled, so
    # Agree, Disagree and Accept stay on screen at 390 px.
    assert 'class="table table-stack"' in answer
    for label in ("From", "Confidence", "Agree / disagree"):
        assert f'data-label="{label}"' in answer


def test_a_vote_says_what_it_did_for_the_live_region_and_keeps_its_buttons_ids(client, gardener):
    """Issue 15: each htmx vote answers ``suggestionVoted`` with what the vote did now (agree,
    disagree, withdrawn), for the polite live region, and the list it swaps in repeats the
    buttons' ids, so focus stays on the pressed button (static/js/htmx-focus.js)."""
    settled = _request(gardener, IdentificationStatus.NEEDS_HELP)
    suggestion = factories.SuggestionFactory(request=settled)
    name = suggestion.species.display_name
    client.force_login(factories.UserFactory())
    url = reverse("plants:suggestion-vote", args=[settled.pk, suggestion.pk])

    def vote(agrees: str):
        answer = client.post(url, {"agrees": agrees}, headers=HTMX)
        return json.loads(answer["HX-Trigger"])["suggestionVoted"]["message"], answer.content.decode()

    message, body = vote("1")
    assert message == f"You agree with {name}."
    assert f'id="suggestion-{suggestion.pk}-agree"' in body and f'id="suggestion-{suggestion.pk}-disagree"' in body
    assert vote("0")[0] == f"You disagree with {name}."
    assert vote("0")[0] == f"Your vote on {name} is withdrawn."
    # Without JavaScript the form posts plainly and comes back to the request.
    plain = client.post(url, {"agrees": "1"})
    assert plain.status_code == 302 and plain["Location"] == settled.get_absolute_url()


def test_a_new_suggestion_says_what_it_did_once_for_the_live_region(client, gardener):
    """Issue 15: the suggestions section is not a live region (it would read the whole table
    again); an htmx suggestion answers ``suggestionAdded`` with one sentence naming it, a
    catalog species by its common name, a free-text name as typed."""
    settled = _request(gardener, IdentificationStatus.NEEDS_HELP)
    url = reverse("plants:suggestion-create", args=[settled.pk])
    for typed, named in (("Monstera deliciosa", "Swiss cheese plant"), ("Some kind of fern", "Some kind of fern")):
        client.force_login(factories.UserFactory(trust_level=TrustLevel.BASIC))
        answer = client.post(url, {"name": typed}, headers=HTMX)
        assert answer.status_code == 200
        message = json.loads(answer["HX-Trigger"])["suggestionAdded"]["message"]
        assert message == f"Your suggestion {named} is listed, with your vote."
        assert "aria-live" not in answer.content.decode().split('id="suggestion-list"')[0]
    client.force_login(factories.UserFactory(trust_level=TrustLevel.BASIC))
    plain = client.post(url, {"name": "Another fern"})  # without htmx: back to the page, no event
    assert plain.status_code == 302 and "HX-Trigger" not in plain


def test_a_failed_machine_run_reads_unavailable_next_to_the_communitys_status(owner_client, gardener):
    failed = _request(gardener, IdentificationStatus.FAILED, machine_attempts=1)
    page = owner_client.get(failed.get_absolute_url()).content.decode()
    assert "Machine suggestions unavailable" in page and "Needs community help" in page
    assert "load delay:" not in page


def test_a_run_that_died_is_retried_then_failed(fake_providers, owner_client, gardener, settings):
    """``identification_requeue``: a request processing past its deadline goes back to the
    queue (the page says it was retried) until it has had the maximum number of runs; then it
    fails, the owner is told, and the page says so. A run within its deadline is left alone."""
    settings.IDENTIFICATION_PROCESSING_DEADLINE_SECONDS = 180
    settings.IDENTIFICATION_MACHINE_MAX_ATTEMPTS = 2
    long_ago = timezone.now() - timedelta(minutes=5)
    died = _request(gardener, IdentificationStatus.PROCESSING, processing_started_at=long_ago, machine_attempts=1)
    running = _request(gardener, IdentificationStatus.PROCESSING, processing_started_at=timezone.now())
    call_command("identification_requeue", stdout=io.StringIO())  # enqueued on commit: the test never commits
    died.refresh_from_db(), running.refresh_from_db()
    assert (died.status, running.status) == ("pending", "processing")
    PlantIdentificationRequest.objects.filter(pk=died.pk).update(machine_attempts=2)
    page = owner_client.get(died.get_absolute_url()).content.decode()
    assert "The machine run did not finish; it was retried." in page

    PlantIdentificationRequest.objects.filter(pk=died.pk).update(status="processing", processing_started_at=long_ago)
    out = io.StringIO()
    call_command("identification_requeue", stdout=out)
    died.refresh_from_db()
    assert died.status == "failed" and "1 failed after retries" in out.getvalue()
    assert list(Notification.objects.values_list("recipient_id", "kind")) == [(gardener.pk, "machine_failed")]
    page = owner_client.get(died.get_absolute_url()).content.decode()
    assert "did not\n  finish; it failed, and the community can still help" in page


@pytest.mark.parametrize(
    "top, title",
    [
        ("Maybe a Peperomia", "Maybe a Peperomia?"),
        ("maybe  MAYBE a Fern??", "Maybe a Fern?"),
        ("A wild Geranium?", "Maybe A wild Geranium?"),
        ("Monstera deliciosa", "Maybe Monstera deliciosa?"),
        ("", "Identification request #7"),
        # A name that is nothing but hedging is no name (found by the issue 12 review).
        ("Maybe", "Identification request #7"),
        ("maybe?", "Identification request #7"),
        ("Maybe, a fern", "Maybe a fern?"),
        ("Perhaps: maybe Monstera??", "Maybe Monstera?"),
        ("Maybeck's fir", "Maybe Maybeck's fir?"),
    ],
)
def test_the_one_title_never_doubles_its_maybe(top, title):
    """The request's title hedges once: a suggested name's own "maybe" / "perhaps", however
    punctuated, and its question marks go before "Maybe ...?" is put around it."""
    assert identification_request_title(pk=7, top_name=top) == title
    assert identification_request_title(pk=7, accepted_name="Meadow sage", top_name=top) == "Meadow sage"


@pytest.mark.parametrize(
    "accepted, title",
    [("maybe meadow sage", "Meadow sage"), ("Maybe?", "Identification request #7"), ("meadow sage", "Meadow sage")],
)
def test_an_accepted_name_titles_the_request_without_hedging(accepted, title):
    """An accepted free-text name is the title as a name: no "maybe", capitalised."""
    assert identification_request_title(pk=7, accepted_name=accepted) == title


def test_a_hedged_free_text_suggestion_titles_the_row_once(owner_client, gardener):
    id_request = _request(gardener, IdentificationStatus.NEEDS_HELP)
    services.suggestion_add(
        id_request=id_request, suggester=factories.UserFactory(), species=None, free_text_name="Maybe a Peperomia"
    )
    page = owner_client.get(reverse("plants:request-list")).content.decode()
    assert "Maybe a Peperomia?" in page and "Maybe Maybe" not in page


def test_an_accepted_free_text_name_titles_the_request_everywhere(owner_client, gardener):
    id_request = _request(gardener, IdentificationStatus.NEEDS_HELP)
    suggestion = services.suggestion_add(
        id_request=id_request, suggester=factories.UserFactory(), species=None, free_text_name="Meadow sage"
    )
    owner_client.post(reverse("plants:suggestion-accept", args=[id_request.pk, suggestion.pk]))
    page = owner_client.get(id_request.get_absolute_url()).content.decode()
    assert "<h1>Meadow sage</h1>" in page and "Identified as <strong>Meadow sage</strong>" in page
    assert "<title>Meadow sage" in page
    listing = owner_client.get(reverse("plants:request-list")).content.decode()
    assert ">Meadow sage</a>" in listing and "Identified as\n      Meadow sage" in listing
    panel = owner_client.get(reverse("dashboard:panel", args=["previous-searches"]), headers=HTMX).content.decode()
    assert ">Meadow sage</a>" in panel
    activity = owner_client.get(reverse("dashboard:panel", args=["recent-activity"]), headers=HTMX).content.decode()
    assert "Identified: Meadow sage" in activity
