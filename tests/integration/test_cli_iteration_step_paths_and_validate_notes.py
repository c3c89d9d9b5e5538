"""``podium runs logs`` and ``podium runs replay`` take a loop iteration's step as
LOOP/INDEX/STEP, as the step actions do; ``podium validate`` says a bad podium.toml once.

Was: ``runs logs RUN per_day/1/work`` answered "run RUN has no step 'per_day/1/work'" and
``runs replay`` "no step 'per_day/1/work' in run RUN; one of: per_day", with no word that
the iteration's own run id works; and ``validate`` printed the same podium.toml parse
note twice (its Lambda mapping and its stand-ins both read the file). Now the path is
resolved to the iteration's run and step (core.engine.actions.resolve_step_path), and
the notes are printed once each."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli_local import podium, run_id_of

WORKFLOW = """
name: looped
steps:
  - id: per_day
    type: foreach
    over: {i: [0, 1, 2]}
    steps:
      - {id: work, type: lambda, function: fn-work, payload: {i: "${iteration.i}"}}
"""
FUNCTIONS = """
def work(event):
    print("working on", event["payload"]["i"])
    return {"i": event["payload"]["i"]}
"""


def test_logs_and_replay_take_an_iteration_step_path(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    (tmp_path / "fns.py").write_text(FUNCTIONS)
    (tmp_path / "podium.toml").write_text('[functions]\n"fn-work" = "fns:work"\n')
    ran = podium(home, "run", "wf.yaml", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    run_id = run_id_of(home, "looped")

    logs = podium(home, "runs", "logs", run_id, "per_day/1/work", cwd=tmp_path)
    assert logs.returncode == 0, logs.stderr
    assert "working on 1" in logs.stdout, logs.stdout

    replayed = podium(home, "runs", "replay", run_id, "per_day/2/work", "--json", cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    body = json.loads(replayed.stdout)
    assert body["replayed"]["output"] == {"i": 2}, body

    bad = podium(home, "runs", "logs", run_id, "per_day/x/work", cwd=tmp_path)
    assert bad.returncode == 1
    assert "must be an iteration index" in bad.stderr, bad.stderr


def test_validate_says_a_bad_podium_toml_once(tmp_path: Path) -> None:
    (tmp_path / "wf.yaml").write_text("name: v\nsteps:\n  - {id: a, type: noop}\n")
    (tmp_path / "podium.toml").write_text("[functions\n")
    checked = podium(tmp_path / "home", "validate", "wf.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.count("not valid TOML") == 1, checked.stdout
