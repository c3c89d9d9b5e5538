"""``podium unblock WF`` on the local home (the hint a blocked local run prints, and the
runbooks' "Otherwise ``podium unblock WF``") answered "started RUN", but nothing ran
that run: it stayed RUNNING with no step in the home (``podium runs show`` said "run
running" and nothing more) until some later ``podium dev`` on the home pumped it, and
the answer did not say so. It says what carries the started run on."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime

STRICT = """\
name: etl
run_strategy: strict_sequential
params:
  fail: {type: bool, default: true}
steps:
  - {id: a, type: noop}
  - id: boom
    type: fail
    depends_on: [{step: a, when: params.fail}]
"""


def podium(*args: str) -> Result:
    from podium.cli.main import app

    return CliRunner().invoke(app, list(args))


def test_a_local_unblock_runs_the_run_it_started_or_says_what_will(tmp_path: Path) -> None:
    wf = tmp_path / "etl.yaml"
    wf.write_text(STRICT)
    home = str(tmp_path / "home")
    assert podium("run", str(wf), "--home", home).exit_code == 1  # FAILED: blocks
    queued = podium("run", str(wf), "--home", home, "-p", "fail=false")
    assert "podium unblock etl" in queued.output, queued.output
    done = podium("unblock", "etl", "--home", home)
    said = " ".join(done.output.split())
    assert done.exit_code == 0 and "started" in said, said
    started = said.split("started ", 1)[1].split()[0].rstrip(";,")
    with LocalRuntime(store="sqlite", home=home) as rt:
        run = rt.services.store.get_run(started)
    ran = run.status.terminal
    told = "podium dev" in said or "podium run" in said
    assert ran or told, (
        f"unblock said '{said}', but run {run.run_id} is {run.status.value} with nothing"
        " running it, and the answer does not say what will"
    )
    assert run.status is not RunStatus.QUEUED
