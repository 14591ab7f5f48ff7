from django.urls import path

from . import views

app_name = "forum"

urlpatterns = [
    path("", views.forum_index, name="index"),
    path("f/<slug:slug>/", views.forum_detail, name="forum-detail"),
    path("t/<int:pk>/", views.topic_detail, name="topic-detail"),
    path("p/<int:pk>/", views.post_permalink, name="post-permalink"),
]
