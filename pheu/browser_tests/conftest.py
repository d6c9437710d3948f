"""Browser tests: a real Chromium (Debian's, not a Playwright download) driving pytest-django's live server.

Run with ``make test-browser`` (``DJANGO_ALLOW_ASYNC_UNSAFE=1 pytest -m browser -p no:xdist``). Playwright's
sync API runs an event loop in the test thread, so Django's guard against ORM calls from async contexts has
to be lifted for the test body (the server itself runs in its own thread). Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

CHROMIUM = os.environ.get("PHEU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium not found at {CHROMIUM} (set PHEU_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def countries(transactional_db) -> None:
    """The countries, loaded by a migration, are flushed after each browser test (a transactional test
    empties every table): load them again before each one."""
    from pheu.contacts.countries import iter_countries
    from pheu.contacts.models import Country

    if not Country.objects.filter(code="VN").exists():
        Country.objects.bulk_create(
            [
                Country(
                    code=r.code, code3=r.code3, name_en=r.name_en, name_vi=r.name_vi, name_keys=r.name_keys
                )
                for r in iter_countries()
            ],
            ignore_conflicts=True,
        )


@pytest.fixture
def open_page(chromium, live_server, transactional_db) -> Iterator[Callable[..., object]]:
    """``open_page(viewport=DESKTOP)`` → a new browser page (own cookies) on the live server."""
    contexts = []

    def make(viewport: dict[str, int] = DESKTOP):
        context = chromium.new_context(
            base_url=live_server.url, viewport=viewport, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """``screenshot(page, "name")`` saves ``test-artifacts/<name>.png`` (whole page) and returns its path."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
