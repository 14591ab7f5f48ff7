from django.apps import AppConfig


class ForumConfig(AppConfig):
    name = "apps.forum"
    label = "forum"

    def ready(self):
        # Tells the accounts app what this app holds about a gardener, for exports and account
        # deletion (apps.accounts.personal_data); registered once the app registry is ready.
        from apps.accounts.personal_data import personal_data_source_register

        from .personal_data import FORUM_SOURCE

        personal_data_source_register(FORUM_SOURCE)
