"""SPEC "Bad input": a GET never changes state, on every URL of the project.

The walk takes every pattern ``django.urls.get_resolver()`` knows (root, apps, moderation,
admin, media), fills its path converters with real rows made by factories and services, and
requests it with GET, HEAD and htmx's GET as a signed-out visitor, a gardener, a moderator and a superuser
(for the admin's own pages). Each request must send no INSERT, UPDATE or DELETE except on
``django_session`` (Django's session machinery, including the once-a-minute expiry renewal) or
``accounts_user.last_login``, change no Redis key other than cached sessions, and send no
email. HTTP itself gives the rule: GET and HEAD are safe methods (RFC 9110 section 9.2.1).

A pattern the walk cannot fill fails ``test_every_url_pattern_is_covered`` with its route, so a
new URL is checked as soon as it exists: routes without converters are covered on their own,
admin pages of any registered model find their row by the model, and anything else needs an
entry in ``URL_KWARGS`` below.
"""

import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.tasks import task_backends
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_redis import get_redis_connection

from apps.accounts.data_services import data_export_request
from apps.accounts.models import TrustLevel, User, UserSession
from apps.accounts.services import email_confirmation_token
from apps.accounts.settings_services import email_change_token
from apps.core.permissions import MODERATORS_GROUP
from apps.dashboard.views import PANELS
from apps.forum.models import Post, Report, Topic
from apps.forum.services import reply_create, report_create, topic_create, topic_flag_set
from apps.notifications.models import Notification
from apps.plants.care.services import care_calendar_feed_create, care_tasks_create_defaults
from apps.plants.identification.tasks import identify_plant
from apps.plants.models import PlantSpecies
from tests import factories

pytestmark = pytest.mark.django_db

