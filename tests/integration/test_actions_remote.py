"""Operators' actions through the remote CLI (--stack) on moto: signed requests to the
real api handler, the 409 of a refused action, and who acted (the caller's IAM ARN)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration import test_remote_cli as remote
from tests.integration.test_remote_cli import Deployed, on_stack, write

# The deployed stack on moto and the user's shell, as the remote CLI tests set them up.
deployed = remote.deployed
user = remote.user

BROKEN = {"feed": True}


def load(event: dict[str, Any]) -> str:
    if BROKEN["feed"]:
        raise ValueError("bad feed")
    return "loaded"


ETL = f"""\
name: remote_etl
params:
  day: {{type: string, default: mon}}
steps:
  - {{id: extract, type: noop}}
  - {{id: load, type: lambda, function: "{__name__}:load", depends_on: [extract]}}
  - {{id: report, type: noop, depends_on: [load]}}
"""
SLEEPY = """\
name: remote_sleepy
steps:
  - {id: wait, type: sleep, seconds: 3600}
  - {id: after, type: noop, depends_on: [wait]}
"""


def test_restart_a_failed_run_from_incomplete_on_the_stack(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    BROKEN["feed"] = True
    assert on_stack("push", str(write(tmp_path, "etl.yaml", ETL))).exit_code == 0
    started = on_stack("start", "remote_etl", "--run-id", "etl-1", "--json")
    assert started.exit_code == 0, started.output
    deployed.pump()
    shown = json.loads(on_stack("runs", "show", "etl-1", "--json").stdout)
    assert shown["run"]["status"] == "FAILED"

    refused = on_stack("runs", "pause", "etl-1")
    assert refused.exit_code == 1
    assert "it is FAILED; allowed from FAILED: restart" in refused.output

    replayed = on_stack("runs", "replay", "etl-1", "load", "--json")
    assert replayed.exit_code == 1, replayed.output
    body = json.loads(replayed.stdout)
    assert body["recorded"]["error_type"] == "ValueError" and body["same"]
    assert body["event"]["params"] == {"day": "mon"} and body["event"]["attempt"] == 1

    BROKEN["feed"] = False  # the fix
    assert 'replayed: SUCCEEDED "loaded"' in on_stack("runs", "replay", "etl-1", "load").output
    result = on_stack(
        "runs", "restart", "etl-1", "--reason", "fixed the feed", "-p", "day=tue", "--json"
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["new_run"] == "etl-1-r1" and body["by"].endswith(":user/tester")
    deployed.pump()
    new = json.loads(on_stack("runs", "show", "etl-1-r1", "--json").stdout)
    assert new["run"]["status"] == "SUCCEEDED" and new["run"]["restart_of"] == "etl-1"
    assert new["run"]["params"] == {"day": "tue"}
    steps = {s["step"]: s for s in new["steps"]}
    assert "reused from run etl-1" in steps["extract"]["reason"]
    old = json.loads(on_stack("runs", "show", "etl-1", "--json").stdout)
    (event,) = [e for e in old["events"] if e["kind"] == "action"]
    assert event["detail"]["reason"] == "fixed the feed"

    shown_text = on_stack("runs", "show", "etl-1").output
    assert (
        "restart by arn:aws:iam::" in shown_text and "fixed the feed -> run etl-1-r1" in shown_text
    )
    assert "restart of run etl-1" in on_stack("runs", "show", "etl-1-r1").output

    again = on_stack("runs", "restart", "etl-1")
    assert again.exit_code == 1 and "already restarted as etl-1-r1" in again.output


def test_pause_resume_stop_and_step_stop_on_the_stack(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    assert on_stack("push", str(write(tmp_path, "s.yaml", SLEEPY))).exit_code == 0
    for run_id in ("sl-1", "sl-2"):
        assert on_stack("start", "remote_sleepy", "--run-id", run_id).exit_code == 0
    deployed.pump()  # sl-1 waits in its sleep; sl-2 is queued behind it (sequential)
    result = on_stack("runs", "stop", "sl-2", "--reason", "not needed")
    assert result.exit_code == 0, result.output
    assert "stop: run sl-2 is STOPPED" in result.output
    assert on_stack("runs", "pause", "sl-1").exit_code == 0
    assert "is RUNNING" in on_stack("runs", "resume", "sl-1").output
    result = on_stack("steps", "stop", "sl-1", "wait", "--reason", "too long")
    assert result.exit_code == 0, result.output
    deployed.pump()
    shown = json.loads(on_stack("runs", "show", "sl-1", "--json").stdout)
    assert shown["run"]["status"] == "FAILED"
    assert [e["detail"]["action"] for e in shown["events"] if e["kind"] == "action"] == [
        "pause",
        "resume",
        "stop",
    ]
    refused = on_stack("steps", "retry", "sl-1", "wait")
    assert refused.exit_code == 1 and "podium runs restart sl-1" in refused.output


CHAIN = """\
name: remote_chain
steps:
  - {id: a, type: noop}
  - {id: b, type: noop, depends_on: [a]}
