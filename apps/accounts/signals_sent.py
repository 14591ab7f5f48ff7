"""Signals the accounts app sends, for apps above it to act on without accounts importing them
(SPEC "Layout": accounts imports only core)."""

from django.dispatch import Signal

# The gardener's home location moved to the other hemisphere (``None`` counts as northern);
# sent by ``settings_services.profile_update`` inside its transaction with ``user`` (the saved
# row) and ``southern`` (bool). ``apps.plants`` moves seasonal care tasks to the new season.
home_hemisphere_changed = Signal()
