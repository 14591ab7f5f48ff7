"""The session engine (``SESSION_ENGINE``): Django's ``cached_db`` store whose key rotation
keeps the browser's ``UserSession`` record.

Django rotates a signed-in session's key (``cycle_key``) when the password changes
(``update_session_auth_hash``) and at every sign-in: it creates the new row and deletes the old
one, and the database deletes the record that pointed at the old row (``DB_CASCADE``). For a
session that is signed in, the record is moved to the new key first, in one ``UPDATE``; a
sign-in from a signed-out session has no record to move and costs nothing more.
"""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore


class SessionStore(CachedDbSessionStore):
    """``cached_db`` plus the record move on key rotation (see the module docstring)."""

    def cycle_key(self):
        from .models import UserSession  # the engine is imported before the apps are ready

        data = self._session
        old_key = self.session_key
        self.create()
        self._session_cache = data
        if old_key:
            if SESSION_KEY in data:
                UserSession.objects.filter(session_id=old_key).update(session_id=self.session_key)
            self.delete(old_key)