"""


def test_breakpoints_on_the_stack(deployed: Deployed, user: Path, tmp_path: Path) -> None:
    assert on_stack("push", str(write(tmp_path, "c.yaml", CHAIN))).exit_code == 0
    result = on_stack("break", "set", "remote_chain", "b")
    assert result.exit_code == 0 and "breakpoint set on remote_chain.b" in result.output
    assert on_stack("break", "list", "remote_chain").output.strip() == "b"
    assert on_stack("start", "remote_chain", "--run-id", "bp-1").exit_code == 0
    deployed.pump()
    shown = json.loads(on_stack("runs", "show", "bp-1", "--json").stdout)
    steps = {s["step"]: s for s in shown["steps"]}
    assert steps["b"]["status"] == "PAUSED" and steps["b"]["reason"] == "paused at a breakpoint"
    assert on_stack("steps", "resume", "bp-1", "b").exit_code == 0
    deployed.pump()
    assert json.loads(on_stack("runs", "show", "bp-1", "--json").stdout)["run"]["status"] == (
        "SUCCEEDED"
    )
    assert on_stack("start", "remote_chain", "--run-id", "bp-2").exit_code == 0
    deployed.pump()
    cleared = on_stack("break", "clear", "remote_chain", "--json")
    assert json.loads(cleared.stdout) == {
        "workflow": "remote_chain",
        "steps": ["b"],
        "resumed": ["bp-2/b"],
    }
    deployed.pump()
    assert json.loads(on_stack("runs", "show", "bp-2", "--json").stdout)["run"]["status"] == (
        "SUCCEEDED"
    )
    bad = on_stack("break", "set", "remote_chain", "zz")
    assert bad.exit_code == 1 and "one of: a, b" in bad.output


LOOPED = """\
name: remote_loop
steps:
  - id: loop
    type: foreach
    over: {i: [0, 1, 2, 3, 4]}
    steps:
      - {id: work, type: noop}
"""


def test_an_iteration_breakpoint_on_the_stack(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    assert on_stack("push", str(write(tmp_path, "l.yaml", LOOPED))).exit_code == 0
    result = on_stack("break", "set", "remote_loop", "loop/work", "--iteration", "2")
    assert result.exit_code == 0, result.output
    assert "in iteration 2" in result.output and "loop/2/work" in result.output
    assert on_stack("break", "list", "remote_loop").output.strip() == "loop/work#2"
    assert on_stack("start", "remote_loop", "--run-id", "it-1").exit_code == 0
    deployed.pump()
    statuses = {}
    for i in range(5):
        shown = json.loads(on_stack("runs", "show", f"it-1.loop.{i}", "--json").stdout)
        statuses[i] = {s["step"]: s["status"] for s in shown["steps"]}["work"]
    assert statuses == {0: "SUCCEEDED", 1: "SUCCEEDED", 2: "PAUSED", 3: "SUCCEEDED", 4: "SUCCEEDED"}
    assert json.loads(on_stack("runs", "show", "it-1", "--json").stdout)["run"]["status"] == (
        "RUNNING"
    )
    resumed = on_stack("steps", "resume", "it-1", "loop/2/work")
    assert resumed.exit_code == 0, resumed.output
    deployed.pump()
    assert json.loads(on_stack("runs", "show", "it-1", "--json").stdout)["run"]["status"] == (
        "SUCCEEDED"
    )
    cleared = on_stack("break", "clear", "remote_loop", "loop/work", "--iteration", "2", "--json")
    assert json.loads(cleared.stdout)["steps"] == ["loop/work#2"]
    bad = on_stack("break", "set", "remote_loop", "loop", "--iteration", "2")
    assert bad.exit_code == 2 and "--iteration takes LOOP/STEP" in bad.output


def test_restart_from_a_step_of_one_iteration_on_the_stack(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    assert on_stack("push", str(write(tmp_path, "l.yaml", LOOPED))).exit_code == 0
    assert on_stack("start", "remote_loop", "--run-id", "rf-1").exit_code == 0
    deployed.pump()
    bad = on_stack("runs", "restart", "rf-1", "--from", "loop/9/work")
    assert bad.exit_code == 1
    assert "iteration 9 of 'loop' never ran in run rf-1 (iterations 0 to 4 ran)" in bad.output
    result = on_stack("runs", "restart", "rf-1", "--from", "loop/2/work", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new_run"] == "rf-1-r1"
    deployed.pump()
    new = json.loads(on_stack("runs", "show", "rf-1-r1", "--json").stdout)
    assert new["run"]["status"] == "SUCCEEDED"
    assert new["run"]["restart_from"] == "loop/2/work"
    assert "restart of run rf-1 from loop/2/work" in on_stack("runs", "show", "rf-1-r1").output
    for i in range(5):
        shown = json.loads(on_stack("runs", "show", f"rf-1-r1.loop.{i}", "--json").stdout)
        work = {s["step"]: s for s in shown["steps"]}["work"]
        assert work["status"] == "SUCCEEDED"
        assert ("reused from run" in (work["reason"] or "")) is (i != 2), i


RETRYABLE = f"""\
name: remote_retry
steps:
  - {{id: load, type: lambda, function: "{__name__}:load"}}
  - {{id: report, type: noop, depends_on: [load]}}
  - {{id: gate, type: noop, wait_for: [{{signal: go}}]}}