# --- The URL patterns ---------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One URL pattern: its full route as ``ResolverMatch.route`` spells it, its qualified
    name (``forum:topic-detail``, ``None`` for unnamed patterns) and the names of its
    path converters or regex groups."""

    route: str
    name: str | None
    params: tuple[str, ...]


def _join(prefix: str, route: str) -> str:
    # The way Django's URLResolver joins routes for ResolverMatch.route (``_join_route``).
    return prefix + route.removeprefix("^") if prefix else route


def project_routes() -> list[Route]:
    """Every URL pattern of the project, depth first, as ``get_resolver()`` holds them."""

    def walk(resolver, prefix: str, namespaces: tuple[str, ...]):
        for pattern in resolver.url_patterns:
            route = _join(prefix, str(pattern.pattern))
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, route, namespaces + ((pattern.namespace,) if pattern.namespace else ()))
            elif isinstance(pattern, URLPattern):
                name = ":".join(namespaces + (pattern.name,)) if pattern.name else None
                params = tuple(getattr(pattern.pattern, "converters", {})) or tuple(pattern.pattern.regex.groupindex)
                yield Route(route=route, name=name, params=params)

    return list(walk(get_resolver(), "", ()))


# --- The rows the walk fills converters with ----------------------------------------------


@dataclass
class World:
    """Real rows, made through factories and services, one of each kind a URL can name."""

    rosa: User
    moderator: User
    superuser: User
    forum_slug: str
    topic: Topic
    reply: Post
    held_post: Post
    reported_post: Post
    request_pk: int
    suggestion_pk: int
    species_slug: str
    care_card_pk: int
    care_task_pk: int
    calendar_token: str
    thumbnail_name: str
    confirm_token: str
    unlock_token: str
    reset_uidb64: str
    reset_token: str
    email_change_token: str
    session_record_pk: int
    export_public_id: str


def _make_moderator(**kwargs) -> User:
    user = factories.UserFactory(trust_level=TrustLevel.VETERAN, is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    return user


def make_world(client: Client, capture_on_commit) -> World:
    """Build the rows: a gardener's topic with a reply that mentions and notifies her, a held
    reply, a reported one, an identification request with a suggestion and a stored
    thumbnail, a care card with its tasks and a calendar link, an unconfirmed account's
    confirmation token, a locked account's unlock token (from its lock email), a password-reset
    link, an audit-log row and a queued task row (so every admin page has an object)."""
    rosa = factories.UserFactory(username="rosa", trust_level=TrustLevel.BASIC)
    ben = factories.UserFactory(username="ben", trust_level=TrustLevel.BASIC)
    cleo = factories.UserFactory(username="cleo", trust_level=TrustLevel.TRUSTED)
    newbie = factories.UserFactory(username="newbie", trust_level=TrustLevel.NEW)
    moderator = _make_moderator(username="mod")
    superuser = factories.UserFactory(username="root", is_staff=True, is_superuser=True)

    forum = factories.ForumFactory(name="Houseplants", slug="houseplants")
    topic = topic_create(forum=forum, poster=rosa, subject="Fern fronds browning", source="Help?", publish=True)
    reply = reply_create(topic=Topic.objects.get(pk=topic.pk), poster=ben, source="Ask @cleo, @rosa.", publish=True)
    held = reply_create(topic=Topic.objects.get(pk=topic.pk), poster=newbie, source="Me too!", publish=False)
    reported = reply_create(topic=Topic.objects.get(pk=topic.pk), poster=ben, source="Buy my pots", publish=True)
    report_create(post_id=reported.pk, reporter=cleo, reason=Report.Reason.SPAM, detail="Selling.")
    topic_flag_set(topic_id=topic.pk, moderator=moderator, action="pin")
    assert Notification.objects.filter(recipient=rosa, group_key=f"forum.topic:{topic.pk}").exists()

    species = PlantSpecies.objects.order_by("id").first()
    identification = factories.IdentificationRequestFactory(owner=rosa)
    suggestion = factories.SuggestionFactory(request=identification, species=species)
    card = factories.CareCardFactory(owner=rosa, species=species)
    care_tasks_create_defaults(card=card, owner=rosa)
    calendar = care_calendar_feed_create(owner=rosa)

    unconfirmed = factories.UserFactory(username="unconfirmed", email_confirmed_at=None)
    locked = factories.UserFactory(username="locked")
    with capture_on_commit(execute=True):
        for _ in range(10):
            assert (
                client.post("/accounts/login/", {"username": "locked", "password": "wrong password"}).status_code == 200
            )
    [lock_email] = [message for message in mail.outbox if message.to == [locked.email]]
    unlock_token = re.search(r"/accounts/unlock/([^/\s]+)/", lock_email.body).group(1)

    rosa_browser = Client()
    rosa_browser.force_login(rosa)  # a signed-in browser: its "Active sessions" record

    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        task_backends["default"].enqueue(identify_plant, [identification.pk], {})
    with capture_on_commit(execute=True):
        export = data_export_request(user=rosa)

    return World(
        rosa=rosa,
        moderator=moderator,
        superuser=superuser,
        forum_slug=forum.slug,
        topic=topic,
        reply=reply,
        held_post=held,
        reported_post=reported,
        request_pk=identification.pk,
        suggestion_pk=suggestion.pk,
        species_slug=species.slug,
        care_card_pk=card.pk,
        care_task_pk=card.care_tasks.order_by("pk").first().pk,
        calendar_token=calendar.token,
        thumbnail_name=identification.thumbnail.name,
        confirm_token=email_confirmation_token(user=unconfirmed),
        unlock_token=unlock_token,
        reset_uidb64=urlsafe_base64_encode(force_bytes(rosa.pk)),
        reset_token=default_token_generator.make_token(rosa),
        email_change_token=email_change_token(user=rosa, new_email="rosa.elsewhere@example.com"),
        session_record_pk=UserSession.objects.get(user=rosa).pk,
        export_public_id=export.public_id,
    )


# Route -> the keyword arguments (one dict per URL to request) for its converters. A pattern
# without converters needs no entry; admin pages are filled by ``_admin_kwargs``.
URL_KWARGS = {
    "accounts/confirm/<str:token>/": lambda w: [{"token": w.confirm_token}],
    "accounts/unlock/<str:token>/": lambda w: [{"token": w.unlock_token}],
    "accounts/settings/email/confirm/<str:token>/": lambda w: [{"token": w.email_change_token}],
    "accounts/settings/sessions/<int:pk>/revoke/": lambda w: [{"pk": w.session_record_pk}],
    "accounts/reset/<uidb64>/<token>/": lambda w: [{"uidb64": w.reset_uidb64, "token": w.reset_token}],
    "accounts/settings/data/export/<str:public_id>/": lambda w: [{"public_id": w.export_public_id}],
    "dashboard/panels/<slug:name>/": lambda w: [{"name": name} for name in PANELS],
    "plants/requests/<int:pk>/": lambda w: [{"pk": w.request_pk}],
    "plants/requests/<int:pk>/suggestions/": lambda w: [{"pk": w.request_pk}],
    "plants/requests/<int:pk>/suggestions/<int:suggestion_pk>/vote/": lambda w: [
        {"pk": w.request_pk, "suggestion_pk": w.suggestion_pk}
    ],
    "plants/requests/<int:pk>/suggestions/<int:suggestion_pk>/accept/": lambda w: [
        {"pk": w.request_pk, "suggestion_pk": w.suggestion_pk}
    ],
    "plants/requests/<int:pk>/delete/": lambda w: [{"pk": w.request_pk}],
    "plants/requests/<int:pk>/species-page/": lambda w: [{"pk": w.request_pk}],
    "plants/species/<slug:slug>/": lambda w: [{"slug": w.species_slug}],
    "plants/species/<slug:slug>/care-card/": lambda w: [{"slug": w.species_slug}],
    "plants/care-cards/<int:pk>/": lambda w: [{"pk": w.care_card_pk}],
    "plants/care-cards/<int:pk>/tasks/": lambda w: [{"pk": w.care_card_pk}],
    "plants/care/tasks/<int:pk>/done/": lambda w: [{"pk": w.care_task_pk}],
    "plants/care/tasks/<int:pk>/snooze/": lambda w: [{"pk": w.care_task_pk}],
    "plants/care/tasks/<int:pk>/edit/": lambda w: [{"pk": w.care_task_pk}],
    # The gardener's live calendar link, and a well-formed token that is nobody's.
    "plants/care/calendar/<care_calendar_token:token>.ics": lambda w: [
        {"token": w.calendar_token},
        {"token": "x" * 43},
    ],
    "forum/f/<slug:slug>/": lambda w: [{"slug": w.forum_slug}],
    "forum/f/<slug:slug>/new/": lambda w: [{"slug": w.forum_slug}],
    "forum/t/<int:pk>/": lambda w: [{"pk": w.topic.pk}],
    "forum/t/<int:pk>/reply/": lambda w: [{"pk": w.topic.pk}],
    "forum/t/<int:pk>/moderate/": lambda w: [{"pk": w.topic.pk}],
    "forum/t/<int:pk>/move/": lambda w: [{"pk": w.topic.pk}],
    "forum/p/<int:pk>/": lambda w: [{"pk": w.reply.pk}, {"pk": w.held_post.pk}],
    "forum/p/<int:pk>/edit/": lambda w: [{"pk": w.reply.pk}],
    "forum/p/<int:pk>/delete/": lambda w: [{"pk": w.reply.pk}],
    "forum/p/<int:pk>/report/": lambda w: [{"pk": w.reply.pk}],
    "forum/notifications/<int:topic_id>/open/": lambda w: [{"topic_id": w.topic.pk}],
    "notifications/<str:group_key>/open/": lambda w: [{"group_key": f"forum.topic:{w.topic.pk}"}],
    "moderation/posts/<int:pk>/approve/": lambda w: [{"pk": w.held_post.pk}],
    "moderation/posts/<int:pk>/reject/": lambda w: [{"pk": w.held_post.pk}],
    "moderation/posts/<int:pk>/reports/<slug:decision>/": lambda w: [
        {"pk": w.reported_post.pk, "decision": decision} for decision in ("agree", "disagree", "ignore")
    ],
    "moderation/posts/<int:pk>/edit/<slug:decision>/": lambda w: [
        {"pk": w.reply.pk, "decision": decision} for decision in ("approve", "reject")
    ],
    "u/<str:username>/": lambda w: [{"username": w.rosa.username}, {"username": w.rosa.username.upper()}],
    "^media/(?P<path>.*)$": lambda w: [{"path": w.thumbnail_name}],
}

# Route -> query strings to request as well: the GET branches that read parameters.
QUERY_VARIANTS = {
    "dashboard/": ["all=1"],
    "forum/f/<slug:slug>/": ["page=2"],
    "forum/t/<int:pk>/": ["page=2"],
    "forum/search/": ["q=fern", "q=fern&forum=houseplants&author=ben"],
    "forum/notifications/badge/": ["seen=0", "seen=2"],
    "notifications/badge/": ["seen=0", "seen=2"],
    "plants/requests/": ["after=bogus"],
    "plants/requests/<int:pk>/": ["wait=7.5", "wait=bogus"],
    "plants/requests/help/": ["suggestions=unsuggested", "suggestions=second_opinion&near=on", "family=Bogus"],
    "plants/species/": ["q=monstra"],
    "plants/species/autocomplete/": ["name=fer"],
    "accounts/login/": ["next=/dashboard/"],
}

_ADMIN_OBJECT = re.compile(r"^admin/(?P<app_label>\w+)/(?P<model_name>\w+)/<path:object_id>/")


class Uncovered(LookupError):
    """The walk has no way to fill this pattern's converters."""


