from django.apps import AppConfig


class ForumConfig(AppConfig):
    name = "apps.forum"
    label = "forum"

    def ready(self):
        from apps.accounts.personal_data import personal_data_source_register
        from apps.core.uploads import files_follow_rows
        from apps.notifications.services import notifications_follow_rows

        from .models import Post, Topic
        from .personal_data import FORUM_SOURCE

        # A post's image goes when the row does (a topic, forum or user deleted). Soft deletes
        # remove it in services._post_delete (SPEC "Bad input").
        files_follow_rows(Post, "image")
        # Notifications go with what they point at when a row is really deleted (the admin, a
        # forum's cascade); soft deletes hide them through the visibility sync instead.
        notifications_follow_rows(Post, target_key=lambda post: f"forum.post:{post.pk}")
        notifications_follow_rows(Topic, group_key=lambda topic: f"forum.topic:{topic.pk}")
        # Tells the accounts app what this app holds about a gardener, for exports and account
        # deletion (apps.accounts.personal_data); registered once the app registry is ready.
        personal_data_source_register(FORUM_SOURCE)
