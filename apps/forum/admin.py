from django.contrib import admin

from .models import Forum, Post, Report, Topic


@admin.register(Forum)
class ForumAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "topic_count", "post_count", "last_post_at")
    prepopulated_fields = {"slug": ("name",)}
    raw_id_fields = ("last_topic", "last_poster")


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("subject", "forum", "poster", "is_approved", "is_pinned", "is_locked", "post_count", "last_post_at")
    list_filter = ("is_approved", "is_pinned", "is_locked", "forum")
    list_select_related = ("forum", "poster")
    raw_id_fields = ("poster", "last_poster")
    search_fields = ("subject",)


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("id", "topic", "poster", "is_approved", "is_hidden", "is_deleted", "created_at")
    list_filter = ("is_approved", "is_hidden", "is_deleted")
    list_select_related = ("topic", "poster")
    raw_id_fields = ("topic", "poster")


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("id", "post", "reporter", "reason", "status", "created_at")
    list_filter = ("status", "reason")
    list_select_related = ("post", "reporter")
    raw_id_fields = ("post", "reporter")
