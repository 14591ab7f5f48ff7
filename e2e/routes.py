"""The route registry of the e2e crawl (``e2e/test_crawl.py``).

Every URL pattern of the project that answers GET (the admin, the JSON API under ``api/`` and
served media aside) is listed here with one URL built from a small seeded world and, for each
role (signed out, gardener, newbie, moderator), what that role gets. POST-only patterns are
listed too, marked ``POST_ONLY``, so the crawl can prove a GET really is refused there.

``test_every_get_route_is_registered`` compares this list with ``get_resolver()``: a pattern
missing here, or an entry whose pattern no longer exists, fails it by name. The crawl then
visits every entry as every role in one browser context per role, checks the status, and
runs axe on every page shown (200). A new page registers here instead of writing its own axe
test; see README "Testing".

Kinds:
- ``PAGE``: an HTML document, opened with ``page.goto``; 200 means axe must pass.
- ``FRAGMENT``: an htmx fragment (a dashboard panel, the header badge, the autocomplete
  options), requested with ``HX-Request: true`` from the role's context. Only the status is
  checked: axe on a fragment alone would judge a document that does not exist (no ``lang``,
  title or landmarks). Their markup is checked where pages show them: the dashboard waits for
  its panels and every signed-in page for its badge before axe runs.
- ``DATA``: not HTML (``/healthz``, ``/readyz``); status only.
- ``POST_ONLY``: not a GET route; a GET must be refused (405, or the sign-in redirect when the
  view asks for a session first).

Several entries may share a pattern when one instance is not enough to say who sees what
(a public and a held topic). The world is made through factories, forum services and the
site's own forms (sign-up, password reset and a lockout through HTTP), so the entries do not
import the code that builds tokens.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client

from apps.accounts.data_services import data_export_request
from apps.accounts.models import TrustLevel, UserSession
from apps.forum.models import Post, Report
from apps.forum.services import reply_create, report_create, topic_create, topic_flag_set
from apps.plants.care.schedule import local_today
from apps.plants.care.services import care_tasks_create_defaults
from apps.plants.models import CareCalendarFeed, CareTask, PlantSpecies
from tests import factories

SIGNED_OUT, GARDENER, NEWBIE, UNCONFIRMED, MODERATOR = "signed_out", "gardener", "newbie", "unconfirmed", "moderator"
ROLES = (SIGNED_OUT, GARDENER, NEWBIE, UNCONFIRMED, MODERATOR)
SIGN_IN_PATH = "/accounts/login/"

# Patterns the registry leaves out, by prefix of the route: the admin (Django's own pages), the
# JSON API (no HTML, its own tests) and served media (files, not pages).
SKIPPED_PREFIXES = ("admin/", "api/", "^media/", "media/", "^static/", "static/")


class Kind(Enum):
    PAGE = "page"
    FRAGMENT = "fragment"
    DATA = "data"
    POST_ONLY = "post-only"


PAGE, FRAGMENT, DATA, POST_ONLY = Kind.PAGE, Kind.FRAGMENT, Kind.DATA, Kind.POST_ONLY


# --- The seeded world ---------------------------------------------------------------------


@dataclass
class World:
    """Ids, slugs and tokens of the rows the entries' URLs name."""

    forum_slug: str
    topic_pk: int  # the gardener's public topic
    opening_post_pk: int  # its opening post (the gardener's)
    reply_pk: int  # a public reply in it, by another gardener, reported once
    held_topic_pk: int  # the newbie's topic, waiting in the review queue
    held_reply_pk: int  # the newbie's reply in the public topic, waiting too
    request_pk: int  # the gardener's identification request
    suggestion_pk: int
    species_slug: str
    care_card_pk: int  # the gardener's
    care_task_pk: int  # the gardener's watering task on that card (due today)
    calendar_token: str  # the gardener's care calendar link, made with the page's "Create" form
    confirm_path: str  # from the sign-up email of an unconfirmed account
    unlock_path: str  # from the lock email of a locked account
    reset_path: str  # from the password-reset email of an account nobody signs in with
    email_change_path: str  # from the email-change email of an account nobody else signs in with
    session_record_pk: int  # that account's signed-in browser ("Active sessions")
    export_public_id: str  # the gardener's data export, ready to download
    accounts: dict[str, str] = field(default_factory=dict)  # role -> username (password: DEFAULT_PASSWORD)


