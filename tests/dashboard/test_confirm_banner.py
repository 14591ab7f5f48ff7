"""Issue 15: the dashboard tells a gardener whose email is not confirmed that they must confirm
it to post in the forum, and offers "Resend the confirmation email" there (the form the forum's
403 page shows; 3 an hour per gardener). The banner reads ``User.email_confirmed_at`` from the
user row the session already loaded: the dashboard keeps its one statement."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests import factories
from tests.conftest import populate_gardener

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("dashboard:index")
RESEND = reverse("accounts:confirmation-resend")
HEADING = "Confirm your email address to post in the forum"


@pytest.fixture
def unconfirmed(db):
    return factories.UserFactory(username="basil", email="basil@example.com", email_confirmed_at=None)


def _banner(body: str) -> str | None:
    match = re.search(r'<section class="card confirm-banner".*?</section>', body, re.S)
    return match.group(0) if match else None


def test_unconfirmed_gardener_sees_the_banner_with_the_resend_form(client, unconfirmed):
    """A region (a section named by its heading, not an alert) that says why and where the link
    went, with the resend form coming back to the dashboard."""
    client.force_login(unconfirmed)
    banner = _banner(client.get(DASHBOARD).content.decode())
    assert banner is not None
    assert 'aria-labelledby="confirm-banner-title"' in banner and 'role="alert"' not in banner
    assert f'<h2 id="confirm-banner-title">{HEADING}</h2>' in banner
    assert "basil@example.com" in banner and "not start topics or reply" in banner
    assert f'action="{RESEND}"' in banner and f'name="next" value="{DASHBOARD}"' in banner
    assert "Resend the confirmation email" in banner and "csrfmiddlewaretoken" in banner


def test_confirmed_gardener_sees_no_banner(gardener_client):
    body = gardener_client.get(DASHBOARD).content.decode()
    assert _banner(body) is None and HEADING not in body and RESEND not in body


def test_the_banner_goes_once_the_email_is_confirmed(client, unconfirmed, django_capture_on_commit_callbacks):
    """Resend from the banner: back to the dashboard with the message; the emailed link confirms
    and the banner is gone."""
    client.force_login(unconfirmed)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESEND, {"next": DASHBOARD})
    assert response.status_code == 303 and response["Location"] == DASHBOARD
    body = client.get(DASHBOARD).content.decode()
    assert "We sent a new confirmation link to basil@example.com" in body and _banner(body) is not None
    (sent,) = mail.outbox
    link = re.search(r"http://testserver(/accounts/confirm/\S+/)", sent.body).group(1)
    assert client.post(link).status_code == 303
    assert _banner(client.get(DASHBOARD).content.decode()) is None


def test_resend_from_the_banner_is_limited(client, unconfirmed, settings, django_capture_on_commit_callbacks):
    """The banner's form shares the resend limit (3 an hour): the 4th sends nothing and answers
    429 with the wait in minutes and the exact seconds of its Retry-After."""
    client.force_login(unconfirmed)
    with django_capture_on_commit_callbacks(execute=True):
        answers = [client.post(RESEND, {"next": DASHBOARD}) for _ in range(settings.CONFIRMATION_RESEND_LIMIT_PER_USER)]
        refused = client.post(RESEND, {"next": DASHBOARD})
    assert [a.status_code for a in answers] == [303] * 3 and refused.status_code == 429
    assert len(mail.outbox) == 3
    body = refused.content.decode()
    seconds = int(refused["Retry-After"])
    assert "or ask again in 60 minutes" in body
    assert f"<p>Try again in {seconds} seconds.</p>" in body


@pytest.mark.parametrize("confirmed", [True, False], ids=["confirmed", "unconfirmed"])
def test_dashboard_budget_is_unchanged_by_the_banner(client, rows_per_table, confirmed, django_assert_num_queries):
    """One statement (the user, with the moderator flag) with a warm session, confirmed or
    not, at 1 and 500 rows per table: the banner adds none."""
    user = factories.UserFactory(email_confirmed_at=None) if not confirmed else factories.UserFactory()
    populate_gardener(user, rows=rows_per_table)
    client.force_login(user)
    client.get("/healthz")
    client.get(DASHBOARD)  # warm the session as ``gardener_client`` does
    with django_assert_num_queries(1):
        body = client.get(DASHBOARD).content.decode()
    assert (HEADING in body) is not confirmed
