"""Deleting an account (issue 11, "Your data"): password (and second factor) first, under the
sign-in lockout; photos, care cards, votes and notifications deleted; forum posts, topics and
reports kept under an anonymized account; tokens, sessions and Redis keys gone; counters right;
and no trace of the name or email in a database dump or in Redis."""

import io
import os
import subprocess
import uuid

import pytest
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.models import ProtectedError
from django.urls import reverse

from apps.accounts.data_services import ANONYMOUS_PREFIX, account_erase, account_redis_keys, export_storage
from apps.accounts.devices import family_seen_keys
from apps.accounts.lockout import PREFIX as LOCKOUT_PREFIX
from apps.accounts.models import DataExport, RecoveryCode, TotpDevice, User, UserSession
from apps.core.audit import audit_record
from apps.core.models import ModerationAction
from apps.core.permissions import MODERATORS_GROUP
from apps.core.redis import get_strict_redis
from apps.forum.models import Post, Report, Topic
from apps.notifications.models import Notification
from apps.plants.models import (
    CareTask,
    CareTaskDone,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    SavedCareInstructions,
    SuggestionVote,
)
from apps.plants.personal_data import identification_limit_key
from apps.plants.recount import suggestion_vote_drift
from tests import factories
from tests.factories import DEFAULT_PASSWORD, jpeg_bytes

from .data_world import give_everything, unique_gardener
from .test_two_factor import enable_two_factor

DELETE = "/accounts/settings/data/delete/"
SIGN_IN = "/accounts/login/"


