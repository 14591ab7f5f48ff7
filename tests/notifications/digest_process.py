"""The body of one ``manage.py send_notification_digests`` process for the cross-process test
(``test_digest.py``): a module of its own so a ``spawn``-ed process can import it."""

import io
import os
import time


def run_digest_command(barrier, env: dict, results) -> None:
    """Set up Django on ``env`` (the test database, a file mail backend), connect, wait on
    ``barrier`` with the other process, run the command, and put ``(start, end, output)``
    (``time.time()`` seconds) on ``results``."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    connection.ensure_connection()  # connected before the barrier: the race is the command's own
    barrier.wait(timeout=120)
    start = time.time()
    out = io.StringIO()
    try:
        call_command("send_notification_digests", stdout=out)
    except Exception as error:  # reported to the test, which fails on it
        out.write(f"ERROR {error!r}")
    results.put((start, time.time(), out.getvalue()))
    connection.close()
