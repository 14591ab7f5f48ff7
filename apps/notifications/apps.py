from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Notifications for every domain (SPEC "Layout": a shared domain piece in the accounts
    layer). Forum and plants write through ``services``; neither imports the other."""

    name = "apps.notifications"
    label = "notifications"
