"""Every service keeps the cached dashboard panels right (issue 13, part 1).

Every public function of every service module (``apps/**/services.py``, ``*_services.py``,
``identification/service.py``) is found by introspection and called with real arguments on a
small world built with factories and the services themselves. Before the call each cached panel
of four gardeners (an owner of requests, topics and a care card; another gardener who suggests,
votes, replies and reports; a new member with held posts; a moderator) is rendered into the
cache; after it, each panel served with the cache on must equal a render with the cache off. A
service that changes what a panel shows without bumping its viewers' ``panel_version`` fails
here; a new service fails ``test_every_service_has_a_recipe`` until it gets a recipe below.
"""

import importlib
import inspect
import pathlib
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.cache import cache
from django.db.models import F
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts import tokens
from apps.accounts.models import TrustLevel, User, UserSession
from apps.dashboard import panel_cache
from apps.dashboard.views import PANELS
from apps.forum.models import Forum, Post, Topic
from apps.notifications.models import NotificationDelivery, NotificationKind
from apps.plants.models import IdentificationStatus, IdentificationSuggestion, PlantIdentificationRequest
from tests import factories

pytestmark = pytest.mark.django_db

APPS = pathlib.Path(__file__).resolve().parents[2] / "apps"
CACHED_PANELS = [name for name, panel in PANELS.items() if panel.changes_at is not None]
IP = "203.0.113.9"
BASE_URL = "http://testserver"
PASSWORD = factories.DEFAULT_PASSWORD


