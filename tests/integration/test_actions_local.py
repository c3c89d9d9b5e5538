"""Operators' actions on the local home from new processes: a failed run restarted from
incomplete after the fix (only what failed runs again), and a refused action."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli_local import ROOT, podium, run_id_of

FUNCTIONS = """
from pathlib import Path

HERE = Path(__file__).parent


def step(event):
    with open(HERE / "calls.txt", "a") as calls:
        calls.write(event["step"] + "\\n")
    if event["step"] == "load" and (HERE / "broken").exists():
        raise ValueError("row 7 has no id")
    return {"step": event["step"]}
"""
ETL = """
name: local_etl
steps:
  - {id: extract, type: lambda, function: "etl_fns:step"}
  - {id: load, type: lambda, function: "etl_fns:step", depends_on: [extract]}
  - {id: report, type: lambda, function: "etl_fns:step", depends_on: [load]}
"""


def test_restart_a_failed_local_run_from_incomplete(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (tmp_path / "etl_fns.py").write_text(FUNCTIONS)
    (tmp_path / "etl.yaml").write_text(ETL)
    (tmp_path / "broken").touch()
    ran = podium(home, "run", str(tmp_path / "etl.yaml"))
    assert ran.returncode == 1, ran.stderr
    run_id = run_id_of(home, "local_etl")

    refused = podium(home, "runs", "stop", run_id)
    assert refused.returncode == 1
    assert "it is FAILED; allowed from FAILED: restart" in refused.stderr

    # Replay the failed attempt here, with the event it got: the same error.
    replayed = podium(home, "runs", "replay", run_id, "load", cwd=tmp_path)
    assert replayed.returncode == 1, replayed.stderr
    assert "recorded: FAILED ValueError: row 7 has no id" in replayed.stdout
    assert "replayed: FAILED ValueError: row 7 has no id" in replayed.stdout
    assert "same outcome" in replayed.stdout

    (tmp_path / "broken").unlink()  # the fix
    fixed = podium(home, "runs", "replay", run_id, "load", "--attempt", "1", "--json", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    body = json.loads(fixed.stdout)
    assert body["replayed"] == {
        "status": "SUCCEEDED",
        "output": {"step": "load"},
        "error": None,
        "error_type": None,
        "traceback": None,
    }
    assert body["event"]["idempotency_key"] == f"{run_id}/load/1" and not body["same"]
    (tmp_path / "calls.txt").write_text("")
    restarted = podium(home, "runs", "restart", run_id, "--reason", "fixed row 7")
    assert restarted.returncode == 0, restarted.stderr + restarted.stdout
    assert f"restarted as {run_id}-r1" in restarted.stdout
    assert (tmp_path / "calls.txt").read_text().split() == ["load", "report"]

    shown = podium(home, "runs", "show", f"{run_id}-r1", "--json")
    body = json.loads(shown.stdout)
    assert body["run"]["status"] == "SUCCEEDED" and body["run"]["restart_of"] == run_id
    old = json.loads(podium(home, "runs", "show", run_id, "--json").stdout)
    (event,) = [e for e in old["events"] if e["kind"] == "action"]
    assert event["detail"]["by"].startswith("local:")
    assert event["detail"]["reason"] == "fixed row 7"


def test_the_readme_tour_replays_and_restarts_the_nightly_feed(tmp_path: Path) -> None:
    """The tour's commands, as written in README.md, on a copy of examples/nightly_feed."""
    import shutil

    example = tmp_path / "nightly_feed"
    shutil.copytree(ROOT / "examples/nightly_feed", example)
    home = example / ".podium"
    ran = podium(home, "run", "workflow.yaml", cwd=example)
    assert ran.returncode == 1 and "row 7: 'n/a' is not a number" in ran.stdout + ran.stderr
    run_id = run_id_of(home, "nightly_feed")
    replayed = podium(home, "runs", "replay", run_id, "clean", cwd=example)
    assert replayed.returncode == 1 and "same outcome" in replayed.stdout
    restarted = podium(home, "runs", "restart", run_id, "-p", "skip_bad_rows=true", cwd=example)
    assert restarted.returncode == 0, restarted.stderr + restarted.stdout
    body = json.loads(podium(home, "runs", "show", f"{run_id}-r1", "--json", cwd=example).stdout)
    outputs = {s["step"]: s["output"] for s in body["steps"]}
    assert outputs["publish"] == {"rows": 7, "total": 104}
    fetch = next(s for s in body["steps"] if s["step"] == "fetch")
    assert "reused from run" in fetch["reason"]


