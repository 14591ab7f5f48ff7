"""Forms of the settings pages: profile, email change and password change.

Every form that asks for the current password checks it with
``signin_services.current_password_check``, under the sign-in lockout (issue 11: "the
current-password check counts on the same lockout as sign-in"). After ``is_valid()`` such a
form has ``locked`` (a ``SignInLocked``: answer 429) or ``unavailable`` (Redis down: 503) set
when the check could not be made.
"""

import unicodedata

from django import forms
from django.contrib.auth.forms import PasswordChangeForm

from apps.core.client_ip import client_ip
from apps.core.uploads import ImageRejected, image_process, upload_size_check

from .lockout import SignInLocked
from .models import User, time_zone_names
from .signin_services import InvalidCredentials, SecurityUnavailable, current_password_check

PASSWORD_MAX_CHARS = 4096
AVATAR_PX = 256  # an avatar is stored as a square of this many pixels
# Unicode categories a display name may not contain: controls, format characters (bidi
# overrides, zero-width joiners: the tricks that make one name look like another), private
# use, surrogates and line or paragraph separators (Unicode TR #36, "Visual spoofing").
_REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}


class CurrentPasswordMixin:
    """Checks a typed current password under the lockout; see the module docstring."""

    locked: SignInLocked | None = None
    unavailable: bool = False

    def _current_password_checked(self, password: str, *, message: str) -> None:
        request = self.request
        try:
            current_password_check(
                user=self.user,
                password=password,
                ip=client_ip(request),
                base_url=request.build_absolute_uri("/").rstrip("/"),
            )
        except InvalidCredentials:
            raise forms.ValidationError(message, code="password_incorrect") from None
        except SignInLocked as locked:
            self.locked = locked
            raise forms.ValidationError("Password checks for this account are locked for now.", code="locked") from None
        except SecurityUnavailable:
            self.unavailable = True
            raise forms.ValidationError(
                "Checking your password is temporarily unavailable.", code="unavailable"
            ) from None


class LockoutPasswordChangeForm(CurrentPasswordMixin, PasswordChangeForm):
    """Django's password change (``old_password``, ``new_password1``, ``new_password2``, the
    project's validators) whose current-password check counts on the sign-in lockout."""

    old_password = forms.CharField(
        label="Current password",
        strip=False,
        max_length=PASSWORD_MAX_CHARS,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        password = self.cleaned_data["old_password"]
        self._current_password_checked(password, message=self.error_messages["password_incorrect"])
        return password


class EmailChangeForm(CurrentPasswordMixin, forms.Form):
    """``email`` (the new address) and ``password`` (the current one, checked under the
    lockout once the address is valid). The answer never says whether the address is taken:
    that is decided by ``settings_services.email_change_request``, by email."""

    email = forms.EmailField(
        label="New email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label="Current password",
        strip=False,
        max_length=PASSWORD_MAX_CHARS,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Asked again so that someone at an unattended screen cannot move your account.",
    )

    def __init__(self, *args, user: User, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"].strip())
        if email.lower() == self.user.email.lower():
            raise forms.ValidationError("That is already your email address.", code="unchanged")
        return email

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                self._current_password_checked(cleaned["password"], message="That is not your current password.")
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class ProfileForm(forms.Form):
    """The profile settings. ``avatar`` is only size-checked here: it is decoded by the view
    after every other field is valid and the upload limit is counted (issue 11: no decoding for
    a form that fails anyway, none beyond the limit)."""

    display_name = forms.CharField(
        label="Display name",
        max_length=50,
        required=False,
        help_text="Up to 50 characters; may be empty. Shown beside your username, never instead of it.",
    )
    avatar = forms.FileField(
        label="Avatar",
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text="A JPEG, PNG or WebP photo up to 10 MB; stored as a 256-pixel square without any metadata.",
    )
    avatar_remove = forms.BooleanField(label="Remove my avatar", required=False)
    time_zone = forms.ChoiceField(
        label="Time zone",
        help_text="Every date on the site, and any daily email, uses it.",
    )
    home_latitude = forms.DecimalField(
        label="Home latitude",
        required=False,
        min_value=-90,
        max_value=90,
        help_text="Optional, in degrees (north positive). Stored rounded to 0.2°, about 20 km.",
    )
    home_longitude = forms.DecimalField(
        label="Home longitude",
        required=False,
        min_value=-180,
        max_value=180,
        help_text="Optional, in degrees (east positive). Stored rounded to 0.2°, about 20 km.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name.replace("_", " ")) for name in time_zone_names()]

    def clean_display_name(self):
        name = " ".join(unicodedata.normalize("NFKC", self.cleaned_data["display_name"]).split())
        if any(unicodedata.category(character) in _REFUSED_CATEGORIES for character in name):
            raise forms.ValidationError("Use letters, digits, spaces and punctuation only.", code="invalid_characters")
        if len(name) > 50:
            raise forms.ValidationError("Keep your display name to 50 characters.", code="max_length")
        return name

    def clean_avatar(self):
        upload = self.cleaned_data.get("avatar")
        if upload:
            try:
                upload_size_check(upload)
            except ImageRejected as rejected:
                raise forms.ValidationError(str(rejected), code="size") from None
        return upload

    def avatar_process(self) -> bool:
        """Decode the valid form's avatar, if any, through the upload pipeline
        (``apps.core.uploads.image_process``: bounded decoding, no metadata) as an
        ``AVATAR_PX`` square and put the stored version (a JPEG ``ContentFile``) in
        ``cleaned_data["avatar"]``. Returns False, with the reason as an error on ``avatar``,
        when it is not an image we accept. Called by the view after the other fields are valid
        and the upload limit is counted (issue 11: nothing decoded for a refused request)."""
        upload = self.cleaned_data.get("avatar")
        if not upload:
            return True
        try:
            (processed,) = image_process(upload, sizes=[AVATAR_PX], square=True)
        except ImageRejected as rejected:
            self.add_error("avatar", str(rejected))
            return False
        self.cleaned_data["avatar"] = processed.content
        return True

    def clean(self):
        cleaned = super().clean()
        latitude, longitude = cleaned.get("home_latitude"), cleaned.get("home_longitude")
        if (latitude is None) != (longitude is None) and not self.has_error("home_latitude"):
            if not self.has_error("home_longitude"):
                raise forms.ValidationError("Give both the latitude and the longitude, or neither.", code="half")
        return cleaned
