"""Forum admin: for looking, not for changing state.

Every forum transition goes through ``apps.forum.services``, which keeps counters, last
activity and the audit log true in the same transaction (``forum_recount --check``). A change
in the admin would bypass that, so the state flags, counters and relations are read-only here,
and adding or deleting forum content is left to the site (moderators delete with a reason,
audited). Forums themselves (name, description, order) are edited here.
"""

from django.contrib import admin

from apps.accounts.panel_versions import PanelVersionAdminMixin

from .models import Forum, Post, Report, Topic


class _ReadOnlyContent(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # The view-only page shows every relation; load them with the row.
        return super().get_queryset(request).select_related(*self.list_select_related)


@admin.register(Forum)
class ForumAdmin(PanelVersionAdminMixin, admin.ModelAdmin):
    list_display = ("name", "position", "topic_count", "post_count", "last_post_at")
    prepopulated_fields = {"slug": ("name",)}
    fields = (
        "name",
        "slug",
        "description",
        "position",
        "topic_count",
        "post_count",
        "last_topic",
        "last_poster",
        "last_post_at",
    )
    readonly_fields = ("topic_count", "post_count", "last_topic", "last_poster", "last_post_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("last_topic", "last_poster")

    def has_delete_permission(self, request, obj=None):
        return False

    def panel_user_ids(self, obj):
        # The recent-activity panel names the forum of each of a gardener's topics and replies.
        return Post.objects.filter(topic__forum=obj).values("poster_id").distinct()


@admin.register(Topic)
class TopicAdmin(_ReadOnlyContent):
    list_display = (
        "subject",
        "forum",
        "poster",
        "is_approved",
        "is_hidden",
        "is_pinned",
        "is_locked",
        "post_count",
        "last_post_at",
    )
    list_filter = ("is_approved", "is_hidden", "is_deleted", "is_pinned", "is_locked", "forum")
    list_select_related = ("forum", "poster", "last_poster")
    search_fields = ("subject",)


@admin.register(Post)
class PostAdmin(_ReadOnlyContent):
    list_display = ("id", "topic", "poster", "is_approved", "is_hidden", "is_deleted", "created_at")
    list_filter = ("is_approved", "is_hidden", "is_deleted")
    list_select_related = ("topic", "poster")


@admin.register(Report)
class ReportAdmin(_ReadOnlyContent):
    list_display = ("id", "post", "reporter", "reason", "status", "created_at")
    list_filter = ("status", "reason")
    list_select_related = ("post", "reporter")
