"""Settings package: ``base`` holds what every environment shares; ``local``, ``test`` and
``production`` each start from it. ``DJANGO_SETTINGS_MODULE`` picks one (``manage.py`` defaults
to ``portal.settings.local``, pytest to ``portal.settings.test``)."""
