"""`podium dev` on a home that cannot be used (a full disk, a damaged file): each request
that meets it is answered 503 with the home's own line, naming the file and the fix
(docs/architecture.md, "Local home (SQLite)"), as the CLI says it, not a 500 "report it
to the operators" with a traceback in dev's log. A locked home keeps its own 503 with
Retry-After (tests/integration/test_dev_home_locked.py)."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.sqlite import db as sqlite_db
from podium.local.dev_server import DevServer
from podium.local.runtime import LocalRuntime

WORKFLOW = {"name": "ok", "steps": [{"id": "a", "type": "noop"}]}


def _on_a_new_thread(call: Callable[[], Any]) -> Any:
    """``call`` on a thread of its own, as `podium dev` serves each request (so it opens
    its own connection to the home)."""
    out: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            out.append(call())
        except BaseException as exc:  # the test reads it
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]
    return out[0]


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[tuple[LocalRuntime, DevServer]]:
    """`podium dev`'s runtime on a home on disk, with one run of ``ok``, and its server
    (not serving: the test calls its request methods as a request thread does)."""
    rt = LocalRuntime(store="sqlite", home=tmp_path / "home", virtual_time=False)
    rt.start()
    server: DevServer | None = None
    try:
        rt.push(WORKFLOW)
        rt.pump(run_id=rt.start_run("ok").run_id)
        server = DevServer(rt, port=0)
        yield rt, server
    finally:
        if server is not None:
            server.httpd.server_close()
        rt.stop()


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info]


def test_dev_api_on_a_full_disk_names_the_home_not_an_internal_error(
    dev: tuple[LocalRuntime, DevServer],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The brief of the home and docs/architecture.md ("Local home (SQLite)"): a home that
    cannot be used (full, read-only, damaged) is said in a line naming the file and what
    to do; the CLI does (cli/main.py catches HomeError), `podium dev`'s workers do
    (dev_server._pump_loop). A request to `podium dev` that meets a full disk (SQLite's
    "database or disk is full", here by capping the file at its size now) got 500
    {"code": "internal_error", "message": "internal error; report request id ... to the
    operators"} with the HomeError's traceback logged by handlers/api.py: the message
    that names the file and says to check the disk never reached the caller."""
    rt, server = dev
    assert rt.database is not None
    with rt.store.db.query() as conn:  # type: ignore[union-attr]
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    configure = sqlite_db.Database._configure

    def full_disk(self: sqlite_db.Database, conn: sqlite3.Connection) -> None:
        configure(self, conn)
        conn.execute(f"PRAGMA max_page_count = {pages}")  # no room to grow: SQLITE_FULL

    monkeypatch.setattr(sqlite_db.Database, "_configure", full_disk)
    body = json.dumps(
        {
            "name": "bigger",
            "description": os.urandom(20_000).hex(),  # does not fit in the pages left
            "steps": [{"id": "a", "type": "noop"}],
        }
    ).encode()
    with caplog.at_level(logging.INFO):
        status, _, answer = _on_a_new_thread(
            lambda: server.call_api(
                "POST",
                "/workflows",
                {"host": "127.0.0.1", "content-type": "application/json"},
                body,
            )
        )
    said = json.loads(answer)
    assert status != 201, said
    assert str(rt.database) in said["message"] and "check the disk" in said["message"], (
        status,
        said,
    )
    assert said["code"] != "internal_error", said
    assert not _tracebacks(caplog), _tracebacks(caplog)
    # The server's fault, not the request's, and one a retry does not fix by itself.
    assert (status, said["code"]) == (503, "home_unusable"), (status, said)


def _damage_the_runs_table(database: Path) -> None:
    """Garbage over the runs table's root page, as test_cli_home_errors damages a home."""
    with sqlite3.connect(database) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'runs'").fetchone()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with database.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xde\xad\xbe\xef" * (page_size // 4))


def test_dev_console_view_of_a_damaged_home_names_the_file_not_internal_error(
    dev: tuple[LocalRuntime, DevServer], caplog: pytest.LogCaptureFixture
) -> None:
    """docs/architecture.md: a damaged home is "said in one line naming the file"; the CLI
    says "PATH is damaged (...): restore it from a copy, move it away ...". The same home
    read through `podium dev`'s console (GET /api/console/runs, the console's first
    page) answered 500 {"code": "internal_error", "message": "Internal Server Error"},
    and logged "a console view failed" with a traceback (dev_server.console_view catches
    HomeLocked only): the console never says what is wrong, nor what to do."""
    rt, server = dev
    assert rt.database is not None
    _damage_the_runs_table(rt.database)
    with caplog.at_level(logging.INFO):
        status, said = _on_a_new_thread(lambda: server.console_view("/api/console/runs", {}))
    assert f"{rt.database} is damaged" in said["message"], (status, said)
    assert "restore it from a copy" in said["message"], said
    assert said["code"] != "internal_error", said
    assert not _tracebacks(caplog), _tracebacks(caplog)


def test_served_a_damaged_home_answers_503_without_retry_after_and_logs_no_traceback(
    dev: tuple[LocalRuntime, DevServer], caplog: pytest.LogCaptureFixture
) -> None:
    """Over HTTP, with the workers on: the console's view and the API's run list answer
    503 with the line (no Retry-After: a damaged file does not mend by waiting, unlike a
    lock), and neither the requests nor the workers' housekeeping log a traceback."""
    rt, server = dev
    assert rt.database is not None
    _damage_the_runs_table(rt.database)
    with caplog.at_level(logging.INFO), server:
        for path in ("/api/console/runs", "/workflows/ok/runs"):
            request = urllib.request.Request(server.url + path)
            with pytest.raises(urllib.error.HTTPError) as answered:
                urllib.request.urlopen(request, timeout=30)
            said = json.loads(answered.value.read())
            assert answered.value.code == 503, (path, said)
            assert answered.value.headers.get("Retry-After") is None, path
            assert said["code"] == "home_unusable", (path, said)
            assert f"{rt.database} is damaged" in said["message"], (path, said)
    assert not _tracebacks(caplog), _tracebacks(caplog)
