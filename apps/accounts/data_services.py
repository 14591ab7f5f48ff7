"""Your data (issue 11): export everything about you, and delete the account.

Export: ``data_export_request`` (at most one per ``DATA_EXPORT_INTERVAL_SECONDS``, 24 h) creates
a ``DataExport`` and enqueues the ``data_export_build`` task after commit; the task writes a ZIP
(``data.json``, ``README.txt`` and the photos) into the ``data_exports`` storage, which nothing
serves but the owner-checked download view, for ``DATA_EXPORT_LIFETIME_SECONDS`` (24 h); then
``data_exports_purge`` removes the file (a deferred task where the backend can defer, and
``manage.py data_exports_purge`` from cron).

Deletion: ``account_delete`` checks the password through the sign-in service (so guesses count
on the same lockout as sign-in) and the second factor, then ``account_erase`` anonymizes the
account as Discourse's ``UserAnonymizer`` does: every registered source erases its rows (photos,
care cards, votes, notifications, the two-factor key and recovery codes, session records
deleted; forum posts, topics and reports kept), the user row keeps its id under a random
``deleted-gardener-…`` name with no email, password, groups, names, profile or avatar (the file
removed after commit), token families and sessions are revoked, the Redis keys that hold or are derived from the
name, the email or the id are deleted, and one audit row (``account.delete``) records it without
personal data.
"""

import io
import json
import logging
import re
import secrets
import tempfile
import zipfile
from datetime import timedelta
from functools import partial

import redis
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.core.files import File
from django.core.files.storage import Storage, default_storage, storages
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.core.audit import audit_record
from apps.core.models import ModerationAction
from apps.core.ratelimit import limit_key
from apps.core.redis import get_strict_redis
from apps.core.throttle import write_throttle_keys
from apps.core.uploads import stored_files_delete_on_commit

from . import lockout, settings_services, tokens, two_factor
from .devices import family_seen_keys
from .models import ANONYMOUS_PREFIX, USER_COUNTERS, DataExport, User, UserSession
from .personal_data import (
    EXPORT_FORMAT,
    ErasurePart,
    ExportEncoder,
    ExportPart,
    PersonalDataSource,
    merge_parts,
    personal_data_sources,
    rows_of,
)
from .signin_services import InvalidCredentials, current_password_check
from .signin_services import second_factor_check as second_factor_counted_check

logger = logging.getLogger(__name__)

ANONYMOUS_EMAIL_DOMAIN = "deleted.invalid"  # RFC 2606: .invalid never resolves


def export_storage() -> Storage:
    """The storage of export ZIPs (``STORAGES["data_exports"]``), apart from public media."""
    return storages["data_exports"]


# --- The accounts app's own rows ------------------------------------------------------------


