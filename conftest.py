"""Suite-wide rules: real services, isolated media and Redis, and no silent skips under CI."""

import os

import pytest


def pytest_runtest_logreport(report):
    if "/e2e/" not in f"/{report.nodeid}" and not report.nodeid.startswith("e2e/"):
        return
    counts = _counts()
    counts["seconds"] += report.duration  # setup, call and teardown: the e2e run's wall time
    if report.when == "call":
        counts["passed" if report.passed else "failed" if report.failed else "skipped"] += 1
    elif report.skipped:
        counts["skipped"] += 1
    elif report.failed:
        counts["failed"] += 1


_COUNTS = {"passed": 0, "failed": 0, "skipped": 0, "seconds": 0.0}


def _counts():
    return _COUNTS


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts = _counts()
    ran = counts["passed"] + counts["failed"]
    terminalreporter.write_line(
        f"e2e: {ran} browser tests ran ({counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped) in {counts['seconds']:.0f} s"
    )


def pytest_sessionfinish(session, exitstatus):
    """Under CI=true a skipped test fails the run: a skip is not a pass (STYLE "Tests")."""
    if os.environ.get("CI", "").lower() != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        if reporter:
            reporter.write_line(f"CI=true: {skipped} test(s) were skipped; failing the run.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Uploaded and generated files go to a per-test folder, never the project's media/ (data
    exports too, never the project's private/)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_EXPORTS_ROOT = tmp_path / "data_exports"
    exports = {**settings.STORAGES["data_exports"], "OPTIONS": {"location": settings.DATA_EXPORTS_ROOT}}
    settings.STORAGES = {**settings.STORAGES, "data_exports": exports}


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with an empty Redis db of its own number (TEST_REDIS_URL, db 9)."""
    from django.core.cache import cache
    from django_redis import get_redis_connection

    get_redis_connection("default").flushdb()
    yield
    cache.close()


def ensure_reference_data() -> None:
    """Put back what migrations load (the species catalog, the moderators group with its
    permission) if a transactional test flushed it."""
    from django.contrib.auth.models import Group, Permission

    from apps.core.permissions import MODERATORS_GROUP
    from apps.plants.catalog import catalog_entries, load_catalog
    from apps.plants.models import PlantSpecies

    if PlantSpecies.objects.count() < len(catalog_entries()):
        load_catalog(PlantSpecies)
    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    permission = Permission.objects.filter(content_type__app_label="core", codename="use_moderation_tools").first()
    if permission is not None:
        group.permissions.add(permission)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Transactional tests (threads, processes, the live server) end by flushing every table,
    migration data included. After their fixtures are torn down (the flush is one of them),
    put the reference data back for the tests that follow."""
    result = yield
    marker = item.get_closest_marker("django_db")
    # With no next test the session's teardown has already dropped the test database.
    if nextitem is not None and marker is not None and marker.kwargs.get("transaction"):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            ensure_reference_data()
    return result
