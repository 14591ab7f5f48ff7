"""The "Active sessions" settings page (issue 11): every signed-in browser and API refresh
token family with device, coarse network, sign-in time and last seen; revoking one; "sign out
everywhere else"; no SQL added to any page or to the token refresh."""

import time
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from apps.accounts import tokens
from apps.accounts.models import RevokedTokenFamily, UserSession
from apps.accounts.settings_selectors import active_sessions_for_user
from apps.core.middleware import SESSION_RENEWED_AT_KEY
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SESSIONS = "/accounts/settings/sessions/"
NEW_PASSWORD = "fresh-pass-phrase-77"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)


def _browser(client_factory, *, agent=FIREFOX_LINUX, ip="198.51.100.23", username="rosa"):
    browser = client_factory(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    response = browser.post("/accounts/login/", {"username": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.content
    return browser


def _app_tokens(client_factory, *, agent="okhttp/4.12.0", ip="2001:db8:abcd:12:1:2:3:4", username="rosa"):
    client = client_factory(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    response = client.post(
        "/api/auth/token/", {"username": username, "password": DEFAULT_PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200
    return client, response.json()


def _me(client, access):
    return client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {access}")


def _refresh(client, refresh):
    return client.post("/api/auth/token/refresh/", {"refresh": refresh}, content_type="application/json")


def test_the_page_lists_browsers_and_apps_with_device_and_coarse_network(gardener, client_factory):
    """Two browsers and one app: devices from their user agents, networks cut to /24 and /48,
    this browser marked and without a sign-out button; no full address anywhere, in the page
    or in the database."""
    laptop = _browser(client_factory)
    _browser(client_factory, agent=SAFARI_IPHONE, ip="203.0.113.77")
    _app_tokens(client_factory)
    page = laptop.get(SESSIONS)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Firefox 128 on Ubuntu" in body and "This browser" in body
    assert "Mobile Safari 17 on iOS" in body and "203.0.113.0/24" in body
    assert "okhttp 4 on" not in body and "okhttp 4" in body and "2001:db8:abcd::/48" in body
    assert "198.51.100.0/24" in body
    for address in ("198.51.100.23", "203.0.113.77", "2001:db8:abcd:12"):
        assert address not in body
    stored = list(UserSession.objects.values_list("ip_network", flat=True))
    assert sorted(stored) == ["198.51.100.0/24", "2001:db8:abcd::/48", "203.0.113.0/24"]
    assert body.count('aria-label="Sign out ') == 2  # the phone and the app, not this browser
    assert 'href="/accounts/settings/sessions/" aria-current="page"' in body


def test_revoking_a_browser_signs_it_out_at_once_and_revokes_its_tokens(gardener, client_factory):
    """The other browser's next request is signed out (302 to sign-in) and its access token
    cookie is refused by the API; the revoking browser stays signed in."""
    laptop = _browser(client_factory)
    phone = _browser(client_factory, agent=SAFARI_IPHONE, ip="203.0.113.77")
    phone_access = phone.cookies["access_token"].value
    assert phone.get("/dashboard/").status_code == 200
    record = UserSession.objects.get(device__startswith="Mobile Safari")
    response = laptop.post(reverse("accounts:settings-session-revoke", args=[record.pk]))
    assert response.status_code == 303 and response["Location"] == SESSIONS
    assert "Signed out: Mobile Safari 17 on iOS." in laptop.get(SESSIONS).content.decode()
    signed_out = phone.get("/dashboard/")
    assert signed_out.status_code == 302 and signed_out["Location"].startswith("/accounts/login/")
    assert _me(client_factory(), phone_access).status_code == 401
    assert RevokedTokenFamily.objects.filter(family_id=record.family_id).exists()
    assert not UserSession.objects.filter(pk=record.pk).exists()
    assert laptop.get("/dashboard/").status_code == 200


def test_revoking_an_app_makes_its_refresh_and_access_tokens_fail(gardener, client_factory):
    """Revoking a token family from the page: refresh 401, access 401, the row gone."""
    laptop = _browser(client_factory)
    app, pair = _app_tokens(client_factory)
    record = UserSession.objects.get(kind="api")
    assert laptop.post(reverse("accounts:settings-session-revoke", args=[record.pk])).status_code == 303
    assert _me(app, pair["access"]).status_code == 401
    assert _refresh(app, pair["refresh"]).status_code == 401
    assert UserSession.objects.filter(kind="api").count() == 0


def test_other_gardeners_sessions_and_this_browser_cannot_be_revoked(gardener, client_factory):
    """Another gardener's record: 404 (ids reveal nothing) and it keeps working; this
    browser's own record: 400 (sign out instead); unknown id: 404. GET: 405."""
    UserFactory(username="ben")
    laptop = _browser(client_factory)
    ben = _browser(client_factory, username="ben")
    ben_record = UserSession.objects.get(user__username="ben")
    own = UserSession.objects.get(user=gardener)
    assert laptop.post(reverse("accounts:settings-session-revoke", args=[ben_record.pk])).status_code == 404
    assert laptop.post(reverse("accounts:settings-session-revoke", args=[own.pk])).status_code == 400
    assert laptop.post(reverse("accounts:settings-session-revoke", args=[999_999])).status_code == 404
    assert laptop.get(reverse("accounts:settings-session-revoke", args=[own.pk])).status_code == 405
    assert ben.get("/dashboard/").status_code == 200 and laptop.get("/dashboard/").status_code == 200


def test_sign_out_everywhere_else(gardener, client_factory, django_capture_on_commit_callbacks):
    """Every other browser is signed out, every token family refused (recorded or not), and
    this browser stays signed in with a fresh, working token family."""
    laptop = _browser(client_factory)
    phone = _browser(client_factory, agent=SAFARI_IPHONE, ip="203.0.113.77")
    app, pair = _app_tokens(client_factory)
    UserSession.objects.filter(kind="api").delete()  # a family from before records were kept
    old_laptop_access = laptop.cookies["access_token"].value
    with django_capture_on_commit_callbacks(execute=True):
        response = laptop.post(reverse("accounts:settings-sessions-revoke-others"))
    assert response.status_code == 303
    assert "Signed out everywhere else: 1 other browser, and every app." in laptop.get(SESSIONS).content.decode()
    assert phone.get("/dashboard/").status_code == 302
    assert _me(app, pair["access"]).status_code == 401
    assert _refresh(app, pair["refresh"]).status_code == 401
    assert _me(app, old_laptop_access).status_code == 401
    assert laptop.get("/dashboard/").status_code == 200
    new_access = laptop.cookies["access_token"].value
    assert new_access != old_laptop_access and _me(app, new_access).status_code == 200
    [record] = UserSession.objects.filter(user=gardener)
    assert record.session_id == laptop.session.session_key
    assert record.family_id == tokens.decode(new_access, expected_type="access")["fam"]


def test_sign_out_and_password_change_keep_the_records_true(gardener, client_factory):
    """Sign-out deletes the browser's record with its session (database cascade); a password
    change moves this browser's record to its rotated session key with its new token family,
    and the other browsers, signed out by Django's session hash, leave the list."""
    laptop = _browser(client_factory)
    phone = _browser(client_factory, agent=SAFARI_IPHONE, ip="203.0.113.77")
    tablet = _browser(client_factory, ip="192.0.2.5")
    tablet.post("/accounts/logout/")
    assert UserSession.objects.count() == 2
    old_key = laptop.session.session_key
    laptop.post(
        "/accounts/password_change/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "fresh-pass-phrase-77",
            "new_password2": "fresh-pass-phrase-77",
        },
    )
    assert laptop.session.session_key != old_key
    gardener.refresh_from_db()
    rows = active_sessions_for_user(user=gardener, current_session_key=laptop.session.session_key)
    assert [(row.device, row.is_current) for row in rows["browsers"]] == [("Firefox 128 on Ubuntu", True)]
    record = UserSession.objects.get(session_id=laptop.session.session_key)
    assert record.family_id == laptop.session["_jwt_family"]
    assert phone.get("/dashboard/").status_code == 302


def test_last_seen_follows_the_session_renewal_and_the_token_refresh(gardener, client_factory, settings):
    """A browser's last seen is its session's own renewal time (written at most once a minute
    by the renewal, no write of its own); an app's is its last refresh (Redis), its sign-in
    before any."""
    laptop = _browser(client_factory)
    app, pair = _app_tokens(client_factory)
    two_hours_ago = timezone.now() - timedelta(hours=2)
    UserSession.objects.update(signed_in_at=two_hours_ago)
    session = Session.objects.get(session_key=laptop.session.session_key)
    data = session.get_decoded() | {SESSION_RENEWED_AT_KEY: int(time.time()) - 3600}
    Session.objects.filter(pk=session.pk).update(session_data=laptop.session.encode(data))
    gardener.refresh_from_db()
    rows = active_sessions_for_user(user=gardener, current_session_key=None)
    [browser], [api] = rows["browsers"], rows["apps"]
    assert timedelta(minutes=59) < timezone.now() - browser.last_seen < timedelta(minutes=61)
    assert api.last_seen == api.signed_in_at == two_hours_ago

    settings.SESSION_RENEWAL_INTERVAL_SECONDS = 0
    before = timezone.now() - timedelta(seconds=1)
    laptop.get("/dashboard/")  # due for renewal: the session is saved with a new renewal time
    assert _refresh(app, pair["refresh"]).status_code == 200
    rows = active_sessions_for_user(user=gardener, current_session_key=None)
    assert rows["browsers"][0].last_seen >= before
    assert rows["apps"][0].last_seen >= before
    assert rows["apps"][0].signed_in_at == two_hours_ago


def test_revoked_expired_and_superseded_families_are_not_listed(gardener, client_factory, settings):
    """A family revoked through the API, or started before ``tokens_valid_after``, or older than
    the family lifetime, is not an active session; the next API sign-in forgets those rows."""
    app, first = _app_tokens(client_factory)
    app.post("/api/auth/token/revoke/", {"refresh": first["refresh"]}, content_type="application/json")
    _app_tokens(client_factory)
    old = UserSession.objects.filter(kind="api").latest("signed_in_at")
    UserSession.objects.filter(pk=old.pk).update(signed_in_at=timezone.now() - timedelta(days=31))
    gardener.refresh_from_db()
    assert active_sessions_for_user(user=gardener, current_session_key=None)["apps"] == []
    _app_tokens(client_factory)
    assert UserSession.objects.filter(kind="api").count() == 1


def test_sessions_page_works_while_redis_is_down(gardener, client_factory, own_redis):
    """Signed-in pages keep working without Redis (SPEC); an app's last seen shows as not known."""
    laptop = _browser(client_factory)
    _app_tokens(client_factory)
    own_redis.kill()
    page = laptop.get(SESSIONS)
    assert page.status_code == 200
    assert "not known right now" in page.content.decode()


def _populate_sessions(user, *, count: int) -> None:
    """``count`` other signed-in browsers (real session rows, through the session engine) and
    ``count`` API token families for ``user``."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY

    from apps.accounts.session_store import SessionStore

    sessions, records = [], []
    for index in range(count):
        store = SessionStore()
        data = {SESSION_KEY: str(user.pk), HASH_SESSION_KEY: user.get_session_auth_hash(), "_auth_at": int(time.time())}
        key = store._get_new_session_key()
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=store.get_expiry_date()))
        records.append(UserSession(user=user, kind="browser", session_id=key, device=f"Browser {index}"))
        records.append(UserSession(user=user, kind="api", family_id=f"fam{index:05d}", device=f"App {index}"))
    Session.objects.bulk_create(sessions)
    UserSession.objects.bulk_create(records)


@pytest.mark.parametrize("count", [1, 500], ids=["1-session", "500-sessions"])
def test_settings_pages_query_budgets(count, gardener, gardener_client, django_assert_num_queries):
    """Exact statements per settings page at 1 and 500 other sessions and apps (SPEC "Query
    budgets": a warm session): the profile, email and password pages 1 (the user lookup), the
    sessions page 2 (the user, then every record with its session row in one statement),
    and the rows really show."""
    _populate_sessions(gardener, count=count)
    gardener_client.get("/dashboard/")
    for path, budget in (
        ("/accounts/settings/", 1),
        ("/accounts/settings/email/", 1),
        ("/accounts/password_change/", 1),
        (SESSIONS, 2),
    ):
        with django_assert_num_queries(budget):
            response = gardener_client.get(path)
        assert response.status_code == 200, path
    body = response.content.decode()
    assert f"Browser {count - 1}" in body and f"App {count - 1}" in body
    assert body.count('aria-label="Sign out ') == 2 * count


def test_refresh_keeps_its_one_statement_with_a_signed_in_browser_session(
    gardener, client_factory, django_assert_num_queries
):
    """A browser refreshing by cookie also sends its session cookie: the time zone middleware
    leaves ``/api/`` alone and the last-seen mark is Redis, so the refresh stays at one SQL
    statement (SPEC "Query budgets")."""
    browser = _browser(client_factory)
    browser.get("/dashboard/")
    assert SESSION_KEY in browser.session
    csrf = browser.cookies["csrftoken"].value if "csrftoken" in browser.cookies else None
    headers = {"X-CSRFToken": csrf} if csrf else {}
    with django_assert_num_queries(1):
        response = browser.post("/api/auth/token/refresh/", b"{}", content_type="application/json", headers=headers)
    assert response.status_code == 200
