"""Usernames that look alike are one name (issue 11, section 2): ``g`` + Cyrillic ``а`` +
``rdener`` no longer signs up as a second "gardener". The rule is the lookalike key
(``username_confusable_key``: UTS #39 skeleton, letter case ignored) under a unique constraint,
on every path that names an account: sign-up (same answer as for a fresh name), the admin,
``createsuperuser``, the demo seed and the migration that filled the key for existing accounts."""

import threading
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from apps.accounts.models import User, username_confusable_key
from apps.accounts.services import user_sign_up
from tests.factories import DEFAULT_PASSWORD, UserFactory

STRONG_PASSWORD = "window-basil-trellis-42"

LOOKALIKES = [
    pytest.param("gardener", "g\u0430rdener", id="cyrillic-a"),  # the instance
    pytest.param("gardener", "G\u0410RDENER", id="cyrillic-capital-a-mixed-case"),
    pytest.param("gardener", "\uff47\uff41\uff52\uff44\uff45\uff4e\uff45\uff52", id="fullwidth-nfkc"),
    pytest.param("rosa", "r\u03bfsa", id="greek-omicron"),
    pytest.param("poppy", "\u0440\u043e\u0440\u0440\u0443", id="all-cyrillic"),
    pytest.param("lavender", "Iavender", id="capital-i-for-small-l"),
    pytest.param("fern_11", "fern_l1", id="digit-one-for-small-l"),
    pytest.param("palm", "palrn", id="rn-for-m"),
    pytest.param("gardener", "gardener\u3164", id="hangul-filler"),
]


def _sign_up(client, username, email):
    return client.post(
        "/accounts/signup/",
        {"username": username, "email": email, "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
        follow=True,
    )


def _answer(response) -> tuple:
    """What a visitor can compare between two answers: the redirects, the final status and
    page (CSRF tokens and CSP nonces aside, which differ on every page) and its headers."""
    body = response.content.decode()
    for volatile in ('name="csrfmiddlewaretoken" value="', '"X-CSRFToken": "', 'nonce="'):
        while volatile in body:
            start = body.index(volatile) + len(volatile)
            body = body[: body.index(volatile)] + "@" + body[body.index('"', start) + 1 :]
    headers = {k: v for k, v in response.headers.items() if k not in {"Content-Security-Policy", "Content-Length"}}
    return response.redirect_chain, response.status_code, body, headers


@pytest.mark.django_db
@pytest.mark.parametrize("existing, lookalike", LOOKALIKES)
def test_a_lookalike_username_signs_up_nobody_and_answers_like_a_fresh_name(
    client_factory, existing, lookalike, django_capture_on_commit_callbacks
):
    """A name that looks like an existing one creates no account; the answer (redirects,
    page, headers) is the one a fresh name gets, and the typed address is told to choose
    another username, as for a taken name (README "Decisions": no enumeration)."""
    UserFactory(username=existing)
    with django_capture_on_commit_callbacks(execute=True):
        refused = _sign_up(client_factory(), lookalike, "second@example.com")
        fresh = _sign_up(client_factory(), "a_fresh_name", "fresh@example.com")
    assert _answer(refused) == _answer(fresh)
    assert list(User.objects.order_by("username").values_list("username", flat=True)) == sorted(
        [existing, "a_fresh_name"]
    )
    assert [(message.to, message.subject) for message in mail.outbox if message.to == ["second@example.com"]] == [
        (["second@example.com"], "Choose another username")
    ]


@pytest.mark.django_db
def test_the_lookalike_key_is_kept_for_every_saved_account_and_follows_a_rename():
    """``save()`` sets the key on creation and on a username change, and leaves it alone when
    other fields change (no extra work, no ``update_fields`` surprise)."""
    user = UserFactory(username="Ivy")
    assert User.objects.get(pk=user.pk).username_skeleton == username_confusable_key("Ivy") == "lvy"
    user.username = "hazel"
    user.save(update_fields=["username"])
    assert User.objects.get(pk=user.pk).username_skeleton == "hazel"
    user.first_name = "Hazel"
    user.save()
    assert User.objects.get(pk=user.pk).username_skeleton == "hazel"
    user.username = "\u04bbazel"  # Cyrillic shha looks like h
    user.save()
    assert User.objects.get(pk=user.pk).username_skeleton == "hazel"


@pytest.mark.django_db
def test_the_admin_refuses_a_lookalike_name_with_a_message(client):
    """Staff adding or renaming an account in ``/admin/`` get a form error (``User.clean``),
    not a 500 from the constraint; the account's own name is not a clash with itself."""
    UserFactory(username="gardener")
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    added = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "g\u0430rdener",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
            "usable_password": "true",
        },
    )
    assert added.status_code == 200
    assert "looks like another account" in added.content.decode()
    assert not User.objects.filter(username="g\u0430rdener").exists()

    other = UserFactory(username="basil")
    form = client.get(f"/admin/accounts/user/{other.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data |= {"username": "GARDENEr", "date_joined_0": "2026-01-01", "date_joined_1": "10:00:00"}
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data["groups"] = data["user_permissions"] = []
    renamed = client.post(f"/admin/accounts/user/{other.pk}/change/", data)
    assert renamed.status_code == 200 and "looks like another account" in renamed.content.decode()
    data["username"] = "Basil"
    kept = client.post(f"/admin/accounts/user/{other.pk}/change/", data)
    assert kept.status_code == 302, kept.content.decode()[:2000]
    assert User.objects.get(pk=other.pk).username == "Basil"


@pytest.mark.django_db
def test_createsuperuser_refuses_a_lookalike_name(monkeypatch):
    UserFactory(username="gardener")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG_PASSWORD)
    with pytest.raises(CommandError, match="looks like another account"):
        call_command("createsuperuser", "--noinput", "--username", "g\u0430rdener", "--email", "root@example.com")
    call_command("createsuperuser", "--noinput", "--username", "root", "--email", "root@example.com", verbosity=0)
    assert list(User.objects.filter(is_superuser=True).values_list("username", "username_skeleton")) == [
        ("root", "root")
    ]