def _accounts_export(user: User) -> ExportPart:
    profile = rows_of(
        User.objects.filter(pk=user.pk),
        "username",
        "email",
        "first_name",
        "last_name",
        "date_joined",
        "last_login",
        "email_confirmed_at",
        "trust_level",
        "is_staff",
        *USER_COUNTERS,
        "display_name",
        "time_zone",
        "care_reminder_hour",
        "home_latitude",
        "home_longitude",
        "avatar",
    )
    # Two-factor sign-in: whether it is on and since when, never its key or recovery codes
    # (secrets, not data about you: ACCOUNTS_SOURCE.kept_out).
    two_factor_state = two_factor.two_factor_status(user=user)
    files = []
    for row in profile:
        row["two_factor_enabled"] = two_factor_state["enabled"]
        row["two_factor_enabled_at"] = two_factor_state["enabled_at"]
        row["two_factor_recovery_codes_left"] = two_factor_state["recovery_codes_left"]
        stored = row.pop("avatar")
        row["avatar"] = f"files/accounts/avatar.{stored.rsplit('.', 1)[-1]}" if stored else None
        if stored:
            files.append((row["avatar"], stored))
    user_content_type = ContentType.objects.get_for_model(User)
    admin_log = rows_of(
        LogEntry.objects.filter(user=user),
        "action_time",
        "object_id",
        "object_repr",
        "action_flag",
        "change_message",
        content_type_id_="content_type_id",
    )
    for row in admin_log:
        # An entry about another account would name them: keep the id, not the name.
        if row.pop("content_type_id_") == user_content_type.pk and row["object_id"] != str(user.pk):
            row["object_repr"] = ""
    return ExportPart(
        files=files,
        rows={
            "accounts.User": profile,
            "accounts.User_groups": rows_of(User.groups.through.objects.filter(user=user), group_name="group__name"),
            "accounts.User_user_permissions": rows_of(
                User.user_permissions.through.objects.filter(user=user), permission_codename="permission__codename"
            ),
            "accounts.DataExport": rows_of(
                DataExport.objects.filter(user=user), "status", "requested_at", "finished_at", "expires_at"
            ),
            "core.ModerationAction": rows_of(
                ModerationAction.objects.filter(actor=user),
                "action",
                "target_type",
                "target_id",
                "reason",
                "metadata",
                "created_at",
            ),
            "admin.LogEntry": admin_log,
            "accounts.UserSession": rows_of(
                UserSession.objects.filter(user=user), "kind", "device", "ip_network", "signed_in_at"
            ),
        },
    )


def _accounts_erase(user: User) -> ErasurePart:
    user.groups.clear()
    user.user_permissions.clear()
    exports = DataExport.objects.filter(user=user)
    files = [name for name in exports.exclude(file_name="").values_list("file_name", flat=True)]
    exports.delete()
    stored_files_delete_on_commit(files, storage=export_storage())
    two_factor.two_factor_forget(user=user)
    # Browsers' records also go with their sessions (ended after commit); apps' records and
    # when each family was last seen (Redis) go here. The families themselves are refused
    # through the row's tokens_valid_after (User.save) and revoked in Redis after commit.
    sessions = UserSession.objects.filter(user=user)
    families = [family for family in sessions.values_list("family_id", flat=True) if family]
    sessions.delete()
    # Audit rows the account wrote stay (the audit log outlives its actors); they point at the
    # anonymized row, which holds nothing personal. The admin's log stays for the same reason.
    return ErasurePart(
        files=[user.avatar.name] if user.avatar else [],
        redis_keys=[
            *family_seen_keys(family_ids=families),
            settings_services.avatar_limit_key(user_id=user.pk),
            settings_services.email_change_limit_key(user_id=user.pk),
        ],
    )


ACCOUNTS_SOURCE = PersonalDataSource(
    name="accounts",
    exported=(
        "accounts.User_groups.user",
        "accounts.User_user_permissions.user",
        "accounts.DataExport.user",
        "core.ModerationAction.actor",
        "admin.LogEntry.user",
        "accounts.UserSession.user",
    ),
    derived={},
    indirect={},
    export=_accounts_export,
    erase=_accounts_erase,
    kept_out={
        "accounts.TotpDevice.user": (
            "the authenticator's shared key is a sign-in secret, not data about you; the export says whether "
            "two-factor sign-in is on and since when"
        ),
        "accounts.RecoveryCode.user": (
            "hashes of single-use sign-in secrets, not data about you; the export gives how many are left"
        ),
    },
)


# --- Export ----------------------------------------------------------------------------------


class ExportTooSoon(Exception):
    """An export was already asked for within ``DATA_EXPORT_INTERVAL_SECONDS``;
    ``next_allowed_at`` (aware datetime) is when the next one may be asked for."""

    def __init__(self, next_allowed_at):
        super().__init__(f"next export allowed at {next_allowed_at.isoformat()}")
        self.next_allowed_at = next_allowed_at


