"""Issue 15: signed out, ``/`` is a public home (what the site is, Sign in and Sign up, the
latest public topics, recently identified plants by the species-page photo rule) in two
statements; signed in, ``/`` still goes to the dashboard."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.forum.models import Topic
from apps.plants.models import IdentificationStatus, PlantIdentificationRequest, PlantPhoto, PlantSpecies
from tests import factories
from tests.conftest import populate_gardener

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return " ".join(response.content.decode().split())


def _identified(owner, species, *, shown=True, photo=True):
    id_request = factories.IdentificationRequestFactory(
        owner=owner,
        thumbnail="",
        status=IdentificationStatus.IDENTIFIED,
        species=species,
        identified_at=timezone.now(),
        show_on_species_pages=shown,
        latitude=Decimal("51.50722"),
        longitude=Decimal("-0.12750"),
    )
    if photo:
        PlantPhoto.objects.create(request=id_request, image=f"identification/photos/{id_request.pk}.jpg", position=0)
    return id_request


def test_signed_out_home_says_what_the_site_is_with_sign_in_and_sign_up(client):
    """The intro names the three things the site does and links to both account forms; an
    empty site says so instead of showing empty lists."""
    response = client.get("/")
    body = _text(response)
    assert response.status_code == 200
    assert "Identify plants from photos" in body and "Care cards with reminders" in body and "A forum" in body
    assert f'href="{reverse("accounts:signup")}">Sign up</a>' in body
    assert f'href="{reverse("accounts:login")}">Sign in</a>' in body
    assert "No topics yet." in body and "No plants identified yet." in body
    assert reverse("home") == "/"


def test_signed_in_home_goes_to_the_dashboard(gardener_client):
    response = gardener_client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:index")


def test_latest_topics_are_public_only_with_forum_replies_and_last_activity(client):
    """Held, hidden and deleted topics never show; the 5 with the latest activity do, newest
    first, with their forum, reply count (public posts less the opening post) and time."""
    forum = factories.ForumFactory(name="Succulents", slug="succulents")
    public = factories.TopicFactory.create_batch(6, forum=forum, post_count=3)
    held = factories.TopicFactory(forum=forum, subject="Held topic", is_approved=False)
    hidden = factories.TopicFactory(forum=forum, subject="Hidden topic", is_hidden=True)
    deleted = factories.TopicFactory(forum=forum, subject="Deleted topic", is_deleted=True)
    single = public[0]
    Topic.objects.filter(pk=single.pk).update(post_count=2)
    body = _text(client.get("/"))
    shown = [int(pk) for pk in re.findall(r'href="/forum/t/(\d+)/"', body)]
    newest = sorted(public, key=lambda topic: (topic.last_post_at, topic.pk), reverse=True)[:5]
    assert shown == [topic.pk for topic in newest]
    for topic in (held, hidden, deleted):
        assert topic.subject not in body
    assert 'in <a href="/forum/f/succulents/">Succulents</a> · 2 replies · last activity <time' in body


def test_recently_identified_plants_follow_the_species_page_photo_rule(client):
    """Identified requests whose owner allows species-page photos and whose account is active,
    newest first, at most 6; the species name links to its species page, the thumbnail has
    alt text, and no location is ever shown."""
    fern, ivy, palm = PlantSpecies.objects.order_by("id")[:3]
    owner = factories.UserFactory(username="maple")
    shown = _identified(owner, fern)
    private = _identified(owner, ivy, shown=False)
    gone_owner = factories.UserFactory(username="gone", is_active=False)
    _identified(gone_owner, palm)
    factories.IdentificationRequestFactory(owner=owner, thumbnail="", status=IdentificationStatus.NEEDS_HELP)
    body = _text(client.get("/"))
    assert f'<a href="{fern.get_absolute_url()}"><img' in body
    assert f'alt="{fern.display_name}, photographed by maple"' in body
    assert f">{fern.display_name}</span></a>" in body
    assert ivy.get_absolute_url() not in body and palm.get_absolute_url() not in body
    assert "51.5" not in body and "-0.127" not in body
    assert shown.get_absolute_url() not in body and private.get_absolute_url() not in body
    for _ in range(7):
        _identified(owner, fern)
    assert len(re.findall(r'class="home-plant-name"', _text(client.get("/")))) == 6


def test_home_costs_two_statements_and_stays_cacheable(client, rows_per_table, django_assert_num_queries):
    """Topics and plants, one statement each, at 1 and 500 rows; a visitor without a session
    costs no session or user lookup, gets no session cookie and no ``private, no-store`` (the public
    pages' convention, ``PrivateCacheMiddleware``)."""
    gardener = factories.UserFactory(username="ivy")
    populate_gardener(gardener, rows=rows_per_table)
    PlantPhoto.objects.bulk_create(
        PlantPhoto(request=id_request, image=f"x/{id_request.pk}.jpg", position=0)
        for id_request in PlantIdentificationRequest.objects.filter(status=IdentificationStatus.IDENTIFIED)
    )
    with django_assert_num_queries(2):
        response = client.get("/")
    body = _text(response)
    assert len(re.findall(r'href="/forum/t/\d+/"', body)) == min(rows_per_table, 5)
    assert len(re.findall(r'class="home-plant-name"', body)) == min((rows_per_table + 1) // 2, 6)
    assert "no-store" not in response.get("Cache-Control", "") and settings.SESSION_COOKIE_NAME not in response.cookies


def test_home_refuses_post(client):
    assert client.post("/").status_code == 405
