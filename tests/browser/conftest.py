"""Browser tests: a real ``podium dev`` server, driven in headless Chromium by Playwright.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``scripts/test``) or the one
named by ``$PODIUM_CHROMIUM``; Playwright's own browser downloads are never used."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from podium.local.dev_server import DevServer, open_runtime

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def find_chromium() -> str | None:
    for candidate in (
        os.environ.get("PODIUM_CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        "/usr/bin/chromium",
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    path = find_chromium()
    if path is None:
        pytest.skip("no chromium found: install Debian's chromium (scripts/test does)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=["--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@contextmanager
def dev_server(home: Path) -> Iterator[DevServer]:
    """``podium dev`` on a free port, over a fresh local runtime.

    Started inside a test (not a fixture) it also captures what steps print: pytest puts
    its own ``sys.stdout`` back between a test's phases, which undoes the runtime's."""
    runtime = open_runtime(home)
    runtime.start()
    try:
        with DevServer(runtime, port=0) as server:
            yield server
        assert not server.failures, server.failures
    finally:
        runtime.stop()


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevServer]:
    with dev_server(tmp_path / "home") as server:
        yield server


def call(server: DevServer, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        server.url + path, data=data, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def expect(target: Any) -> Any:
    """Playwright's ``expect``, imported when used (Playwright may not be installed).

    Wait on the page with it (a locator's count, text, attribute), not with
    ``page.wait_for_function("...")``: a predicate given as a string is evaluated with
    eval() inside the page, which the console's Content-Security-Policy refuses (it has
    no 'unsafe-eval', as the deployed page has none). Locator assertions poll without it."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