"""


def test_retry_a_failed_step_while_the_run_runs_on_the_stack(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    BROKEN["feed"] = True
    assert on_stack("push", str(write(tmp_path, "r.yaml", RETRYABLE))).exit_code == 0
    assert on_stack("start", "remote_retry", "--run-id", "rr-1").exit_code == 0
    deployed.pump()
    shown = json.loads(on_stack("runs", "show", "rr-1", "--json").stdout)
    steps = {s["step"]: s for s in shown["steps"]}
    assert shown["run"]["status"] == "RUNNING"  # the gate waits for its signal
    assert (steps["load"]["status"], steps["report"]["status"]) == ("FAILED", "SKIPPED")

    BROKEN["feed"] = False  # the fix
    result = on_stack("steps", "retry", "rr-1", "load", "--reason", "fixed the feed")
    assert result.exit_code == 0, result.output
    assert "retry: step load of run rr-1 is RETRY_WAIT" in result.output
    deployed.pump()
    shown = json.loads(on_stack("runs", "show", "rr-1", "--json").stdout)
    steps = {s["step"]: s for s in shown["steps"]}
    assert steps["load"]["status"] == "SUCCEEDED"
    assert steps["load"]["attempts"] == 2, steps["load"]
    assert steps["report"]["status"] == "SUCCEEDED"
    assert shown["run"]["status"] == "RUNNING" and not shown["run"].get("error")
    assert on_stack("steps", "skip", "rr-1", "gate").exit_code == 0
    deployed.pump()
    shown = json.loads(on_stack("runs", "show", "rr-1", "--json").stdout)
    assert shown["run"]["status"] == "SUCCEEDED"
    retried = next(e for e in shown["events"] if e["kind"] == "action")["detail"]
    assert retried["action"] == "retry" and retried["by"].endswith(":user/tester")

    refused = on_stack("steps", "retry", "rr-1", "load")
    assert refused.exit_code == 1 and "in a SUCCEEDED run" in refused.output


def test_restart_params_are_typed_by_the_version_the_restart_runs(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    """-p values were typed by the active version when no --version was given (the
    restart runs the old run's version): an int param became a string and was refused."""
    v1 = "name: typed\nparams:\n  n: {type: int, default: 1}\nsteps:\n  - {id: a, type: noop}\n"
    v2 = v1.replace("type: int, default: 1", "type: string, default: x")
    assert on_stack("push", str(write(tmp_path, "v1.yaml", v1))).exit_code == 0
    assert on_stack("start", "typed", "--run-id", "typed-1").exit_code == 0
    deployed.pump()
    assert on_stack("push", str(write(tmp_path, "v2.yaml", v2))).exit_code == 0
    result = on_stack("runs", "restart", "typed-1", "-p", "n=5", "--json")
    assert result.exit_code == 0, result.output
    new = json.loads(on_stack("runs", "show", "typed-1-r1", "--json").stdout)
    assert new["run"]["params"] == {"n": 5} and new["run"]["version"] == 1
    deployed.pump()
    again = on_stack("runs", "restart", "typed-1-r1", "--version", "active", "-p", "n=7", "--json")
    assert again.exit_code == 0, again.output
    newer = json.loads(on_stack("runs", "show", "typed-1-r2", "--json").stdout)
    assert newer["run"]["params"] == {"n": "7"} and newer["run"]["version"] == 2


def test_runs_show_reads_every_page_of_a_runs_steps(
    deployed: Deployed, user: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    from podium.service import views

    wide = "name: remote_wide\nsteps:\n" + "".join(
        f"  - {{id: s{i}, type: noop}}\n" for i in range(4)
    )
    assert on_stack("push", str(write(tmp_path, "w.yaml", wide))).exit_code == 0
    assert on_stack("start", "remote_wide", "--run-id", "wide-1").exit_code == 0
    deployed.pump()
    monkeypatch.setattr(views, "STEPS_PAGE_BYTES", 1)  # one step a page
    shown = json.loads(on_stack("runs", "show", "wide-1", "--json").stdout)
    assert [s["step"] for s in shown["steps"]] == ["s0", "s1", "s2", "s3"]
    assert "next" not in shown and shown["steps_total"] == 4
