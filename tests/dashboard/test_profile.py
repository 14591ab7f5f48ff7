"""Issue 12: gardener profiles at ``/u/<username>/``: public, case-insensitive, 404 for unknown,
deactivated and erased accounts, no email or location, suggestion statistics with the agreement
rate, latest topics by the forum visibility rule, and a fixed query budget."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.accounts.data_services import account_erase
from apps.plants.models import IdentificationStatus, IdentificationSuggestion, PlantSpecies
from apps.plants.services import suggestion_accept
from tests import factories
from tests.conftest import populate_gardener

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return " ".join(response.content.decode().split())


@pytest.fixture
def ivy():
    return factories.UserFactory(
        username="Ivy.Green",
        email="ivy-secret@example.com",
        display_name="Ivy <Green>",
        home_latitude=Decimal("48.8"),
        home_longitude=Decimal("2.4"),
        identified_plant_count=7,
    )


def test_profile_is_public_and_case_insensitive_without_email_or_location(client, ivy):
    """Signed-out visitors see a profile (like Discourse); any letter case finds it; the email
    and home location never show; the display name is escaped; a generated avatar stands in
    for a missing upload."""
    response = client.get("/u/ivy.green/")
    body = _text(response)
    assert response.status_code == 200
    assert "Ivy &lt;Green&gt;" in body and "Ivy.Green" in body
    assert "ivy-secret" not in body and "48.8" not in body
    assert "Trust level: <strong>New</strong>" in body
    assert "Plants identified</dt><dd>7</dd>" in body
    assert 'class="avatar avatar-generated"' in body and ">IG</text>" in body
    assert reverse("profile", kwargs={"username": "Ivy.Green"}) == "/u/Ivy.Green/"


def test_unknown_deactivated_and_erased_gardeners_are_404(client, ivy):
    assert client.get("/u/nobody/").status_code == 404
    gone = factories.UserFactory(username="fern")
    anonymous = account_erase(user_id=gone.pk)
    assert client.get(f"/u/{anonymous}/").status_code == 404
    assert client.get("/u/fern/").status_code == 404
    ivy.is_active = False
    ivy.save()
    assert client.get("/u/ivy.green/").status_code == 404


def test_uploaded_avatar_is_shown(client, ivy):
    ivy.avatar = "avatars/abc.jpg"
    ivy.save()
    body = client.get("/u/Ivy.Green/").content.decode()
    assert '<img class="avatar" src="/media/avatars/abc.jpg"' in body and "avatar-generated" not in body


def test_suggestion_counts_and_agreement_rate(client, ivy):
    """Made: every community suggestion; accepted: those that became the accepted name;
    agreement rate: of those on requests with an accepted name, the share matching it (the
    accepted suggestion or the same species). Machine suggestions are not the gardener's."""
    owner = factories.UserFactory()
    fern, ivy_plant, palm = PlantSpecies.objects.order_by("id")[:3]

    def asked():
        return factories.IdentificationRequestFactory(owner=owner, thumbnail="")

    def community(id_request, species):
        return IdentificationSuggestion.objects.create(
            request=id_request, species=species, source="community", suggested_by=ivy
        )

    right = asked()
    suggestion_accept(id_request=right, suggestion=community(right, fern))
    wrong = asked()
    community(wrong, palm)
    other_name = IdentificationSuggestion.objects.create(request=wrong, species=ivy_plant, source="plant_id")
    suggestion_accept(id_request=wrong, suggestion=other_name)
    undecided = asked()
    community(undecided, palm)
    body = _text(client.get("/u/Ivy.Green/"))
    assert "Names suggested</dt><dd>3</dd>" in body
    assert "Suggestions accepted</dt><dd>1</dd>" in body
    assert "Agreement rate</dt> <dd>50%" in body and "(1 of 2 suggestions" in body


def test_agreement_rate_says_when_nothing_is_decided(client, ivy):
    body = _text(client.get("/u/Ivy.Green/"))
    assert "None of their suggestions is on a plant with an accepted name yet." in body


def test_latest_topics_follow_the_forum_visibility_rule(client, ivy):
    """A visitor sees public topics only; the gardener sees their own held topic too."""
    forum = factories.ForumFactory()
    public = factories.TopicFactory(forum=forum, poster=ivy, subject="Public fern talk")
    held = factories.TopicFactory(forum=forum, poster=ivy, subject="Held for review", is_approved=False)
    deleted = factories.TopicFactory(forum=forum, poster=ivy, subject="Deleted talk", is_deleted=True)
    visitor = client.get("/u/Ivy.Green/").content.decode()
    assert public.subject in visitor and held.subject not in visitor and deleted.subject not in visitor
    client.force_login(ivy)
    own = client.get("/u/Ivy.Green/").content.decode()
    assert public.subject in own and held.subject in own and deleted.subject not in own


def test_profile_costs_three_statements(gardener, gardener_client, rows_per_table, django_assert_num_queries):
    """User lookup, the profile row with its suggestion counts, the latest visible topics; the
    same at 1 and 500 rows of each related table (SPEC "Query budgets": profile at most 4)."""
    ivy = factories.UserFactory(username="ivy")
    populate_gardener(ivy, rows=rows_per_table)
    requests = factories.IdentificationRequestFactory.create_batch(2, owner=gardener, thumbnail="")
    IdentificationSuggestion.objects.bulk_create(
        IdentificationSuggestion(
            request=requests[index % 2], free_text_name=f"name {index}", source="community", suggested_by=ivy
        )
        for index in range(rows_per_table)
    )
    gardener_client.get("/dashboard/")
    with django_assert_num_queries(3):
        body = _text(gardener_client.get("/u/IVY/"))
    assert f"Names suggested</dt><dd>{rows_per_table}</dd>" in body.replace(",", "")
    assert len(re.findall(r'href="/forum/t/\d+/"', body)) == min(rows_per_table, 5)
    gardener_client.logout()
    with django_assert_num_queries(2):
        assert gardener_client.get("/u/ivy/").status_code == 200


def test_usernames_link_to_profiles_across_pages(client, gardener):
    """Forum topic lists and posts, request pages, Help identify: every shown username links
    to its profile; a gone account shows as "A former member" without a link."""
    ana = factories.UserFactory(username="ana")
    forum = factories.ForumFactory(slug="ferns")
    topic = factories.TopicFactory(forum=forum, poster=ana, last_poster=ana)
    factories.PostFactory(topic=topic, poster=ana, is_opening_post=True)
    from apps.forum.services import forum_counters_recount

    forum_counters_recount()
    id_request = factories.IdentificationRequestFactory(owner=ana, thumbnail="", status=IdentificationStatus.NEEDS_HELP)
    IdentificationSuggestion.objects.create(
        request=id_request, free_text_name="Fern", source="community", suggested_by=None
    )
    client.force_login(gardener)
    link = '<a href="/u/ana/" class="user-link">ana</a>'
    for url in (
        forum.get_absolute_url(),
        topic.get_absolute_url(),
        id_request.get_absolute_url(),
        reverse("plants:help-identify"),
    ):
        assert link in client.get(url).content.decode(), url
    assert (
        '<span class="former-member">A former member</span>'
        in client.get(id_request.get_absolute_url()).content.decode()
    )