# Seeding talks to the site from an address of its own so its sign-up, reset and failed
# sign-ins count against nothing the browser does (documentation range, RFC 5737).
SEED_CLIENT_ADDRESS = "192.0.2.10"


def _link_from_mail(pattern: str, to: str) -> str:
    bodies = [message.body for message in mail.outbox if to in message.to]
    for body in bodies:
        if match := re.search(pattern, body):
            return match.group(0)
    raise AssertionError(f"no email to {to} with a link like {pattern!r}: {bodies}")


def make_world() -> World:
    """A gardener (trust level basic) with a public topic, a reply to it from another gardener
    that mentions her (a notification) and that she reported, an identification request with a
    suggestion and a care card; a newbie (trust level new) whose topic and reply wait for
    review; a moderator who pinned the topic (a moderation log row); and, through the site's
    own forms, an unconfirmed sign-up, a locked account and a password reset, for their links.
    Returns the ``World``; call inside a test with database access (``transactional_db``)."""
    moderators = Group.objects.get(name="moderators")
    gardener = factories.UserFactory(username="gardener", trust_level=TrustLevel.BASIC)
    ben = factories.UserFactory(username="ben", trust_level=TrustLevel.BASIC)
    newbie = factories.UserFactory(username="newbie", trust_level=TrustLevel.NEW)
    # Signed up, never confirmed the address: reads everything, may not post yet (issue 15).
    unconfirmed = factories.UserFactory(username="unconfirmed", trust_level=TrustLevel.NEW, email_confirmed_at=None)
    moderator = factories.UserFactory(username="moderator", trust_level=TrustLevel.VETERAN, is_staff=True)
    moderator.groups.add(moderators)

    forum = factories.ForumFactory(name="Houseplants", slug="houseplants", description="Plants that live indoors.")
    factories.ForumFactory(name="Garden", slug="garden", description="Beds, borders and balconies.")
    topic = topic_create(
        forum=forum,
        poster=gardener,
        subject="Fern fronds browning at the tips",
        source="Repotted last week; now the **tips** are brown. Too much water?",
        publish=True,
    )
    reply = reply_create(topic=topic, poster=ben, source="@gardener try rainwater and a brighter spot.", publish=True)
    held_reply = reply_create(topic=topic, poster=newbie, source="Mine did that too!", publish=False)
    held_topic = topic_create(
        forum=forum, poster=newbie, subject="My first cactus", source="It is very small and very spiky.", publish=False
    )
    report_create(post_id=reply.pk, reporter=gardener, reason=Report.Reason.SPAM, detail="Looks like an advert.")
    topic_flag_set(topic_id=topic.pk, moderator=moderator, action="pin", reason="Useful for newcomers")

    species = PlantSpecies.objects.order_by("scientific_name").first()
    assert species is not None, "the species catalog (loaded by migrations) is missing"
    identification = factories.IdentificationRequestFactory(owner=gardener, notes="Fronds on a long stem.")
    suggestion = factories.SuggestionFactory(request=identification, species=species, probability=0.62)
    card = factories.CareCardFactory(owner=gardener, species=species, nickname="Bathroom fern")
    # Its default tasks, watering due today: the dashboard's care-due panel lists it (with forms).
    care_tasks_create_defaults(card=card, owner=gardener)
    # A second plant of the same name (another species): nothing on a page may be named after a
    # card's name alone (axe landmark-unique), as the demo's two "Sprout" cards showed.
    other_species = PlantSpecies.objects.exclude(pk=species.pk).order_by("scientific_name").first()
    twin = factories.CareCardFactory(owner=gardener, species=other_species, nickname="Bathroom fern")
    care_tasks_create_defaults(card=twin, owner=gardener)
    CareTask.objects.filter(care_card=card, kind="water").update(next_due_on=local_today(gardener.time_zone))

    client = Client(REMOTE_ADDR=SEED_CLIENT_ADDRESS)
    mail.outbox = []
    assert (
        client.post(
            "/accounts/signup/",
            {
                "username": "sprout",
                "email": "sprout@example.com",
                "password1": "window-basil-trellis-42",
                "password2": "window-basil-trellis-42",
            },
        ).status_code
        == 302
    )
    factories.UserFactory(username="locked")
    for attempt in range(10):  # SPEC "Sign-in, tokens and lockout": the 10th failure locks
        client.post(SIGN_IN_PATH, {"username": "locked", "password": f"wrong-{attempt}"})
    factories.UserFactory(username="forgetful")
    assert client.post("/accounts/password_reset/", {"email": "forgetful@example.com"}).status_code == 302
    mover = factories.UserFactory(username="mover")
    assert client.post(SIGN_IN_PATH, {"username": "mover", "password": factories.DEFAULT_PASSWORD}).status_code == 302
    email_change = {"email": "mover.new@example.com", "password": factories.DEFAULT_PASSWORD}
    assert client.post("/accounts/settings/email/", email_change).status_code == 303
    export = data_export_request(user=gardener)  # built at once: the test settings' immediate task backend
    gardener_browser = Client(REMOTE_ADDR=SEED_CLIENT_ADDRESS)
    gardener_browser.force_login(gardener)
    assert gardener_browser.post("/plants/care/calendar/create/").status_code == 303

    return World(
        forum_slug=forum.slug,
        topic_pk=topic.pk,
        opening_post_pk=Post.objects.get(topic=topic, is_opening_post=True).pk,
        reply_pk=reply.pk,
        held_topic_pk=held_topic.pk,
        held_reply_pk=held_reply.pk,
        request_pk=identification.pk,
        suggestion_pk=suggestion.pk,
        species_slug=species.slug,
        care_card_pk=card.pk,
        care_task_pk=CareTask.objects.get(care_card=card, kind="water").pk,
        calendar_token=CareCalendarFeed.objects.get(owner=gardener).token,
        confirm_path=_link_from_mail(r"/accounts/confirm/[^/\s]+/", "sprout@example.com"),
        unlock_path=_link_from_mail(r"/accounts/unlock/[^/\s]+/", "locked@example.com"),
        reset_path=_link_from_mail(r"/accounts/reset/[^/\s]+/[^/\s]+/", "forgetful@example.com"),
        email_change_path=_link_from_mail(r"/accounts/settings/email/confirm/[^/\s]+/", "mover.new@example.com"),
        session_record_pk=UserSession.objects.get(user=mover).pk,
        export_public_id=export.public_id,
        accounts={
            GARDENER: gardener.username,
            NEWBIE: newbie.username,
            UNCONFIRMED: unconfirmed.username,
            MODERATOR: moderator.username,
        },
    )