def service_functions() -> dict[str, object]:
    """``"<module>.<function>"`` -> function, for every public function defined in a service
    module under ``apps/``."""
    found = {}
    for path in sorted(APPS.rglob("*.py")):
        if not (path.name in ("services.py", "service.py") or path.name.endswith("_services.py")):
            continue
        module_name = ".".join(path.relative_to(APPS.parent).with_suffix("").parts)
        module = importlib.import_module(module_name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and function.__module__ == module_name:
                found[f"{module_name.removeprefix('apps.')}.{name}"] = function
    return found


@dataclass
class World:
    owner: User
    other: User
    newbie: User
    moderator: User
    forum: Forum
    second_forum: Forum
    owner_topic: Topic
    other_topic: Topic
    other_reply: Post
    owner_reply: Post
    held_reply: Post
    held_topic: Topic
    newbie_post: Post
    owner_request: PlantIdentificationRequest
    pending_request: PlantIdentificationRequest
    machine_suggestion: IdentificationSuggestion
    community_suggestion: IdentificationSuggestion
    card: object
    species: list


def make_world() -> World:
    from apps.forum import services as forum
    from apps.plants import services as plants

    species = factories.SpeciesFactory.create_batch(3)

    def days_ago(days):
        return timezone.now() - timedelta(days=days)

    owner = factories.UserFactory(username="owner", trust_level=TrustLevel.BASIC, date_joined=days_ago(10))
    other = factories.UserFactory(username="other", trust_level=TrustLevel.TRUSTED, date_joined=days_ago(40))
    newbie = factories.UserFactory(username="newbie", trust_level=TrustLevel.NEW, date_joined=days_ago(2))
    moderator = factories.UserFactory(username="mod", trust_level=TrustLevel.VETERAN, date_joined=days_ago(100))
    moderator.groups.add(Group.objects.get(name="moderators"))
    forum_row, second_forum = factories.ForumFactory(), factories.ForumFactory()

    owner_topic = forum.topic_create(forum=forum_row, poster=owner, subject="Fern", source="Help", publish=True)
    other_reply = forum.reply_create(topic=owner_topic, poster=other, source="Water less", publish=True)
    held_reply = forum.reply_create(topic=owner_topic, poster=newbie, source="Me too", publish=False)
    held_topic = forum.topic_create(forum=forum_row, poster=newbie, subject="Hi", source="New here", publish=False)
    other_topic = forum.topic_create(forum=forum_row, poster=other, subject="Roses", source="Aphids", publish=True)
    owner_reply = forum.reply_create(topic=other_topic, poster=owner, source="Soap spray", publish=True)
    newbie_post = forum.reply_create(topic=other_topic, poster=newbie, source="Ladybirds", publish=True)
    forum.post_edit(post_id=newbie_post.pk, editor=newbie, source="Ladybirds!", review=True)
    forum.report_create(post_id=owner_reply.pk, reporter=other, reason="spam", detail="")

    owner_request = factories.IdentificationRequestFactory(owner=owner, status=IdentificationStatus.NEEDS_HELP)
    pending_request = factories.IdentificationRequestFactory(owner=owner, status=IdentificationStatus.PENDING)
    User.objects.filter(pk=owner.pk).update(identification_request_count=2)
    machine_suggestion = factories.SuggestionFactory(request=owner_request, species=species[0], probability=0.6)
    community_suggestion = plants.suggestion_add(
        id_request=owner_request, suggester=other, species=species[1], free_text_name=""
    )
    card = plants.care_card_toggle(owner=owner, species=species[2])
    # The owner's care-due panel lists tasks: watering due today, misting overdue.
    from apps.plants.care.schedule import local_today
    from apps.plants.models import CareTask

    today = local_today(owner.time_zone)
    CareTask.objects.filter(care_card=card, kind="water").update(next_due_on=today)
    CareTask.objects.filter(care_card=card, kind="mist").update(next_due_on=today - timedelta(days=2), is_enabled=True)

    # Everything a few hours old, so relative times ("3 hours ago") let the panels be cached.
    earlier = timedelta(hours=3)
    Topic.objects.update(created_at=F("created_at") - earlier, last_post_at=F("last_post_at") - earlier)
    Post.objects.update(created_at=F("created_at") - earlier)
    PlantIdentificationRequest.objects.update(created_at=F("created_at") - earlier)
    IdentificationSuggestion.objects.update(created_at=F("created_at") - earlier)

    def fresh(row):
        return type(row).objects.get(pk=row.pk)

    return World(
        owner=fresh(owner),
        other=fresh(other),
        newbie=fresh(newbie),
        moderator=fresh(moderator),
        forum=forum_row,
        second_forum=second_forum,
        owner_topic=fresh(owner_topic),
        other_topic=fresh(other_topic),
        other_reply=fresh(other_reply),
        owner_reply=fresh(owner_reply),
        held_reply=fresh(held_reply),
        held_topic=fresh(held_topic),
        newbie_post=fresh(newbie_post),
        owner_request=fresh(owner_request),
        pending_request=fresh(pending_request),
        machine_suggestion=fresh(machine_suggestion),
        community_suggestion=fresh(community_suggestion),
        card=fresh(card),
        species=species,
    )


def _identification_request_create(w, function):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.core.uploads import image_process

    upload = SimpleUploadedFile("leaf.jpg", factories.jpeg_bytes(size=(200, 150)), content_type="image/jpeg")
    photo, thumbnail = image_process(upload, sizes=[1600, 300])
    function(owner=w.owner, photos=[photo], thumbnail=thumbnail)


def _session_key() -> str:
    session = SessionStore()
    session.create()
    return session.session_key


def _opening(topic: Topic) -> int:
    return Post.objects.filter(topic=topic, is_opening_post=True).values_list("pk", flat=True).get()


def _session_tokens(w, function):
    session = SessionStore()
    session.create()
    pair = tokens.family_start(user_id=w.owner.pk)
    if function.__name__ == "session_tokens_remember":
        function(session=session, pair=pair)
    else:
        from apps.accounts.signin_services import session_tokens_remember

        session_tokens_remember(session=session, pair=pair)
        function(session=session)


def _expecting(exceptions, call):
    """Run ``call``; a service that refuses these inputs by raising one of ``exceptions`` (its
    documented refusal) has still been called with real arguments."""
    try:
        call()
    except exceptions:
        pass


def _signin_errors():
    from apps.accounts.lockout import SignInLocked
    from apps.accounts.signin_services import InvalidCredentials, SecurityUnavailable

    return (InvalidCredentials, SignInLocked, SecurityUnavailable)


# "<module>.<function>" -> how to call it on a world. Each is a real call of the service.
RECIPES = {
    # accounts.data_services
    "accounts.data_services.account_delete": lambda w, f: f(user=w.other, password=PASSWORD, ip=IP, base_url=BASE_URL),
    "accounts.data_services.account_erase": lambda w, f: f(user_id=w.other.pk),
    "accounts.data_services.account_has_second_factor": lambda w, f: f(w.owner),
    "accounts.data_services.account_redis_forget": lambda w, f: f(user_id=w.owner.pk, names=["owner"]),
    "accounts.data_services.account_redis_keys": lambda w, f: f(user_id=w.owner.pk, names=["owner"]),
    "accounts.data_services.data_export_build": lambda w, f: f(
        export_id=__import__("apps.accounts.data_services", fromlist=["x"]).data_export_request(user=w.owner).pk
    ),
    "accounts.data_services.data_export_document": lambda w, f: f(user=w.owner),
    "accounts.data_services.data_export_request": lambda w, f: f(user=w.owner),
    "accounts.data_services.data_exports_purge": lambda w, f: f(now=timezone.now() + timedelta(days=30)),
    "accounts.data_services.export_storage": lambda w, f: f(),
    "accounts.data_services.second_factor_check": lambda w, f: f(w.owner, None, ip=IP, base_url=BASE_URL),
    "accounts.data_services.user_sessions_end": lambda w, f: f(user_id=w.other.pk),
    # accounts.services
    "accounts.services.email_confirmation_token": lambda w, f: f(user=w.newbie),
    "accounts.services.lockout_clear_by_moderator": lambda w, f: f(
        key="owner", moderator=w.moderator, reason="cleared"
    ),
    "accounts.services.trust_level_promote": lambda w, f: f(
        user_id=w.newbie.pk, now=timezone.now() + timedelta(days=400)
    ),
    "accounts.services.trust_level_set_by_moderator": lambda w, f: f(
        user_id=w.owner.pk, level=TrustLevel.TRUSTED, moderator=w.moderator
    ),
    "accounts.services.trust_levels_update_all": lambda w, f: (
        User.objects.filter(pk=w.owner.pk).update(approved_post_count=30),
        f(now=timezone.now() + timedelta(days=400)),
    ),
    "accounts.services.user_confirm_email": lambda w, f: f(
        token=__import__("apps.accounts.services", fromlist=["x"]).email_confirmation_token(user=w.newbie)
    ),
    "accounts.services.user_sign_up": lambda w, f: f(
        username="fresh", email="fresh@example.com", password="a long pass phrase 42", base_url=BASE_URL
    ),
    # accounts.session_services
    "accounts.session_services.api_session_record": lambda w, f: f(
        user=w.owner, family_id="family-1", user_agent="curl", ip=IP
    ),
    "accounts.session_services.browser_session_record": lambda w, f: f(
        user=w.owner, session_key=_session_key(), user_agent="Firefox", ip=IP
    ),
    "accounts.session_services.session_revoke": lambda w, f: (
        __import__("apps.accounts.session_services", fromlist=["x"]).api_session_record(
            user=w.owner, family_id="family-2", user_agent="curl", ip=IP
        ),
        f(record=UserSession.objects.get(family_id="family-2")),
    ),
    "accounts.session_services.sessions_revoke_others": lambda w, f: f(
        user=w.owner, current_session_key=_session_key()
    ),
    # accounts.settings_services
    "accounts.settings_services.avatar_limit_key": lambda w, f: f(user_id=w.owner.pk),
    "accounts.settings_services.email_change_confirm": lambda w, f: f(
        token=__import__("apps.accounts.settings_services", fromlist=["x"]).email_change_token(
            user=w.owner, new_email="owner2@example.com"
        )
    ),
    "accounts.settings_services.email_change_limit_key": lambda w, f: f(user_id=w.owner.pk),
    "accounts.settings_services.email_change_request": lambda w, f: f(
        user=w.owner, new_email="owner3@example.com", base_url=BASE_URL
    ),
    "accounts.settings_services.email_change_token": lambda w, f: f(user=w.owner, new_email="o4@example.com"),
    "accounts.settings_services.profile_update": lambda w, f: f(
        user=w.owner,
        display_name="Owner",
        time_zone="Pacific/Auckland",
        home_latitude=Decimal("51.5"),
        home_longitude=Decimal("-0.1"),
    ),
    # accounts.signin_services
    "accounts.signin_services.account_unlock_with_token": lambda w, f: f(token="not-a-token"),
    "accounts.signin_services.canonical_login_name": lambda w, f: f(" Owner "),
    "accounts.signin_services.current_password_check": lambda w, f: f(
        user=w.owner, password=PASSWORD, ip=IP, base_url=BASE_URL
    ),
    "accounts.signin_services.delete_token_cookies": lambda w, f: f(HttpResponse()),
    "accounts.signin_services.refresh_token_rotate": lambda w, f: f(
        claims=tokens.decode(tokens.family_start(user_id=w.owner.pk).refresh, expected_type="refresh")
    ),
    "accounts.signin_services.second_factor_attempt": lambda w, f: _expecting(
        _signin_errors(),
        lambda: f(user_id=w.owner.pk, verified_at=0.0, code="123456", ip=IP, base_url=BASE_URL),
    ),
    "accounts.signin_services.second_factor_check": lambda w, f: _expecting(
        _signin_errors(),
        lambda: f(
            user=User.objects.select_related("totp_device").get(pk=w.owner.pk), code="123456", ip=IP, base_url=BASE_URL
        ),
    ),
    "accounts.signin_services.session_tokens_remember": _session_tokens,
    "accounts.signin_services.session_tokens_revoke": _session_tokens,
    "accounts.signin_services.set_token_cookies": lambda w, f: f(
        HttpResponse(), tokens.family_start(user_id=w.owner.pk)
    ),
    "accounts.signin_services.sign_in_attempt": lambda w, f: f(
        name="owner", password=PASSWORD, ip=IP, base_url=BASE_URL
    ),
    "accounts.signin_services.token_family_revoke": lambda w, f: f(family_id="family-3"),
    "accounts.signin_services.tokens_start": lambda w, f: f(user=w.owner),
    "accounts.signin_services.user_find_for_sign_in": lambda w, f: f(name="owner@example.com"),
    # forum.services
    "forum.services.forum_counters_recount": lambda w, f: f(),
    "forum.services.post_approve": lambda w, f: f(post_id=w.held_reply.pk, moderator=w.moderator),
    "forum.services.post_delete": lambda w, f: f(post_id=_opening(w.owner_topic), actor=w.moderator),
    "forum.services.post_edit": lambda w, f: f(
        post_id=_opening(w.owner_topic), editor=w.owner, source="Help!", review=False
    ),
    "forum.services.post_edit_decide": lambda w, f: f(post_id=w.newbie_post.pk, moderator=w.moderator, approve=True),
    "forum.services.post_reject": lambda w, f: f(post_id=_opening(w.held_topic), moderator=w.moderator, reason="x"),
    "forum.services.reply_create": lambda w, f: f(topic=w.other_topic, poster=w.owner, source="More", publish=True),
    "forum.services.report_create": lambda w, f: f(
        post_id=w.newbie_post.pk, reporter=w.other, reason="spam", detail=""
    ),
    "forum.services.reports_resolve": lambda w, f: f(post_id=w.owner_reply.pk, moderator=w.moderator, decision="agree"),
    "forum.services.topic_create": lambda w, f: f(
        forum=w.forum, poster=w.owner, subject="Basil", source="Bolting", publish=True
    ),
    "forum.services.topic_flag_set": lambda w, f: f(topic_id=w.owner_topic.pk, moderator=w.moderator, action="lock"),
    "forum.services.topic_move": lambda w, f: f(topic_id=w.other_topic.pk, actor=w.moderator, to_forum=w.second_forum),
    # notifications
    "notifications.preferences_services.notification_preferences_set": lambda w, f: f(
        user=w.owner, choices=dict.fromkeys(NotificationKind.values, NotificationDelivery.DIGEST)
    ),
    "notifications.services.notifications_delete": lambda w, f: f(group_key=f"forum.topic:{w.owner_topic.pk}"),
    "notifications.services.notifications_follow_rows": lambda w, f: f(
        PlantIdentificationRequest, group_key=lambda row: f"plants.request:{row.pk}"
    ),
    "notifications.services.notifications_mark_all_read": lambda w, f: f(user=w.owner),
    "notifications.services.notifications_mark_group_read": lambda w, f: f(
        user=w.owner, group_key=f"plants.request:{w.owner_request.pk}"
    ),
    "notifications.services.notifications_retitle": lambda w, f: f(
        group_key=f"plants.request:{w.owner_request.pk}", title="Renamed"
    ),
    "notifications.services.notifications_send": lambda w, f: f(
        recipient_ids=[w.owner.pk],
        actor_id=w.other.pk,
        kind="reply",
        group_key=f"forum.topic:{w.owner_topic.pk}",
        group_title="Fern",
        url="/forum/",
        target_key=f"forum.post:{w.other_reply.pk}",
    ),
    "notifications.services.notifications_visibility_set": lambda w, f: f(
        target_keys=[f"forum.post:{w.other_reply.pk}"], visible=False
    ),
    # plants
    "plants.identification.service.machine_identification_run": lambda w, f: f(request_id=w.pending_request.pk),
    "plants.identification.service.machine_outcome_notify": lambda w, f: f(
        request_id=w.owner_request.pk, owner_id=w.owner.pk, status=IdentificationStatus.NEEDS_HELP, top_name="Fern"
    ),
    "plants.identification.service.normalise_scientific_name": lambda w, f: f("  Ficus   lyrata "),
    "plants.care.services.care_calendar_feed_create": lambda w, f: f(owner=w.owner),
    "plants.care.services.care_calendar_feed_reset": lambda w, f: (
        __import__("apps.plants.care.services", fromlist=["x"]).care_calendar_feed_create(owner=w.owner),
        f(owner=w.owner),
    ),
    "accounts.services.email_confirmation_send": lambda w, f: f(user=w.newbie, base_url="http://testserver"),
    "forum.services.mention_targets": lambda w, f: f("Thanks @owner and @nobody"),
    "plants.care.services.care_tasks_follow_hemisphere": lambda w, f: f(owner=w.owner, southern=True),
    "plants.care.services.care_task_done": lambda w, f: f(task=_water_task(w), owner=w.owner),
    "plants.care.services.care_task_snooze": lambda w, f: f(task=_water_task(w), owner=w.owner, days=3),
    "plants.care.services.care_task_update": lambda w, f: f(
        task=_water_task(w), owner=w.owner, interval_days=2, is_enabled=True
    ),
    "plants.care.services.care_tasks_create_defaults": lambda w, f: f(card=_card_without_tasks(w), owner=w.owner),
    "plants.services.care_card_toggle": lambda w, f: f(owner=w.owner, species=w.species[0]),
    "plants.services.care_card_update": lambda w, f: f(
        card=w.card, nickname="Fiddle", personal_notes="", status="struggling", is_favourite=True
    ),
    "plants.services.identification_request_create": _identification_request_create,
    "plants.services.identification_request_delete": lambda w, f: f(id_request=w.owner_request),
    "plants.services.species_page_consent_set": lambda w, f: f(id_request=w.owner_request, show=False),
    "plants.services.suggestion_accept": lambda w, f: f(id_request=w.owner_request, suggestion=w.community_suggestion),
    "plants.services.suggestion_add": lambda w, f: f(
        id_request=w.owner_request, suggester=w.newbie, species=None, free_text_name="Boston fern"
    ),
    "plants.services.suggestion_vote": lambda w, f: f(suggestion=w.machine_suggestion, voter=w.moderator, agrees=True),
}


def _water_task(world: World):
    from apps.plants.models import CareTask

    return CareTask.objects.get(care_card=world.card, kind="water")


def _card_without_tasks(world: World):
    from apps.plants.models import CareTask

    CareTask.objects.filter(care_card=world.card).delete()
    return world.card


SERVICES = service_functions()


def test_every_service_has_a_recipe():
    """A service module's new public function must get a call recipe here, so the cache test
    below covers it from the start."""
    assert sorted(set(SERVICES) - set(RECIPES)) == []
    assert sorted(set(RECIPES) - set(SERVICES)) == []


def _clients(world: World) -> dict[str, Client]:
    clients = {}
    for role in ("owner", "other", "newbie", "moderator"):
        client = Client()
        client.force_login(getattr(world, role))
        clients[role] = client
    return clients


def _panel(client: Client, name: str) -> str:
    response = client.get(reverse("dashboard:panel", args=[name]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_cached_panels_equal_uncached_after_every_service(service, settings, mailoutbox, tmp_path):
    """After ``service`` runs, every cached panel of every gardener equals a render with the
    cache off: whatever it changed on a panel bumped that panel's viewers' version."""
    settings.MEDIA_ROOT = tmp_path
    settings.DASHBOARD_PANEL_CACHE = True
    world = make_world()
    clients = _clients(world)
    cache.clear()
    for role, client in clients.items():
        for name in CACHED_PANELS:
            _panel(client, name)
            user = User.objects.get(pk=getattr(world, role).pk)
            user._is_moderator = role == "moderator"
            # Warming stored it: the comparison below really reads the cached copy.
            assert panel_cache.panel_cache_get(panel_cache.panel_cache_key(name=name, user=user)), (role, name)

    RECIPES[service](world, SERVICES[service])

    stale = []
    for role, client in clients.items():
        if not User.objects.filter(pk=getattr(world, role).pk, is_active=True).exists():
            continue  # an erased account is signed out and has no dashboard
        for name in CACHED_PANELS:
            settings.DASHBOARD_PANEL_CACHE = True
            cached = _panel(client, name)
            settings.DASHBOARD_PANEL_CACHE = False
            fresh = _panel(client, name)
            if cached != fresh:
                stale.append((role, name))
    assert stale == []
