from django.apps import AppConfig


class ForumConfig(AppConfig):
    name = "apps.forum"
    label = "forum"

    def ready(self):
        from apps.core.uploads import files_follow_rows

        from .models import Post

        # A post's image goes when the row does (a topic, forum or user deleted). Soft deletes
        # remove it in services._post_delete (SPEC "Bad input").
        files_follow_rows(Post, "image")
