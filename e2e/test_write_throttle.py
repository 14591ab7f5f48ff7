"""Write throttles in a real browser: htmx's responseHandling (base.html) swaps a 429 into the
suggestion form, which keeps what the gardener typed and says when to try again; a 400 (too
short a name) is swapped the same way. Only a browser proves the swap (SPEC "Bad input")."""

import re

import pytest

from apps.plants.models import IdentificationStatus, IdentificationSuggestion
from tests import factories

from .helpers import assert_no_axe_violations, submit_sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_throttled_suggestion_is_swapped_into_the_form_keeping_the_typed_name(live_server, page, console_errors):
    owner = factories.UserFactory(username="rosa")
    factories.UserFactory(username="basil")  # trust level new: one suggestion per 30 s
    id_request = factories.IdentificationRequestFactory(
        owner=owner, thumbnail="", status=IdentificationStatus.NEEDS_HELP
    )
    page.goto(f"{live_server.url}/accounts/login/")
    submit_sign_in(page, username="basil", password=factories.DEFAULT_PASSWORD)
    page.goto(f"{live_server.url}/plants/requests/{id_request.pk}/")
    box = page.get_by_role("combobox", name="Your suggestion")
    suggest = page.get_by_role("button", name="Suggest this name")

    box.fill("x")
    suggest.click()
    page.get_by_text("Write at least two letters.").wait_for()  # a 400, swapped

    box.fill("Monstera deliciosa")
    suggest.click()
    page.get_by_role("row", name="Swiss cheese plant").wait_for()

    box.fill("Some kind of philodendron")
    with page.expect_response(lambda response: response.status == 429):
        suggest.click()
    alert = page.locator("#suggestions .form-alert")
    alert.wait_for()
    assert re.fullmatch(r"You are suggesting names quickly\. Try again in (29|30) seconds\.", alert.inner_text())
    assert box.input_value() == "Some kind of philodendron"
    assert page.url == f"{live_server.url}/plants/requests/{id_request.pk}/"
    assert not IdentificationSuggestion.objects.filter(free_text_name="Some kind of philodendron").exists()
    assert_no_axe_violations(page)
    # The browser reports the 400 and 429 answers as failed loads, and htmx logs them as
    # response errors (flagged on purpose); nothing else may be logged.
    expected = re.compile(r"status of (400|429)|Response Status Error Code (400|429)")
    assert [error for error in console_errors if not expected.search(error)] == []
