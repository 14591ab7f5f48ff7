"""The note about a new member's limits (held for review, at most 2 links) follows the rules
that apply them (``permissions.publishes_at_once``), not the trust level alone: on the topic
form and on the dashboard's trust panel alike."""

import pytest
from django.contrib.auth.models import Group

from apps.accounts.models import TrustLevel
from tests import factories

pytestmark = pytest.mark.django_db
NOTE = "waits for a moderator before others see"
PANEL_NOTE = "your forum posts wait for a moderator"


@pytest.mark.parametrize(
    "trust_level, moderator, shown",
    [
        (TrustLevel.NEW, False, True),
        (TrustLevel.NEW, True, False),  # a moderator publishes at once whatever the level
        (TrustLevel.BASIC, False, False),
        (TrustLevel.VETERAN, False, False),
    ],
)
def test_the_note_is_shown_exactly_to_those_whose_posts_wait(client, trust_level, moderator, shown):
    forum = factories.ForumFactory(slug="houseplants")
    user = factories.UserFactory(username="someone", trust_level=trust_level)
    if moderator:
        user.groups.add(Group.objects.get(name="moderators"))
    client.force_login(user)
    form_page = client.get(f"/forum/f/{forum.slug}/new/").content.decode()
    panel = client.get("/dashboard/panels/trust-progress/", headers={"HX-Request": "true"}).content.decode()
    assert (NOTE in form_page, PANEL_NOTE in panel) == (shown, shown)
    assert "Your post" in form_page and "Your reply" not in form_page  # an opening post
    if shown:
        assert "at most 2 links" in form_page and "at most 2 links" in panel
