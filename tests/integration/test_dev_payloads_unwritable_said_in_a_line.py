"""`podium dev` met a home whose payloads/ could not be written (a file in its place, a
full disk) with a traceback in its log for each delivery ("the worker's pump failed"),
as for a bug of its own: the home's error is said in one line, naming the path and the
fix, and dev keeps serving."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.sqlite.db import HomeError
from podium.local.dev_server import DevServer
from podium.local.runtime import LocalRuntime

HERE = "tests.integration.test_dev_payloads_unwritable_said_in_a_line"


def big_output(event: dict[str, Any]) -> dict[str, Any]:
    """About 20 KB: an output the home keeps as a file under payloads/."""
    return {"rows": ["x" * 100] * 200}


def test_dev_says_an_unwritable_payloads_directory_in_a_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "payloads").write_text("not a directory")
    runtime = LocalRuntime(store="sqlite", home=home, virtual_time=False)
    runtime.start()
    try:
        runtime.push(
            {
                "name": "unstorable",
                "steps": [{"id": "a", "type": "lambda", "function": f"{HERE}:big_output"}],
            }
        )
        with caplog.at_level(logging.INFO), DevServer(runtime, port=0) as server:
            runtime.start_run("unstorable")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not server.failures:
                time.sleep(0.1)
            failures = list(server.failures)
    finally:
        runtime.stop()
    assert failures and all(isinstance(f, HomeError) for f in failures), failures
    said = [r for r in caplog.records if "payloads" in r.getMessage()]
    assert said, [r.getMessage() for r in caplog.records]
    assert not [r for r in caplog.records if r.exc_info], [
        r.getMessage() for r in caplog.records if r.exc_info
    ]
