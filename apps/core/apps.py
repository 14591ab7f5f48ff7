from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self):
        # Registers the system checks: imported in ready(), Django's documented place, so the
        # registration happens once, after the app registry is ready.
        from . import checks  # noqa: F401 (imported to register its system checks)
