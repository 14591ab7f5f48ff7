"""Fixtures of the plant tests: ``fake_providers`` (local HTTP servers speaking Plant.id's and
Pl@ntNet's documented formats, ``tests/plants/fake_providers.py``)."""

from .fake_providers import fake_providers

__all__ = ["fake_providers"]
