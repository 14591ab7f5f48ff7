"""The settings area's sub-navigation (``templates/accounts/_settings_nav.html``), one entry a
line so each settings page adds itself with one line here. A page shows it with
``{% load settings_nav %}{% settings_nav "key" %}``, ``key`` being its entry's."""

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class SettingsNavEntry:
    """``key`` names the entry for ``aria-current``; ``target`` is a URL name
    (``"accounts:settings-email"``) or, for a page another branch adds, its path."""

    key: str
    label: str
    target: str

    @property
    def href(self) -> str:
        return self.target if self.target.startswith("/") else reverse(self.target)


SETTINGS_NAV = [
    SettingsNavEntry("profile", "Profile", "accounts:settings"),
    SettingsNavEntry("email", "Email", "accounts:settings-email"),
    SettingsNavEntry("password", "Password", "accounts:password-change"),
    SettingsNavEntry("sessions", "Sessions", "accounts:settings-sessions"),
    SettingsNavEntry("two-factor", "Two-factor", "accounts:two-factor"),
    # The notifications app's page (issue 12); a path, as accounts does not import that app.
    SettingsNavEntry("notifications", "Notifications", "/accounts/settings/notifications/"),
    SettingsNavEntry("data", "Your data", "accounts:settings-data"),
]
