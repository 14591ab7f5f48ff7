from django.urls import path

from . import views, views_notifications, views_search

app_name = "forum"

urlpatterns = [
    path("", views.forum_index, name="index"),
    path("f/<slug:slug>/", views.forum_detail, name="forum-detail"),
    path("t/<int:pk>/", views.topic_detail, name="topic-detail"),
    path("p/<int:pk>/", views.post_permalink, name="post-permalink"),
    path("f/<slug:slug>/new/", views.topic_create, name="topic-create"),
    path("t/<int:pk>/reply/", views.reply_create, name="reply-create"),
    path("t/<int:pk>/moderate/", views.topic_moderate, name="topic-moderate"),
    path("t/<int:pk>/move/", views.topic_move, name="topic-move"),
    path("p/<int:pk>/edit/", views.post_edit, name="post-edit"),
    path("p/<int:pk>/delete/", views.post_delete, name="post-delete"),
    path("p/<int:pk>/report/", views.post_report, name="post-report"),
    path("search/", views_search.forum_search, name="search"),
    path("notifications/", views_notifications.notification_list, name="notifications"),
    path("notifications/badge/", views_notifications.notification_badge, name="notification-badge"),
    path("notifications/read-all/", views_notifications.notifications_read_all, name="notifications-read-all"),
    path("notifications/<int:topic_id>/open/", views_notifications.notification_open, name="notification-open"),
]
