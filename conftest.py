"""Suite-wide rules: real services, isolated media and Redis, and no silent skips under CI."""

import os

import pytest


def pytest_runtest_logreport(report):
    if "/e2e/" not in f"/{report.nodeid}" and not report.nodeid.startswith("e2e/"):
        return
    counts = _counts()
    if report.when == "call":
        counts["passed" if report.passed else "failed" if report.failed else "skipped"] += 1
    elif report.skipped:
        counts["skipped"] += 1
    elif report.failed:
        counts["failed"] += 1


_COUNTS = {"passed": 0, "failed": 0, "skipped": 0}


def _counts():
    return _COUNTS


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts = _counts()
    ran = counts["passed"] + counts["failed"]
    terminalreporter.write_line(
        f"e2e: {ran} browser tests ran ({counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped)"
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
    """Uploaded and generated files go to a per-test folder, never the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with an empty Redis db of its own number (TEST_REDIS_URL, db 9)."""
    from django.core.cache import cache
    from django_redis import get_redis_connection

    get_redis_connection("default").flushdb()
    yield
    cache.close()
