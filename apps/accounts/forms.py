"""Sign-up and sign-in forms."""

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from .backends import canonical_login_name
from .models import User, username_validator


class SignInForm(AuthenticationForm):
    """Django's sign-in form, labelled for "username or email" (SPEC ``/accounts/login/``)."""

    username = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )
    error_messages = {
        "invalid_login": "That username or email and password do not match an account.",
        "inactive": "That username or email and password do not match an account.",
    }


class SignUpForm(forms.Form):
    """SPEC ``/accounts/signup/``: ``username`` (no ``@``), ``email``, ``password1``, ``password2``.

    Only the shape of the input is validated here; whether the username or email is taken is
    decided by the sign-up service, whose answer never reveals it.
    """

    username = forms.CharField(
        max_length=30,
        validators=[username_validator],
        help_text="Up to 30 characters: letters, digits and . + - _ (no @).",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not a common password.",
    )
    password2 = forms.CharField(
        label="Password (again)", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
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
