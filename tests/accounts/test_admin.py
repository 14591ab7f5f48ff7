"""The admin is not a second writer: audit rows are read-only there, and a trust level set in
the user admin goes through ``trust_level_set_by_moderator`` (audited, kept by promotion)."""

import html

import pytest
from django.utils.html import strip_tags

from apps.accounts.models import TrustLevel, User
from apps.accounts.services import trust_level_promote, trust_level_set_by_moderator
from apps.core.models import ModerationAction
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _user_form(user: User, **changes) -> dict:
    """The user admin's change form as a browser would post it back, with ``changes``."""
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "trust_level": user.trust_level,
    }
    data.update(changes)
    return data


def test_audit_rows_cannot_be_added_changed_or_deleted_in_the_admin(superuser_client):
    row = ModerationAction.objects.create(action="lockout.clear", target_type="account", target_id="user:1")
    assert superuser_client.get(f"/admin/core/moderationaction/{row.pk}/change/").status_code == 200
    assert superuser_client.post("/admin/core/moderationaction/add/", {"action": "x"}).status_code == 403
    assert superuser_client.post(f"/admin/core/moderationaction/{row.pk}/change/", {"action": "x"}).status_code == 403
    assert superuser_client.post(f"/admin/core/moderationaction/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert list(ModerationAction.objects.values_list("action", flat=True)) == ["lockout.clear"]


def test_a_trust_level_set_in_the_admin_is_audited_and_kept_by_promotion(superuser_client):
    newbie = factories.UserFactory(username="sprout", trust_level=TrustLevel.NEW, approved_post_count=0)
    response = superuser_client.post(
        f"/admin/accounts/user/{newbie.pk}/change/", _user_form(newbie, trust_level=TrustLevel.VETERAN)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    newbie.refresh_from_db()
    assert (newbie.trust_level, newbie.trust_level_set_by_moderator) == (TrustLevel.VETERAN, True)
    row = ModerationAction.objects.select_related("actor").get(action="trust.set")
    assert (row.actor.username, row.target_id, row.metadata) == (
        "root",
        str(newbie.pk),
        {"from": "new", "to": "veteran"},
    )
    page = html.unescape(strip_tags(superuser_client.get("/moderation/log/").content.decode()))
    assert "root set sprout's trust level from New to Veteran: Set in the admin" in " ".join(page.split())


def test_saving_other_fields_in_the_admin_changes_no_trust_level_and_writes_no_audit_row(superuser_client):
    gardener = factories.UserFactory(username="rosa", trust_level=TrustLevel.BASIC)
    response = superuser_client.post(
        f"/admin/accounts/user/{gardener.pk}/change/", _user_form(gardener, first_name="Rosa")
    )
    assert response.status_code == 302
    gardener.refresh_from_db()
    assert (gardener.first_name, gardener.trust_level, gardener.trust_level_set_by_moderator) == (
        "Rosa",
        TrustLevel.BASIC,
        False,
    )
    assert not ModerationAction.objects.exists()


def test_maintained_counters_are_read_only_in_the_admin(superuser_client):
    gardener = factories.UserFactory(username="rosa", approved_post_count=3)
    superuser_client.post(
        f"/admin/accounts/user/{gardener.pk}/change/", _user_form(gardener, approved_post_count="999")
    )
    gardener.refresh_from_db()
    assert gardener.approved_post_count == 3


def test_a_demotion_by_a_moderator_survives_automatic_promotion():
    moderator = factories.UserFactory(username="mod")
    veteran_by_posts = factories.UserFactory(username="holly", trust_level=TrustLevel.TRUSTED, approved_post_count=200)
    assert trust_level_set_by_moderator(user_id=veteran_by_posts.pk, level=TrustLevel.BASIC, moderator=moderator)
    assert trust_level_promote(user_id=veteran_by_posts.pk) is None
    veteran_by_posts.refresh_from_db()
    assert veteran_by_posts.trust_level == TrustLevel.BASIC
    # Setting the same level again changes nothing and writes no second row.
    assert not trust_level_set_by_moderator(user_id=veteran_by_posts.pk, level=TrustLevel.BASIC, moderator=moderator)
    assert ModerationAction.objects.filter(action="trust.set").count() == 1
    with pytest.raises(ValueError):
        trust_level_set_by_moderator(user_id=veteran_by_posts.pk, level="wizard", moderator=moderator)
