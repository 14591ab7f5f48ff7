"""Writes about signed-in browsers and API token families: recording them at sign-in and
revoking them from the "Active sessions" settings page (issue 11).

A browser is a Django session (``cached_db``: the database row and its Redis copy); ending it
deletes both, so the browser's next request is signed out at once. A token family is revoked
through ``signin_services.token_family_revoke`` (the durable ``RevokedTokenFamily`` row, then
Redis), so its refresh and access tokens fail at once. See ``models.UserSession``.
"""

import logging
from datetime import timedelta

import redis
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from . import tokens
from .devices import coarse_network, device_label
from .models import RevokedTokenFamily, User, UserSession
from .signin_services import token_family_revoke

logger = logging.getLogger(__name__)


def _session_store_class():
    return import_string(f"{settings.SESSION_ENGINE}.SessionStore")


def browser_session_record(*, user: User, session_key: str, user_agent: str, ip: str) -> None:
    """Record that ``session_key`` (a just rotated Django session key, its row already stored)
    signed in as ``user`` from a client sending ``user_agent`` from ``ip``. The device and the
    coarse network are kept, not the user agent or the address (``devices``). One statement:
    an upsert, since signing in again in a signed-in browser keeps its session's record
    (``session_store.SessionStore.cycle_key``)."""
    UserSession.objects.bulk_create(
        [
            UserSession(
                user=user,
                kind=UserSession.Kind.BROWSER,
                session_id=session_key,
                device=device_label(user_agent),
                ip_network=coarse_network(ip),
                signed_in_at=timezone.now(),
            )
        ],
        update_conflicts=True,
        unique_fields=["session"],
        update_fields=["user", "device", "ip_network", "signed_in_at", "family_id"],
    )


def api_session_record(*, user: User, family_id: str, user_agent: str, ip: str) -> None:
    """Record the refresh token family ``family_id`` just started for ``user`` by
    ``/api/auth/token/`` (device from ``user_agent``, network from ``ip``), and forget the
    user's API records that can no longer be used (revoked, refused by ``tokens_valid_after``,
    or older than ``JWT_REFRESH_FAMILY_MAX_AGE_SECONDS``). Two statements."""
    now = timezone.now()
    unusable = Q(signed_in_at__lt=now - timedelta(seconds=settings.JWT_REFRESH_FAMILY_MAX_AGE_SECONDS)) | Q(
        family_id__in=RevokedTokenFamily.objects.values("family_id")
    )
    if user.tokens_valid_after is not None:
        unusable |= Q(signed_in_at__lt=user.tokens_valid_after)
    UserSession.objects.filter(unusable, user=user, kind=UserSession.Kind.API).delete()
    UserSession.objects.create(
        user=user,
        kind=UserSession.Kind.API,
        family_id=family_id,
        device=device_label(user_agent),
        ip_network=coarse_network(ip),
        signed_in_at=now,
    )


def _revoke_family(family_id: str) -> None:
    if not family_id:
        return
    try:
        token_family_revoke(family_id=family_id)
    except redis.RedisError:
        # The database record already refuses the family (the tokens' one user query).
        logger.exception("could not revoke token family %s in Redis", family_id)


def session_revoke(*, record: UserSession) -> None:
    """End one signed-in browser or revoke one API token family (``record``, already checked to
    belong to the requesting user: ``permissions.get_user_session_for_user``).

    A browser's session is deleted from the database (its record goes with it) and from the
    cache, so its next request is signed out; its token family is revoked too. An API record's
    family is revoked (its refresh and access tokens fail at once) and the record deleted.
    Redis failures are logged, not raised: the database side already ends the session and
    refuses the family, and a session copy the cache kept is dropped at its next renewal check
    (``apps.core.middleware.SessionRenewalMiddleware``, within a minute)."""
    with transaction.atomic():
        if record.session_id:
            _session_store_class()().delete(record.session_id)
        else:
            record.delete()
        _revoke_family(record.family_id)


def sessions_revoke_others(*, user: User, current_session_key: str) -> int:
    """ "Sign out everywhere else": end every signed-in browser of ``user`` but the one with
    ``current_session_key`` and revoke every token family, recorded or not, API and browser
    alike, including this browser's (the view starts a fresh family for it, as after a password
    change). Returns how many other browsers were signed out.

    Families: ``tokens_valid_after`` set to now (durable: the tokens' one user query refuses
    families started before it) and, after commit, every family in Redis
    (``tokens.user_families_revoke``, the fast path), as a password change does. Browsers:
    their session rows are deleted in one statement (records with them) and their cached copies
    in one cache call."""
    now = timezone.now()
    others = UserSession.objects.filter(user=user).exclude(session_id=current_session_key)
    with transaction.atomic():
        rows = list(others.values_list("kind", "session_id"))
        browser_keys = [key for kind, key in rows if kind == UserSession.Kind.BROWSER]
        Session.objects.filter(session_key__in=browser_keys).delete()
        UserSession.objects.filter(user=user, kind=UserSession.Kind.API).delete()
        User.objects.filter(pk=user.pk).update(tokens_valid_after=now)
        user.tokens_valid_after = now
        started_before = now.timestamp()
        transaction.on_commit(
            lambda: tokens.user_families_revoke(user_id=user.pk, started_before=started_before), robust=True
        )
    store = _session_store_class()
    cache_prefix = getattr(store, "cache_key_prefix", None)
    if cache_prefix and browser_keys:
        caches[settings.SESSION_CACHE_ALIAS].delete_many([cache_prefix + key for key in browser_keys])
    return len(browser_keys)
