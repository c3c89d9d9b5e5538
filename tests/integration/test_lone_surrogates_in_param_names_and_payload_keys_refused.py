"""A ``\\ud800`` escape in a param's name or a payload key of a JSON definition passed
``podium validate`` and ``podium run``: the step got the key as three U+FFFD characters,
not what was written; in a nested payload key the push ended in a UnicodeEncodeError
traceback (``defn.model_dump`` in service/workflows.py). A lone surrogate in a param value,
a tag or a template was already refused naming the place. Found by review R33e."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.cli.main import app

runner = CliRunner()


def _lambda(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "w",
        "steps": [{"id": "a", "type": "lambda", "function": "f", "payload": payload}],
    }


@pytest.mark.parametrize(
    ("document", "place"),
    [
        (
            {
                "name": "w",
                "params": {"p\ud800": {"type": "string", "default": "x"}},
                "steps": [{"id": "a", "type": "noop"}],
            },
            "params.p\\ud800",
        ),
        (_lambda({"k\ud800": 1}), "steps[0].payload.k\\ud800"),
        (_lambda({"e": {"\ud800": 1}}), "steps[0].payload.e.\\ud800"),
    ],
)
def test_a_lone_surrogate_in_a_key_is_refused_naming_it(
    tmp_path: Path, document: dict[str, Any], place: str
) -> None:
    path = tmp_path / "sur.json"
    path.write_text(json.dumps(document))  # ensure_ascii: the file holds \ud800
    for command in (["validate", str(path)], ["run", str(path), "--home", str(tmp_path / "h")]):
        result = runner.invoke(app, command)
        assert not isinstance(result.exception, UnicodeEncodeError), repr(result.exception)
        assert result.exit_code == 1, result.output
        assert f"{place}: contains a lone surrogate" in result.output
