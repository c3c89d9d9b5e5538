from podium.core.dsl import load_definition
from podium.core.engine.decide import (
    ArriveAtJoin,
    CreateStep,
    Retry,
    after_attempt_failed,
    after_step_ended,
    join_resolution,
    run_outcome,
)
from podium.core.engine.graph import Graph
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus, StepStatus

DIAMOND = load_definition(
    """
name: d
steps:
  - {id: a, type: noop, retries: 2, retry_delay_seconds: 7}
  - {id: b, type: noop, depends_on: [a]}
  - {id: c, type: noop, depends_on: [a]}
  - {id: d, type: noop, depends_on: [b, c]}
"""
)
G = Graph.of(DIAMOND)


def test_graph_shape() -> None:
    assert G.roots == ("a",)
    assert G.sinks == frozenset({"d"})
    assert G.successors["a"] == ("b", "c")
    assert G.predecessors["d"] == ("b", "c")


def test_success_creates_single_predecessor_successors_ready() -> None:
    assert after_step_ended(G, "a", StepStatus.SUCCEEDED, False) == [
        CreateStep("b", StepStatus.READY),
        CreateStep("c", StepStatus.READY),
    ]
    assert after_step_ended(G, "b", StepStatus.SUCCEEDED, False) == [ArriveAtJoin("d", "b", True)]


def test_failure_and_failing_run_skip_downstream() -> None:
    assert after_step_ended(G, "a", StepStatus.FAILED, True) == [
        CreateStep("b", StepStatus.SKIPPED, "upstream failed"),
        CreateStep("c", StepStatus.SKIPPED, "upstream failed"),
    ]
    (action,) = after_step_ended(G, "a", StepStatus.SUCCEEDED, True)[:1]
    assert action == CreateStep("b", StepStatus.SKIPPED, "run is failing: no new step starts")
    assert after_step_ended(G, "c", StepStatus.SKIPPED, False) == [ArriveAtJoin("d", "c", False)]


def test_join_waits_for_every_predecessor() -> None:
    assert join_resolution(G, "d", 1, 0, False) is None
    assert join_resolution(G, "d", 2, 0, False) == (StepStatus.READY, None)
    assert join_resolution(G, "d", 2, 1, False) == (StepStatus.SKIPPED, "upstream failed")


def test_retry_until_attempts_run_out() -> None:
    assert after_attempt_failed(DIAMOND.step("a"), 1) == Retry(2, 7)
    assert after_attempt_failed(DIAMOND.step("a"), 2) == Retry(3, 7)
    assert after_attempt_failed(DIAMOND.step("a"), 3) is None
    assert after_attempt_failed(DIAMOND.step("b"), 1) is None


def test_run_outcome_counts_sinks() -> None:
    run = RunRecord("r", "d", 1, RunStatus.RUNNING, {}, 0, sinks_total=2)
    assert run_outcome(run, 1) is None
    assert run_outcome(run, 2) is RunStatus.SUCCEEDED
    failing = RunRecord("r", "d", 1, RunStatus.RUNNING, {}, 0, sinks_total=2, failing=True)
    assert run_outcome(failing, 2) is RunStatus.FAILED
