"""A console email backend for local development that prints bodies readably.

Django's console backend prints the encoded message, where long lines (the confirmation and
reset links) are quoted-printable wrapped with ``=`` and break when copied. This one prints
the headers that matter and the body as text.
"""

import logging
import sys
import threading

from django.conf import settings
from django.core.mail import send_mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction


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


def send_mail_after_commit(*, subject: str, body: str, to: list[str]) -> None:
    """Send a plain-text email once the current transaction commits (at once outside one).

    A mail server that fails is logged, never raised: a request must not fail, or reveal
    anything by failing, because an email could not be delivered (the sign-up and lock paths
    answer the same whatever happens to the message).
    """

    def deliver():
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
        except Exception:
            logging.getLogger(__name__).exception("email %r to %s could not be sent", subject, to)

    transaction.on_commit(deliver)
