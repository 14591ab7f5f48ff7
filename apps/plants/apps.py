from django.apps import AppConfig


class PlantsConfig(AppConfig):
    name = "apps.plants"
    label = "plants"

    def ready(self):
        from apps.core.uploads import files_follow_rows

        from .models import PlantIdentificationRequest, PlantPhoto

        # A request's photos and thumbnail go with it, however it is deleted (SPEC "Bad input").
        files_follow_rows(PlantIdentificationRequest, "thumbnail")
        files_follow_rows(PlantPhoto, "image")
