"""Browser tests: the test app served on a real port, driven by Debian's Chromium.

Every test here is marked ``e2e``. The app is the one from tests/conftest.py (shared test
database, SQLite or PostgreSQL, emptied after each test); Playwright cannot download its own
browsers here, so it launches /usr/bin/chromium.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
E2E_DIR = Path(__file__).resolve().parent
# not under test-results/, which pytest-playwright empties at the start of every session
SCREENS_DIR = E2E_DIR.parents[1] / "test-screens"  # gitignored


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/e2e (this hook sees the whole session's items)."""
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options (--headed, --slowmo...) plus the system Chromium."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    headed = browser_type_launch_args.get("headless") is False  # pytest --headed
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [arg for arg in CHROMIUM_ARGS if not (headed and arg == "--headless")],
    }


def serve(app) -> Iterator[str]:
    """Serve `app` on a free local port until the generator is closed; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """Serve the test app on a free local port; yield its base URL, e.g. http://127.0.0.1:PORT.

    Emailed links point at the app's PUBLIC_URL (http://vouch.test): take the path with
    tests.factories.link_in(body) and prepend this URL.
    """
    yield from serve(app)


@pytest.fixture
def screenshot(page: Page) -> Callable[[str], Path]:
    """screenshot("invite-results") saves the whole page to test-screens/NAME.png."""

    def take(name: str) -> Path:
        SCREENS_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENS_DIR / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
