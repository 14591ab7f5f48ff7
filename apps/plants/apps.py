from django.apps import AppConfig


class PlantsConfig(AppConfig):
    name = "apps.plants"
    label = "plants"

    def ready(self):
        from apps.accounts.personal_data import personal_data_source_register
        from apps.accounts.signals_sent import home_hemisphere_changed
        from apps.core.uploads import files_follow_rows
        from apps.notifications.services import notifications_follow_rows

        from .care.reminder_personal_data import CARE_REMINDERS_SOURCE
        from .models import PlantIdentificationRequest, PlantPhoto
        from .personal_data import PLANTS_SOURCE

        # A request's photos and thumbnail go with it, however it is deleted (SPEC "Bad input").
        files_follow_rows(PlantIdentificationRequest, "thumbnail")
        files_follow_rows(PlantPhoto, "image")
        # No notification outlives its request, however the request is deleted (issue 12).
        notifications_follow_rows(PlantIdentificationRequest, group_key=lambda row: f"plants.request:{row.pk}")
        # Tells the accounts app what this app holds about a gardener, for exports and account
        # deletion (apps.accounts.personal_data); registered once the app registry is ready.
        personal_data_source_register(PLANTS_SOURCE)
        personal_data_source_register(CARE_REMINDERS_SOURCE)
        # Seasonal care tasks follow the gardener's hemisphere (issue 14).
        home_hemisphere_changed.connect(_care_tasks_follow_hemisphere, dispatch_uid="plants.care.hemisphere")


def _care_tasks_follow_hemisphere(sender, user, southern, **kwargs):
    from .care.services import care_tasks_follow_hemisphere

    care_tasks_follow_hemisphere(owner=user, southern=southern)
