"""One management command in a process of its own, started with another on a barrier: the
cross-process tests of the once-a-day emails (``tests/notifications/test_digest.py``,
``tests/plants/care/test_reminders.py``). A module of its own so a ``spawn``-ed process can
import it."""

import io
import multiprocessing
import os
import time

from django.db import connection


def process_env(settings, **extra: str) -> dict:
    """The environment a child process needs to reach this test's database (committed data:
    the test runs with ``transaction=True``) and Redis, under the test settings, plus ``extra``
    (e.g. ``PORTAL_TEST_EMAIL_DIR`` for the file mail backend)."""
    db = connection.settings_dict
    return {
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "TEST_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TEST_REDIS_URL": settings.REDIS_URL,
        **extra,
    }


def run_command(barrier, env: dict, results, command: str, args: tuple) -> None:
    """Set up Django on ``env``, connect, wait on ``barrier`` with the other process, run
    ``manage.py <command> <args>``, and put ``(start, end, output)`` (``time.time()`` seconds)
    on ``results``."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    connection.ensure_connection()  # connected before the barrier: the race is the command's own
    barrier.wait(timeout=120)
    start = time.time()
    out = io.StringIO()
    try:
        call_command(command, *args, stdout=out)
    except Exception as error:  # reported to the test, which fails on it
        out.write(f"ERROR {error!r}")
    results.put((start, time.time(), out.getvalue()))
    connection.close()


def run_twice_on_a_barrier(env: dict, command: str, *args: str) -> list[tuple[float, float, str]]:
    """Start two processes running ``command`` with ``args`` together (a ``spawn`` context and a
    barrier of two) and wait for both; their ``(start, end, output)``, sorted by start. Asserts
    both exited cleanly."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [context.Process(target=run_command, args=(barrier, env, results, command, args)) for _ in range(2)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=180) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return sorted(outcomes)
