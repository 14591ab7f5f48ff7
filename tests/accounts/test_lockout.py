"""The lockout monitor through the sign-in form and the token API, on real Redis (SPEC
"Sign-in, tokens and lockout")."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from apps.accounts.lockout import PREFIX
from apps.core.redis import get_strict_redis
from tests.answers import comparable
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.hashers import hash_count, hash_count_reset

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
TOKEN = "/api/auth/token/"


def _form(client, name, password="wrong-password-123", **extra):
    return client.post(LOGIN, {"username": name, "password": password}, **extra)


def _api(client, name, password="wrong-password-123", **extra):
    return client.post(TOKEN, {"username": name, "password": password}, content_type="application/json", **extra)


@pytest.fixture
def locked_account(client, gardener, django_capture_on_commit_callbacks):
    """``gardener`` after 10 failed sign-ins: locked for an hour, one email sent."""
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(10):
            assert _form(client, "rosa").status_code == 200
    return gardener


def test_tenth_failure_answers_like_any_then_every_attempt_is_429(client, gardener, django_capture_on_commit_callbacks):
    """Failures 1-10 show the form again; from then on, right or wrong, 429 with Retry-After
    in seconds up to an hour; exactly one lock email."""
    with django_capture_on_commit_callbacks(execute=True):
        for attempt in range(1, 11):
            response = _form(client, "rosa")
            assert response.status_code == 200, attempt
            assert "do not match an account" in response.content.decode()
        wrong = _form(client, "rosa")
        right = _form(client, "rosa", DEFAULT_PASSWORD)
    for response in (wrong, right):
        assert response.status_code == 429
        assert 3590 <= int(response["Retry-After"]) <= 3600
        assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert [message.subject for message in mail.outbox] == ["Your Plant Community Portal account is locked"]
    assert mail.outbox[0].to == ["rosa@example.com"]


def test_every_spelling_counts_as_one_account(client, gardener):
    """Letter case, surrounding spaces, Unicode form (fullwidth letters) and the email all
    count against the same account."""
    spellings = [
        "rosa",
        "ROSA",
        "  Rosa  ",
        "ｒｏｓａ",
        "rosa@example.com",
        "ROSA@EXAMPLE.COM",
        "Rosa",
        "rOsA",
        " rosa",
        "ＲＯＳＡ",
    ]
    for spelling in spellings:
        assert _form(client, spelling).status_code == 200
    assert _form(client, "rosa@Example.com", DEFAULT_PASSWORD).status_code == 429


def test_unknown_names_are_counted_and_locked_alike(client, gardener, locked_account):
    """An unknown name locks after 10 failures too, and its 429 page is the same as a real
    account's: a lock reveals nothing."""
    for _ in range(10):
        assert _form(client, "nobody-at-all").status_code == 200
    unknown = _form(client, "nobody-at-all")
    known = _form(client, "rosa")
    assert unknown.status_code == known.status_code == 429
    assert _normalize(unknown.content) == _normalize(known.content)


def test_attempts_during_the_lock_do_not_extend_it(client, locked_account):
    """The lock's expiry is fixed when it is created."""
    redis_client = get_strict_redis()
    key = f"{PREFIX}:lock:user:{locked_account.pk}"
    before = redis_client.pttl(key)
    for _ in range(5):
        assert _form(client, "rosa").status_code == 429
    assert redis_client.pttl(key) <= before