def _sign_in(client, user) -> None:
    response = client.post(SIGN_IN, {"username": user.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.content


def _redis_text() -> str:
    """Every key of the test Redis db with its value (strings, hashes, sorted sets, sets,
    lists), as one text to search."""
    client = get_strict_redis()
    parts = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        if kind == "string":
            value = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        elif kind == "set":
            value = client.smembers(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        else:
            value = client.dump(key)
        parts.append(f"{key!r} {value!r}")
    return "\n".join(parts)


def _pg_dump() -> str:
    """A plain-SQL ``pg_dump`` of the test database (every table, schema and data), read as
    text."""
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    command = ["pg_dump", "--no-owner", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432)]
    command += ["-U", db["USER"] or "postgres", db["NAME"]]
    return subprocess.run(command, env=env, check=True, capture_output=True, timeout=120).stdout.decode("utf-8")


@pytest.mark.django_db(transaction=True)
def test_deleting_an_account_leaves_its_name_and_email_nowhere(client_factory, settings):
    """The done-when test of issue 11: a gardener with a random unique name and email gets
    topics and posts (replied to), votes, reports (made and received), an identification request
    with photos, a care card, an export, a session and a token family, a password reset, a lock
    on the account and one on the name typed before the account existed, a profile naming it
    with an avatar, an app's session record and two-factor sign-in; deleting the account
    leaves neither string anywhere in a ``pg_dump`` of the database or in any Redis key or value,
    and no Redis key derived from its id. Others' replies stay; ``forum_recount --check`` and
    ``identification_recount --check`` are clean."""
    settings.WRITE_THROTTLES = {
        level: {action: [(1000, 60)] for action in actions} for level, actions in settings.WRITE_THROTTLES.items()
    }
    tag = uuid.uuid4().hex[:12]
    username, email = f"Vanish{tag}", f"vanish.{tag}@example.net"
    early = client_factory(REMOTE_ADDR="192.0.2.21")
    for attempt in range(10):  # the name is tried (and locked) before the account exists
        early.post(SIGN_IN, {"username": username, "password": f"guess-{attempt}"})
    user = factories.UserFactory(username=username, email=email)
    other = unique_gardener()
    forum = factories.ForumFactory()
    rows = give_everything(user, other, forum)
    give_everything(other, user, forum)
    browser = client_factory()
    _sign_in(browser, user)
    photo = SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg")
    assert browser.post(reverse("plants:identify"), {"image": [photo]}).status_code == 302
    assert browser.post("/accounts/settings/data/export/").status_code == 303
    assert DataExport.objects.get(user=user).status == DataExport.Status.READY
    export_file = DataExport.objects.get(user=user).file_name
    assert client_factory(REMOTE_ADDR="192.0.2.22").post("/accounts/password_reset/", {"email": email}).status_code
    attacker = client_factory(REMOTE_ADDR="192.0.2.23")
    for attempt in range(10):
        attacker.post(SIGN_IN, {"username": email.upper(), "password": f"wrong-{attempt}"})
    assert get_strict_redis().exists(f"{LOCKOUT_PREFIX}:lock:user:{user.pk}")
    enable_two_factor(user)  # after the sign-ins: an authenticator and recovery codes to go too
    photos = list(PlantPhoto.objects.filter(request__owner=user).values_list("image", flat=True))
    assert photos and all(default_storage.exists(name) for name in photos)
    avatar = User.objects.get(pk=user.pk).avatar.name
    assert avatar and default_storage.exists(avatar)
    families = list(UserSession.objects.filter(user=user).exclude(family_id="").values_list("family_id", flat=True))
    assert families and get_strict_redis().exists(*family_seen_keys(family_ids=families))
    for text in (_pg_dump(), _redis_text()):  # the search can find them before
        assert username.casefold() in text.casefold() or email.casefold() in text.casefold()
    replies_by_others = set(Post.objects.filter(topic=rows["topic"]).exclude(poster=user).values_list("pk", flat=True))

    anonymous = account_erase(user_id=user.pk)

    dump, redis_text = _pg_dump().casefold(), _redis_text().casefold()
    for secret in (username, email, tag):
        assert secret.casefold() not in dump, f"{secret!r} is still in the database dump"
        assert secret.casefold() not in redis_text, f"{secret!r} is still in Redis"
    client = get_strict_redis()
    keys = account_redis_keys(user_id=user.pk, names=[username, email])
    assert not client.exists(*keys, identification_limit_key(user_id=user.pk))
    assert not list(client.scan_iter(match=f"{LOCKOUT_PREFIX}:unlock:*"))
    assert not any(default_storage.exists(name) for name in photos)
    assert not default_storage.exists(avatar)
    assert not client.exists(*family_seen_keys(family_ids=families))
    assert not export_storage().exists(export_file)
    for model in (TotpDevice, RecoveryCode, UserSession):
        assert not model.objects.filter(user=user).exists(), model.__name__
    erased = User.objects.get(pk=user.pk)
    assert (erased.display_name, erased.avatar.name, erased.time_zone, erased.home_latitude) == ("", "", "UTC", None)
    assert erased.username == anonymous and anonymous.startswith(ANONYMOUS_PREFIX)
    assert not erased.is_active and not erased.has_usable_password()
    assert set(Post.objects.filter(topic=rows["topic"]).exclude(poster=user).values_list("pk", flat=True)) == (
        replies_by_others
    )
    assert Post.objects.filter(poster=user).count() == 3 and Topic.objects.filter(poster=user).count() == 1
    call_command("forum_recount", "--check", stdout=io.StringIO())
    call_command("identification_recount", "--check", stdout=io.StringIO())
    assert browser.get("/dashboard/").status_code == 302  # that browser's session is over


@pytest.fixture
def deletable(client, django_capture_on_commit_callbacks):
    """A gardener with everything (and another who replied, voted and suggested), signed in
    through the form in ``client``."""
    user, other = unique_gardener(), unique_gardener()
    forum = factories.ForumFactory()
    rows = give_everything(user, other, forum)
    give_everything(other, user, forum)
    with django_capture_on_commit_callbacks(execute=True):
        _sign_in(client, user)
    return user, other, rows


@pytest.mark.django_db
def test_the_page_asks_for_the_password_and_says_what_goes_and_what_stays(client, deletable):
    response = client.get(DELETE)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="password"' in body and 'name="otp"' not in body
    assert "Kept, under an anonymous" in body and "Deleted: your photos" in body


@pytest.mark.django_db
def test_a_wrong_password_changes_nothing_and_counts_on_the_sign_in_lockout(client, deletable, settings):
    """A wrong password answers 400 with the form and a message, deletes nothing and counts as
    a failed sign-in of the account; the 10th failure locks it and the next try answers 429,
    the right password too."""
    user, _, _ = deletable
    response = client.post(DELETE, {"password": "not my password"})
    assert response.status_code == 400 and "That password is not right." in response.content.decode()
    assert get_strict_redis().zcard(f"{LOCKOUT_PREFIX}:fail:user:{user.pk}") == 1
    assert User.objects.get(pk=user.pk).username == user.username
    for _ in range(settings.LOCKOUT_FAILURE_LIMIT - 1):
        client.post(DELETE, {"password": "still not it"})
    locked = client.post(DELETE, {"password": DEFAULT_PASSWORD})
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert User.objects.get(pk=user.pk).is_active
    assert client.post(DELETE, {}).status_code == 400  # no password at all: the form says so


@pytest.mark.django_db
def test_deleting_with_the_password_erases_and_keeps_what_the_rules_say(
    client, client_factory, deletable, django_capture_on_commit_callbacks
):
    """The right password: 303 to the sign-in page with a message, signed out, token cookies
    cleared; the access token of that sign-in and the other browser's session stop working.
    Photos (files too), requests, care cards, votes and notifications are gone and the vote
    counters moved; topics, posts, reports and suggestions on others' requests stay under the
    anonymous name; one ``account.delete`` audit row with no personal data; groups gone."""
    user, other, rows = deletable
    access = client.cookies["access_token"].value
    phone = client_factory()
    with django_capture_on_commit_callbacks(execute=True):
        _sign_in(phone, user)
    photos = list(PlantPhoto.objects.filter(request__owner=user).values_list("image", flat=True))
    assert CareTaskDone.objects.filter(task__owner=user).exists()  # the world gave them care history
    rival_before = IdentificationSuggestion.objects.get(pk=rows["rival"].pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DELETE, {"password": DEFAULT_PASSWORD})
    assert response.status_code == 303 and response["Location"] == SIGN_IN
    assert response.cookies["access_token"].value == "" and response.cookies["refresh_token"].value == ""
    assert "Your account is deleted" in client.get(SIGN_IN).content.decode()
    assert client.get("/dashboard/").status_code == 302
    assert phone.get("/dashboard/").status_code == 302
    assert client_factory().get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401

    erased = User.objects.get(pk=user.pk)
    assert erased.username.startswith(ANONYMOUS_PREFIX) and erased.email.endswith("@deleted.invalid")
    assert not erased.groups.exists() and not erased.user_permissions.exists()
    assert not erased.is_staff and erased.last_login is None and not erased.has_usable_password()
    assert not PlantIdentificationRequest.objects.filter(owner=user).exists()
    assert not SavedCareInstructions.objects.filter(owner=user).exists()
    assert (
        not CareTask.objects.filter(owner=user).exists() and not CareTaskDone.objects.filter(task__owner=user).exists()
    )
    assert not SuggestionVote.objects.filter(voter=user).exists()
    assert not Notification.objects.filter(recipient=user).exists()
    assert not any(default_storage.exists(name) for name in photos)
    assert erased.identification_request_count == erased.care_card_count == erased.identified_plant_count == 0
    rival = IdentificationSuggestion.objects.get(pk=rows["rival"].pk)
    assert rival.disagree_count == rival_before.disagree_count - 1 and rival.vote_count == rival_before.vote_count
    assert IdentificationSuggestion.objects.get(pk=rows["own_suggestion"].pk).vote_count == 0  # its author's vote
    assert suggestion_vote_drift() == []
    assert Topic.objects.filter(pk=rows["topic"].pk, poster=user).exists()
    assert Post.objects.filter(pk=rows["reply"].pk, poster=user).exists()
    assert Post.objects.filter(pk=rows["reply_by_other"].pk, poster=other).exists()
    assert Report.objects.filter(reporter=user).exists()
    [entry] = ModerationAction.objects.filter(action="account.delete")
    assert entry.target_id == str(user.pk) and entry.reason == "" and entry.metadata == {} and entry.actor is None
    call_command("forum_recount", "--check", stdout=io.StringIO())
    call_command("identification_recount", "--check", stdout=io.StringIO())
    topic_page = client.get(f"/forum/t/{rows['topic'].pk}/").content.decode()
    assert erased.username in topic_page and user.username not in topic_page
    moderator = factories.UserFactory(is_staff=True)
    moderator.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    client.force_login(moderator)
    log = client.get("/moderation/log/").content.decode()
    assert f"A member deleted their account; their posts stay under {erased.username}" in log


@pytest.mark.django_db
def test_an_account_with_two_factor_needs_the_code_too(client, deletable, django_capture_on_commit_callbacks):
    """With two-factor sign-in on, the page asks for a code as well. Without one the form says
    so; a wrong code answers 400 and is one failure of the sign-in lockout (the right password
    before it clears nothing); a wrong password answers 400 without checking, so without
    spending, the code. The right password and code delete the account, its authenticator and
    its recovery codes."""
    user, _, _ = deletable
    _, recovery_codes = enable_two_factor(user)
    failures = f"{LOCKOUT_PREFIX}:fail:user:{user.pk}"
    assert 'name="otp"' in client.get(DELETE).content.decode()
    assert client.post(DELETE, {"password": DEFAULT_PASSWORD}).status_code == 400
    assert get_strict_redis().zcard(failures) == 0  # the form refused it: nothing was checked
    refused = client.post(DELETE, {"password": DEFAULT_PASSWORD, "otp": "123456"})
    assert refused.status_code == 400 and "That code is not right." in refused.content.decode()
    assert get_strict_redis().zcard(failures) == 1
    wrong_password = client.post(DELETE, {"password": "not my password", "otp": recovery_codes[0]})
    assert wrong_password.status_code == 400 and "That password is not right." in wrong_password.content.decode()
    assert get_strict_redis().zcard(failures) == 2
    assert User.objects.get(pk=user.pk).is_active
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 10  # not spent
    with django_capture_on_commit_callbacks(execute=True):
        deleted = client.post(DELETE, {"password": DEFAULT_PASSWORD, "otp": recovery_codes[0]})
    assert deleted.status_code == 303 and deleted["Location"] == SIGN_IN
    assert not User.objects.get(pk=user.pk).is_active
    assert not TotpDevice.objects.filter(user=user).exists() and not RecoveryCode.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_wrong_codes_lock_the_account_even_with_the_right_password(client, deletable, settings):
    """A known password gives no more code guesses on this page than at sign-in: after
    ``LOCKOUT_FAILURE_LIMIT`` wrong codes the account is locked (429, sign-in too) and nothing
    is deleted."""
    user, _, _ = deletable
    enable_two_factor(user)
    for attempt in range(settings.LOCKOUT_FAILURE_LIMIT):
        assert client.post(DELETE, {"password": DEFAULT_PASSWORD, "otp": f"{attempt:06d}"}).status_code == 400
    locked = client.post(DELETE, {"password": DEFAULT_PASSWORD, "otp": "000000"})
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert get_strict_redis().exists(f"{LOCKOUT_PREFIX}:lock:user:{user.pk}")
    assert User.objects.get(pk=user.pk).is_active and TotpDevice.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_no_deletion_path_takes_other_peoples_posts_or_reports(deletable):
    """A plain ``User.delete()`` (the admin, a shell) is refused while the account has topics,
    posts, reports or votes (``on_delete=PROTECT``): it never cascades into other gardeners'
    replies in its topics, reports that hide posts, or vote counters. Deleting goes through
    ``account_erase``, which keeps them."""
    user, other, rows = deletable
    with pytest.raises(ProtectedError):
        User.objects.get(pk=user.pk).delete()
    voter = unique_gardener()
    from apps.plants.services import suggestion_vote

    suggestion_vote(suggestion=rows["rival"], voter=voter, agrees=True)
    with pytest.raises(ProtectedError):
        User.objects.get(pk=voter.pk).delete()
    assert Post.objects.filter(pk=rows["reply_by_other"].pk).exists()


@pytest.mark.django_db
def test_erasing_twice_changes_nothing_more_and_rewrites_audit_reasons_naming_the_account(deletable):
    """A moderator's audit reason that names the account ("cleared for <name>") is rewritten
    to the anonymous name; erasing an erased account again is a no-op (one audit row)."""
    user, other, _ = deletable
    from django.db import transaction

    with transaction.atomic():
        audit_record(
            actor=other,
            action="lockout.clear",
            target_type="account",
            target_id=f"user:{user.pk}",
            reason=f"Cleared for {user.username}, who wrote from {user.email}.",
        )
    anonymous = account_erase(user_id=user.pk)
    reason = ModerationAction.objects.get(action="lockout.clear").reason
    assert reason == f"Cleared for {anonymous}, who wrote from {anonymous}."
    assert account_erase(user_id=user.pk) == anonymous
    assert ModerationAction.objects.filter(action="account.delete").count() == 1


@pytest.mark.django_db
def test_the_admin_deletes_an_account_with_posts_by_anonymizing_it(
    client, deletable, django_capture_on_commit_callbacks
):
    """The admin's action runs the same erasure (Django's own delete is refused for an account
    with posts): the posts stay, the account is anonymized."""
    user, _, rows = deletable
    admin_user = factories.UserFactory(is_staff=True, is_superuser=True)
    admin_client = client.__class__()
    admin_client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/accounts/user/", {"action": "accounts_erase", "_selected_action": [user.pk]}
        )
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).username.startswith(ANONYMOUS_PREFIX)
    assert Post.objects.filter(pk=rows["reply"].pk, poster=user).exists()
