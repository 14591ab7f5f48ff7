"""pytest plugin of ``make mutation`` (``scripts/mutation.py`` copies it next to mutmut's copy of
the project and loads it with ``-p mutation_isolation``): every pytest session gets a test
database and a Redis db that no other running session uses.

mutmut runs pytest in its main process (stats, the clean run, the forced failure), then forks
one child per mutant, ``--max-children`` at a time, each running pytest again. Settings were
loaded once, in the main process, so the child changes them at run time:

- slot: the first of ``MUTATION_REDIS_DBS`` (comma-separated db numbers) whose lock file in
  ``MUTATION_LOCK_DIR`` it can ``flock``; the lock goes with the session (released at its end,
  or by the kernel when a timed-out child is killed);
- test database ``<MUTATION_DB_PREFIX>_<slot>`` (the run passes ``--reuse-db``: Django still
  applies any unapplied migration to a kept database);
- ``REDIS_URL`` and the ``default`` cache on that slot's db (``override_settings`` resets the
  cache handlers); conftest's ``_clean_redis`` flushes it before each test as usual;
- database connections inherited through ``fork`` are dropped without being closed, so the
  child opens its own and never writes to a socket its parent owns.

Does nothing when ``MUTATION_REDIS_DBS`` is unset.
"""

import fcntl
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

_session: dict = {}


def _forget_inherited_connections() -> None:
    """In a forked child: let Django open new database connections instead of sharing the
    parent's sockets (closing them here would end the parent's sessions too)."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.connection = None
        connection.closed_in_transaction = False
        connection.in_atomic_block = False
        connection.savepoint_ids = []
        connection.needs_rollback = False


if os.environ.get("MUTATION_REDIS_DBS"):
    os.register_at_fork(after_in_child=_forget_inherited_connections)


def _take_slot(count: int) -> tuple[int, int]:
    """Return ``(slot, locked file descriptor)`` of the first free slot; ``UsageError`` when
    all ``count`` are busy (more workers than Redis dbs)."""
    lock_dir = Path(os.environ["MUTATION_LOCK_DIR"])
    for slot in range(count):
        descriptor = os.open(lock_dir / f"slot-{slot}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        return slot, descriptor
    raise pytest.UsageError(f"mutation_isolation: all {count} worker slots are busy; lower --max-children")


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """Take a slot and point the test database and Redis at it (after pytest-django set up
    Django)."""
    dbs = os.environ.get("MUTATION_REDIS_DBS")
    if not dbs:
        return
    from django.conf import settings
    from django.test.utils import override_settings

    redis_dbs = [int(db) for db in dbs.split(",")]
    slot, descriptor = _take_slot(len(redis_dbs))
    from django.db import connections

    # ``connections`` holds the very dicts of settings.DATABASES: pytest-django reads the name here.
    connections["default"].settings_dict["TEST"]["NAME"] = f"{os.environ['MUTATION_DB_PREFIX']}_{slot}"
    redis_url = urlsplit(settings.REDIS_URL)._replace(path=f"/{redis_dbs[slot]}").geturl()
    caches = {alias: {**cache, "LOCATION": redis_url} for alias, cache in settings.CACHES.items()}
    override = override_settings(REDIS_URL=redis_url, CACHES=caches)
    override.enable()
    _session.update(descriptor=descriptor, override=override)


def _uses_database(item) -> bool:
    names = getattr(item, "fixturenames", ())
    return item.get_closest_marker("django_db") is not None or bool({"db", "transactional_db"} & set(names))


@pytest.fixture(scope="session", autouse=True)
def _mutation_reference_data(request):
    """Put back what migrations load before the first test of a worker's session. A kept
    database (``--reuse-db``) is not migrated again, and a transactional test that ended the
    previous session in this slot flushed every table; the project's conftest restores the
    reference data only between two tests of one session."""
    if "descriptor" not in _session or not any(_uses_database(item) for item in request.session.items):
        # A session of tests that never touch the database (mutmut re-collecting stats for
        # new Redis-only tests) has no test database to restore anything into.
        yield
        return
    request.getfixturevalue("django_db_setup")
    restore = next(
        (
            getattr(plugin, "ensure_reference_data")
            for plugin in request.config.pluginmanager.get_plugins()
            if hasattr(plugin, "ensure_reference_data")
        ),
        None,
    )
    if restore is not None:
        with request.getfixturevalue("django_db_blocker").unblock():
            restore()
    yield


def pytest_unconfigure(config):
    """Give the slot back, so the next session (mutmut's next run, or a forked child) may take it."""
    if "descriptor" not in _session:
        return
    _session.pop("override").disable()
    descriptor = _session.pop("descriptor")
    fcntl.flock(descriptor, fcntl.LOCK_UN)
    os.close(descriptor)
