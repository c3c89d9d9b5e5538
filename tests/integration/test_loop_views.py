"""A loop step's iterations: the API view (paged, failed only), ``podium run``'s counts
and ``podium runs show RUN --step ID`` on the local home."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from podium.core.engine.identity import child_run_id
from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call
from tests.integration.test_cli_local import podium

LOOP = {
    "name": "paged",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": "${podium.range(0, 12)}", "tag": ["a"]},
            "concurrency": 4,
            "on_failure": "continue",
            "tolerated_failures": 10,
            "steps": [
                {
                    "id": "work",
                    "type": "lambda",
                    "function": "tests.integration.test_loop_views:fail_fives",
                    "payload": {"i": "${iteration.i}"},
                }
            ],
        }
    ],
}


def fail_fives(event: dict[str, Any]) -> int:
    if event["payload"]["i"] % 5 == 0:
        raise ValueError(f"bad row {event['payload']['i']}")
    return int(event["payload"]["i"])


def test_the_api_lists_iterations_a_page_at_a_time(runtime: LocalRuntime) -> None:
    call("POST", "/workflows", LOOP)
    call("POST", "/workflows/paged/runs", {"run_id": "loop-1"})
    runtime.pump()
    status, body = call("GET", "/runs/loop-1")
    each = next(s for s in body["steps"] if s["step"] == "each")
    assert status == 200 and each["status"] == "SUCCEEDED"
    assert each["children"] == {
        "launched": 12,
        "running": 0,
        "succeeded": 9,
        "failed": 3,
        "stopped": 0,
    }

    status, page = call("GET", "/runs/loop-1/iterations", query={"step": "each", "limit": "5"})
    assert status == 200 and page["next"] == "5"
    first = page["iterations"][0]
    assert first["index"] == 0 and first["values"] == {"i": 0, "tag": "a"}
    assert first["status"] == "FAILED" and "bad row 0" in first["error"]
    assert first["run_id"] == child_run_id("loop-1", "each", 0)
    assert first["started_at"] <= first["ended_at"]
    assert [it["index"] for it in page["iterations"]] == [0, 1, 2, 3, 4]
    _, rest = call(
        "GET", "/runs/loop-1/iterations", query={"step": "each", "limit": "50", "next": "5"}
    )
    assert [it["index"] for it in rest["iterations"]] == list(range(5, 12))
    assert rest["next"] is None
    _, failed = call(
        "GET", "/runs/loop-1/iterations", query={"step": "each", "failed_only": "true"}
    )
    assert [it["index"] for it in failed["iterations"]] == [0, 5, 10]

    # An iteration is a run of its own: readable by its id.
    status, child = call("GET", f"/runs/{child_run_id('loop-1', 'each', 5)}")
    assert status == 200 and child["run"]["status"] == "FAILED"

    # Bad requests name the place and the fix.
    status, bad = call("GET", "/runs/loop-1/iterations")
    assert status == 400 and bad["errors"][0]["path"] == "query.step"
    status, bad = call("GET", "/runs/loop-1/iterations", query={"step": "each", "next": "x"})
    assert status == 400 and bad["errors"][0]["path"] == "query.next"
    status, bad = call("GET", "/runs/loop-1/iterations", query={"step": "nope"})
    assert status == 404
    status, bad = call("GET", "/runs/nope/iterations", query={"step": "each"})
    assert status == 404


def test_podium_run_shows_counts_and_runs_show_step_lists_iterations(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    # The CLI runs in a new process from tmp_path: the function lives there.
    (tmp_path / "loopfns.py").write_text(
        "def fail_fives(event):\n"
        "    if event['payload']['i'] % 5 == 0:\n"
        "        raise ValueError(f\"bad row {event['payload']['i']}\")\n"
        "    return event['payload']['i']\n"
    )
    doc = json.loads(json.dumps(LOOP).replace("tests.integration.test_loop_views", "loopfns"))
    spec = tmp_path / "paged.json"
    spec.write_text(json.dumps(doc))
    ran = podium(home, "run", str(spec))
    assert ran.returncode == 0, ran.stderr
    assert "9 succeeded · 3 failed" in ran.stdout + ran.stderr
    listed = podium(home, "runs", "list", "paged", "--json")
    run_id = json.loads(listed.stdout)["runs"][0]["run_id"]
    # The iterations are runs, listed by their loop step, not among the runs.
    every = podium(home, "runs", "list", "--json")
    assert [r["run_id"] for r in json.loads(every.stdout)["runs"]] == [run_id]

    shown = podium(home, "runs", "show", run_id, "--step", "each", "--limit", "4")
    assert shown.returncode == 0, shown.stderr
    assert "iterations" in shown.stdout and "bad row 0" in shown.stdout
    assert "--step each --next 4" in shown.stdout
    for bad in ("abc", "-1"):  # a token this view never gave: a message, not a traceback
        refused = podium(home, "runs", "show", run_id, "--step", "each", "--next", bad)
        assert refused.returncode == 2 and "--next:" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr

    as_json = podium(home, "runs", "show", run_id, "--step", "each", "--json", "--failed-only")
    body = json.loads(as_json.stdout)
    assert [it["index"] for it in body["iterations"]] == [0, 5, 10]
    assert body["next"] is None
    assert set(body["iterations"][0]) >= {
        "index",
        "values",
        "status",
        "run_id",
        "started_at",
        "ended_at",
        "error",
    }