def _first_pk(model) -> str:
    pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
    if pk is None:
        raise Uncovered(f"no {model._meta.label} row: make one in make_world()")
    return str(pk)


def _admin_kwargs(route: Route, world: World) -> list[dict]:
    if route.route == "admin/r/<path:content_type_id>/<path:object_id>/":
        return [{"content_type_id": str(ContentType.objects.get_for_model(Topic).pk), "object_id": str(world.topic.pk)}]
    if route.route == "admin/accounts/user/<id>/password/":
        return [{"id": str(world.rosa.pk)}]
    if route.params == ("app_label",):
        return [{"app_label": label} for label in sorted({model._meta.app_label for model in admin.site._registry})]
    if route.params == ("url",):  # the admin's catch-all
        return [{"url": "no-such-admin-page/"}]
    if (match := _ADMIN_OBJECT.match(route.route)) and route.params == ("object_id",):
        return [{"object_id": _first_pk(apps.get_model(match["app_label"], match["model_name"]))}]
    raise Uncovered(route.route)


def _path(route: Route, kwargs: dict) -> str:
    """Put ``kwargs`` into the route's converters or regex groups: ``/forum/t/3/``."""
    path = route.route
    for name, value in kwargs.items():
        path, count = re.subn(rf"<(?:\w+:)?{name}>|\(\?P<{name}>[^)]*\)", lambda _m, v=str(value): v, path)
        assert count == 1, (route.route, name)
    return "/" + path.removeprefix("^").removesuffix("$")


