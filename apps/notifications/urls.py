from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("badge/", views.notification_badge, name="badge"),
    path("read-all/", views.notifications_read_all, name="read-all"),
    path("<str:group_key>/open/", views.notification_open, name="open"),
]