@pytest.mark.django_db(transaction=True)
def test_two_lookalike_sign_ups_at_once_make_exactly_one_account():
    """``gardener`` and ``gаrdener`` (Cyrillic) sign up in two threads released by a barrier;
    the first holds its transaction open, its new row uncommitted, until the second is seen
    in PostgreSQL waiting on the unique index (``pg_stat_activity``). Exactly one account is
    made, and the other address gets the "choose another username" email."""
    barrier = threading.Barrier(2)
    first_inserted, release_first = threading.Event(), threading.Event()
    outcomes = [None, None]

    def sign_up(index):
        try:
            barrier.wait()
            with transaction.atomic():
                if index == 1:
                    first_inserted.wait(timeout=30)
                outcomes[index] = user_sign_up(
                    username=["gardener", "g\u0430rdener"][index],
                    email=f"person{index}@example.com",
                    password=STRONG_PASSWORD,
                    base_url="http://testserver",
                ).created
                if index == 0:
                    first_inserted.set()
                    release_first.wait(timeout=30)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    assert first_inserted.wait(timeout=30)
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    waiting_seen = time.monotonic() <= deadline
    release_first.set()
    for thread in threads:
        thread.join(timeout=60)
    assert waiting_seen, "the second sign-up never waited on the first one's row"
    assert outcomes == [True, False]
    assert list(User.objects.values_list("username", flat=True)) == ["gardener"]
    assert [m.subject for m in mail.outbox if m.to == ["person1@example.com"]] == ["Choose another username"]


BEFORE = [("accounts", "0006_data_export")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_an_existing_clash_to_the_oldest_account():
    """Accounts made before the key existed: the oldest of each lookalike group gets the key,
    the others keep their names and NULL; they still sign in and save, and get a key when they
    choose a free name."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_user = MigrationExecutor(connection).loader.project_state(BEFORE).apps.get_model("accounts", "User")
    ids = {
        name: old_user.objects.create(username=name, email=f"{index}@example.com").pk
        for index, name in enumerate(["gardener", "g\u0430rdener", "GARDENEr\u3164", "rosa"])
    }
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    keys = dict(User.objects.values_list("pk", "username_skeleton"))
    assert keys == {
        ids["gardener"]: "gardener",
        ids["g\u0430rdener"]: None,
        ids["GARDENEr\u3164"]: None,
        ids["rosa"]: "rosa",
    }
    late = User.objects.get(pk=ids["g\u0430rdener"])
    late.set_password(DEFAULT_PASSWORD)
    late.save()
    browser = Client()
    assert (
        browser.post("/accounts/login/", {"username": "g\u0430rdener", "password": DEFAULT_PASSWORD}).status_code == 302
    )
    assert browser.session[SESSION_KEY] == str(late.pk)
    late.username = "gardener_two"
    late.save()
    assert User.objects.get(pk=late.pk).username_skeleton == "gardener_two"


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["deleted-gardener-00000000", "Deleted-Gardener-abcd1234", "DELETED-GARDENER-x"])
def test_the_name_given_to_deleted_accounts_cannot_be_chosen(client, username):
    """Nobody signs up as a "deleted gardener": the prefix account deletion uses is refused
    with a form message (it is public, so saying so reveals no account), and nothing is made."""
    response = _sign_up(client, username, "poser@example.com")
    assert response.status_code == 200
    assert "are reserved" in response.content.decode()
    assert not User.objects.exists() and not mail.outbox
