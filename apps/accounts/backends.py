"""Authentication backend: sign in with a username or an email, any letter case, always under
the lockout monitor."""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from apps.core.client_ip import client_ip

from .lockout import SignInLocked
from .models import User
from .signin_services import InvalidCredentials, SecurityUnavailable, sign_in_attempt


class UsernameOrEmailBackend(ModelBackend):
    """``ModelBackend`` whose ``authenticate`` runs ``sign_in_attempt``, so every door that
    uses Django's ``authenticate()`` (the admin's sign-in too) is counted by the lockout
    monitor. A lock or an unreachable Redis raises ``PermissionDenied``, which makes
    ``authenticate()`` refuse without trying other backends (fail closed). A two-factor
    account is refused here like a wrong password (``OTPRequired``, counted as a failure): this
    door has no second step, so such accounts sign in through ``/accounts/login/``."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        ip = client_ip(request) if request is not None else "0.0.0.0"
        base_url = request.build_absolute_uri("/").rstrip("/") if request is not None else ""
        try:
            return sign_in_attempt(name=username, password=password, ip=ip, base_url=base_url)
        except InvalidCredentials:
            return None
        except (SignInLocked, SecurityUnavailable):
            raise PermissionDenied from None

    def get_user(self, user_id):
        """The signed-in user for a session: one primary-key lookup (SPEC "Query budgets": the
        user lookup is one statement). The row carries the moderator flag
        (``User.is_moderator_flag``), so the visibility rule and moderator checks of a page cost
        no query of their own. ``None`` for an unknown or inactive user."""
        user = User._default_manager.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
