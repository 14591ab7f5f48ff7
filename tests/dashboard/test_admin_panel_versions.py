"""Admin edits reach the panel cache (issue 13, "nothing may go stale"; found by review: a care
card renamed in the admin kept its old name in two cached panels for up to an hour). Every
admin whose rows a panel shows bumps the panel version of the gardeners concerned
(``apps.accounts.panel_versions.PanelVersionAdminMixin``)."""

import json
from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.forum.models import Forum
from apps.plants.care.services import care_tasks_create_defaults
from apps.plants.models import PlantIdentificationRequest, PlantSpecies, SavedCareInstructions
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser():
    admin = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)
    return browser


def _version(user) -> int:
    return User.objects.values_list("panel_version", flat=True).get(pk=user.pk)


def _change(browser, model, obj, **changes):
    """POST the admin change form of ``obj`` with its current values and ``changes``."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    page = browser.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if hasattr(value, "pk"):
            value = value.pk
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        if isinstance(value, (list, dict)):  # JSON fields
            data[name] = json.dumps(value)
            continue
        if isinstance(value, datetime):  # the admin's split date and time widget
            data[f"{name}_0"], data[f"{name}_1"] = value.date().isoformat(), value.time().isoformat()
            continue
        data[name] = "" if value is None else value
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
        for index, inline_form in enumerate(formset.formset.forms):
            for name in inline_form.fields:
                value = inline_form.initial.get(name)
                if hasattr(value, "pk"):
                    value = value.pk
                if isinstance(value, bool):
                    if value:
                        data[f"{formset.formset.prefix}-{index}-{name}"] = "on"
                    continue
                if value is not None:
                    data[f"{formset.formset.prefix}-{index}-{name}"] = value
    data.update(changes)
    response = browser.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response


def test_renaming_a_care_card_in_the_admin_reaches_the_cached_panels(admin_browser, gardener, settings):
    settings.DASHBOARD_PANEL_CACHE = True
    cache.clear()
    card = factories.CareCardFactory(owner=gardener, nickname="Big Green")
    care_tasks_create_defaults(card=card, owner=gardener)
    gardener_browser = Client()
    gardener_browser.force_login(gardener)
    panel = reverse("dashboard:panel", args=["care-cards"])
    assert "Big Green" in gardener_browser.get(panel, headers={"HX-Request": "true"}).content.decode()
    before = _version(gardener)
    _change(admin_browser, SavedCareInstructions, card, nickname="Admin-renamed")
    assert _version(gardener) > before
    body = gardener_browser.get(panel, headers={"HX-Request": "true"}).content.decode()
    assert "Admin-renamed" in body and "Big Green" not in body


def test_moving_a_card_to_another_owner_bumps_both(admin_browser, gardener):
    other = factories.UserFactory()
    card = factories.CareCardFactory(owner=gardener)
    before = (_version(gardener), _version(other))
    _change(admin_browser, SavedCareInstructions, card, owner=other.pk)
    assert _version(gardener) > before[0] and _version(other) > before[1]


def test_request_species_and_forum_edits_bump_the_gardeners_who_see_them(admin_browser, gardener):
    species = factories.SpeciesFactory()
    request = factories.IdentificationRequestFactory(owner=gardener, species=species)
    PlantIdentificationRequest.objects.filter(pk=request.pk).update(created_at=timezone.now() - timedelta(hours=2))
    bystander = factories.UserFactory()

    before = _version(gardener)
    _change(admin_browser, PlantIdentificationRequest, request, notes="Edited by staff")
    assert _version(gardener) > before

    before = _version(gardener)
    references = json.dumps([{"publisher": "RHS", "title": "Care", "url": "https://www.rhs.org.uk/"}])
    _change(admin_browser, PlantSpecies, species, primary_common_name="Renamed plant", references=references)
    assert _version(gardener) > before

    forum = factories.ForumFactory()
    factories.PostFactory(topic=factories.TopicFactory(forum=forum, poster=gardener), poster=gardener)
    before, untouched = _version(gardener), _version(bystander)
    _change(admin_browser, Forum, forum, name="Renamed forum")
    assert _version(gardener) > before
    assert _version(bystander) == untouched
    assert Forum.objects.get(pk=forum.pk).name == "Renamed forum"
