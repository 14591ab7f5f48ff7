from django.urls import path

from . import views

app_name = "plants"

urlpatterns = [
    path("requests/", views.request_list, name="request-list"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("species/", views.species_list, name="species-list"),
    path("species/<slug:slug>/", views.species_detail, name="species-detail"),
    path("care-cards/", views.care_card_list, name="care-card-list"),
]
