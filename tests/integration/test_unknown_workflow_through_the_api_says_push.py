"""A workflow started on `podium dev` (README step 9) before it was pushed there.

Was: `podium start WORKFLOW --endpoint <podium dev>` answered `workflow 'first_day' not
found; run it here first (podium run FILE)`: the local CLI's hint of the home's store
(adapters/sqlite/store.py ``_unknown``), which reached the API's answers, though
through the API `podium run` pushes nothing there (it runs the workflow in a home of its
own). Now the API, the surface, says the API's way: push it, with the same target.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.local.dev_server import DevServer
from podium.local.runtime import LocalRuntime
from tests.integration.test_start_without_target_or_credentials_says_local_ways import (
    _flat,
    _no_aws_env,
)

runner = CliRunner()


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevServer]:
    """`podium dev` on a fresh local home (SQLite), as the README's step 9 starts it."""
    runtime = LocalRuntime(store="sqlite", home=tmp_path / "home", virtual_time=False)
    runtime.start()
    try:
        with DevServer(runtime, port=0) as server:
            yield server
    finally:
        runtime.stop()


def test_starting_a_workflow_not_pushed_to_podium_dev_says_to_push_it_there(
    dev: DevServer, tmp_path: Path
) -> None:
    """`podium start first_day --endpoint <podium dev>` said `run it here first (podium
    run FILE)`. Now it says to push it (`podium push FILE`, to that endpoint)."""
    env = _no_aws_env(tmp_path)
    result = runner.invoke(app, ["start", "first_day", "--endpoint", dev.url], env=env)
    said = _flat(result.output)
    assert result.exit_code == 1 and "not found" in said, said
    assert "podium push" in said, said
    assert "--endpoint" in said, said
    assert "podium run FILE" not in said, said


def test_the_local_cli_still_says_podium_run(tmp_path: Path) -> None:
    """On the local home itself (no API), the home's own way is kept: `podium run FILE`."""
    from tests.integration.test_cli_local import podium

    home = tmp_path / "home"
    (tmp_path / "wf.yaml").write_text("name: nightly\nsteps: [{id: a, type: noop}]\n")
    assert podium(home, "run", str(tmp_path / "wf.yaml")).returncode == 0
    refused = podium(home, "workflows", "show", "nightlly")
    said = _flat(refused.stdout + refused.stderr)
    assert refused.returncode == 1 and "podium run FILE" in said, said
    assert "podium push" not in said, said