def urls_for(route: Route, world: World) -> list[str]:
    """The URLs to request for ``route`` (paths, then each with its ``QUERY_VARIANTS``);
    raises ``Uncovered`` when the walk cannot fill the route's converters."""
    if not route.params:
        paths = [_path(route, {})]
    elif route.route in URL_KWARGS:
        paths = [_path(route, kwargs) for kwargs in URL_KWARGS[route.route](world)]
    elif route.route.startswith("admin/"):
        paths = [_path(route, kwargs) for kwargs in _admin_kwargs(route, world)]
    else:
        raise Uncovered(route.route)
    return paths + [f"{path}?{query}" for path in paths for query in QUERY_VARIANTS.get(route.route, [])]


def covered_urls(world: World) -> dict[str, list[str]]:
    """Route -> the paths the walk requests for it, for every pattern of the project."""
    covered, uncovered = {}, []
    for route in project_routes():
        try:
            covered[route.route] = urls_for(route, world)
        except Uncovered as missing:
            uncovered.append(str(missing))
    assert not uncovered, "URL patterns the GET walk cannot fill (add them to URL_KWARGS):\n" + "\n".join(uncovered)
    return covered


# --- What counts as a change --------------------------------------------------------------

_WRITE = re.compile(
    r"^\s*(?:WITH\b.*?\)\s*)?(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE|MERGE\s+INTO)\s+\"?(\w+)\"?", re.I | re.S
)
_LAST_LOGIN_ONLY = re.compile(r'^\s*UPDATE\s+"accounts_user"\s+SET\s+"last_login"\s*=\s*%s\s+WHERE', re.I)


