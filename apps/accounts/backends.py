"""Authentication backend: sign in with a username or an email, any letter case."""

import unicodedata

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


def canonical_login_name(raw: str) -> str:
    """Return the spelling-independent form of a sign-in name.

    ``raw`` is what the gardener typed. Surrounding spaces are dropped and the text is put in
    Unicode NFKC form (as Django's ``AbstractBaseUser.normalize_username`` does); letter case is
    left to the ``iexact`` lookup. Raises nothing.
    """
    return unicodedata.normalize("NFKC", raw or "").strip()


class UsernameOrEmailBackend(ModelBackend):
    """``ModelBackend`` that finds the account by username or email, case-insensitively.

    An unknown name still runs one password hash (Django's ``set_password`` on a throwaway
    user), so the time taken does not reveal whether the account exists (OWASP ASVS 2.2.1).
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        name = canonical_login_name(username)
        field = "email__iexact" if "@" in name else "username__iexact"
        user_model = get_user_model()
        user = user_model._default_manager.filter(**{field: name}).first()
        if user is None:
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