LOOP_FUNCTIONS = """
from pathlib import Path

HERE = Path(__file__).parent


def work(event):
    with open(HERE / "calls.txt", "a") as calls:
        calls.write(f"{event['step']}:{event['payload']['i']}\\n")
    return event["payload"]["i"]
"""
LOOPED = """
name: local_loop
steps:
  - id: loop
    type: foreach
    over: {i: [0, 1, 2]}
    steps:
      - {id: work, type: lambda, function: "loop_fns:work", payload: {i: "${iteration.i}"}}
      - {id: after, type: noop, depends_on: [work]}
"""


def test_restart_from_a_step_of_one_iteration_and_iteration_breakpoints_locally(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    (tmp_path / "loop_fns.py").write_text(LOOP_FUNCTIONS)
    (tmp_path / "loop.yaml").write_text(LOOPED)
    ran = podium(home, "run", str(tmp_path / "loop.yaml"), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    run_id = run_id_of(home, "local_loop")
    assert sorted((tmp_path / "calls.txt").read_text().split()) == ["work:0", "work:1", "work:2"]

    bad = podium(home, "runs", "restart", run_id, "--from", "loop/5/work", cwd=tmp_path)
    assert bad.returncode == 1
    assert "iteration 5 of 'loop' never ran" in bad.stderr and "0 to 2 ran" in bad.stderr
    (tmp_path / "calls.txt").write_text("")
    restarted = podium(home, "runs", "restart", run_id, "--from", "loop/1/work", cwd=tmp_path)
    assert restarted.returncode == 0, restarted.stderr + restarted.stdout
    assert (tmp_path / "calls.txt").read_text().split() == ["work:1"]
    body = json.loads(podium(home, "runs", "show", f"{run_id}-r1", "--json").stdout)
    assert body["run"]["status"] == "SUCCEEDED"

    set_one = podium(home, "break", "set", "local_loop", "loop/work", "--iteration", "1")
    assert set_one.returncode == 0, set_one.stderr
    assert "podium steps resume RUN loop/1/work" in set_one.stdout
    listed = podium(home, "break", "list", "local_loop", "--json")
    assert json.loads(listed.stdout)["steps"] == ["loop/work#1"]  # a loop body's, too
    cleared = podium(home, "break", "clear", "local_loop", "loop/work", "--json")
    assert json.loads(cleared.stdout)["steps"] == ["loop/work#1"]
    refused = podium(home, "break", "set", "local_loop", "loop", "--iteration", "1")
    assert refused.returncode == 2 and "--iteration takes LOOP/STEP" in refused.stderr
    # Every iteration's: the hints name a held attempt's path and a clear that clears it
    # (they said `steps resume RUN loop/work`, a bad path, and `break clear local_loop`).
    set_all = podium(home, "break", "set", "local_loop", "loop/work")
    assert "podium steps resume RUN loop/INDEX/work lets one" in set_all.stdout, set_all.stdout
    assert "podium break clear local_loop loop/work resumes them all" in set_all.stdout
    cleared = podium(home, "break", "clear", "local_loop", "--json")
    assert json.loads(cleared.stdout)["steps"] == ["loop/work"]


def test_restart_params_are_typed_by_the_version_the_restart_runs(tmp_path: Path) -> None:
    """-p values were typed by the old run's version: with --version active, an int
    param only the new version declares got the string '5' and was refused."""
    home = tmp_path / "home"
    (tmp_path / "v1.yaml").write_text("name: tv\nsteps:\n  - {id: a, type: fail, message: x}\n")
    v2 = "name: tv\nparams:\n  n: {type: int}\nsteps:\n  - {id: a, type: noop}\n"
    (tmp_path / "v2.yaml").write_text(v2)
    assert podium(home, "run", str(tmp_path / "v1.yaml"), cwd=tmp_path).returncode == 1
    run_id = run_id_of(home, "tv")
    # `podium run` pushes v2 (active) as it runs it
    assert podium(home, "run", str(tmp_path / "v2.yaml"), "-p", "n=1", cwd=tmp_path).returncode == 0
    restarted = podium(
        home, "runs", "restart", run_id, "--version", "active", "-p", "n=5", cwd=tmp_path
    )
    assert restarted.returncode == 0, restarted.stderr + restarted.stdout
    body = json.loads(podium(home, "runs", "show", f"{run_id}-r1", "--json", cwd=tmp_path).stdout)
    assert body["run"]["params"] == {"n": 5} and body["run"]["version"] == 2
