"""The token module's rules at their edges, on real Redis: what a mutation run of
``apps/accounts/tokens.py`` (mutmut and the hand-written Lua mutants of
``scripts/mutation_lua.toml``, README "Mutation testing") showed no test noticing."""

import time

import jwt
import pytest
from django.conf import settings

from apps.accounts import tokens
from apps.accounts.tokens import PREFIX, TokenInvalid, TokenReused
from apps.core.redis import get_strict_redis
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/me/"


def _forge(claims: dict) -> str:
    return jwt.encode(claims, settings.JWT_SECRET_KEY, algorithm="HS256")


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _obtain(client, name: str) -> dict:
    response = client.post(
        "/api/auth/token/", {"username": name, "password": DEFAULT_PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


# --- whose token it is -------------------------------------------------------------------------


def test_each_users_token_authenticates_that_user_and_no_other(client, gardener):
    """With two accounts, each one's access token is theirs: ``sub`` is the user's id and the
    API answers as that user."""
    other = UserFactory(username="basil")
    rosa_pair, basil_pair = _obtain(client, "rosa"), _obtain(client, "basil")
    assert tokens.decode(rosa_pair["access"], expected_type="access")["sub"] == str(gardener.pk)
    assert tokens.decode(basil_pair["refresh"], expected_type="refresh")["sub"] == str(other.pk)
    for pair, name in ((rosa_pair, "rosa"), (basil_pair, "basil")):
        assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {pair['access']}").json()["username"] == name
    rotated = tokens.refresh_rotate(claims=tokens.decode(basil_pair["refresh"], expected_type="refresh"))
    assert tokens.decode(rotated.access, expected_type="access")["sub"] == str(other.pk)


def test_a_pair_carries_its_family_issuer_and_start():
    """Both tokens of a pair name the same family, issuer and family start; each has its own id."""
    pair = tokens.family_start(user_id=31)
    access, refresh = _claims(pair.access), _claims(pair.refresh)
    assert access["fam"] == refresh["fam"] == pair.family_id and len(pair.family_id) == 32
    assert access["iss"] == refresh["iss"] == settings.JWT_ISSUER
    assert access["fiat"] == refresh["fiat"] and abs(access["fiat"] - time.time()) < 5
    assert (access["type"], refresh["type"]) == ("access", "refresh")
    assert access["jti"] != refresh["jti"] and len(access["jti"]) == len(refresh["jti"]) == 32
    assert (
        "fexp" not in access and refresh["fexp"] == int(refresh["fiat"]) + settings.JWT_REFRESH_FAMILY_MAX_AGE_SECONDS
    )
    assert jwt.get_unverified_header(pair.access)["alg"] == "HS256"


# --- what decode requires ----------------------------------------------------------------------


@pytest.mark.parametrize("claim", tokens.REQUIRED_CLAIMS)
def test_every_required_claim_is_required(claim):
    """A correctly signed token missing any one of ``exp``, ``iat``, ``sub``, ``jti``, ``type``,
    ``fam``, ``fiat``, ``iss`` is refused."""
    claims = _claims(tokens.family_start(user_id=31).access)
    assert tokens.decode(_forge(claims), expected_type="access")["sub"] == "31"
    del claims[claim]
    with pytest.raises(TokenInvalid, match=f'Token is missing the "{claim}" claim'):
        tokens.decode(_forge(claims), expected_type="access")


def test_issuer_type_subject_and_family_fields_are_checked():
    pair = tokens.family_start(user_id=31)
    access, refresh = _claims(pair.access), _claims(pair.refresh)
    refused = [
        ({**access, "iss": "someone-else"}, "access", "Invalid issuer"),
        ({**access, "exp": int(time.time()) - 1}, "access", "Signature has expired"),
        (access, "refresh", "expected a refresh token"),
        (refresh, "access", "expected a access token"),
        ({**refresh, "fexp": str(refresh["fexp"])}, "refresh", "refresh token without family expiry"),
        (
            {key: value for key, value in refresh.items() if key != "fexp"},
            "refresh",
            "refresh token without family expiry",
        ),
        ({**access, "sub": "rosa"}, "access", "bad subject or family start"),
        ({**access, "sub": "-3"}, "access", "bad subject or family start"),
        ({**access, "fiat": "yesterday"}, "access", "bad subject or family start"),
    ]
    for claims, expected_type, reason in refused:
        with pytest.raises(TokenInvalid) as refused_error:
            tokens.decode(_forge(claims), expected_type=expected_type)
        assert str(refused_error.value) == reason, claims
    assert tokens.decode(_forge({**access, "fiat": 12}), expected_type="access")["fiat"] == 12
    assert tokens.decode(pair.refresh, expected_type="refresh")["fexp"] == refresh["fexp"]


def test_a_token_of_4096_characters_is_read_and_longer_ones_are_not():
    """The size cap is 4096 characters inclusive; empty and non-text tokens are refused."""
    claims = _claims(tokens.family_start(user_id=31).access)
    by_length = {}
    for size in range(2000, 3200):
        token = _forge({**claims, "pad": "x" * size})
        by_length.setdefault(len(token), token)
    assert tokens.decode(by_length[4096], expected_type="access")["sub"] == "31"
    with pytest.raises(TokenInvalid, match="^missing or oversized token$"):
        tokens.decode(by_length[4097], expected_type="access")
    for bad in ("", None, 42):
        with pytest.raises(TokenInvalid, match="^missing or oversized token$"):
            tokens.decode(bad, expected_type="access")


# --- lifetimes ---------------------------------------------------------------------------------


def test_refresh_answers_the_access_lifetime_and_renews_both_cookies(client_factory, gardener):
    """A cookie refresh answers ``expires_in`` (15 min) and sets the access cookie for 15 min
    and the refresh cookie for 7 days on its path; a body refresh sets no cookie."""
    browser = client_factory(enforce_csrf_checks=True)
    browser.get("/accounts/login/")
    csrf = browser.cookies["csrftoken"].value
    browser.post("/accounts/login/", {"username": "rosa", "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": csrf})
    response = browser.post(
        "/api/auth/token/refresh/",
        b"{}",
        content_type="application/json",
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,  # rotated by the sign-in
    )
    assert response.status_code == 200
    assert response.json()["expires_in"] == settings.JWT_ACCESS_TOKEN_LIFETIME_SECONDS == 900
    access, refresh = response.cookies["access_token"], response.cookies["refresh_token"]
    assert int(access["max-age"]) == 900 and access["path"] == "/"
    assert int(refresh["max-age"]) == settings.JWT_REFRESH_TOKEN_LIFETIME_SECONDS == 7 * 24 * 3600
    assert refresh["path"] == "/api/auth/" and refresh["httponly"]
    assert _claims(refresh.value)["exp"] - _claims(refresh.value)["iat"] == 7 * 24 * 3600
    by_body = client_factory().post(
        "/api/auth/token/refresh/", {"refresh": refresh.value}, content_type="application/json"
    )
    assert by_body.status_code == 200 and by_body.json()["expires_in"] == 900
    assert "access_token" not in by_body.cookies and "refresh_token" not in by_body.cookies


def test_a_repeated_refresh_answers_the_same_lifetimes():
    """Within the reuse interval the stored pair comes back whole, lifetimes included."""
    pair = tokens.family_start(user_id=31)
    claims = tokens.decode(pair.refresh, expected_type="refresh")
    first = tokens.refresh_rotate(claims=claims)
    again = tokens.refresh_rotate(claims=claims)
    assert first == again
    assert (first.expires_in, first.refresh_expires_in) == (900, 7 * 24 * 3600)
    assert first.family_id == pair.family_id


def test_token_lifetimes_never_pass_the_family_expiry(settings):
    """Near the end of a family (here it lives 10 minutes) both tokens end with it."""
    settings.JWT_REFRESH_FAMILY_MAX_AGE_SECONDS = 600
    pair = tokens.family_start(user_id=31)
    access, refresh = _claims(pair.access), _claims(pair.refresh)
    assert access["exp"] == refresh["exp"] == refresh["fexp"]
    assert 598 <= pair.expires_in <= 600 and 598 <= pair.refresh_expires_in <= 600
    rotated = tokens.refresh_rotate(claims=tokens.decode(pair.refresh, expected_type="refresh"))
    assert rotated.expires_in <= 600 and rotated.refresh_expires_in <= 600
    assert _claims(rotated.refresh)["fexp"] == refresh["fexp"]


def test_the_family_is_listed_under_its_user_for_as_long_as_it_can_live():
    """Each family is listed under its user with its start in Unix seconds to the millisecond
    (the same number as the tokens' ``fiat``), the list kept an hour longer than a family lives."""
    pairs = []
    for _ in range(5):
        pairs.append(tokens.family_start(user_id=31))
        time.sleep(0.003)
    client = get_strict_redis()
    key = f"{PREFIX}:user:31"
    assert sorted(client.zrange(key, 0, -1)) == sorted(pair.family_id.encode() for pair in pairs)
    starts = [_claims(pair.access)["fiat"] for pair in pairs]
    assert [client.zscore(key, pair.family_id) for pair in pairs] == starts
    assert [round(start, 3) for start in starts] == starts and len(set(starts)) == 5
    assert any(round(start, 2) != start for start in starts)
    assert client.ttl(key) == settings.JWT_REFRESH_FAMILY_MAX_AGE_SECONDS + 3600


def test_a_fresh_process_registers_each_script_from_its_source(monkeypatch):
    """The script registry is per process: with it empty (a new worker), rotation and
    revocation register their scripts from their own source and work."""
    from apps.core import scripts

    monkeypatch.setattr(scripts, "_registered", {})
    pair = tokens.family_start(user_id=31)
    successor = tokens.refresh_rotate(claims=tokens.decode(pair.refresh, expected_type="refresh"))
    assert tokens.user_families_revoke(user_id=31) == 1
    with pytest.raises(TokenInvalid):
        tokens.access_token_verify(successor.access)


# --- revocation in Redis -----------------------------------------------------------------------


def test_a_family_revoked_in_redis_alone_is_refused_before_any_sql(client, gardener, django_assert_num_queries):
    """The fast path: with no database record of the revocation, the Redis mark alone refuses
    the access token (no SQL at all) and the refresh token, and only that family's."""
    pair, other = _obtain(client, "rosa"), _obtain(client, "rosa")
    family = _claims(pair["access"])["fam"]
    tokens.family_revoke_in_redis(family_id=family)
    assert tokens.family_is_revoked(family_id=family)
    assert not tokens.family_is_revoked(family_id=_claims(other["access"])["fam"])
    with django_assert_num_queries(0):
        response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert response.status_code == 401 and response.json()["code"] == "TOKEN_INVALID"
    with pytest.raises(TokenInvalid, match="^token family revoked$"):
        tokens.access_token_verify(pair["access"])
    with pytest.raises(TokenInvalid, match="^token family revoked$") as refused:
        tokens.refresh_rotate(claims=tokens.decode(pair["refresh"], expected_type="refresh"))
    assert not isinstance(refused.value, TokenReused)
    assert tokens.access_token_verify(other["access"])["fam"] == _claims(other["access"])["fam"]
    tokens.family_revoke_in_redis(family_id="f" * 32)
    assert get_strict_redis().ttl(f"{PREFIX}:revoked:{'f' * 32}") == settings.JWT_REFRESH_FAMILY_MAX_AGE_SECONDS + 3600


def test_rotation_marks_expire_with_the_token_and_the_family():
    """The used-mark lives until the used token's expiry plus the reuse interval; a reuse's
    revocation mark until the family's end plus a minute."""
    pair = tokens.family_start(user_id=31)
    claims = tokens.decode(pair.refresh, expected_type="refresh")
    successor = tokens.refresh_rotate(claims=claims)
    tokens.refresh_rotate(claims=tokens.decode(successor.refresh, expected_type="refresh"))
    client = get_strict_redis()
    used_ttl = client.pttl(f"{PREFIX}:used:{claims['jti']}")
    expected = (claims["exp"] - int(time.time()) + settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS) * 1000
    assert expected - 3000 <= used_ttl <= expected
    with pytest.raises(TokenReused, match="^refresh token reused; family revoked$"):
        tokens.refresh_rotate(claims=claims)
    revoked_ttl = client.pttl(f"{PREFIX}:revoked:{pair.family_id}")
    expected = (claims["fexp"] - int(time.time())) * 1000 + 60_000
    assert expected - 3000 <= revoked_ttl <= expected
    with pytest.raises(TokenInvalid):
        tokens.access_token_verify(successor.access)


def test_revoking_all_families_spares_those_started_after_the_cutoff():
    """Password change: every family that started before the cutoff is revoked (for as long
    as a family can live, plus an hour) and leaves the user's list; a family started after it
    keeps working; revoking again finds nothing more."""
    old_pairs = [tokens.family_start(user_id=31) for _ in range(2)]
    other_user = tokens.family_start(user_id=32)
    time.sleep(0.02)
    cutoff = time.time()
    time.sleep(0.02)
    fresh = tokens.family_start(user_id=31)
    assert tokens.user_families_revoke(user_id=31, started_before=cutoff) == 2
    client = get_strict_redis()
    for pair in old_pairs:
        with pytest.raises(TokenInvalid):
            tokens.access_token_verify(pair.access)
        assert client.ttl(f"{PREFIX}:revoked:{pair.family_id}") == settings.JWT_REFRESH_FAMILY_MAX_AGE_SECONDS + 3600
    assert tokens.access_token_verify(fresh.access)["fam"] == fresh.family_id
    assert tokens.access_token_verify(other_user.access)["sub"] == "32"
    assert client.zrange(f"{PREFIX}:user:31", 0, -1) == [fresh.family_id.encode()]
    assert tokens.user_families_revoke(user_id=31, started_before=cutoff) == 0
    assert tokens.user_families_revoke(user_id=31) == 1
    with pytest.raises(TokenInvalid):
        tokens.access_token_verify(fresh.access)


def test_a_token_at_the_end_of_its_life_keeps_its_marks_for_the_minimum(settings):
    """Rotating a refresh token whose expiry and family expiry are now: its used-mark lives
    one second plus the reuse interval, a reuse's revocation mark one second plus a minute."""
    settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS = 1000
    pair = tokens.family_start(user_id=31)
    now = int(time.time())
    claims = {**tokens.decode(pair.refresh, expected_type="refresh"), "exp": now, "fexp": now}
    tokens.refresh_rotate(claims=claims)
    client = get_strict_redis()
    used_ttl = client.pttl(f"{PREFIX}:used:{claims['jti']}")
    assert 1_000_000 < used_ttl <= 1_001_000
    used_key = f"{PREFIX}:used:{claims['jti']}"
    seconds, micros = client.time()
    # The first use was the reuse interval and half a second ago (by Redis's clock).
    client.hset(used_key, "at", seconds * 1000 + micros // 1000 - 1_000_500)
    with pytest.raises(TokenReused):
        tokens.refresh_rotate(claims=claims)
    revoked_ttl = client.pttl(f"{PREFIX}:revoked:{pair.family_id}")
    assert 59_000 < revoked_ttl <= 61_000


def test_a_repeat_within_the_reuse_interval_by_redis_clock_gets_the_stored_pair(settings):
    """The reuse interval is measured by Redis's clock from the first use: half a second
    before its end the stored pair comes back; half a second after it the family is revoked."""
    settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS = 1000
    pair = tokens.family_start(user_id=31)
    claims = tokens.decode(pair.refresh, expected_type="refresh")
    first = tokens.refresh_rotate(claims=claims)
    client = get_strict_redis()
    used_key = f"{PREFIX}:used:{claims['jti']}"
    seconds, micros = client.time()
    client.hset(used_key, "at", seconds * 1000 + micros // 1000 - 999_500)
    assert tokens.refresh_rotate(claims=claims) == first
    seconds, micros = client.time()
    client.hset(used_key, "at", seconds * 1000 + micros // 1000 - 1_000_500)
    with pytest.raises(TokenReused):
        tokens.refresh_rotate(claims=claims)
    with pytest.raises(TokenInvalid, match="^token family revoked$"):
        tokens.refresh_rotate(claims=tokens.decode(first.refresh, expected_type="refresh"))
