from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self):
        # Registers the system checks: imported in ready(), Django's documented place, so the
        # registration happens once, after the app registry is ready.
        from django.core.signals import got_request_exception

        from . import checks  # noqa: F401 (imported to register its system checks)
        from .middleware import database_unavailable_mark

        # Marks a request whose exception was a database outage (DatabaseUnavailableMiddleware).
        got_request_exception.connect(database_unavailable_mark, dispatch_uid="core.database_unavailable_mark")