def data_export_request(*, user: User) -> DataExport:
    """Ask for an export of everything about ``user``; the ZIP is built by the
    ``data_export_build`` task, enqueued after commit.

    At most one export per ``DATA_EXPORT_INTERVAL_SECONDS`` (24 h) per user, counted from when
    it was asked for; a failed one does not count. Concurrent requests are serialized on the
    user row (``SELECT ... FOR UPDATE``), so two tabs cannot both start one. Raises
    ``ExportTooSoon``. Returns the new ``DataExport`` (``pending``).
    """
    interval = timedelta(seconds=settings.DATA_EXPORT_INTERVAL_SECONDS)
    with transaction.atomic():
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
        now = timezone.now()
        latest = (
            DataExport.objects.filter(user=user, requested_at__gt=now - interval)
            .exclude(status=DataExport.Status.FAILED)
            .order_by("-requested_at")
            .values_list("requested_at", flat=True)
            .first()
        )
        if latest is not None:
            raise ExportTooSoon(latest + interval)
        export = DataExport.objects.create(user=user, requested_at=now)
        transaction.on_commit(partial(_enqueue_build, export.pk), robust=True)
    return export


def _enqueue_build(export_id: int) -> None:
    data_export_build_task.enqueue(export_id)


README = """Plant Community Portal: your data
=================================

data.json holds every row about you, grouped by model ("forum.Post": your posts, ...), each
with its id; "files" lists the photos in this archive (files/...). Dates are ISO 8601, UTC.

Left out on purpose: other people's names and emails, and what others wrote around yours
(replies in your topics, suggestions on your identification requests): that is theirs.
Passwords are never exported (only a one-way hash is kept, and not even that is included).
Nor are the two-factor key and recovery codes: they are secrets, not data about you;
data.json says whether two-factor sign-in is on and how many recovery codes are left.
"""


def data_export_document(*, user: User) -> tuple[dict, list[tuple[str, str]]]:
    """Collect everything about ``user`` from the accounts app and every registered source.

    Returns ``(document, files)``: the JSON-ready ``data.json`` content (``format``,
    ``exported_at``, ``user_id``, ``data``: model label -> rows, ``files``: archive paths) and
    the ``(archive path, default-storage name)`` pairs of the photos to add. A handful of
    queries per source, none per row."""
    part = merge_parts(source.export(user) for source in personal_data_sources())
    document = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now(),
        "user_id": user.pk,
        "data": dict(sorted(part.rows.items())),
        "files": [path for path, _ in part.files],
    }
    return document, part.files


def data_export_build(*, export_id: int) -> str:
    """Build the ZIP of the pending export ``export_id`` and make it downloadable until
    ``DATA_EXPORT_LIFETIME_SECONDS`` (24 h) from now. Returns the final status (``"ready"``,
    ``"failed"``) or ``"skipped"`` when the export is not pending (delivered twice, or the
    account was deleted meanwhile: then the file is not kept). A photo missing from storage is
    listed in ``data.json`` under ``missing_files``, not fatal."""
    export = DataExport.objects.filter(pk=export_id, status=DataExport.Status.PENDING).only("id", "user_id").first()
    if export is None:
        return "skipped"
    storage = export_storage()
    name = ""
    try:
        user = User.objects.get(pk=export.user_id)
        document, files = data_export_document(user=user)
        with tempfile.TemporaryFile() as archive:
            missing = _zip_write(archive, document, files)
            size = archive.tell()
            archive.seek(0)
            name = storage.save(f"{secrets.token_hex(16)}.zip", File(archive))
        now = timezone.now()
        expires_at = now + timedelta(seconds=settings.DATA_EXPORT_LIFETIME_SECONDS)
        updated = DataExport.objects.filter(pk=export_id, status=DataExport.Status.PENDING).update(
            status=DataExport.Status.READY, finished_at=now, expires_at=expires_at, file_name=name, size_bytes=size
        )
    except Exception:
        logger.exception("data export %s failed", export_id)
        if name:
            storage.delete(name)
        DataExport.objects.filter(pk=export_id, status=DataExport.Status.PENDING).update(
            status=DataExport.Status.FAILED, finished_at=timezone.now()
        )
        return "failed"
    if not updated:
        storage.delete(name)
        return "skipped"
    if missing:
        logger.warning("data export %s: %d photo(s) missing from storage", export_id, len(missing))
    _schedule_purge(expires_at)
    return "ready"


