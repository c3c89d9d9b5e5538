"""``podium dev`` while another process holds its home's write lock.

The SQLite home is shared with every other ``podium`` command on it (and anything else
that opens the file: a sqlite3 shell, a database browser). A write that waited the busy
timeout out raises ``HomeLocked``: nothing is wrong with the request or the server, the
lock may pass. So the answer is 503 with a Retry-After header and the lock's message
(which names the file and the fix), not the 500 of a bug. The API's own routes answer
it so through the api function (handlers/api.py maps TryAgainLater, which HomeLocked
is); this module shapes the same answer for the console's views, which dev serves itself.

A request is answered so within ``REQUEST_WAIT_MS``, not after the 30 s busy timeout the
engine's workers wait (a console page polling every 2 s would otherwise hang, and a
request queued behind a write waiting for the lock would wait as long again): dev serves
each request on a thread ``waiting_at_most`` that long (adapters/sqlite/db.py). In WAL
mode a read does not wait for the writer at all; what waits is a write (an action, a
push, a run started) and whatever request is queued behind it.
"""

from __future__ import annotations

from typing import Any

from podium.adapters.sqlite.db import HomeLocked

RETRY_AFTER_S = HomeLocked.retry_after_seconds
REQUEST_WAIT_MS = 2_000  # how long a request waits for the home's lock, then 503


def busy_body(exc: HomeLocked) -> dict[str, Any]:
    """The JSON error, shaped as the API's (``code``, ``message``, ``errors``)."""
    return {
        "code": exc.code,
        "message": f"{exc}; nothing is wrong with the request: retry in {RETRY_AFTER_S}s",
        "errors": [],
        "retry_after_seconds": RETRY_AFTER_S,
    }


def busy_headers() -> dict[str, str]:
    return {"content-type": "application/json", "Retry-After": str(RETRY_AFTER_S)}