# --- What a role gets ---------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """An answer: its status and, for a redirect, the path its ``Location`` (or, for htmx,
    ``HX-Redirect``) must name (a string, or a function of the world). A redirect to the
    sign-in page must also carry ``next`` back to the URL asked for."""

    status: int
    location: str | Callable[[World], str] | None = None

    def location_for(self, world: World) -> str | None:
        return self.location(world) if callable(self.location) else self.location


OK = Expect(200)
SIGN_IN = Expect(302, SIGN_IN_PATH)
FORBIDDEN = Expect(403)
NOT_FOUND = Expect(404)
NOT_ALLOWED = Expect(405)
STOP_POLLING = Expect(286)  # htmx's "stop polling" (the badge, signed out)


def redirect(location: str | Callable[[World], str]) -> Expect:
    return Expect(302, location)


def everyone(expect: Expect) -> dict[str, Expect]:
    return {role: expect for role in ROLES}


def signed_in(expect: Expect = OK, **overrides: Expect) -> dict[str, Expect]:
    """Signed out: the sign-in redirect; each signed-in role ``expect`` unless overridden. The
    unconfirmed gardener follows the newbie (neither owns the world's rows) unless overridden."""
    newbie = overrides.get(NEWBIE, expect)
    return {SIGNED_OUT: SIGN_IN, GARDENER: expect, NEWBIE: expect, UNCONFIRMED: newbie, MODERATOR: expect, **overrides}


def moderators_only() -> dict[str, Expect]:
    return signed_in(FORBIDDEN, moderator=OK)


def post_only(*, signed_out: Expect = SIGN_IN) -> dict[str, Expect]:
    """A POST-only view: GET is 405, after the sign-in redirect when it asks for a session first."""
    return signed_in(NOT_ALLOWED, signed_out=signed_out)


@dataclass(frozen=True)
class Route:
    """One registry entry: the pattern as ``ResolverMatch.route`` spells it, one URL of it
    (a function of the world), what each role gets, its kind, and a note when the entry
    needs explaining."""

    route: str
    url: Callable[[World], str]
    expect: Mapping[str, Expect]
    kind: Kind = PAGE
    note: str = ""

    def __post_init__(self):
        assert set(self.expect) == set(ROLES), f"{self.route}: expectations for {sorted(self.expect)}"


def _at(path: str) -> Callable[[World], str]:
    return lambda _world: path


# A post's permalink lands on its topic's page (``?page=`` and ``#post-<id>`` aside).
TO_TOPIC = redirect(lambda w: f"/forum/t/{w.topic_pk}/")
PANELS = [
    "care-due",
    "plant-stats",
    "forum-stats",
    "recent-activity",
    "previous-searches",
    "care-cards",
    "trust-progress",
]

REGISTRY: list[Route] = [
    # --- Root, health ---
    Route(
        "",
        _at("/"),
        signed_in(redirect("/dashboard/"), signed_out=OK),
        note="the public home for a visitor (issue 15); signed in, the dashboard as before",
    ),
    Route("healthz", _at("/healthz"), everyone(OK), DATA),
    Route("readyz", _at("/readyz"), everyone(OK), DATA),
    # --- Accounts ---
    Route(
        "accounts/login/",
        _at(f"{SIGN_IN_PATH}?next=/forum/"),
        signed_in(redirect("/forum/"), signed_out=OK),
    ),
    Route(
        "accounts/login/two-factor/",
        _at("/accounts/login/two-factor/"),
        signed_in(redirect("/dashboard/")),
        note="the second step; without a pending password step it sends you where a sign-in would",
    ),
    Route("accounts/logout/", _at("/accounts/logout/"), everyone(NOT_ALLOWED), POST_ONLY),
    Route("accounts/signup/", _at("/accounts/signup/"), signed_in(redirect("/dashboard/"), signed_out=OK)),
    Route("accounts/signup/done/", _at("/accounts/signup/done/"), everyone(OK)),
    Route(
        "accounts/confirmation/resend/",
        _at("/accounts/confirmation/resend/"),
        post_only(),
        POST_ONLY,
    ),
    Route("accounts/confirm/<str:token>/", lambda w: w.confirm_path, everyone(OK)),
    Route("accounts/unlock/<str:token>/", lambda w: w.unlock_path, everyone(OK)),
    Route("accounts/password_change/", _at("/accounts/password_change/"), signed_in(OK)),
    Route("accounts/settings/two-factor/", _at("/accounts/settings/two-factor/"), signed_in(OK)),
    *[
        Route(
            f"accounts/settings/two-factor/{action}/",
            _at(f"/accounts/settings/two-factor/{action}/"),
            post_only(),
            POST_ONLY,
        )
        for action in ("confirm-password", "setup", "enable", "disable", "recovery-codes")
    ],
    Route("accounts/settings/", _at("/accounts/settings/"), signed_in(OK)),
    Route("accounts/settings/email/", _at("/accounts/settings/email/"), signed_in(OK)),
    Route("accounts/settings/email/confirm/<str:token>/", lambda w: w.email_change_path, everyone(OK)),
    Route("accounts/settings/sessions/", _at("/accounts/settings/sessions/"), signed_in(OK)),
    Route(
        "accounts/settings/sessions/<int:pk>/revoke/",
        lambda w: f"/accounts/settings/sessions/{w.session_record_pk}/revoke/",
        post_only(),
        POST_ONLY,
    ),
    Route(
        "accounts/settings/sessions/revoke-others/",
        _at("/accounts/settings/sessions/revoke-others/"),
        post_only(),
        POST_ONLY,
    ),
    Route("accounts/settings/data/", _at("/accounts/settings/data/"), signed_in(OK)),
    Route("accounts/settings/notifications/", _at("/accounts/settings/notifications/"), signed_in(OK)),
    Route("accounts/settings/data/export/", _at("/accounts/settings/data/export/"), post_only(), POST_ONLY),
    Route(
        "accounts/settings/data/export/<str:public_id>/",
        lambda w: f"/accounts/settings/data/export/{w.export_public_id}/",
        signed_in(NOT_FOUND, gardener=OK),
        DATA,
    ),
    Route("accounts/settings/data/delete/", _at("/accounts/settings/data/delete/"), signed_in(OK)),
    Route("accounts/password_reset/", _at("/accounts/password_reset/"), everyone(OK)),
    Route("accounts/password_reset/done/", _at("/accounts/password_reset/done/"), everyone(OK)),
    Route(
        "accounts/reset/<uidb64>/<token>/",
        lambda w: w.reset_path,
        everyone(redirect(lambda w: w.reset_path.rsplit("/", 2)[0] + "/set-password/")),
        note="Django keeps the token in the session and redirects to .../set-password/",
    ),
    Route(
        "accounts/reset/<uidb64>/<token>/",
        lambda w: w.reset_path.rsplit("/", 2)[0] + "/set-password/",
        everyone(OK),
        note="the new-password form; needs the entry above first, in the same context",
    ),
    Route("accounts/reset/done/", _at("/accounts/reset/done/"), everyone(OK)),
    # --- Dashboard ---
    Route("dashboard/", _at("/dashboard/"), signed_in(OK)),
    *[
        Route("dashboard/panels/<slug:name>/", _at(f"/dashboard/panels/{name}/"), signed_in(OK), FRAGMENT)
        for name in PANELS
    ],
    Route("dashboard/panels/<slug:name>/", _at("/dashboard/panels/moderation-queue/"), moderators_only(), FRAGMENT),
    # --- Plants ---
    Route("plants/identify/", _at("/plants/identify/"), signed_in(OK)),
    Route("plants/requests/", _at("/plants/requests/"), signed_in(OK)),
    Route("plants/requests/help/", _at("/plants/requests/help/"), signed_in(OK)),
    Route(
        "plants/requests/help/",
        _at("/plants/requests/help/?suggestions=unsuggested&family=Araceae&near=on"),
        signed_in(OK),
        note="the filters (issue 12)",
    ),
    Route("plants/requests/<int:pk>/", lambda w: f"/plants/requests/{w.request_pk}/", signed_in(OK)),
    Route(
        "plants/requests/<int:pk>/delete/",
        lambda w: f"/plants/requests/{w.request_pk}/delete/",
        signed_in(FORBIDDEN, gardener=OK),
        note="the owner's confirmation page; anyone else 403",
    ),
    Route(
        "plants/requests/<int:pk>/suggestions/",
        lambda w: f"/plants/requests/{w.request_pk}/suggestions/",
        post_only(),
        POST_ONLY,
    ),
    Route(
        "plants/requests/<int:pk>/suggestions/<int:suggestion_pk>/vote/",
        lambda w: f"/plants/requests/{w.request_pk}/suggestions/{w.suggestion_pk}/vote/",
        post_only(),
        POST_ONLY,
    ),
    Route(
        "plants/requests/<int:pk>/suggestions/<int:suggestion_pk>/accept/",
        lambda w: f"/plants/requests/{w.request_pk}/suggestions/{w.suggestion_pk}/accept/",
        post_only(),
        POST_ONLY,
    ),
    Route(
        "plants/requests/<int:pk>/species-page/",
        lambda w: f"/plants/requests/{w.request_pk}/species-page/",
        post_only(),
        POST_ONLY,
    ),
    Route("plants/species/", _at("/plants/species/?q=fern"), everyone(OK)),
    Route("plants/species/autocomplete/", _at("/plants/species/autocomplete/?name=fer"), signed_in(OK), FRAGMENT),
    Route("plants/species/<slug:slug>/", lambda w: f"/plants/species/{w.species_slug}/", everyone(OK)),
    Route(
        "plants/species/<slug:slug>/care-card/",
        lambda w: f"/plants/species/{w.species_slug}/care-card/",
        post_only(),
        POST_ONLY,
    ),
    Route("plants/care-cards/", _at("/plants/care-cards/"), signed_in(OK)),
    Route("plants/care-cards/<int:pk>/", lambda w: f"/plants/care-cards/{w.care_card_pk}/", post_only(), POST_ONLY),
    *[
        Route(
            f"plants/care/tasks/<int:pk>/{action}/",
            lambda w, action=action: f"/plants/care/tasks/{w.care_task_pk}/{action}/",
            post_only(),
            POST_ONLY,
        )
        for action in ("done", "snooze", "edit")
    ],
    Route("plants/care/calendar/create/", _at("/plants/care/calendar/create/"), post_only(), POST_ONLY),
    Route("plants/care/calendar/reset/", _at("/plants/care/calendar/reset/"), post_only(), POST_ONLY),
    Route(
        "plants/care/calendar/<care_calendar_token:token>.ics",
        lambda w: f"/plants/care/calendar/{w.calendar_token}.ics",
        everyone(OK),
        DATA,
        note="the gardener's calendar feed: the secret link is the only key, no session needed",
    ),
    Route(
        "plants/care/calendar/<care_calendar_token:token>.ics",
        _at("/plants/care/calendar/" + "x" * 43 + ".ics"),
        everyone(NOT_FOUND),
        DATA,
        note="a well-formed token that is nobody's (or was reset)",
    ),
    Route(
        "plants/care-cards/<int:pk>/tasks/",
        lambda w: f"/plants/care-cards/{w.care_card_pk}/tasks/",
        signed_in(NOT_FOUND, gardener=OK),
        FRAGMENT,
        note="one card's task region (htmx refresh); the owner's only",
    ),
    # --- Profiles (issue 12) ---
    Route("u/<str:username>/", _at("/u/gardener/"), everyone(OK)),
    Route("u/<str:username>/", _at("/u/nobody-here/"), everyone(NOT_FOUND), note="an unknown gardener"),
    # --- Forum ---
    Route("forum/", _at("/forum/"), everyone(OK)),
    Route("forum/f/<slug:slug>/", lambda w: f"/forum/f/{w.forum_slug}/", everyone(OK)),
    Route("forum/t/<int:pk>/", lambda w: f"/forum/t/{w.topic_pk}/", everyone(OK)),
    Route(
        "forum/t/<int:pk>/",
        lambda w: f"/forum/t/{w.held_topic_pk}/",
        {SIGNED_OUT: NOT_FOUND, GARDENER: NOT_FOUND, NEWBIE: OK, UNCONFIRMED: NOT_FOUND, MODERATOR: OK},
        note="a held topic: its author and moderators only (SPEC 'Visibility')",
    ),
    Route("forum/p/<int:pk>/", lambda w: f"/forum/p/{w.reply_pk}/", everyone(TO_TOPIC)),
    Route(
        "forum/p/<int:pk>/",
        lambda w: f"/forum/p/{w.held_reply_pk}/",
        {SIGNED_OUT: NOT_FOUND, GARDENER: NOT_FOUND, NEWBIE: TO_TOPIC, UNCONFIRMED: NOT_FOUND, MODERATOR: TO_TOPIC},
        note="a held reply's permalink: 404 for those who cannot see it",
    ),
    Route(
        "forum/f/<slug:slug>/new/",
        lambda w: f"/forum/f/{w.forum_slug}/new/",
        signed_in(OK, unconfirmed=FORBIDDEN),
        note="an unconfirmed address: the 403 page explains and offers to resend the email",
    ),
    Route("forum/t/<int:pk>/reply/", lambda w: f"/forum/t/{w.topic_pk}/reply/", post_only(), POST_ONLY),
    Route("forum/t/<int:pk>/moderate/", lambda w: f"/forum/t/{w.topic_pk}/moderate/", post_only(), POST_ONLY),
    Route(
        "forum/t/<int:pk>/move/",
        lambda w: f"/forum/t/{w.topic_pk}/move/",
        moderators_only(),
        note="moderators and veterans; the gardener is basic, the newbie new",
    ),
    Route(
        "forum/p/<int:pk>/edit/",
        lambda w: f"/forum/p/{w.opening_post_pk}/edit/",
        signed_in(OK, newbie=FORBIDDEN),
        note="the gardener's own post; moderators edit any",
    ),
    Route(
        "forum/p/<int:pk>/delete/",
        lambda w: f"/forum/p/{w.opening_post_pk}/delete/",
        signed_in(OK, newbie=FORBIDDEN),
        note="an opening post: GET is the confirmation page",
    ),
    Route("forum/p/<int:pk>/report/", lambda w: f"/forum/p/{w.reply_pk}/report/", post_only(), POST_ONLY),
    Route("forum/search/", _at("/forum/search/?q=fern"), everyone(OK)),
    # The forum's old notification addresses (before issue 12): permanent redirects to
    # /notifications/ (GET 301, the query kept; POST 308); the POST-only ones still refuse GET.
    Route("forum/notifications/", _at("/forum/notifications/"), everyone(Expect(301, "/notifications/"))),
    Route(
        "forum/notifications/badge/",
        _at("/forum/notifications/badge/"),
        everyone(STOP_POLLING),
        FRAGMENT,
        note="an htmx poll cannot follow a redirect here (it becomes HX-Redirect): 286; a plain GET is a 301",
    ),
    Route("forum/notifications/read-all/", _at("/forum/notifications/read-all/"), everyone(NOT_ALLOWED), POST_ONLY),
    Route(
        "forum/notifications/<int:topic_id>/open/",
        lambda w: f"/forum/notifications/{w.topic_pk}/open/",
        everyone(NOT_ALLOWED),
        POST_ONLY,
    ),
    # --- Notifications (issue 12: one list for forum and identification news) ---
    Route("notifications/", _at("/notifications/"), signed_in(OK)),
    Route(
        "notifications/badge/",
        _at("/notifications/badge/"),
        signed_in(OK, signed_out=STOP_POLLING),
        FRAGMENT,
    ),
    Route("notifications/read-all/", _at("/notifications/read-all/"), everyone(NOT_ALLOWED), POST_ONLY),
    Route(
        "notifications/<str:group_key>/open/",
        lambda w: f"/notifications/forum.topic:{w.topic_pk}/open/",
        everyone(NOT_ALLOWED),
        POST_ONLY,
    ),
    # --- Moderation ---
    Route("moderation/", _at("/moderation/"), moderators_only()),
    Route("moderation/log/", _at("/moderation/log/"), moderators_only()),
    Route("moderation/lockouts/", _at("/moderation/lockouts/"), moderators_only()),
    Route("moderation/lockouts/clear/", _at("/moderation/lockouts/clear/"), post_only(), POST_ONLY),
    Route(
        "moderation/posts/<int:pk>/approve/",
        lambda w: f"/moderation/posts/{w.held_reply_pk}/approve/",
        post_only(),
        POST_ONLY,
    ),
    Route(
        "moderation/posts/<int:pk>/reject/",
        lambda w: f"/moderation/posts/{w.held_reply_pk}/reject/",
        post_only(),
        POST_ONLY,
    ),
    Route(
        "moderation/posts/<int:pk>/reports/<slug:decision>/",
        lambda w: f"/moderation/posts/{w.reply_pk}/reports/agree/",
        post_only(),
        POST_ONLY,
    ),
    Route(
        "moderation/posts/<int:pk>/edit/<slug:decision>/",
        lambda w: f"/moderation/posts/{w.reply_pk}/edit/approve/",
        post_only(),
        POST_ONLY,
    ),
]


def is_skipped(route: str) -> bool:
    """True for the patterns the registry leaves out (``SKIPPED_PREFIXES``)."""
    return route.startswith(SKIPPED_PREFIXES)
