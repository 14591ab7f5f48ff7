from django.urls import path, register_converter

from . import views
from .care import feed_views
from .care import views as care_views
from .care.feed import CalendarTokenConverter

register_converter(CalendarTokenConverter, "care_calendar_token")

app_name = "plants"

urlpatterns = [
    path("identify/", views.identify, name="identify"),
    path("requests/", views.request_list, name="request-list"),
    path("requests/help/", views.help_identify, name="help-identify"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("requests/<int:pk>/delete/", views.request_delete, name="request-delete"),
    path("requests/<int:pk>/suggestions/", views.suggestion_create, name="suggestion-create"),
    path("requests/<int:pk>/suggestions/<int:suggestion_pk>/vote/", views.suggestion_vote, name="suggestion-vote"),
    path(
        "requests/<int:pk>/suggestions/<int:suggestion_pk>/accept/", views.suggestion_accept, name="suggestion-accept"
    ),
    path("requests/<int:pk>/species-page/", views.species_page_consent, name="species-page-consent"),
    path("species/", views.species_list, name="species-list"),
    path("species/autocomplete/", views.species_autocomplete, name="species-autocomplete"),
    path("species/<slug:slug>/", views.species_detail, name="species-detail"),
    path("species/<slug:slug>/care-card/", views.care_card_toggle, name="care-card-toggle"),
    path("care-cards/", views.care_card_list, name="care-card-list"),
    path("care-cards/<int:pk>/", views.care_card_update, name="care-card-update"),
    path("care-cards/<int:pk>/tasks/", views.care_card_tasks, name="care-card-tasks"),
    path("care/tasks/<int:pk>/done/", care_views.care_task_done, name="care-task-done"),
    path("care/tasks/<int:pk>/snooze/", care_views.care_task_snooze, name="care-task-snooze"),
    path("care/tasks/<int:pk>/edit/", care_views.care_task_edit, name="care-task-edit"),
    path("care/calendar/create/", feed_views.care_calendar_create, name="care-calendar-create"),
    path("care/calendar/reset/", feed_views.care_calendar_reset, name="care-calendar-reset"),
    path("care/calendar/<care_calendar_token:token>.ics", feed_views.care_calendar_feed, name="care-calendar-feed"),
]
