"""Seeds of the simulation with operators (``--actions``) found in a bulk run of seeds
10000:25000 (``--shapes all``), each replayed alone (``run_case``: the world depends on
its shape and seed only). Each names its cause; the targeted tests are in
tests/integration/test_launch_under_a_paused_parent_waits_for_the_resume.py and
test_step_stop_cut_short_is_finished.py.
"""

from __future__ import annotations

import pytest

from podium.sim.simulate import run_case

CASES = [
    pytest.param(
        "subworkflow_modes",
        17371,
        id="subworkflow_modes-17371-subworkflow-launched-running-under-a-paused-parent",
    ),
    pytest.param(
        "nested_foreach",
        18746,
        id="nested_foreach-18746-step-stop-cut-short-leaves-iterations-running-through-a-pause",
    ),
]


@pytest.mark.parametrize(("shape", "seed"), CASES)
def test_seed_with_operators_violates_nothing(shape: str, seed: int) -> None:
    """subworkflow_modes 17371: a ``wait: true`` subworkflow step whose launch a crash cut
    short was redone while its run was paused, and its child was created RUNNING and
    started (SubworkflowRuntime._launch; paused_meanwhile skipped a run read PAUSED): the
    child's step was claimed 30 s into its ancestor's pause. nested_foreach 18746: an
    operator's stop of the loop step ``outer`` crashed right after its STOPPED write; its
    iterations were never stopped, the retried stop was refused, and the pause that came
    next did not walk a STOPPED loop step's children: their steps were claimed under the
    paused run. Both now hold every step of a paused run's tree (``ran_while_paused``)."""
    result = run_case(shape, seed, actions=True)
    assert result.verdict.ok, "\n".join(result.verdict.details)
