"""``podium runs show RUN --step STEP`` on a stack printed the API's refusal with the
API's field name (``query.step: step 'a' of run ... is a noop step, not a foreach or
while: it has no iterations``), where the local home names what was typed; the
command line has no query. The remote answer names ``--step`` now (and ``--next`` for a
bad page token), and says what --step shows on a stack."""

from __future__ import annotations

from pathlib import Path

from tests.integration import test_remote_cli as remote
from tests.integration.test_remote_cli import Deployed, on_stack, write

deployed = remote.deployed
user = remote.user

PLAIN = """\
name: step_option_plain
steps:
  - {id: a, type: noop}
  - id: each
    type: foreach
    over: {i: [1, 2]}
    steps:
      - {id: w, type: noop}
"""


def test_a_step_that_is_no_loop_is_refused_naming_the_option(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    assert on_stack("push", str(write(tmp_path, "plain.yaml", PLAIN))).exit_code == 0
    assert on_stack("start", "step_option_plain", "--run-id", "plain-run").exit_code == 0
    deployed.pump()

    shown = on_stack("runs", "show", "plain-run", "--step", "a")
    assert shown.exit_code == 1, shown.output
    assert "query." not in shown.output, shown.output
    assert "--step: step 'a' of run plain-run is a noop step" in shown.output, shown.output
    assert "--step lists a loop step's iterations" in shown.output, shown.output

    unknown = on_stack("runs", "show", "plain-run", "--step", "zz")
    assert unknown.exit_code == 1, unknown.output
    assert "query." not in unknown.output, unknown.output
    assert "--step: run plain-run has no step 'zz'" in unknown.output, unknown.output

    page = on_stack("runs", "show", "plain-run", "--step", "each", "--next", "nonsense")
    assert page.exit_code == 1, page.output
    assert "query." not in page.output and "--next: " in page.output, page.output
