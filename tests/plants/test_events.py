"""Identification events call the gardener back (issue 12): who is notified of what, grouped
under the request, never of their own action, and nothing left once a request is gone
(``apps.plants.events``)."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from apps.accounts.data_services import account_erase
from apps.accounts.models import User
from apps.notifications.models import Notification
from apps.plants import services
from apps.plants.identification.service import machine_identification_run
from apps.plants.models import IdentificationSuggestion, PlantIdentificationRequest, PlantPhoto, SuggestionSource
from tests import factories

from .fake_providers import PLANT_ID, PLANTNET, Reply, plant_id_answer, plantnet_answer
from .test_identification_service import pending_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return factories.UserFactory(username="rosa")


@pytest.fixture
def id_request(owner):
    return factories.IdentificationRequestFactory(owner=owner, thumbnail="")


def notes(**filters) -> list[tuple]:
    return list(
        Notification.objects.filter(**filters)
        .order_by("id")
        .values_list("recipient_id", "actor_id", "kind", "group_key", "target_key", "detail")
    )


def group(id_request) -> str:
    return f"plants.request:{id_request.pk}"


def test_a_suggestion_tells_the_owner_once_grouped_under_the_request(owner, id_request):
    helper = factories.UserFactory()
    species = factories.SpeciesFactory(primary_common_name="Meadow sage")
    suggestion = services.suggestion_add(id_request=id_request, suggester=helper, species=species, free_text_name="")
    assert notes() == [
        (owner.pk, helper.pk, "suggestion", group(id_request), f"plants.suggestion:{suggestion.pk}", "Meadow sage")
    ]
    row = Notification.objects.get()
    assert row.url == id_request.get_absolute_url() and row.group_title == f"Identification request #{id_request.pk}"


def test_the_owner_suggesting_on_their_own_plant_hears_nothing(owner, id_request):
    services.suggestion_add(id_request=id_request, suggester=owner, species=None, free_text_name="Meadow sage")
    suggestion = IdentificationSuggestion.objects.get()
    services.suggestion_vote(suggestion=suggestion, voter=owner, agrees=False)
    assert notes() == []


def test_agreeing_and_disagreeing_tell_the_owner_and_withdrawing_takes_it_back(owner, id_request):
    helper, voter = factories.UserFactory.create_batch(2)
    suggestion = services.suggestion_add(id_request=id_request, suggester=helper, species=None, free_text_name="Sage")
    target = f"plants.suggestion:{suggestion.pk}"
    votes = {"actor": voter, "kind__in": ["agreement", "disagreement"]}
    services.suggestion_vote(suggestion=suggestion, voter=voter, agrees=True)
    assert notes(**votes) == [(owner.pk, voter.pk, "agreement", group(id_request), target, "Sage")]
    services.suggestion_vote(suggestion=suggestion, voter=voter, agrees=False)  # switch
    assert notes(**votes) == [(owner.pk, voter.pk, "disagreement", group(id_request), target, "Sage")]
    services.suggestion_vote(suggestion=suggestion, voter=voter, agrees=False)  # withdraw
    assert notes(**votes) == []
    assert notes(actor=helper)[0][2] == "suggestion"  # others' stay


def test_replacing_your_name_withdraws_your_earlier_agreement(owner, id_request):
    voter = factories.UserFactory()
    x = factories.SuggestionFactory(request=id_request, species=factories.SpeciesFactory())
    y = factories.SuggestionFactory(request=id_request, species=factories.SpeciesFactory())
    services.suggestion_vote(suggestion=x, voter=voter, agrees=True)
    services.suggestion_vote(suggestion=y, voter=voter, agrees=True)
    assert [(kind, target) for _, _, kind, _, target, _ in notes()] == [("agreement", f"plants.suggestion:{y.pk}")]


def test_consensus_tells_the_owner_and_supporters_once_on_reaching_it(owner, id_request):
    """A and B name X: the second click makes the consensus; the owner and A hear of it, B
    (who clicked) does not; a further supporter does not start it again, and neither does
    losing and regaining it: each name is announced once per request (issue 12's review: one
    gardener disagreeing twice, three times over, sent the owner four notices and a digest
    repeating them)."""
    a, b, c, d = factories.UserFactory.create_batch(4)
    x = factories.SuggestionFactory(request=id_request, species=factories.SpeciesFactory(primary_common_name="Sage"))
    y = factories.SuggestionFactory(request=id_request, species=factories.SpeciesFactory())
    services.suggestion_vote(suggestion=x, voter=a, agrees=True)
    assert notes(kind="consensus") == []
    services.suggestion_vote(suggestion=x, voter=b, agrees=True)
    target = f"plants.suggestion:{x.pk}"
    assert sorted(notes(kind="consensus")) == sorted(
        [
            (owner.pk, b.pk, "consensus", group(id_request), target, "Sage"),
            (a.pk, b.pk, "consensus", group(id_request), target, "Sage"),
        ]
    )
    services.suggestion_vote(suggestion=x, voter=c, agrees=True)  # still X: no new one
    assert len(notes(kind="consensus")) == 2
    services.suggestion_vote(suggestion=y, voter=d, agrees=True)  # 3/4: still X
    services.suggestion_vote(suggestion=x, voter=c, agrees=True)  # c withdraws: 2/3, lost
    services.suggestion_vote(suggestion=x, voter=c, agrees=True)  # 3/4 again
    assert len(notes(kind="consensus")) == 2
    e = factories.UserFactory()
    for _ in range(3):  # e disagrees (3/4 ... 3/5: lost) and withdraws (regained), three times
        services.suggestion_vote(suggestion=x, voter=e, agrees=False)
        services.suggestion_vote(suggestion=x, voter=e, agrees=False)
    assert len(notes(kind="consensus")) == 2


def test_accepting_a_suggestion_tells_the_suggester_under_the_new_title(owner, id_request, client):
    """The suggester hears of it under the accepted name, and the owner's earlier notifications
    of the request take that title too (issue 12's review: the owner's group kept
    "Identification request #N")."""
    helper = factories.UserFactory()
    suggestion = services.suggestion_add(
        id_request=id_request, suggester=helper, species=None, free_text_name="maybe meadow sage"
    )
    earlier = Notification.objects.get(recipient=owner, kind="suggestion")
    assert earlier.group_title == f"Identification request #{id_request.pk}"
    client.force_login(owner)
    client.post(reverse("plants:suggestion-accept", args=[id_request.pk, suggestion.pk]))
    accepted = Notification.objects.get(kind="accepted")
    assert (accepted.recipient_id, accepted.actor_id, accepted.group_key, accepted.detail) == (
        helper.pk,
        owner.pk,
        group(id_request),
        "maybe meadow sage",
    )
    assert accepted.group_title == "Meadow sage"
    earlier.refresh_from_db()
    assert earlier.group_title == "Meadow sage"
    client.post(reverse("plants:suggestion-accept", args=[id_request.pk, suggestion.pk]))
    assert Notification.objects.filter(kind="accepted").count() == 1


def test_machine_suggestions_arriving_tell_the_owner(fake_providers, owner):
    fake_providers.script(PLANT_ID, plant_id_answer(("Testus minor", 0.4, None)))
    fake_providers.script(PLANTNET, plantnet_answer(("Testus minor", 0.3, [])))
    pending = pending_request(owner)
    assert machine_identification_run(request_id=pending.pk) == "needs_help"
    assert notes() == [(owner.pk, None, "machine_result", group(pending), group(pending), "Testus minor")]


def test_machine_failing_tells_the_owner(fake_providers, owner):
    fake_providers.script(PLANT_ID, Reply(status=500, body=b"oops"))
    fake_providers.script(PLANTNET, Reply(status=500, body=b"oops"))
    pending = pending_request(owner)
    assert machine_identification_run(request_id=pending.pk) == "failed"
    assert notes() == [(owner.pk, None, "machine_failed", group(pending), group(pending), "")]


def test_deleting_a_request_takes_its_files_rows_and_notifications(owner, client, django_capture_on_commit_callbacks):
    """Only the owner may; the page asks first; POST removes the request, its photos (files
    too), suggestions, votes and every notification in its group, and the counters follow."""
    id_request = factories.IdentificationRequestFactory(owner=owner)
    User.objects.filter(pk=owner.pk).update(identification_request_count=1)
    thumbnail = id_request.thumbnail.name
    helper = factories.UserFactory()
    suggestion = services.suggestion_add(id_request=id_request, suggester=helper, species=None, free_text_name="Sage")
    services.suggestion_vote(suggestion=suggestion, voter=owner, agrees=True)  # consensus: helper hears
    other = factories.IdentificationRequestFactory(owner=owner, thumbnail="")
    services.suggestion_add(id_request=other, suggester=helper, species=None, free_text_name="Fern")
    assert Notification.objects.filter(group_key=group(id_request)).exists()
    url = reverse("plants:request-delete", args=[id_request.pk])

    client.force_login(helper)
    assert client.get(url).status_code == 403 and client.post(url).status_code == 403
    client.force_login(owner)
    assert "Delete this request" in client.get(id_request.get_absolute_url()).content.decode()
    assert "goes for good" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("plants:request-list")
    assert not PlantIdentificationRequest.objects.filter(pk=id_request.pk).exists()
    assert not IdentificationSuggestion.objects.filter(request_id=id_request.pk).exists()
    assert not default_storage.exists(thumbnail)
    assert not Notification.objects.filter(group_key=group(id_request)).exists()
    assert Notification.objects.filter(group_key=group(other)).count() == 1
    assert User.objects.get(pk=owner.pk).identification_request_count == 0
    assert client.post(url).status_code == 404


def test_deleting_an_account_takes_the_notifications_about_its_requests_and_votes(owner, id_request):
    helper, voter = factories.UserFactory.create_batch(2)
    services.suggestion_add(id_request=id_request, suggester=helper, species=None, free_text_name="Sage")
    elsewhere = factories.IdentificationRequestFactory(owner=helper, thumbnail="")
    theirs = services.suggestion_add(id_request=elsewhere, suggester=voter, species=None, free_text_name="Fern")
    services.suggestion_vote(suggestion=theirs, voter=owner, agrees=True)
    assert notes(actor=owner) == [
        (helper.pk, owner.pk, "agreement", group(elsewhere), f"plants.suggestion:{theirs.pk}", "Fern")
    ] + [
        (pk, owner.pk, "consensus", group(elsewhere), f"plants.suggestion:{theirs.pk}", "Fern")
        for pk in sorted([helper.pk, voter.pk])
    ]
    account_erase(user_id=owner.pk)
    assert not Notification.objects.filter(group_key=group(id_request)).exists()
    assert not Notification.objects.filter(actor=owner, kind="agreement").exists()
    assert not PlantPhoto.objects.filter(request_id=id_request.pk).exists()
    assert IdentificationSuggestion.objects.filter(pk=theirs.pk, source=SuggestionSource.COMMUNITY).exists()
