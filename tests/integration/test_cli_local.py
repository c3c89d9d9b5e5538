"""``podium run`` keeps its runs in the local home, and ``podium runs ...`` reads them back
from new processes (the way a user runs the commands one after another)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

FAILING = """
name: local_fail
steps:
  - {id: ok, type: noop}
  - {id: boom, type: fail, message: disk full on shard 7, depends_on: [ok]}
"""


def podium(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in a new process, like a user's shell (no remote target configured)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PODIUM_CONFIG", "PODIUM_PROFILE", "PODIUM_HOME")
    }
    env.update(PODIUM_HOME=str(home), COLUMNS="200", HOME=str(home.parent))
    return subprocess.run(
        [sys.executable, "-m", "podium.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or home.parent,
        timeout=120,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def run_id_of(home: Path, workflow: str) -> str:
    listed = podium(home, "runs", "list", workflow, "--json")
    assert listed.returncode == 0, listed.stderr
    return str(json.loads(listed.stdout)["runs"][0]["run_id"])


def test_a_local_run_is_listed_and_shown_from_new_processes(home: Path) -> None:
    etl = ROOT / "examples/sales_etl/workflow.yaml"
    ran = podium(home, "run", str(etl), "-p", "date=2026-03-01")
    assert ran.returncode == 0, ran.stderr
    assert (home / "podium.db").exists()
    assert "podium runs show" in ran.stderr  # the hint names the run

    listed = podium(home, "runs", "list")
    assert listed.returncode == 0, listed.stderr
    assert "daily_sales_etl" in listed.stdout and "SUCCEEDED" in listed.stdout
    run_id = run_id_of(home, "daily_sales_etl")

    shown = podium(home, "runs", "show", run_id)
    assert shown.returncode == 0, shown.stderr
    lines = {ln.split("│")[1].strip(): ln for ln in shown.stdout.splitlines() if "│" in ln}
    assert "SUCCEEDED" in lines["extract"] and "SUCCEEDED" in lines["load"]
    assert "run succeeded" in shown.stdout

    body = json.loads(podium(home, "runs", "show", run_id, "--json").stdout)
    assert body["run"]["status"] == "SUCCEEDED"
    assert {s["step"] for s in body["steps"]} >= {"extract", "load", "report"}

    timeline = podium(home, "runs", "timeline", run_id)
    assert timeline.returncode == 0, timeline.stderr
    assert "█" in timeline.stdout and "extract" in timeline.stdout


def test_a_failed_run_shows_its_errors_and_exits_1(home: Path, tmp_path: Path) -> None:
    wf = tmp_path / "fail.yaml"
    wf.write_text(FAILING)
    assert podium(home, "run", str(wf)).returncode == 1
    run_id = run_id_of(home, "local_fail")
    shown = podium(home, "runs", "show", run_id)
    assert shown.returncode == 1
    boom = next(ln for ln in shown.stdout.splitlines() if "│ boom" in ln)
    assert "FAILED" in boom and "disk full on shard 7" in boom
    assert "run failed" in shown.stdout
    assert podium(home, "runs", "show", run_id, "--json").returncode == 1

    failed = podium(home, "runs", "list", "--status", "failed", "--json")
    assert [r["run_id"] for r in json.loads(failed.stdout)["runs"]] == [run_id]
    ok = podium(home, "runs", "list", "--status", "succeeded,queued", "--json")
    assert json.loads(ok.stdout)["runs"] == []
    assert podium(home, "runs", "list", "--status", "nope").returncode == 2


def test_retries_are_attempts_on_the_timeline(tmp_path: Path) -> None:
    home = tmp_path / ".podium"
    wf = {
        "name": "retrying",
        "steps": [
            {
                "id": "flaky",
                "type": "lambda",
                "function": "tests.integration.test_runs:flaky",
                "payload": {"succeed_on": 3},
                "retries": 3,
                "retry_delay_seconds": 30,
            }
        ],
    }
    from podium.adapters.clock import ManualClock
    from podium.local.runtime import LocalRuntime

    with LocalRuntime(clock=ManualClock(), store="sqlite", home=home) as rt:
        run_id = rt.run(wf).run.run_id
    result = runner.invoke(app, ["runs", "timeline", run_id, "--home", str(home), "--json"])
    assert result.exit_code == 0, result.output
    attempts = json.loads(result.stdout)["attempts"]
    assert [(a["attempt"], a["status"]) for a in attempts] == [
        (1, "FAILED"),
        (2, "FAILED"),
        (3, "SUCCEEDED"),
    ]
    assert attempts[0]["backoff_until"] - attempts[0]["ended_at"] == 30_000
    drawn = runner.invoke(app, ["runs", "timeline", run_id, "--home", str(home)])
    assert drawn.exit_code == 0 and drawn.output.count("flaky") == 3
    shown = runner.invoke(app, ["runs", "show", run_id, "--home", str(home)])
    assert "flaky attempt 1 retry (retried after 30s)" in shown.output


def test_since_and_unknown_runs(home: Path, tmp_path: Path) -> None:
    wf = tmp_path / "ok.yaml"
    wf.write_text("name: tiny\nsteps:\n  - {id: a, type: noop}\n")
    assert podium(home, "run", str(wf), "--json").returncode == 0
    recent = podium(home, "runs", "list", "tiny", "--since", "1h", "--json")
    assert len(json.loads(recent.stdout)["runs"]) == 1
    future = podium(home, "runs", "list", "--since", "2999-01-01", "--json")
    assert json.loads(future.stdout)["runs"] == []
    assert podium(home, "runs", "list", "--since", "yesterday").returncode == 2
    missing = podium(home, "runs", "show", "no-such-run")
    assert missing.returncode == 1 and "not found" in missing.stderr


def test_no_home_yet_says_how_to_make_one(tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    listed = podium(empty, "runs", "list")
    assert listed.returncode == 0 and "no local home" in listed.stderr
    assert not empty.exists()  # reading never creates a home
    assert podium(empty, "runs", "show", "x").returncode == 1


def test_home_and_a_remote_target_exclude_each_other(tmp_path: Path) -> None:
    result = runner.invoke(app, ["runs", "list", "--home", str(tmp_path), "--stack", "Podium"])
    assert result.exit_code == 2 and "either --home or a remote target" in result.output


def test_backend_moto_keeps_nothing(tmp_path: Path) -> None:
    wf = tmp_path / "ok.yaml"
    wf.write_text("name: tiny\nsteps:\n  - {id: a, type: noop}\n")
    home = tmp_path / "h"
    result = podium(home, "run", str(wf), "--backend", "moto", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["run"]["status"] == "SUCCEEDED"
    assert not (home / "podium.db").exists()
    assert podium(home, "run", str(wf), "--backend", "nope").returncode == 2


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("podium ")


def shout(event: dict[str, object]) -> dict[str, object]:
    """A step that prints, to both streams."""
    print(f"hello from {event['step']} attempt {event['attempt']}")
    print("careful", file=sys.stderr)
    if event["step"] == "bad":
        raise ValueError("disk full on shard 7")
    return {"ok": True}


PRINTING = """
name: printing
steps:
  - {id: root, type: noop}
  - {id: a, type: lambda, function: "tests.integration.test_cli_local:shout", depends_on: [root]}
  - {id: bad, type: lambda, function: "tests.integration.test_cli_local:shout", depends_on: [root]}
