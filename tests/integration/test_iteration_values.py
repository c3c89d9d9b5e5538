"""Iteration values stored apart (over 4 KiB) in the views, end to end: a page of
iterations says where they are (and reads no payload), the iteration's own run shows
them whole (``podium runs show <child run id>``, the console's step detail)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from podium.core.engine.identity import child_run_id
from podium.local.runtime import LocalRuntime
from podium.service.console_views import step_detail
from tests.integration.test_api import call
from tests.integration.test_cli_local import podium

BIG = "b" * 6_000  # over the 4 KiB an iteration keeps on its run item
LOOP = {
    "name": "big_values",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"rec": ["small", BIG]},
            "steps": [{"id": "work", "type": "noop"}],
        }
    ],
}


def test_a_page_points_to_the_iteration_which_shows_its_values_whole(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    call("POST", "/workflows", LOOP)
    call("POST", "/workflows/big_values/runs", {"run_id": "big-1"})
    runtime.pump()
    payloads = runtime.services.payloads
    assert payloads is not None
    reads: list[str] = []
    read = payloads.get
    monkeypatch.setattr(payloads, "get", lambda ref: reads.append(ref) or read(ref))

    status, page = call("GET", "/runs/big-1/iterations", query={"step": "each"})
    assert status == 200 and reads == []  # a page reads no payload
    small, big = page["iterations"]
    assert small["values"] == {"rec": "small"}
    stored_apart = child_run_id("big-1", "each", 1)
    assert big["values"]["$stored"].endswith(f"stored apart: podium runs show {stored_apart}")
    assert big["values"]["bytes"] > 4096

    _, run = call("GET", f"/runs/{child_run_id('big-1', 'each', 0)}")
    assert run["run"]["iteration"] == {"index": 0, "values": {"rec": "small"}}
    _, run = call("GET", f"/runs/{stored_apart}")
    assert run["run"]["iteration"] == {"index": 1, "values": {"rec": BIG}}  # read back
    assert len(reads) == 1
    reads.clear()

    # The console's detail of a step of that iteration: its values whole (one read).
    detail: dict[str, Any] = step_detail(runtime.services, stored_apart, "work")
    assert detail["run"]["iteration"] == {"index": 1, "values": {"rec": BIG}}
    assert len(reads) == 1


def test_runs_show_of_an_iteration_prints_its_values_whole(tmp_path: Path) -> None:
    home = tmp_path / "home"
    spec = tmp_path / "big_values.json"
    spec.write_text(json.dumps(LOOP))
    ran = podium(home, "run", str(spec))
    assert ran.returncode == 0, ran.stderr
    run_id = json.loads(podium(home, "runs", "list", "big_values", "--json").stdout)["runs"][0][
        "run_id"
    ]
    stored_apart = child_run_id(run_id, "each", 1)

    table = podium(home, "runs", "show", run_id, "--step", "each")
    assert table.returncode == 0, table.stderr
    assert "stored apart" in table.stdout and "$payload" not in table.stdout

    shown = podium(home, "runs", "show", stored_apart)
    assert shown.returncode == 0, shown.stderr
    assert f'iteration 1 of each: {{"rec": "{BIG}"}}' in shown.stdout.replace("\n", "")
    as_json = json.loads(podium(home, "runs", "show", stored_apart, "--json").stdout)
    assert as_json["run"]["iteration"] == {"index": 1, "values": {"rec": BIG}}
