"""Helpers shared by the browser journeys."""

from axe_playwright_python.sync_playwright import Axe


def assert_no_axe_violations(page) -> None:
    """Run axe-core on the current page and fail with its report when it finds violations."""
    results = Axe().run(page)
    assert results.violations_count == 0, f"axe on {page.url}:\n{results.generate_report()}"


def submit_sign_in(page, *, username: str, password: str) -> None:
    """Fill and submit the sign-in form of the current page (waits for the next page)."""
    form = page.locator("main form")
    form.locator('input[name="username"]').fill(username)
    form.locator('input[name="password"]').fill(password)
    with page.expect_navigation():
        form.get_by_role("button", name="Sign in").click()
