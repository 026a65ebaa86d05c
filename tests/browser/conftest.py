"""Browser fixtures: the real app on a loopback port, driven by Chromium.

The browser is Debian's Chromium (``/usr/bin/chromium``) under Playwright; no
browser is ever downloaded. Every request to a host other than 127.0.0.1 is
aborted, so map tiles never load and no test depends on the internet.
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from app import create_app
from app.config import TestingConfig
from tests.app.helpers import commit_grid_and_routing

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE_VIEWPORT = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium package "
                    "(scripts/system-deps.sh)", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_app(database_url, clean_db, tmp_path):
    """The app over committed test data: the 2x2 ward grid and its routing."""
    commit_grid_and_routing(clean_db)
    settings = {k: getattr(TestingConfig, k) for k in dir(TestingConfig)
                if k.isupper()}
    app = create_app({**settings, "DATABASE_URL": database_url,
                      "MEDIA_DIR": str(tmp_path / "media")})
    yield app
    app.extensions["wardwatch_db"].engine.dispose()


@pytest.fixture
def live_server(live_app):
    """Serve ``live_app`` from a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def _loopback_only(route) -> None:
    if urlsplit(route.request.url).hostname == "127.0.0.1":
        route.continue_()
    else:
        route.abort()


def _new_page(browser, base_url: str, **options):
    context = browser.new_context(base_url=base_url, viewport=PHONE_VIEWPORT,
                                  locale="en-GB", **options)
    context.route("**/*", _loopback_only)
    return context, context.new_page()


@pytest.fixture
def page(browser, live_server):
    """A phone-sized page on the live app."""
    context, page = _new_page(browser, live_server)
    yield page
    context.close()


@pytest.fixture
def script_errors(page) -> list:
    """Uncaught script errors of ``page``, collected as they happen."""
    errors: list = []
    page.on("pageerror", lambda error: errors.append(error))
    return errors


@pytest.fixture
def page_without_js(browser, live_server):
    context, page = _new_page(browser, live_server, java_script_enabled=False)
    yield page
    context.close()
