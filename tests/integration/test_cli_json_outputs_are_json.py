"""``--json`` on the local run actions and on ``podium runs replay`` prints one JSON
document on stdout, which a script can parse (the runbook of docs/operations.md: replay
the failed attempt, then restart from incomplete).

Was: a local ``podium runs restart``/``resume --json`` printed the human line "run RUN
SUCCEEDED: podium runs show RUN" after the JSON, and ``podium runs replay --json`` let
what the replayed function printed go to stdout before the JSON; neither stdout parsed.
Now the line is printed only without --json (the JSON has ``final_status``), and with
--json the replayed function's stdout goes to stderr while it runs
(cli/action_commands.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli_local import podium, run_id_of

FUNCTIONS = """
from pathlib import Path

HERE = Path(__file__).parent


def extract(event):
    print("extracting", event["payload"]["day"])
    return {"rows": 10}


def load(event):
    if (HERE / "broken").exists():
        raise ValueError("row 7 has no id")
    return {"ok": True}
"""
WORKFLOW = """
name: json_etl
params:
  day: {type: string, default: "2026-01-15"}
steps:
  - {id: extract, type: lambda, function: etl-extract, payload: {day: "${params.day}"}}
  - {id: load, type: lambda, function: etl-load, depends_on: [extract]}
"""
TOML = """
[functions]
"etl-extract" = "etl_fns:extract"
"etl-load" = "etl_fns:load"
"""


def _failed_run(tmp_path: Path) -> tuple[Path, str]:
    home = tmp_path / "home"
    (tmp_path / "etl_fns.py").write_text(FUNCTIONS)
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    (tmp_path / "podium.toml").write_text(TOML)
    (tmp_path / "broken").touch()
    ran = podium(home, "run", str(tmp_path / "wf.yaml"), cwd=tmp_path)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    return home, run_id_of(home, "json_etl")


def test_a_local_restart_with_json_prints_only_json(tmp_path: Path) -> None:
    home, run_id = _failed_run(tmp_path)
    (tmp_path / "broken").unlink()  # the fix
    restarted = podium(home, "runs", "restart", run_id, "--json", cwd=tmp_path)
    assert restarted.returncode == 0, restarted.stderr
    # The action's answer, with the status the run ended in, as one JSON document: the
    # "run RUN-r1 SUCCEEDED: podium runs show ..." line is for people (stderr, or not at all).
    body = json.loads(restarted.stdout)
    assert body["new_run"] == f"{run_id}-r1"
    assert body["final_status"] == "SUCCEEDED"


def test_replay_with_json_prints_only_json_when_the_function_prints(tmp_path: Path) -> None:
    home, run_id = _failed_run(tmp_path)
    replayed = podium(home, "runs", "replay", run_id, "extract", "--json", cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    # What the function printed is not part of the JSON document on stdout.
    body = json.loads(replayed.stdout)
    assert body["replayed"]["status"] == "SUCCEEDED"
    assert body["replayed"]["output"] == {"rows": 10}