def state_changing_statements(queries: list[dict]) -> list[str]:
    """The captured statements that write anything but the session table or ``last_login``
    (Django's own sign-in bookkeeping, which the brief and SPEC "Query budgets" allow)."""
    writes = []
    for query in queries:
        sql = query["sql"]
        if not (match := _WRITE.match(sql)):
            continue
        if match.group(2).lower() == "django_session" or _LAST_LOGIN_ONLY.match(sql):
            continue
        writes.append(sql)
    return writes


def redis_state() -> dict[bytes, bytes]:
    """Every key of the test Redis db with its serialized value, except cached sessions."""
    client = get_redis_connection("default")
    return {key: client.dump(key) for key in client.scan_iter(count=1000) if b"django.contrib.sessions" not in key}


# How each URL is requested: a browser's GET, a HEAD, and htmx's GET (views branch on it).
REQUESTS = [("GET", {"accept": "text/html,*/*"}), ("HEAD", {}), ("GET", {"hx-request": "true"})]


def assert_request_changes_nothing(client: Client, method: str, headers: dict, path: str, label: str) -> int:
    """Request ``path`` and fail unless nothing changed; returns the status code."""
    before_redis, before_mail = redis_state(), len(mail.outbox)
    with CaptureQueriesContext(connection) as captured:
        response = client.generic(method, path, headers=headers)
    writes = state_changing_statements(captured.captured_queries)
    assert writes == [], f"{method} {path} as {label} ({response.status_code}) wrote:\n" + "\n".join(writes)
    assert redis_state() == before_redis, f"{method} {path} as {label} changed Redis"
    assert len(mail.outbox) == before_mail, f"{method} {path} as {label} sent email"
    assert response.status_code < 500, f"{method} {path} as {label}: {response.status_code}"
    return response.status_code


# --- The tests ----------------------------------------------------------------------------


@pytest.fixture
def world(client_factory, django_capture_on_commit_callbacks) -> World:
    """The rows of ``make_world``, made with a client of their own (the lock's sign-ins)."""
    return make_world(client_factory(), django_capture_on_commit_callbacks)


def test_every_url_pattern_is_covered(world, capsys, request):
    """Every pattern of the project has at least one URL to request, each resolving back to
    that same pattern. The run prints how many patterns the walk covers, and with ``-v`` each
    pattern with its URLs. A new pattern with converters the walk cannot fill fails here,
    naming it."""
    covered = covered_urls(world)
    routes = project_routes()
    assert set(covered) == {route.route for route in routes}
    for route, paths in covered.items():
        assert paths, route
        for path in paths:
            assert resolve(path.partition("?")[0]).route == route, (path, route)
    # The ones this issue is about, and one of each family, are in the walk.
    for route in (
        "forum/notifications/<int:topic_id>/open/",
        "notifications/<str:group_key>/open/",
        "accounts/confirm/<str:token>/",
        "accounts/unlock/<str:token>/",
        "admin/forum/topic/<path:object_id>/change/",
        "^media/(?P<path>.*)$",
    ):
        assert route in covered
    with capsys.disabled():
        print(f"\nGET/HEAD walk: {len(covered)} URL patterns, {sum(map(len, covered.values()))} URLs")
        if request.config.get_verbosity() > 0:
            for route, paths in covered.items():
                print(f"  {route or '(root)'}  ->  {', '.join(paths)}")


