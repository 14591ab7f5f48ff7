"""A console email backend for local development that prints bodies readably.

Django's console backend prints the encoded message, where long lines (the confirmation and
reset links) are quoted-printable wrapped with ``=`` and break when copied. This one prints
the headers that matter and the body as text.
"""

import sys
import threading

from django.core.mail.backends.base import BaseEmailBackend


class ReadableConsoleBackend(BaseEmailBackend):
    """Writes each message's From, To, Subject and plain body to standard output."""

    _lock = threading.Lock()

    def send_messages(self, email_messages):
        with self._lock:
            for message in email_messages:
                sys.stdout.write(
                    f"\n----- email -----\nFrom: {message.from_email}\nTo: {', '.join(message.to)}\n"
                    f"Subject: {message.subject}\n\n{message.body}\n----- end -----\n"
                )
            sys.stdout.flush()
        return len(email_messages)
