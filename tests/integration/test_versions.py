"""Workflow versions through the remote CLI on moto (--stack) and on the local home:
push without activating, list, show, diff, activate, roll back; runs keep the version
they started with, new runs start the active one."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from podium.cli.main import app
from tests.integration import test_remote_cli as remote
from tests.integration.test_remote_cli import Deployed, on_stack, write

deployed = remote.deployed
user = remote.user

V1 = """\
name: versioned
steps:
  - {id: a, type: noop}
"""
V2 = """\
name: versioned
steps:
  - {id: a, type: noop}
  - {id: b, type: noop, depends_on: [a]}
"""


def test_versions_on_the_stack(deployed: Deployed, user: Path, tmp_path: Path) -> None:
    assert on_stack("push", str(write(tmp_path, "v1.yaml", V1))).exit_code == 0
    pushed = on_stack("push", str(write(tmp_path, "v2.yaml", V2)), "--no-activate")
    assert pushed.exit_code == 0, pushed.output
    assert "pushed versioned v2, not active (v1 is)" in pushed.output

    listed = json.loads(on_stack("workflows", "versions", "versioned", "--json").stdout)
    assert [(v["version"], v["active"], v["steps"]) for v in listed["versions"]] == [
        (2, False, 2),
        (1, True, 1),
    ]
    started = json.loads(on_stack("start", "versioned", "--run-id", "ver-1", "--json").stdout)
    assert started["version"] == 1  # new runs start the active version

    diff = on_stack("workflows", "diff", "versioned", "1", "2")
    assert diff.exit_code == 0, diff.output
    assert "+- id: b" in diff.output.replace("+  ", "+")
    shown = on_stack("workflows", "show", "versioned", "--version", "2")
    assert "versioned v2, not active (v1 is)" in shown.output and "id: b" in shown.output

    activated = on_stack("workflows", "activate", "versioned", "2")
    assert activated.exit_code == 0 and "v2 is active (was v1)" in activated.output
    assert json.loads(on_stack("start", "versioned", "--json").stdout)["version"] == 2
    deployed.pump()
    kept = json.loads(on_stack("runs", "show", "ver-1", "--json").stdout)
    assert kept["run"]["version"] == 1 and kept["run"]["status"] == "SUCCEEDED"

    back = on_stack("workflows", "rollback", "versioned")
    assert back.exit_code == 0 and "v1 is active (was v2)" in back.output
    refused = on_stack("workflows", "rollback", "versioned")
    assert refused.exit_code == 1 and "no older version" in refused.output
    missing = on_stack("workflows", "activate", "versioned", "7")
    assert missing.exit_code == 1 and "version 7 not found" in missing.output
    names = json.loads(on_stack("workflows", "list", "--json").stdout)["workflows"]
    assert {"name": "versioned", "active_version": 1} in names


def test_versions_on_the_local_home(tmp_path: Path) -> None:
    runner = CliRunner()
    home = tmp_path / "home"

    def podium(*args: str) -> str:
        result = runner.invoke(app, [*args, "--home", str(home)])
        assert result.exit_code == 0, result.output
        return result.output

    from podium.local.runtime import LocalRuntime

    with LocalRuntime(store="sqlite", home=home) as rt:
        rt.push(V1)
        rt.push(V2)
    assert "v2" in podium("workflows", "list")
    assert podium("workflows", "rollback", "versioned").startswith("versioned: v1 is active")
    listed = json.loads(podium("workflows", "versions", "versioned", "--json"))
    assert [(v["version"], v["active"]) for v in listed["versions"]] == [(2, False), (1, True)]
    diff = podium("workflows", "diff", "versioned", "1", "2")
    assert "--- versioned v1" in diff and "+- id: b" in diff, diff
    assert "v2 is active" in podium("workflows", "activate", "versioned", "2")
    refused = runner.invoke(app, ["workflows", "activate", "versioned", "9", "--home", str(home)])
    assert refused.exit_code == 1 and "version 9 not found" in refused.output
