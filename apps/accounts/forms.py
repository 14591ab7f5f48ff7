"""Sign-up and sign-in forms, and the moderators' lock-clearing form."""

import re

from django import forms
from django.contrib.auth import password_validation
from django.core.validators import RegexValidator

from apps.core.audit import REASON_MAX_CHARS
from apps.core.client_ip import client_ip
from apps.core.text import refuse_direction_controls

from .lockout import LOCK_KEY_PATTERN, SignInLocked
from .models import User, username_validator, validate_username_not_reserved
from .signin_services import (
    InvalidCredentials,
    SecondFactorRequired,
    SecurityUnavailable,
    canonical_login_name,
    sign_in_attempt,
)

INVALID_LOGIN = "That username or email and password do not match an account."


class SignInForm(forms.Form):
    """SPEC ``/accounts/login/``: ``username`` (a username or an email) and ``password``.

    ``clean`` runs the sign-in service under the lockout monitor. After ``is_valid()``:
    ``user`` is the account; ``needs_second_factor`` True when its password was right and its
    two-factor step is still due (the view must not sign in yet); ``locked`` a ``SignInLocked``
    (answer 429); ``unavailable`` True when Redis is down (answer 503).
    """

    username = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None
        self.needs_second_factor = False
        self.locked: SignInLocked | None = None
        self.unavailable = False

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.user = sign_in_attempt(
                name=cleaned["username"],
                password=cleaned["password"],
                ip=client_ip(self.request),
                base_url=self.request.build_absolute_uri("/").rstrip("/"),
                defer_second_factor=True,
            )
        except SecondFactorRequired as pending:
            self.user, self.needs_second_factor = pending.user, True
        except InvalidCredentials:
            raise forms.ValidationError(INVALID_LOGIN, code="invalid_login") from None
        except SignInLocked as locked:
            self.locked = locked
            raise forms.ValidationError("Sign-in is locked for now.", code="locked") from None
        except SecurityUnavailable:
            self.unavailable = True
            raise forms.ValidationError("Sign-in is temporarily unavailable.", code="unavailable") from None
        return cleaned


class SecondFactorForm(forms.Form):
    """The sign-in form's second step: ``code``, a 6-digit authenticator code or a recovery
    code (spaces and hyphens ignored). Checked by ``signin_services.second_factor_attempt`` in
    the view, under the lockout."""

    code = forms.CharField(
        label="Authentication code",
        max_length=64,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


class PasswordConfirmForm(forms.Form):
    """Re-authentication before a two-factor change: the signed-in gardener's ``password``."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TotpConfirmForm(forms.Form):
    """Set-up's last step: the first ``code`` the authenticator app shows."""

    code = forms.CharField(
        label="Code from the app",
        max_length=16,
        help_text="6 digits.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "none"}
        ),
    )


class SignUpForm(forms.Form):
    """SPEC ``/accounts/signup/``: ``username`` (no ``@``), ``email``, ``password1``, ``password2``.

    Only the shape of the input is validated here; whether the username or email is taken is
    decided by the sign-up service, whose answer never reveals it.
    """

    username = forms.CharField(
        max_length=30,
        validators=[username_validator, validate_username_not_reserved],
        help_text="Up to 30 characters: letters, digits and . + - _ (no @).",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password1 = forms.CharField(
        label="Password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not a common password.",
    )
    password2 = forms.CharField(
        label="Password (again)",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self):
        return canonical_login_name(self.cleaned_data["username"])

    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"].strip())

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords do not match.")
        elif password1:
            probe = User(username=cleaned.get("username", ""), email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password1, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class LockoutClearForm(forms.Form):
    """POST ``/moderation/lockouts/clear/``: ``key``, the lock's counter key (``user:<id>`` or
    ``name:<32 hex digits>``, hidden in the page) and an optional ``reason`` for the audit log
    (at most 500 characters, ``apps.core.audit.REASON_MAX_CHARS``). ``CharField`` refuses a NUL
    byte in either. Build it with ``key=`` for an unbound form of one lock's row; a bound form
    takes its key from the data. Field ids carry the key, so each row's ids are unique.
    """

    key = forms.CharField(
        max_length=40,
        widget=forms.HiddenInput,
        validators=[RegexValidator(LOCK_KEY_PATTERN, message="That lock could not be found.")],
        error_messages={"required": "That lock could not be found."},
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=REASON_MAX_CHARS,
        validators=[refuse_direction_controls],
        error_messages={"max_length": "Keep the reason to %(limit_value)d characters (it has %(show_value)d)."},
    )

    def __init__(self, data=None, *, key: str | None = None):
        shown_key = str(key if key is not None else (data or {}).get("key", ""))
        dom_key = shown_key.replace(":", "-") if re.match(LOCK_KEY_PATTERN, shown_key) else "unknown"
        super().__init__(data, initial={"key": key} if key is not None else None, auto_id=f"clear-{dom_key}-%s")


class AccountDeleteForm(forms.Form):
    """Confirm deleting the account: the current ``password`` and, when the account has
    two-factor sign-in (``with_otp``), a TOTP or recovery code ``otp``. The checks themselves
    run in ``data_services.account_delete`` (under the sign-in lockout)."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    otp = forms.CharField(
        label="Code from your authenticator app, or a recovery code",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, with_otp: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if with_otp:
            self.fields["otp"].required = True
        else:
            del self.fields["otp"]
