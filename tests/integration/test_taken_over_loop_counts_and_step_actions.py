"""The API on a run whose loop step a restart took over.

Run R's foreach succeeds and the step after it fails; R is restarted from incomplete as
R-r1, which takes the foreach over (SUCCEEDED, "reused from run R"): its iterations ran
in R, and ``GET /runs/R-r1/iterations?step=loop`` lists them (4 succeeded) through
``step_paths.loop_home``. Two other answers about the same loop step did not follow it
back:

- ``GET /runs/R-r1`` showed the loop step without its ``children`` counts (the taken
  over record counts none of its own); ``runs.describe_run`` and the console's views now
  show the counts of the run the loop ran in (``step_paths.with_home_counts``);
- a step action with a path into it (``loop/2/work``) was refused with "iteration 2 of
  'loop' never ran in run R-r1 (no iteration ran)", although the same API lists
  iteration 2 as SUCCEEDED, and a path naming a step the loop's body lacks
  (``loop/2/nope``) got the same words instead of naming the step; the refusal of the
  same action on R, "run R was restarted as R-r1: act on step loop/2/work there", led
  to that 400. The action now walks the path through the takeover as a restart does,
  and acts on the iteration where it ran (ended: refused with a 409 naming the restart).
"""

from __future__ import annotations

from typing import Any

from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

DOC = {
    "name": "taken_loop_then_fail",
    "steps": [
        {
            "id": "loop",
            "type": "foreach",
            "over": {"i": [0, 1, 2, 3]},
            "steps": [{"id": "work", "type": "noop"}],
        },
        {"id": "report", "type": "fail", "message": "report broken", "depends_on": ["loop"]},
    ],
}


def _restarted(runtime: LocalRuntime) -> str:
    assert call("POST", "/workflows", DOC)[0] == 201
    assert call("POST", "/workflows/taken_loop_then_fail/runs", {"run_id": "R"})[0] == 202
    runtime.pump()
    status, done = call("POST", "/runs/R/actions", {"action": "restart"})
    assert status == 200 and done["new_run"] == "R-r1", done
    runtime.pump()
    status, body = call("GET", "/runs/R-r1")
    assert status == 200 and body["run"]["status"] == "FAILED", body
    return "R-r1"


def _step(body: dict[str, Any], step: str) -> dict[str, Any]:
    return next(s for s in body["steps"] if s["step"] == step)


def test_a_taken_over_loop_step_shows_the_counts_its_iterations_page_gives(
    runtime: LocalRuntime,
) -> None:
    new = _restarted(runtime)
    status, page = call("GET", f"/runs/{new}/iterations", query={"step": "loop"})
    assert status == 200 and page["counts"]["succeeded"] == 4, page
    assert [it["status"] for it in page["iterations"]] == ["SUCCEEDED"] * 4

    _, body = call("GET", f"/runs/{new}")
    loop = _step(body, "loop")
    assert loop["status"] == "SUCCEEDED"
    # Before the fix: no "children" at all (the taken-over record counts none), so
    # `podium runs show` and the console say the loop launched nothing.
    assert loop.get("children") == page["counts"], loop


def test_a_step_action_into_a_taken_over_loop_does_not_say_the_iteration_never_ran(
    runtime: LocalRuntime,
) -> None:
    new = _restarted(runtime)
    _, page = call("GET", f"/runs/{new}/iterations", query={"step": "loop"})
    assert page["iterations"][2]["status"] == "SUCCEEDED"
    status, there = call(
        "POST", "/runs/R/steps/actions", {"step": "loop/2/work", "action": "retry"}
    )
    assert status == 409 and "act on step loop/2/work there" in there["message"], there

    status, refused = call(
        "POST", f"/runs/{new}/steps/actions", {"step": "loop/2/work", "action": "retry"}
    )
    # The iteration ran (in R) and ended: refused as a step of an ended run is (409,
    # naming the restart that reruns it), not as a path to an iteration that never ran.
    # Before the fix: 400 "iteration 2 of 'loop' never ran in run R-r1 (no iteration
    # ran); name one that ran".
    message = refused.get("message", "")
    assert "never ran" not in message and "no iteration ran" not in message, refused
    assert status == 409, refused


def test_a_step_path_into_a_taken_over_loop_names_a_step_its_body_lacks(
    runtime: LocalRuntime,
) -> None:
    new = _restarted(runtime)
    status, refused = call(
        "POST", f"/runs/{new}/steps/actions", {"step": "loop/2/nope", "action": "retry"}
    )
    # As for the run the loop ran in: "the body of 'loop' has no step 'nope'; one of:
    # work". Before the fix: "iteration 2 of 'loop' never ran in run R-r1".
    assert status == 400, refused
    assert "'nope'" in refused["message"] and "never ran" not in refused["message"], refused
