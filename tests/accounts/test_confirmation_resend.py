"""Issue 15: an unconfirmed gardener pressing "New topic" gets a 403 page that explains and
offers "Resend the confirmation email" (login required, POST, 3 an hour per gardener: 429 with
``Retry-After`` beyond), which sends the email sign-up sends."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from apps.forum.models import Topic
from tests import factories

pytestmark = pytest.mark.django_db
RESEND = reverse("accounts:confirmation-resend")


@pytest.fixture
def forum(db):
    return factories.ForumFactory(name="Houseplants", slug="houseplants")


@pytest.fixture
def unconfirmed(db):
    return factories.UserFactory(username="basil", email_confirmed_at=None)


def test_new_topic_explains_and_offers_the_resend(client, forum, unconfirmed):
    client.force_login(unconfirmed)
    page = client.get(reverse("forum:topic-create", args=[forum.slug]))
    body = page.content.decode()
    assert page.status_code == 403
    assert "Confirm your email address to start topics" in body and "basil@example.com" in body
    assert f'action="{RESEND}"' in body and "Resend the confirmation email" in body
    assert f'name="next" value="{reverse("forum:forum-detail", args=[forum.slug])}"' in body
    posted = client.post(reverse("forum:topic-create", args=[forum.slug]), {"subject": "Hello there", "source": "Hi"})
    assert posted.status_code == 403 and not Topic.objects.exists()


def test_a_confirmed_gardener_is_unaffected(client, forum, gardener):
    client.force_login(gardener)
    page = client.get(reverse("forum:topic-create", args=[forum.slug]))
    assert page.status_code == 200 and "Resend the confirmation email" not in page.content.decode()


def test_the_topic_page_offers_the_resend_to_an_unconfirmed_gardener(client, forum, unconfirmed):
    topic = factories.TopicFactory(forum=forum)
    factories.PostFactory(topic=topic, poster=topic.poster)
    client.force_login(unconfirmed)
    body = client.get(reverse("forum:topic-detail", args=[topic.pk])).content.decode()
    assert "Confirm your email address to post" in body and f'action="{RESEND}"' in body


def test_resend_sends_the_sign_up_email_whose_link_confirms(
    client, forum, unconfirmed, django_capture_on_commit_callbacks
):
    client.force_login(unconfirmed)
    back = reverse("forum:forum-detail", args=[forum.slug])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESEND, {"next": back})
    assert response.status_code == 303 and response["Location"] == back
    (sent,) = mail.outbox
    assert sent.to == ["basil@example.com"] and sent.subject == "Confirm your email for the Plant Community Portal"
    assert "We sent a new confirmation link to basil@example.com" in client.get(back).content.decode()
    link = re.search(r"http://testserver(/accounts/confirm/\S+/)", sent.body).group(1)
    assert client.post(link).status_code == 303
    unconfirmed.refresh_from_db()
    assert unconfirmed.email_confirmed_at is not None
    assert client.get(reverse("forum:topic-create", args=[forum.slug])).status_code == 200


def test_resend_is_limited_to_three_an_hour_per_gardener(
    client, unconfirmed, settings, django_capture_on_commit_callbacks
):
    client.force_login(unconfirmed)
    with django_capture_on_commit_callbacks(execute=True):
        answers = [client.post(RESEND) for _ in range(settings.CONFIRMATION_RESEND_LIMIT_PER_USER + 1)]
    assert [a.status_code for a in answers] == [303, 303, 303, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= settings.CONFIRMATION_RESEND_WINDOW_SECONDS
    assert "We already sent the confirmation email 3 times recently" in answers[-1].content.decode()
    assert len(mail.outbox) == 3
    # The limit is the gardener's own: another unconfirmed gardener still gets theirs.
    client.force_login(factories.UserFactory(email_confirmed_at=None))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(RESEND).status_code == 303
    assert len(mail.outbox) == 4


def test_resend_refusals_send_nothing(client, gardener, unconfirmed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signed_out = client.post(RESEND)
        client.force_login(unconfirmed)
        get = client.get(RESEND)
        offsite = client.post(RESEND, {"next": "https://evil.example/"})
        client.force_login(gardener)
        confirmed = client.post(RESEND)
    assert signed_out.status_code == 302 and signed_out["Location"].startswith(reverse("accounts:login"))
    assert get.status_code == 405
    assert offsite.status_code == 303 and offsite["Location"] == reverse("dashboard:index")
    assert confirmed.status_code == 303 and confirmed["Location"] == reverse("dashboard:index")
    assert len(mail.outbox) == 1  # the offsite ``next`` only: still sent, back to the dashboard


def test_new_topic_page_budget_confirmed_or_not(
    client, forum, gardener, unconfirmed, rows_per_table, django_assert_num_queries
):
    """The form and the unconfirmed gardener's 403 page cost the same statements at 1 and 500
    topics in the forum: the user lookup (session and user in one, with the moderator flag) and
    the forum. ``gardener`` is a ``new`` member: the photo rule costs no statement."""
    factories.TopicFactory.create_batch(rows_per_table, forum=forum)
    url = reverse("forum:topic-create", args=[forum.slug])
    for user, status in ((gardener, 200), (unconfirmed, 403)):
        client.force_login(user)
        client.get("/healthz")
        client.get(url)  # warm the session as ``gardener_client`` does
        with django_assert_num_queries(2):
            assert client.get(url).status_code == status