"""


def test_step_output_goes_to_its_log_not_to_stdout(home: Path, tmp_path: Path) -> None:
    wf = tmp_path / "printing.yaml"
    wf.write_text(PRINTING)
    ran = podium(home, "run", str(wf), "--json", "--workers", "3", cwd=ROOT)
    assert ran.returncode == 1
    body = json.loads(ran.stdout)  # nothing but the JSON on stdout
    assert body["run"]["status"] == "FAILED"
    assert "hello from" not in ran.stderr
    run_id = body["run"]["run_id"]

    logs = json.loads(podium(home, "runs", "logs", run_id, "--json", cwd=ROOT).stdout)["logs"]
    by = {(e["step"], e["stream"]): e["text"] for e in logs}
    assert by[("a", "stdout")] == "hello from a attempt 1\n"
    assert by[("a", "stderr")] == "careful\n"
    assert "ValueError: disk full on shard 7" in by[("bad", "traceback")]
    assert "Traceback (most recent call last)" in by[("bad", "traceback")]

    one = podium(home, "runs", "logs", run_id, "a", "--attempt", "1", cwd=ROOT)
    assert one.returncode == 0 and "hello from a attempt 1" in one.stdout
    assert "disk full" not in one.stdout
    assert podium(home, "runs", "logs", run_id, "nope", cwd=ROOT).returncode == 1

    shown = podium(home, "runs", "show", run_id, cwd=ROOT)
    assert shown.returncode == 1
    assert "Traceback (most recent call last)" in shown.stdout  # under the failed attempt
    assert f"podium runs logs {run_id}" in shown.stdout

    bad = podium(home, "runs", "show", run_id, "--step", "bad", cwd=ROOT)
    assert bad.returncode == 1 and "traceback of attempt 1" in bad.stdout
    good = podium(home, "runs", "show", run_id, "--step", "a", "--json", cwd=ROOT)
    assert good.returncode == 0
    detail = json.loads(good.stdout)
    assert detail["step"]["output"] == {"ok": True}
    assert [a["attempt"] for a in detail["attempts"]] == [1]
    assert {e["stream"] for e in detail["logs"]} == {"stdout", "stderr"}
    assert podium(home, "runs", "show", run_id, "--step", "nope", cwd=ROOT).returncode == 1


def test_logs_of_a_deployed_stack_are_not_read_yet(tmp_path: Path) -> None:
    result = runner.invoke(app, ["runs", "logs", "r1", "--endpoint", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and "CloudWatch" in result.output


def test_fast_forwarded_time_is_labelled_virtual(home: Path, tmp_path: Path) -> None:
    wf = tmp_path / "nap.yaml"
    wf.write_text("name: nap\nsteps:\n  - {id: z, type: sleep, seconds: 3600}\n")
    ran = podium(home, "run", str(wf))
    assert ran.returncode == 0, ran.stderr
    assert "run succeeded in 60.0m of virtual time" in ran.stdout
    assert "fast-forwarded" in ran.stdout


def test_an_interrupted_run_says_what_is_kept(home: Path, tmp_path: Path) -> None:
    import signal
    import time

    wf = tmp_path / "long.yaml"
    wf.write_text(
        "name: long\nsteps:\n  - {id: a, type: noop}\n"
        "  - {id: nap, type: sleep, seconds: 60, depends_on: [a]}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PODIUM_CONFIG"}
    env.update(PODIUM_HOME=str(home), COLUMNS="200")
    proc = subprocess.Popen(
        [sys.executable, "-m", "podium.cli.main", "run", str(wf), "--real-time"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 60
    while not (home / "podium.db").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted: run" in err and "resumes them" in err
    assert "│ nap " in err and "RUNNING" in err
    # The next podium run on the home resumes it (virtual time skips the rest of the nap).
    assert podium(home, "run", str(wf), "--json").returncode == 0
    listed = json.loads(podium(home, "runs", "list", "long", "--json").stdout)["runs"]
    assert [r["status"] for r in listed] == ["SUCCEEDED", "SUCCEEDED"]


def big(event: dict[str, object]) -> dict[str, object]:
    return {"rows": ["x" * 100] * 200}  # about 20 KB: stored by reference


def test_a_big_output_is_kept_in_the_home_and_read_back(home: Path, tmp_path: Path) -> None:
    wf = tmp_path / "big.yaml"
    wf.write_text(
        "name: big\nsteps:\n"
        "  - {id: make, type: lambda, function: 'tests.integration.test_cli_local:big'}\n"
        "  - {id: after, type: noop, depends_on: [make]}\n"
    )
    ran = podium(home, "run", str(wf), "--json", cwd=ROOT)
    assert ran.returncode == 0, ran.stderr
    run_id = json.loads(ran.stdout)["run"]["run_id"]
    assert list((home / "payloads").rglob("output.json"))  # beside the database
    detail = json.loads(podium(home, "runs", "show", run_id, "--step", "make", "--json").stdout)
    assert detail["step"]["output"] == {"rows": ["x" * 100] * 200}


def test_files_and_homes_that_cannot_be_used_get_a_message_not_a_traceback(
    home: Path, tmp_path: Path
) -> None:
    wf = tmp_path / "wf.yaml"
    wf.write_text("name: ok\nsteps:\n  - {id: a, type: noop}\n")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"name: caf\xe9\nsteps: []\n")
    cases = tmp_path / "cases.json"
    cases.write_bytes(b"[\xff]")
    checks = [
        (["validate", str(latin1)], "not UTF-8 text (byte 9); save it as UTF-8"),
        (["run", str(latin1)], "not UTF-8 text (byte 9)"),
        (["expr", "--cases", str(cases)], "not UTF-8 text (byte 1)"),
        (["run", str(wf), "--home", "/proc/nope"], "cannot create the home /proc/nope"),
        (["run", str(wf), "--home", str(wf)], "is a file: give the home's directory"),
        (["runs", "list", "wf", "--endpoint", "http://[::1"], "is not a URL"),
        (["runs", "list", "bad name"], "'bad name' is not a workflow name"),
        (["runs", "restart", "r1", "--version", "0"], "a version number (1 or more)"),
    ]
    for args, said in checks:
        done = podium(home, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert said in " ".join(done.stderr.split()), (args, done.stderr)
        assert "Traceback" not in done.stderr, args
    toml = tmp_path / "podium.toml"
    toml.write_bytes(b'[functions]\nx = "caf\xe9:f"\n')
    done = podium(home, "validate", str(wf))
    assert "podium.toml: it is not UTF-8 text" in " ".join((done.stdout + done.stderr).split())


def test_a_home_that_is_no_database_and_a_since_before_1970_get_no_traceback(
    home: Path, tmp_path: Path
) -> None:
    """`podium.db` not an SQLite file, and `--since 99999999999999999999w` (an integer
    SQLite cannot hold), each ended in a traceback."""
    wf = tmp_path / "wf.yaml"
    wf.write_text("name: ok\nsteps:\n  - {id: a, type: noop}\n")
    assert podium(home, "run", str(wf)).returncode == 0
    listed = podium(home, "runs", "list", "ok", "--since", "99999999999999999999w", "--json")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["runs"]) == 1  # everything: since before 1970
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "podium.db").write_bytes(b"this is not a database" * 100)
    for args in (["runs", "list", "ok"], ["run", str(wf)]):
        done = podium(broken, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert "is not a Podium home's database" in " ".join(done.stderr.split()), done.stderr
        assert "Traceback" not in done.stderr


def _ctrl_c_mid_step(tmp_path: Path, name: str, nap_s: int, *run_args: str) -> tuple[Path, str]:
    """`podium run wf.yaml` of a two-step workflow (`a` naps ``nap_s`` on its first
    attempt, then `b`) in a subprocess, interrupted (SIGINT) while `a` runs. Returns the
    home and the interrupted run's id."""
    import signal
    import time

    (tmp_path / "naps.py").write_text(
        "import time\n\n\ndef nap(event):\n"
        f"    time.sleep({nap_s} if event['attempt'] == 1 else 0)\n"
    )
    (tmp_path / "wf.yaml").write_text(
        f"name: {name}\nrun_strategy: sequential\nsteps:\n"
        '  - {id: a, type: lambda, function: "naps:nap"}\n'
        "  - {id: b, type: noop, depends_on: [a]}\n"
    )
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("PODIUM_CONFIG", "PODIUM_HOME")}
    env.update(PODIUM_HOME=str(home), HOME=str(tmp_path))
    first = subprocess.Popen(
        [sys.executable, "-m", "podium.cli.main", "run", "wf.yaml", *run_args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_id = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not run_id:  # until step a runs
        shown = podium(home, "runs", "list", name, "--json", cwd=tmp_path)
        runs = json.loads(shown.stdout)["runs"] if shown.returncode == 0 else []
        if runs and runs[0]["status"] == "RUNNING":
            steps = podium(home, "runs", "show", runs[0]["run_id"], "--json", cwd=tmp_path)
            if '"RUNNING"' in steps.stdout.split('"steps"', 1)[-1]:
                run_id = runs[0]["run_id"]
        time.sleep(0.3)
    assert run_id, "step a never ran"
    first.send_signal(signal.SIGINT)
    first.communicate(timeout=60)
    return home, run_id


def test_podium_run_again_after_a_ctrl_c_mid_step_finishes_both_runs(tmp_path: Path) -> None:
    """Ctrl-C left step `a` RUNNING with a 16-minute lease; the next `podium run` of the
    file queued behind that run and gave up at once ("behind active run(s) ...") until
    the lease passed in real time. Its recovery now looks at the runs it waits behind."""
    home, _ = _ctrl_c_mid_step(tmp_path, "interrupted", 8)
    second = podium(home, "run", "wf.yaml", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    listed = json.loads(podium(home, "runs", "list", "interrupted", "--json").stdout)["runs"]
    assert [r["status"] for r in listed] == ["SUCCEEDED", "SUCCEEDED"]


def test_a_step_a_stopped_process_left_running_is_retried_at_the_next_start(
    tmp_path: Path,
) -> None:
    """A step running in-process when its process was stopped (Ctrl-C on `podium dev` or
    `podium run --real-time`, or a kill) stayed RUNNING until its 16-minute lease passed
    in real time: the next process on the home now reclaims it at start, when no other
    process works on the home (the attempt counts as lost and is retried)."""
    from podium.adapters.clock import SystemClock
    from podium.core.engine.status import RunStatus, StepStatus
    from podium.local.runtime import LocalRuntime

    home, run_id = _ctrl_c_mid_step(tmp_path, "stopped", 60, "--real-time")
    sys.path.insert(0, str(tmp_path))
    try:
        with LocalRuntime(
            store="sqlite", home=home, clock=SystemClock(), capture_output=False
        ) as rt:
            a = rt.describe(run_id).steps[0]
            assert (a.step, a.status) != ("a", StepStatus.RUNNING), a  # reclaimed at start
            reclaims = [e for e in rt.services.store.list_events(run_id) if e.kind == "reclaim"]
            assert [(e.step, e.attempt, e.detail["abandoned"]) for e in reclaims] == [
                ("a", 1, True)
            ]
            rt.pump(run_id=run_id)
            view = rt.describe(run_id)
    finally:
        sys.path.remove(str(tmp_path))
    assert view.run.status is RunStatus.SUCCEEDED
    assert [(s.step, s.attempt) for s in view.steps] == [("a", 2), ("b", 1)]


def test_home_with_a_backend_that_keeps_nothing_is_refused(tmp_path: Path) -> None:
    """`podium run --backend memory --home H` ran and kept nothing, in silence: the user
    then looked for the run in H."""
    wf = tmp_path / "wf.yaml"
    wf.write_text("name: kept\nsteps:\n  - {id: a, type: noop}\n")
    home = tmp_path / "h"
    for backend in ("memory", "moto"):
        result = runner.invoke(app, ["run", str(wf), "--backend", backend, "--home", str(home)])
        assert result.exit_code == 2, result.output
        assert f"--backend {backend} keeps nothing" in result.output
    assert not home.exists()


def test_runs_list_pages_past_its_limit_locally(tmp_path: Path) -> None:
    """`podium runs list` on the local home showed the newest 100 runs at most: it prints
    the command for the next page (`--next TOKEN`, the same filters) and takes it."""
    home = tmp_path / "home"
    wf = tmp_path / "paged.yaml"
    wf.write_text("name: paged\nsteps:\n  - {id: a, type: noop}\n")
    for _ in range(3):
        assert podium(home, "run", str(wf)).returncode == 0
    first = podium(home, "runs", "list", "--limit", "2", "--status", "succeeded")
    assert first.returncode == 0, first.stderr
    hint = next(line for line in first.stderr.splitlines() if line.startswith("more: "))
    assert hint.startswith("more: podium runs list --status succeeded --limit 2 --next ")
    token = hint.rsplit(" ", 1)[1]
    pages = [json.loads(podium(home, "runs", "list", "--limit", "2", "--json").stdout)]
    pages.append(
        json.loads(podium(home, "runs", "list", "--limit", "2", "--json", "--next", token).stdout)
    )
    ids = [r["run_id"] for page in pages for r in page["runs"]]
    assert len(ids) == 3 == len(set(ids)) and "next" not in pages[1]
    assert podium(home, "runs", "list", "--next", "xyz").returncode == 2
    # a run page's steps token is no runs list's: refused, not read as a creation time
    steps_token = "WzAsImEiXQ"  # views.steps_token((0, "a"))
    assert podium(home, "runs", "list", "--next", steps_token).returncode == 2