def _zip_write(archive, document: dict, files: list[tuple[str, str]]) -> list[str]:
    missing = []
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path, stored_name in files:
            try:
                with default_storage.open(stored_name, "rb") as stored:
                    # Photos are JPEGs already: stored, not deflated again.
                    bundle.writestr(zipfile.ZipInfo(path, date_time=_zip_time()), stored.read(), zipfile.ZIP_STORED)
            except FileNotFoundError:
                missing.append(path)
        if missing:
            document = {**document, "missing_files": missing}
        bundle.writestr("data.json", json.dumps(document, cls=ExportEncoder, indent=2, ensure_ascii=False))
        bundle.writestr("README.txt", README)
    archive.seek(0, io.SEEK_END)
    return missing


def _zip_time() -> tuple:
    now = timezone.now()
    return (now.year, now.month, now.day, now.hour, now.minute, now.second)


def _schedule_purge(expires_at) -> None:
    task = data_exports_purge_task
    if task.get_backend().supports_defer:
        try:
            task.using(run_after=expires_at + timedelta(seconds=1)).enqueue()
        except Exception:
            logger.exception("could not schedule the purge of expired data exports")


def data_exports_purge(*, now=None) -> int:
    """Remove the files of ready exports whose 24 h are over and mark them ``expired`` (the rows
    stay, without a file, so "one a day" still counts them). ``now`` (aware datetime) defaults
    to the current time. Returns how many were purged. Run by a deferred task at each export's
    expiry (where the task backend can defer) and by ``manage.py data_exports_purge`` (cron,
    hourly) for the rest."""
    now = now or timezone.now()
    due = list(
        DataExport.objects.filter(status=DataExport.Status.READY, expires_at__lte=now).values_list("pk", "file_name")
    )
    storage = export_storage()
    purged = 0
    for export_id, name in due:
        with transaction.atomic():
            purged += DataExport.objects.filter(pk=export_id, status=DataExport.Status.READY).update(
                status=DataExport.Status.EXPIRED, file_name=""
            )
            if name:
                stored_files_delete_on_commit([name], storage=storage)
    return purged


# The tasks (``django.tasks``; production runs them with ``manage.py db_worker``, the tests with
# Django's ``ImmediateBackend``, as for identification). They live here, beside what they run and
# what enqueues them, so no module imports itself back.


@task
def data_export_build_task(export_id: int) -> str:
    """Build the ZIP of the pending ``DataExport`` ``export_id`` (``data_export_build``) and
    return its final status. Safe to deliver twice: a second run finds it no longer pending."""
    return data_export_build(export_id=export_id)


@task
def data_exports_purge_task() -> int:
    """Remove the files of every expired export (``data_exports_purge``); enqueued to run at an
    export's expiry where the task backend can defer. Returns how many were purged."""
    return data_exports_purge()


# --- Deletion --------------------------------------------------------------------------------


class SecondFactorRequired(Exception):
    """The account has two-factor sign-in and no valid code was given."""


def account_has_second_factor(user: User) -> bool:
    """Whether deleting ``user`` needs a code as well as the password: the account has
    two-factor sign-in on (a confirmed authenticator, ``two_factor.two_factor_on``; one query).
    The delete page then shows the code field."""
    return two_factor.two_factor_on(user=user)


def second_factor_check(user: User, code: str | None, *, ip: str, base_url: str) -> bool:
    """True when ``user`` has no second factor, or ``code`` is a valid authenticator code (RFC
    6238, not used before) or an unused recovery code, which is then spent. Checked by
    ``signin_services.second_factor_check``, the sign-in form's second step: one attempt of the
    sign-in lockout, a wrong code one failure (``ip`` the client IP, ``base_url`` for the lock
    email). Raises ``SignInLocked`` and ``SecurityUnavailable`` as sign-in does."""
    user = User.objects.select_related("totp_device").get(pk=user.pk)  # with its authenticator, in one query
    if two_factor.device_of(user) is None:
        return True
    if not code:
        return False
    try:
        second_factor_counted_check(user=user, code=code, ip=ip, base_url=base_url)
    except InvalidCredentials:
        return False
    return True


