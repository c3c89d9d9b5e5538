"""The console's iteration grid of a loop step that ended without an iteration, on a
real ``podium dev`` in Chromium.

A SUCCEEDED foreach over an empty list (``count: 0``) said "No iteration yet." under a
header "none yet", as if iterations might still come. An ended loop now says it has
none, and why: a foreach had nothing to iterate over, a while's condition was false
before its first iteration, a failed loop ended before starting any.

Found by review R30f."""

from __future__ import annotations

from typing import Any

import pytest

from podium.local.dev_server import DevServer
from tests.browser.test_console import _finish, _start

EMPTY_FOREACH = {
    "name": "empty_foreach",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": []},
            "steps": [{"id": "work", "type": "noop"}],
        }
    ],
}
FALSE_WHILE = {
    "name": "false_while",
    "steps": [
        {
            "id": "each",
            "type": "while",
            "state": {"n": 5},
            "condition": "state.n < 3",
            "steps": [{"id": "work", "type": "noop"}],
        }
    ],
}
BAD_OVER = {
    "name": "bad_over",
    "params": {"items": {"type": "string", "default": "x"}},
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": "${params.items}"},
            "steps": [{"id": "work", "type": "noop"}],
        }
    ],
}


@pytest.mark.parametrize(
    ("definition", "status", "said"),
    [
        (EMPTY_FOREACH, "SUCCEEDED", "No iterations: the loop had nothing to iterate over."),
        (FALSE_WHILE, "SUCCEEDED", "No iterations: the condition was false before the first one."),
        (BAD_OVER, "FAILED", "No iterations: the step ended before starting any."),
    ],
)
def test_an_ended_loop_without_iterations_says_it_has_none(
    dev: DevServer, page: Any, definition: dict[str, Any], status: str, said: str
) -> None:
    run_id = _start(dev, definition)
    assert _finish(dev, run_id)["run"]["status"] == status
    page.goto(f"{dev.url}/#/runs/{run_id}?step=each")
    page.wait_for_selector("#iterations-none")
    assert page.inner_text("#iterations-none") == said
    head = page.inner_text("#detail-iterations .it-head")
    assert "none yet" not in head and "none" in head, head