def test_success_clears_the_count(client, gardener):
    """Nine failures, a success, then nine more failures: still not locked."""
    for _ in range(9):
        _form(client, "rosa")
    assert _form(client, "rosa", DEFAULT_PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(9):
        assert _form(client, "rosa").status_code == 200
    assert _form(client, "rosa", DEFAULT_PASSWORD).status_code == 302


def test_form_and_token_endpoint_share_one_counter(client, gardener):
    """Five failures by form and five by API lock the account for both doors."""
    for _ in range(5):
        assert _form(client, "rosa").status_code == 200
    for _ in range(5):
        response = _api(client, "ROSA@example.com")
        assert response.status_code == 401
        assert response.json()["code"] == "INVALID_CREDENTIALS"
    locked = _api(client, "rosa", DEFAULT_PASSWORD)
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/problem+json"
    assert locked.json()["code"] == "ACCOUNT_LOCKED"
    assert int(locked["Retry-After"]) > 3500
    assert _form(client, "rosa", DEFAULT_PASSWORD).status_code == 429


def test_per_ip_limit_blocks_the_address_not_others(client, settings, gardener):
    """``IP_SIGNIN_FAILURE_LIMIT`` failures from one IP (any names) block sign-in from that IP
    for ``IP_SIGNIN_BLOCK_SECONDS``; another IP is unaffected."""
    settings.IP_SIGNIN_FAILURE_LIMIT = 5
    for index in range(5):
        assert _api(client, f"guess{index}", REMOTE_ADDR="203.0.113.7").status_code == 401
    blocked = _api(client, "rosa", DEFAULT_PASSWORD, REMOTE_ADDR="203.0.113.7")
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "RATE_LIMITED"
    assert 890 <= int(blocked["Retry-After"]) <= 900
    assert _api(client, "rosa", DEFAULT_PASSWORD, REMOTE_ADDR="203.0.113.8").status_code == 200


def test_client_ip_honours_trusted_proxy_count(client, settings, gardener):
    """With no trusted proxy a client cannot pick its address with X-Forwarded-For; with one,
    the address one hop from the right counts."""
    settings.IP_SIGNIN_FAILURE_LIMIT = 3
    for index in range(3):
        _api(client, f"guess{index}", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR=f"10.0.0.{index}")
    assert _api(client, "rosa", DEFAULT_PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 429
    settings.TRUSTED_PROXY_COUNT = 1
    assert (
        _api(
            client, "rosa", DEFAULT_PASSWORD, REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.50"
        ).status_code
        == 200
    )
    for index in range(3):
        _api(client, f"other{index}", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="1.1.1.1, 192.0.2.60")
    assert (
        _api(
            client, "rosa", DEFAULT_PASSWORD, REMOTE_ADDR="10.9.9.10", HTTP_X_FORWARDED_FOR="2.2.2.2, 192.0.2.60"
        ).status_code
        == 429
    )


def test_password_reset_keeps_working_while_locked(client, locked_account):
    """The owner of a locked account can still reset the password by email."""
    mail.outbox.clear()
    response = client.post(reverse("password_reset"), {"email": "rosa@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body


def test_unlock_link_from_the_lock_email_works_once(client, locked_account):
    """GET shows a button (mail scanners do not use the link up); POST unlocks; the second
    POST is refused with a clear page."""
    link = re.search(r"http://testserver(/accounts/unlock/\S+/)", mail.outbox[0].body).group(1)
    assert client.get(link).status_code == 200
    assert _form(client, "rosa", DEFAULT_PASSWORD).status_code == 429
    assert client.post(link).status_code == 302
    again = client.post(link)
    assert again.status_code == 400
    assert "not valid" in again.content.decode()
    assert _form(client, "rosa", DEFAULT_PASSWORD).status_code == 302


def _normalize(body: bytes) -> str:
    text = body.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", text)
    text = re.sub(r'"X-CSRFToken": "[^"]+"', "CSRF", text)
    text = re.sub(r'nonce="[^"]+"', "NONCE", text)
    return text


@pytest.fixture
def inactive_account(db):
    return UserFactory(username="ruby", email="ruby@example.com", is_active=False)


def test_wrong_password_unknown_and_inactive_answer_identically_with_one_hash_each(client, gardener, inactive_account):
    """Same status, body and headers (apart from CSRF tokens and nonces) and exactly one
    password hash for a wrong password, an unknown name and an inactive account; the typed
    names have the same length so the echoed field is identical too."""
    responses = {}
    for name, password in (("rosa", "bad-password-1"), ("rosy", "bad-password-1"), ("ruby", DEFAULT_PASSWORD)):
        # Fresh client each time, so no cookie from an earlier answer changes the next.
        client.cookies.clear()
        hash_count_reset()
        response = _form(client, name, password, HTTP_HX_REQUEST="true")
        assert hash_count() == 1, name
        responses[name] = response
    bodies = {name: _normalize(r.content).replace(f'value="{name}"', 'value="NAME"') for name, r in responses.items()}
    assert bodies["rosa"] == bodies["rosy"] == bodies["ruby"]
    statuses = {r.status_code for r in responses.values()}
    assert statuses == {200}
    header_sets = [
        # Expires is "now" (never_cache): a timestamp, like the nonce, not a tell.
        sorted((k, v) for k, v in r.headers.items() if k not in {"Content-Security-Policy", "Expires"})
        for r in responses.values()
    ]
    assert header_sets[0] == header_sets[1] == header_sets[2]
    csp = [re.sub(r"'nonce-[^']+'", "NONCE", r["Content-Security-Policy"]) for r in responses.values()]
    assert csp[0] == csp[1] == csp[2]


def test_api_wrong_password_unknown_and_inactive_answer_identically(client, gardener, inactive_account):
    answers = []
    for name, password in (("rosa", "bad-password-1"), ("rosy", "bad-password-1"), ("ruby", DEFAULT_PASSWORD)):
        hash_count_reset()
        response = _api(client, name, password)
        assert hash_count() == 1
        answers.append(comparable(response))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401


def test_burst_buys_no_extra_guesses_even_when_limit_is_reached_by_pending_attempts(client, gardener):
    """The count is taken before the password check: the 11th attempt is refused without a
    hash."""
    for _ in range(10):
        _api(client, "rosa")
    hash_count_reset()
    assert _api(client, "rosa", DEFAULT_PASSWORD).status_code == 429
    assert hash_count() == 0


def test_sign_up_is_limited_per_ip(client, settings):
    """SPEC: sign-up 5 an hour per IP; the 6th valid sign-up gets 429 and creates nothing."""
    from apps.accounts.models import User

    for index in range(5):
        response = client.post(
            reverse("accounts:signup"),
            {
                "username": f"newbie{index}",
                "email": f"n{index}@example.com",
                "password1": "window-basil-trellis-42",
                "password2": "window-basil-trellis-42",
            },
        )
        assert response.status_code == 302
    sixth = client.post(
        reverse("accounts:signup"),
        {
            "username": "newbie9",
            "email": "n9@example.com",
            "password1": "window-basil-trellis-42",
            "password2": "window-basil-trellis-42",
        },
    )
    assert sixth.status_code == 429
    assert int(sixth["Retry-After"]) > 3500
    assert not User.objects.filter(username="newbie9").exists()


def test_password_reset_is_limited_per_email_and_per_ip(client, gardener):
    """SPEC: 3 an hour per email, 5 an hour per IP, whether or not the email has an account."""
    for _ in range(3):
        assert client.post(reverse("password_reset"), {"email": "rosa@example.com"}).status_code == 302
    assert client.post(reverse("password_reset"), {"email": "ROSA@example.com"}).status_code == 429
    assert client.post(reverse("password_reset"), {"email": "x1@example.com"}).status_code == 302
    assert client.post(reverse("password_reset"), {"email": "x2@example.com"}).status_code == 302
    assert client.post(reverse("password_reset"), {"email": "x3@example.com"}).status_code == 429
    assert (
        client.post(reverse("password_reset"), {"email": "x3@example.com"}, REMOTE_ADDR="192.0.2.9").status_code == 302
    )


def test_a_completed_password_reset_ends_the_lock(client, locked_account):
    """Following the emailed reset link proves ownership like the unlock link: the new
    password signs in at once."""
    mail.outbox.clear()
    client.post(reverse("password_reset"), {"email": "rosa@example.com"})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    response = client.post(
        form_url, {"new_password1": "a-fresh-passphrase-31", "new_password2": "a-fresh-passphrase-31"}
    )
    assert response.status_code == 302
    assert _form(client, "rosa", "a-fresh-passphrase-31").status_code == 302


@pytest.fixture
def broken_smtp(settings):
    """A mail server that refuses connections (nothing listens on the port)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 1},
        }
    }


def test_an_unreachable_mail_server_never_turns_into_a_500(
    client, gardener, broken_smtp, django_capture_on_commit_callbacks
):
    """The 10th failure (which sends the lock email) answers like the others, and sign-up
    still answers "check your email" with one account created."""
    from apps.accounts.models import User

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [_api(client, "rosa").status_code for _ in range(10)]
        signup = client.post(
            reverse("accounts:signup"),
            {
                "username": "basil",
                "email": "basil@example.com",
                "password1": "window-basil-trellis-42",
                "password2": "window-basil-trellis-42",
            },
        )
    assert statuses == [401] * 10
    assert signup.status_code == 302 and User.objects.filter(username="basil").count() == 1
