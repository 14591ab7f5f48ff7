"""Direction controls in one-line text other people read (``apps.core.text``; Unicode TR #36
2.1, CVE-2021-42574): a topic's subject, a suggested name, a care card's nickname, a report's
details and a moderator's reason. The fresh review of issue 15 saved "\\u202eRLO test" as a
suggestion shown to everyone; every such field now refuses it with a message and writes
nothing, while right-to-left text itself (Hebrew, Arabic, the marks LRM and RLM) is accepted."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from apps.accounts.models import TrustLevel
from apps.core.text import DIRECTION_CONTROLS_MESSAGE, refuse_direction_controls
from apps.forum.models import Report, Topic
from apps.forum.services import reply_create, topic_create
from apps.plants.models import IdentificationStatus, IdentificationSuggestion, SavedCareInstructions
from tests import factories
from tests.forum.conftest import seen

CONTROLS = [chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
HTMX = {"HX-Request": "true"}


def _refused(response) -> bool:
    """The form came back (200 or 400, never a 500) saying what to remove."""
    return response.status_code in (200, 400) and "invisible text-direction characters" in response.content.decode()


@pytest.fixture
def world(db):
    forum = factories.ForumFactory(slug="houseplants")
    writer = factories.UserFactory(username="ana", trust_level=TrustLevel.BASIC)
    topic = topic_create(forum=forum, poster=writer, subject="Fern care", source="Humid.", publish=True)
    newbie = factories.UserFactory(username="newbie")
    held = reply_create(topic=topic, poster=newbie, source="Mine too.", publish=False)
    return {"forum": forum, "writer": writer, "topic": topic, "held": held}


@pytest.mark.parametrize("control", ["\u202e", "\u2067"], ids=["override", "isolate"])
def test_every_one_line_field_refuses_direction_controls_and_writes_nothing(client, world, control):
    tricky = f"{control}tset OLR"
    gardener = factories.UserFactory(username="rosa", trust_level=TrustLevel.BASIC)
    client.force_login(gardener)

    new_topic = client.post(
        reverse("forum:topic-create", args=[world["forum"].slug]), {"subject": tricky + " here", "source": "Hello."}
    )
    assert _refused(new_topic) and not Topic.objects.filter(poster=gardener).exists()

    report = client.post(
        reverse("forum:post-report", args=[world["topic"].posts.get(is_opening_post=True).pk]),
        {"reason": "spam", "detail": tricky},
        headers=HTMX,
    )
    assert _refused(report) and not Report.objects.exists()

    request = factories.IdentificationRequestFactory(status=IdentificationStatus.NEEDS_HELP, thumbnail="")
    suggestion = client.post(reverse("plants:suggestion-create", args=[request.pk]), {"name": tricky}, headers=HTMX)
    assert _refused(suggestion) and not IdentificationSuggestion.objects.filter(request=request).exists()

    card = factories.CareCardFactory(owner=gardener, nickname="Sprout")
    prefix = f"card-{card.pk}"
    update = client.post(
        reverse("plants:care-card-update", args=[card.pk]),
        {f"{prefix}-nickname": tricky, f"{prefix}-personal_notes": "", f"{prefix}-status": card.status},
        headers=HTMX,
    )
    assert _refused(update) and SavedCareInstructions.objects.get(pk=card.pk).nickname == "Sprout"

    moderator = factories.UserFactory(username="mod", is_staff=True, trust_level=TrustLevel.VETERAN)
    moderator.groups.add(Group.objects.get(name="moderators"))
    client.force_login(moderator)
    held = world["held"]
    reject = client.post(
        reverse("moderation:post-reject", args=[held.pk]),
        {"reason": tricky, "seen": seen(held.pk)},
        headers=HTMX,
    )
    assert _refused(reject)
    held.refresh_from_db()
    assert not held.is_approved and not held.is_deleted, "the reply was decided with the refused reason"


# A list of characters joined, not st.text(alphabet=...): that drew none of the controls in
# 100 examples here, so the property could not fail.
CHARACTERS = st.one_of(st.sampled_from(CONTROLS), st.sampled_from("\u200e\u200f\u05d0\u0627 a"), st.characters())


@given(st.lists(CHARACTERS, max_size=40).map("".join))
def test_the_validator_refuses_exactly_the_direction_controls(text):
    """Property: refused if and only if one of the nine controls is in the text."""
    has_control = any(control in text for control in CONTROLS)
    try:
        refuse_direction_controls(text)
    except Exception as error:  # ValidationError
        assert has_control and DIRECTION_CONTROLS_MESSAGE in str(error)
    else:
        assert not has_control


@pytest.mark.parametrize(
    "text", ["שרך בחדר האמבטיה", "سرخس الحمام", "Fern \u200fמים\u200e ok", "Zamioculcas 🌿", "👩\u200d🌾 garden"]
)
def test_right_to_left_text_and_emoji_sequences_are_accepted(text):
    refuse_direction_controls(text)  # no error
