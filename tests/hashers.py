"""A password hasher that counts hashes, so tests can assert how many password checks ran.

Test settings use it instead of argon2 for speed; it is a real hasher (MD5 underneath), not a
stub: passwords are hashed and verified exactly as Django does with any hasher.
"""

import threading

from django.contrib.auth.hashers import MD5PasswordHasher

_lock = threading.Lock()
_count = 0


def hash_count() -> int:
    """Password hashes computed in this process since the last ``hash_count_reset``."""
    with _lock:
        return _count


def hash_count_reset() -> None:
    global _count
    with _lock:
        _count = 0


class CountingMD5PasswordHasher(MD5PasswordHasher):
    algorithm = "counting_md5"

    def encode(self, password, salt):
        global _count
        with _lock:
            _count += 1
        return super().encode(password, salt)
