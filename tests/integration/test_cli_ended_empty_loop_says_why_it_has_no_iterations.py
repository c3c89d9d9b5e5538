"""``podium runs show RUN --step LOOP`` titled an ended loop without iterations
"iterations · none yet", as if some might still come (the console said why since
session 30). The iterations answer (API and local) now carries the loop step's
``type`` and ``status``, and the title says why there are none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.local.runtime import LocalRuntime
from podium.service.loop_views import iterations

EMPTY_FOREACH = {
    "name": "empty_each",
    "steps": [
        {"id": "each", "type": "foreach", "over": {"i": []}, "steps": [{"id": "w", "type": "noop"}]}
    ],
}
FALSE_WHILE = {
    "name": "never_while",
    "steps": [
        {
            "id": "loop",
            "type": "while",
            "state": {"n": 0},
            "condition": "state.n > 0",
            "update": {"n": "${state.n + 1}"},
            "steps": [{"id": "w", "type": "noop"}],
        }
    ],
}


@pytest.mark.parametrize(
    ("workflow", "step", "why"),
    [
        (EMPTY_FOREACH, "each", "none: the loop had nothing to iterate over"),
        (FALSE_WHILE, "loop", "none: the condition was false before the first one"),
    ],
)
def test_an_ended_empty_loop_says_why(
    tmp_path: Path, workflow: dict[str, Any], step: str, why: str
) -> None:
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=home) as rt:
        view = rt.run(workflow)
        assert view.run.status.value == "SUCCEEDED"
        run_id = view.run.run_id
        answer = iterations(rt.services, run_id, step)
        assert answer is not None
        assert (answer["type"], answer["status"]) == (workflow["steps"][0]["type"], "SUCCEEDED")
    shown = CliRunner().invoke(
        app, ["runs", "show", run_id, "--step", step, "--home", str(home)], terminal_width=200
    )
    assert shown.exit_code == 0, shown.output
    assert f"iterations · {why}" in shown.output, shown.output
    assert "none yet" not in shown.output
