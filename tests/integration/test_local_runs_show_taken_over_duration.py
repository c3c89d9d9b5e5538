"""A step a restart took over, in ``podium runs show`` on the local home.

The API's run view showed such a step with the duration it ran for where it ran, but the
local ``runs show`` built its view without that: the step a restart took over was shown
as run for 0 ms (it starts and ends at the restart's write), in the table and in
``--json``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli_local import podium, run_id_of

NAP_THEN_FAIL = """
name: nap_then_fail
steps:
  - {id: nap, type: sleep, seconds: 90}
  - {id: bad, type: fail, message: boom, depends_on: [nap]}
"""


def test_local_runs_show_gives_a_taken_over_step_the_duration_it_ran_for(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    (tmp_path / "wf.yaml").write_text(NAP_THEN_FAIL)
    ran = podium(home, "run", str(tmp_path / "wf.yaml"))
    assert ran.returncode == 1, ran.stderr
    old = run_id_of(home, "nap_then_fail")
    restarted = podium(home, "runs", "restart", old, "--json")
    assert restarted.returncode == 0, restarted.stderr
    new = json.loads(restarted.stdout)["new_run"]

    shown = podium(home, "runs", "show", new, "--json")
    body = json.loads(shown.stdout)
    nap = next(s for s in body["steps"] if s["step"] == "nap")
    assert nap["duration_ms"] >= 90_000, nap  # before: 0
    assert nap["taken_over"] == {"ran_in": old}, nap
    table = podium(home, "runs", "show", new)
    row = next(line for line in table.stdout.splitlines() if line.strip().startswith("│ nap"))
    assert " 0 ms" not in row, row
