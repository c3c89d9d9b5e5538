"""``podium run wf.yaml --event FILE`` with a file that is no JSON object (bad JSON, a
key twice, a list) made the home and pushed the definition before it read the event,
and only then refused it; ``-p`` or ``--tag`` with ``--event`` too. The event is read
and checked before anything is made now (a bad one exits 1, as a bad definition does;
``-p`` with ``--event`` is a usage error, exit 2), and the home stays unmade."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app

WORKFLOW = "name: evented_check\nsteps:\n  - {id: a, type: noop}\n"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"time": ', "cannot read the event JSON"),
        ('{"time": "2026-01-01T00:00:00Z", "time": "x"}', "cannot read the event JSON"),
        ("[1, 2]", "the event must be a JSON object"),
    ],
    ids=["not-json", "key-twice", "not-an-object"],
)
def test_a_bad_event_file_is_refused_before_the_home_is_made(
    tmp_path: Path, text: str, said: str
) -> None:
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    (tmp_path / "event.json").write_text(text)
    home = tmp_path / "home"
    args = ["run", str(tmp_path / "wf.yaml"), "--event", str(tmp_path / "event.json")]
    ran = CliRunner().invoke(app, [*args, "--home", str(home)])
    assert ran.exit_code == 1, ran.output
    assert said in ran.output, ran.output
    assert not home.exists()  # nothing made, nothing pushed


def test_params_with_an_event_are_a_usage_error_before_the_home_is_made(tmp_path: Path) -> None:
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    (tmp_path / "event.json").write_text('{"time": "2026-01-01T00:00:00Z"}')
    home = tmp_path / "home"
    args = ["run", str(tmp_path / "wf.yaml"), "--event", str(tmp_path / "event.json")]
    ran = CliRunner().invoke(app, [*args, "-p", "x=1", "--home", str(home)])
    assert ran.exit_code == 2, ran.output
    assert "drop -p and --tag" in ran.output, ran.output
    assert not home.exists()
