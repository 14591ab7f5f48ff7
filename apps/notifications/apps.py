from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Notifications for every domain (SPEC "Layout": a shared domain piece in the accounts
    layer). Forum and plants write through ``services``; neither imports the other."""

    name = "apps.notifications"
    label = "notifications"

    def ready(self):
        from apps.accounts.personal_data import personal_data_source_register

        from .personal_data import NOTIFICATIONS_SOURCE

        # Tells the accounts app what this app holds about a gardener, for exports and account
        # deletion (apps.accounts.personal_data); registered once the app registry is ready.
        personal_data_source_register(NOTIFICATIONS_SOURCE)
