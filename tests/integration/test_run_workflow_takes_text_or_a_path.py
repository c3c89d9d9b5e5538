"""podium.testing.run_workflow(source): ``source`` is ``str | Path | dict``, a ``str``
either a file's path or the definition's text. It told them apart with
``Path(source).exists()``, which raised OSError (ENAMETOOLONG) for any text longer than a
file's name, and took a mistyped path for YAML text."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.core.engine.status import RunStatus
from podium.testing import run_workflow, step_of

ROOT = Path(__file__).resolve().parents[2]


def test_run_workflow_runs_a_definition_given_as_text() -> None:
    """The fan-out example's text raised ``OSError: [Errno 36] File name too long``."""
    text = (ROOT / "examples/fanout.yaml").read_text()
    view = run_workflow(text)
    assert view.run.status is RunStatus.SUCCEEDED
    assert step_of(view, "join").status.value == "SUCCEEDED"


def test_run_workflow_runs_a_short_definition_written_out_in_a_test() -> None:
    """A definition of a few steps written in a test (some 300 characters) raised the
    same OSError."""
    text = (
        "name: inline_text\n"
        "description: a definition a test writes out in full, as the README's examples do\n"
        "steps:\n"
        "  - {id: extract, type: noop}\n"
        "  - {id: transform, type: noop, depends_on: [extract]}\n"
        "  - {id: load, type: noop, depends_on: [transform]}\n"
        "  - {id: report, type: noop, depends_on: [load]}\n"
    )
    assert len(text) > 255 and "/" not in text
    view = run_workflow(text)
    assert view.run.status is RunStatus.SUCCEEDED


def test_a_mistyped_workflow_path_is_named_as_a_missing_file(tmp_path: Path) -> None:
    """``run_workflow("workflows/etl.yaml")`` for a file that is not there said "a
    workflow definition must be a mapping with 'name' and 'steps'" (the path was read as
    YAML text); it names the path."""
    missing = tmp_path / "workflows" / "etl.yaml"
    with pytest.raises(Exception) as caught:
        run_workflow(str(missing))
    assert str(missing) in str(caught.value), str(caught.value)
