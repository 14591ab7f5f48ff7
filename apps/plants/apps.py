from django.apps import AppConfig


class PlantsConfig(AppConfig):
    name = "apps.plants"
    label = "plants"

    def ready(self):
        # Tells the accounts app what this app holds about a gardener, for exports and account
        # deletion (apps.accounts.personal_data); registered once the app registry is ready.
        from apps.accounts.personal_data import personal_data_source_register

        from .personal_data import PLANTS_SOURCE

        personal_data_source_register(PLANTS_SOURCE)
