"""``podium workflows activate|show|diff`` on the local home with a version the workflow
does not have: the message's hint stopped mid-phrase ("podium workflows versions demo
lists this home's"), where a stack's said "lists its versions"
(adapters/sqlite/store.py ``_unknown``). It says the stack's words now
(``WorkflowNotFound.no_such_version``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.local.runtime import LocalRuntime


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    where = tmp_path_factory.mktemp("versions") / "home"
    with LocalRuntime(store="sqlite", home=str(where), clock=ManualClock()) as rt:
        rt.push({"name": "demo", "steps": [{"id": "a", "type": "noop"}]})
    yield where


@pytest.mark.parametrize(
    "args",
    [
        ["workflows", "activate", "demo", "5"],
        ["workflows", "show", "demo", "--version", "5"],
        ["workflows", "diff", "demo", "1", "5"],
    ],
)
def test_a_missing_version_of_a_home_workflow_says_a_whole_hint(
    home: Path, args: list[str]
) -> None:
    """The user read "workflow 'demo' version 5 not found; podium workflows versions demo
    lists this home's" and the sentence ended there. It ends as the stack's does, naming
    what the command lists: "... lists its versions"."""
    done = CliRunner().invoke(app, [*args, "--home", str(home)])
    assert done.exit_code == 1
    message = " ".join(done.output.split())
    assert "workflow 'demo' version 5 not found" in message, message
    assert message.rstrip().endswith("podium workflows versions demo lists its versions"), message
