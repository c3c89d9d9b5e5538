"""``-p`` values are held to what the API takes in a body: a list or map param's JSON
with NaN, Infinity, 1e999, a key given twice or a lone surrogate escape, and any
argument that was not UTF-8, is refused naming the param (before, plain ``json.loads``
took them: the run was stored with them and ``--json`` printed text that is not JSON)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from podium.cli.main import app

WORKFLOW = """\
name: typed
params:
  rows: {type: list, default: []}
  extra: {type: map, default: {}}
  text: {type: string, default: x}
steps:
  - {id: a, type: noop}
"""


def podium(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def wf(tmp_path: Path) -> Path:
    path = tmp_path / "typed.yaml"
    path.write_text(WORKFLOW)
    return path


@pytest.mark.parametrize(
    "pair",
    [
        "rows=[NaN]",
        "rows=[1e999]",
        'extra={"a": Infinity}',
        'extra={"a": 1, "a": 2}',
        'rows=["\\ud800"]',
        # An argument that is not UTF-8 (caf\xe9 from a Latin-1 shell): Python hands it
        # over as the lone surrogate \udce9, which is stored and shown back.
        "text=caf\udce9",
    ],
)
def test_a_param_value_the_api_refuses_is_refused_on_the_command_line(wf: Path, pair: str) -> None:
    # Was: exit 0, the run SUCCEEDED with params {"rows": [NaN]} (or Infinity, the
    # last of two "a" keys, a lone surrogate), and --json printed NaN / Infinity.
    result = podium("run", str(wf), "--backend", "memory", "--json", "-p", pair)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code != 0, result.output[-1500:]
    key = pair.partition("=")[0]
    assert key in result.output, result.output[-1500:]


def test_a_tag_value_that_was_not_utf8_is_refused(wf: Path) -> None:
    result = podium("run", str(wf), "--backend", "memory", "--tag", "team=caf\udce9")
    assert result.exit_code != 0, result.output[-1500:]
    assert "lone surrogate" in result.output, result.output[-1500:]


@pytest.mark.parametrize(
    ("text", "said"),
    [('{"a": 1, "a": 2}', "given twice"), ('{"detail": {"n": NaN}}', "not a JSON number")],
)
def test_an_event_file_is_read_as_strictly_as_a_body(
    wf: Path, tmp_path: Path, text: str, said: str
) -> None:
    event = tmp_path / "event.json"
    event.write_text(text)
    result = podium("run", str(wf), "--backend", "memory", "--event", str(event))
    assert result.exit_code == 1, result.output[-1500:]
    assert "event.json" in result.output and said in result.output, result.output[-1500:]
