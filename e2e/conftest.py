"""Browser journeys: Playwright's sync API driving Debian's Chromium against pytest-django's
``live_server`` (SPEC "Stack": ``/usr/bin/chromium``; ``playwright install`` is never used)."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio event loop in the main thread; Django would otherwise
# refuse the ORM calls the tests make to build their data ("SynchronousOnlyOperation").
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROJECT_DIR = Path(__file__).resolve().parent.parent
OUTPUT_DIR = PROJECT_DIR / "test-output"


def _is_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run; each test gets its own context (``page``)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing; install Debian's package: apt-get install -y chromium"
        if _is_ci():
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies, no storage) and page per test, closed after it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def console_errors(page):
    """Console errors and CSP violations the page reports while the test runs.

    Chromium logs a CSP violation as a console error ("Refused to ..." in older builds, "...
    violates the following Content Security Policy directive ..." in current ones); the
    ``securitypolicyviolation`` DOM event is recorded too, so neither wording is relied on.
    """
    errors: list[str] = []

    def on_console(message):
        if message.type != "error":
            return
        url = message.location.get("url", "")
        errors.append(f"console: {message.text} ({url or 'no url'})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.expose_function("__reportCspViolation", lambda text: errors.append(f"csp: {text}"))
    page.add_init_script(
        """document.addEventListener("securitypolicyviolation", (event) => {
             window.__reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI}`);
           });"""
    )
    return errors


@pytest.fixture
def output_dir() -> Path:
    """``test-output/`` in the project (git-ignored): screenshots of the journeys."""
    OUTPUT_DIR.mkdir(exist_ok=True)
    return OUTPUT_DIR


@pytest.fixture
def real_photos(settings) -> list[Path]:
    """The real, openly licensed plant photos of ``PORTAL_PHOTOS_DIR`` (SPEC "Data").

    Missing folder: a skip on a developer's machine, a failure under ``CI=true``.
    """
    folder = Path(settings.PORTAL_PHOTOS_DIR)
    photos = sorted(folder.glob("*.jpg")) if folder.is_dir() else []
    if not photos:
        message = f"No *.jpg photos in PORTAL_PHOTOS_DIR={folder} (SPEC 'Data': ../shared/data/photos)"
        if _is_ci():
            pytest.fail(message + "; CI=true needs them")
        pytest.skip(message)
    return photos


@pytest.fixture(autouse=True)
def _forum_state_checked(request):
    """After each journey, before the live server's tables are flushed: ``forum_recount
    --check`` must report no drift (issue 9: every transition a browser made kept the forum's
    counters and last activity equal to their recount)."""
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("live_server")
    yield
    from django.core.management import call_command

    call_command("forum_recount", "--check")