def account_delete(*, user: User, password: str, otp: str | None = None, ip: str, base_url: str) -> str:
    """Delete ``user``'s account after checking it is them (OWASP ASVS 4.0 V2.2 / 3.x:
    re-authenticate before a sensitive action).

    ``password`` is checked by ``signin_services.current_password_check``, so wrong guesses
    count on the same lockout as sign-in (``ip`` the client IP, ``base_url`` for the lock
    email). ``otp``: the authenticator or recovery code, needed when the account has two-factor
    sign-in (``account_has_second_factor``); it is checked after a right password as the
    sign-in form's second step is (``second_factor_check``): the right password alone clears no
    earlier failure, a wrong code is one more. Raises ``signin_services.InvalidCredentials``
    (wrong password; the code is then not checked, so not spent), ``lockout.SignInLocked``,
    ``signin_services.SecurityUnavailable`` (Redis down), ``SecondFactorRequired`` (no code, or
    a wrong or used one); nothing is changed then. Returns the anonymous name the account's
    posts now show (``account_erase``)."""
    needs_code = account_has_second_factor(user)
    if needs_code and not otp:
        raise SecondFactorRequired()
    current_password_check(user=user, password=password, ip=ip, base_url=base_url, second_factor_follows=needs_code)
    if needs_code and not second_factor_check(user, otp, ip=ip, base_url=base_url):
        raise SecondFactorRequired()
    return account_erase(user_id=user.pk)


