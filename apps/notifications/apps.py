from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Notifications for every domain (SPEC "Layout": a shared domain piece in the accounts
    layer). Forum and plants write through ``services``; neither imports the other."""

    name = "apps.notifications"
    label = "notifications"

    def ready(self):
        from apps.accounts.personal_data import personal_data_source_register

        from .email_personal_data import NOTIFICATION_EMAIL_SOURCE
        from .personal_data import NOTIFICATIONS_SOURCE

        # Tells the accounts app what this app holds about a gardener (notifications; email
        # choices and digests), for exports and account deletion (apps.accounts.personal_data).
        personal_data_source_register(NOTIFICATIONS_SOURCE)
        personal_data_source_register(NOTIFICATION_EMAIL_SOURCE)
