"""``podium callback TOKEN --fail TEXT`` with a text over the API's bound exited 2 from a
local home (its message without the option), 1 from a stack (the API's 400 at
``body.fail``), and 2 without a home for another reason (no home was said first). The
body is checked as the API checks it before any home or stack is reached now: a usage
error, exit 2, naming ``--fail``, everywhere, with no request sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from podium.cli.main import app
from podium.local.runtime import LocalRuntime
from podium.service.callbacks import MAX_MESSAGE_CHARS
from tests.integration import test_remote_cli as remote
from tests.integration.test_remote_cli import Deployed, on_stack

deployed = remote.deployed
user = remote.user

TOO_LONG = "x" * (MAX_MESSAGE_CHARS + 1)
TOKEN = "pcb1_not-a-real-token"


def _said_as_usage(result: Result) -> None:
    assert result.exit_code == 2, result.output
    assert f"--fail: the message is {MAX_MESSAGE_CHARS + 1:,} characters" in result.output
    assert "no local home" not in result.output, result.output


def test_a_fail_text_too_long_exits_2_on_a_stack_without_a_request(
    deployed: Deployed, user: Path
) -> None:
    before = len(deployed.gateway.seen)
    _said_as_usage(on_stack("callback", TOKEN, "--fail", TOO_LONG))
    assert len(deployed.gateway.seen) == before  # refused before the API was called


@pytest.mark.parametrize("made", [True, False], ids=["home", "no-home"])
def test_a_fail_text_too_long_exits_2_locally(user: Path, tmp_path: Path, made: bool) -> None:
    home = tmp_path / "home"
    if made:
        with LocalRuntime(store="sqlite", home=home) as rt:
            rt.run({"name": "cb_usage", "steps": [{"id": "a", "type": "noop"}]})
    args = ["callback", TOKEN, "--fail", TOO_LONG, "--home", str(home)]
    _said_as_usage(CliRunner().invoke(app, args))
    assert home.exists() is made  # nothing made for a refused callback
