from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo and benchmark data (``manage.py seed_demo``), the top layer: it may import every
    app and none imports it (SPEC "Layout"; as Zulip keeps ``populate_db`` in ``zilencer``).
    No models of its own: it writes the other apps' rows."""

    name = "apps.demo"
    label = "demo"
