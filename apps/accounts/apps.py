from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self):
        # Connects the signal receivers and registers this app's personal data (exports and
        # account deletion, personal_data.py): in ready(), Django's documented place, so both
        # happen once, after the app registry is ready.
        from apps.core.uploads import files_follow_rows

        from . import signals  # noqa: F401 (imported to connect its receivers)
        from .data_services import ACCOUNTS_SOURCE
        from .models import User
        from .personal_data import personal_data_source_register

        personal_data_source_register(ACCOUNTS_SOURCE)
        # An avatar's file goes when its user row does (the admin's delete of an account with no
        # posts, a shell); account deletion keeps the row, so it removes the file itself.
        files_follow_rows(User, "avatar")