@pytest.mark.parametrize("role", ["signed-out", "gardener", "moderator", "superuser"])
def test_get_and_head_change_nothing_on_any_url(role, world, client, subtests):
    """GET, HEAD and htmx GET of every URL (and its ``QUERY_VARIANTS``), as each kind of visitor,
    write nothing but the session (and ``last_login``), leave Redis and the outbox as they were,
    and never answer 5xx. Each pattern is a subtest, so a failure names the route, the URL and
    the visitor."""
    user = {"signed-out": None, "gardener": world.rosa, "moderator": world.moderator, "superuser": world.superuser}[
        role
    ]
    if user is not None:
        client.force_login(user)
    client.get("/healthz")
    unread_before = Notification.objects.filter(recipient=world.rosa, read_at__isnull=True).count()
    statuses = {}
    for route, paths in covered_urls(world).items():
        for path in paths:
            with subtests.test(msg=f"{role} {route} {path}"):
                statuses[path] = tuple(
                    assert_request_changes_nothing(client, method, headers, path, role) for method, headers in REQUESTS
                )
    # The walk really reached pages, not only redirects and refusals.
    assert sum(1 for get, *_others in statuses.values() if get == 200) >= 5, statuses
    assert statuses[f"/forum/notifications/{world.topic.pk}/open/"][0] == 405
    assert statuses[f"/notifications/forum.topic:{world.topic.pk}/open/"][0] == 405
    # Nothing the walk requested changed the rows a stray GET could touch (notifications, email).
    assert Notification.objects.filter(recipient=world.rosa, read_at__isnull=True).count() == unread_before > 0
    assert User.objects.get(username="unconfirmed").email_confirmed_at is None
    assert User.objects.get(username="rosa").email == "rosa@example.com"  # the email-change link's GET
    assert UserSession.objects.filter(pk=world.session_record_pk).exists()


@pytest.mark.parametrize("address", ["/forum/notifications/{topic}/open/", "/notifications/forum.topic:{topic}/open/"])
def test_an_image_in_a_post_pointing_at_open_changes_nothing(world, client, address):
    """Issue 9's instance: a post whose Markdown is ``![.](/forum/notifications/<id>/open/)``
    (the old address) or ``![.](/notifications/forum.topic:<id>/open/)`` renders an ``<img>``
    with that ``src``; the request a browser makes for it (GET, image ``Accept``,
    ``Sec-Fetch-Dest: image``, the reader's session) is refused with 405, writes nothing and
    leaves the reader's notifications unread."""
    open_url = address.format(topic=world.topic.pk)
    reply_create(
        topic=Topic.objects.get(pk=world.topic.pk),
        poster=User.objects.get(username="ben"),
        source=f"![.]({open_url})",
        publish=True,
    )
    unread_before = Notification.objects.filter(recipient=world.rosa, read_at__isnull=True).count()
    assert unread_before > 0
    client.force_login(world.rosa)
    page = client.get(f"/forum/t/{world.topic.pk}/").content.decode()
    [src] = [src for src in re.findall(r'<img[^>]*\ssrc="([^"]+)"', page) if "/notifications/" in src]
    assert src == open_url
    before_redis = redis_state()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(
            src,
            headers={
                "accept": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8",
                "sec-fetch-dest": "image",
                "sec-fetch-mode": "no-cors",
                "referer": f"http://testserver/forum/t/{world.topic.pk}/",
            },
        )
    assert response.status_code == 405
    assert state_changing_statements(captured.captured_queries) == []
    assert redis_state() == before_redis
    assert Notification.objects.filter(recipient=world.rosa, read_at__isnull=True).count() == unread_before


@pytest.mark.parametrize(
    "sql, allowed",
    [
        ('UPDATE "django_session" SET "session_data" = %s WHERE "session_key" = %s', True),
        ('INSERT INTO "django_session" ("session_key") VALUES (%s)', True),
        ('DELETE FROM "django_session" WHERE "session_key" = %s', True),
        ('UPDATE "accounts_user" SET "last_login" = %s WHERE "accounts_user"."id" = %s', True),
        ('SELECT "notifications_notification"."id" FROM "notifications_notification" FOR UPDATE', True),
        ('UPDATE "notifications_notification" SET "read_at" = %s WHERE "recipient_id" = %s', False),
        ('UPDATE "accounts_user" SET "last_login" = %s, "email_confirmed_at" = %s WHERE "id" = %s', False),
        ('INSERT INTO "forum_post" ("topic_id") VALUES (%s) RETURNING "id"', False),
        ('DELETE FROM "plants_savedcareinstructions" WHERE "id" = %s', False),
        ('WITH moved AS (SELECT 1) UPDATE "forum_topic" SET "forum_id" = %s', False),
    ],
)
def test_the_write_detector_tells_session_bookkeeping_from_state_changes(sql, allowed):
    """The detector itself: session and ``last_login`` writes pass, any other write is caught."""
    assert (state_changing_statements([{"sql": sql}]) == []) is allowed
