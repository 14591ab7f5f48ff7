from django.apps import AppConfig


class ForumConfig(AppConfig):
    name = "apps.forum"
    label = "forum"

    def ready(self):
        from apps.accounts.personal_data import personal_data_source_register
        from apps.core.uploads import files_follow_rows

        from .models import Post
        from .personal_data import FORUM_SOURCE

        # A post's image goes when the row does (a topic, forum or user deleted). Soft deletes
        # remove it in services._post_delete (SPEC "Bad input").
        files_follow_rows(Post, "image")
        # Tells the accounts app what this app holds about a gardener, for exports and account
        # deletion (apps.accounts.personal_data); registered once the app registry is ready.
        personal_data_source_register(FORUM_SOURCE)