def account_erase(*, user_id: int) -> str:
    """Erase the account ``user_id`` (no checks: ``account_delete`` asks for the password).

    In one transaction, with the user row locked: every registered personal-data source erases
    its rows (``PersonalDataSource.erase``); the row is anonymized in place (Discourse's
    ``UserAnonymizer``: username ``deleted-gardener-<8 hex>``, email ``<that>@deleted.invalid``,
    no names, unusable password, inactive, not staff, no groups or permissions, no last login;
    the id stays, so forum posts, topics and reports keep their author and every counter
    stays right); ``User.save`` refuses every token family started before now (durable, in the
    row) and revokes them in Redis after commit; the admin log's name for the account and audit
    reasons that name it are rewritten; one audit row ``account.delete`` is written with the
    id only. After commit: stored files removed, every session of the account ended, and the
    Redis keys that hold or are derived from its name, email or id deleted (``account_redis_forget``).

    Idempotent: an account already erased is left as it is. Returns the anonymous username.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        if user.username.startswith(ANONYMOUS_PREFIX) and not user.is_active:
            return user.username
        old_names = [user.username, user.email]
        after = ErasurePart()
        for part in (source.erase(user) for source in personal_data_sources()):
            after.files += part.files
            after.redis_keys += part.redis_keys
        stored_files_delete_on_commit(after.files)
        user.refresh_from_db()
        anonymous = _anonymous_username()
        _names_in_logs_replace(user=user, old_names=old_names, new_name=anonymous)
        user.username = anonymous
        user.email = f"{anonymous}@{ANONYMOUS_EMAIL_DOMAIN}"
        user.first_name = user.last_name = user.display_name = ""
        user.avatar = ""  # the file goes after commit (the accounts source's ErasurePart)
        user.time_zone = "UTC"
        user.care_reminder_hour = None
        user.home_latitude = user.home_longitude = None
        user.set_unusable_password()
        user.is_active = user.is_staff = user.is_superuser = False
        user.last_login = None
        user.email_confirmed_at = None
        user.save()
        audit_record(actor=None, action="account.delete", target_type="user", target_id=user.pk)
        transaction.on_commit(
            partial(account_redis_forget, user_id=user.pk, names=old_names, extra_keys=after.redis_keys), robust=True
        )
        transaction.on_commit(partial(user_sessions_end, user_id=user.pk), robust=True)
    return anonymous


def _anonymous_username() -> str:
    while True:
        candidate = f"{ANONYMOUS_PREFIX}{secrets.token_hex(4)}"
        if not User.objects.filter(username__iexact=candidate).exists():
            return candidate


def _names_in_logs_replace(*, user: User, old_names: list[str], new_name: str) -> None:
    """The admin log shows an account by its name (``object_repr``), and a moderator's audit
    reason may name it ("cleared for rosa"): both are rewritten to ``new_name``."""
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)).update(
        object_repr=new_name
    )
    words = [name for name in old_names if name]
    if not words:
        return
    pattern = re.compile(
        # Whole names only: not inside a longer name or address (a dot ending a sentence is fine).
        r"(?<![\w.+@-])(" + "|".join(re.escape(word) for word in words) + r")(?![\w+@-]|\.\w)",
        re.IGNORECASE,
    )
    query = None
    for word in words:
        condition = ModerationAction.objects.filter(reason__icontains=word)
        query = condition if query is None else query | condition
    for action_id, reason in query.values_list("pk", "reason"):
        rewritten = pattern.sub(new_name, reason)
        if rewritten != reason:
            ModerationAction.objects.filter(pk=action_id).update(reason=rewritten[:500])


def user_sessions_end(*, user_id: int) -> int:
    """End every session of ``user_id`` (database rows and their cached copies). ``UserSession``
    indexes only the browsers signed in since it exists (README "Account settings"), so this
    decodes the unexpired sessions once instead: O(active sessions), acceptable for a rare
    action, and no session of the account is missed. Returns how many ended."""
    engine = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    decoder: SessionBase = engine()
    ended = 0
    for key, data in (
        Session.objects.filter(expire_date__gt=timezone.now())
        .values_list("session_key", "session_data")
        .iterator(chunk_size=2000)
    ):
        if str(decoder.decode(data).get("_auth_user_id")) == str(user_id):
            engine(session_key=key).delete()
            ended += 1
    return ended


def account_redis_keys(*, user_id: int, names: list[str]) -> list[str]:
    """The exact Redis keys about the account ``user_id`` whose username and email were
    ``names``: the lockout counter and lock of the account and of each name typed as an unknown
    name (``lockout.account_counter_keys``; the lock's hash holds the name), the refresh token
    family index, the password-reset limit per email, and the write throttles (hashed from the
    id, ``apps.core.throttle``). Unlock tokens are found by value (``lockout``)."""
    email = next((name for name in names if "@" in name), "")
    keys = [
        *lockout.counter_redis_keys(counter_keys=lockout.account_counter_keys(user_id=user_id, names=names)),
        tokens.user_family_index_key(user_id=user_id),
        *write_throttle_keys(user_id=user_id),
    ]
    if email:
        keys.append(limit_key("reset:email", email))
    return keys


def account_redis_forget(*, user_id: int, names: list[str], extra_keys: list[str] | None = None) -> int:
    """Delete every Redis key about the account (``account_redis_keys`` plus ``extra_keys`` from
    the personal-data sources, and the unlock tokens of its locks), after revoking its refresh
    token families. Returns how many keys were deleted. A Redis failure is logged: the keys then
    expire on their own (a lock after 1 h, counters after their window, throttles within a day)
    and the families are already refused by the row's ``tokens_valid_after``."""
    try:
        tokens.user_families_revoke(user_id=user_id)
        keys = account_redis_keys(user_id=user_id, names=names) + list(extra_keys or [])
        counters = lockout.account_counter_keys(user_id=user_id, names=names)
        deleted = lockout.unlock_tokens_forget(counter_keys=counters)
        return deleted + int(get_strict_redis().delete(*keys))
    except redis.RedisError:
        logger.exception("could not delete the Redis keys of deleted account %s", user_id)
        return 0
