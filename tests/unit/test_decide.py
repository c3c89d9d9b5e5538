from podium.core.dsl.load import load_definition
from podium.core.dsl.models import JoinRule
from podium.core.engine.decide import (
    RUN_FAILING,
    ArriveAtJoin,
    CreateStep,
    EdgeState,
    after_step_ended,
    edge_state,
    fails_run,
    join_holds,
    join_resolution,
    run_outcome,
    start_status,
)
from podium.core.engine.graph import Graph
from podium.core.engine.records import RunRecord
from podium.core.engine.retry import Retry, plan_retry
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.engine.step_error import user_error

DIAMOND = load_definition(
    """
name: d
steps:
  - {id: a, type: noop, retries: 2, retry_delay_seconds: 7}
  - {id: b, type: noop, depends_on: [a]}
  - {id: c, type: noop, depends_on: [a]}
  - {id: d, type: noop, depends_on: [b, c]}
  - {id: cleanup, type: noop, depends_on: [d], join: all_done}
  - {id: on_error, type: noop, depends_on: [b, c], join: one_failed, recover: true}
"""
)
G = Graph.of(DIAMOND)
S, F, K = StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED


def test_graph_shape() -> None:
    assert G.roots == ("a",)
    assert G.sinks == frozenset({"cleanup", "on_error"})
    assert G.successors["a"] == ("b", "c")
    assert G.predecessors["d"] == ("b", "c")
    assert G.predecessor_index[("d", "c")] == 1
    assert G.join["cleanup"] is JoinRule.ALL_DONE
    assert G.handled == frozenset({"b", "c"})  # on_error recovers their failures


def test_edge_states() -> None:
    assert edge_state(S, None) is EdgeState.TAKEN
    assert edge_state(S, True) is EdgeState.TAKEN
    assert edge_state(S, False) is EdgeState.NOT_TAKEN
    assert edge_state(K, None) is EdgeState.NOT_TAKEN
    assert edge_state(F, None) is EdgeState.FAILED
    assert edge_state(StepStatus.FAILED_IGNORED, None) is EdgeState.TAKEN


def test_join_rules() -> None:
    # (rule, edges, taken, failed) -> holds
    table = {
        (JoinRule.ONE_SUCCESS, 2, 1, 0): True,
        (JoinRule.ONE_SUCCESS, 2, 0, 0): False,  # if/else: neither branch taken
        (JoinRule.ONE_SUCCESS, 2, 1, 1): False,
        (JoinRule.ALL_SUCCESS, 2, 2, 0): True,
        (JoinRule.ALL_SUCCESS, 2, 1, 0): False,
        (JoinRule.ALL_DONE, 2, 0, 2): True,
        (JoinRule.ONE_FAILED, 2, 1, 1): True,
        (JoinRule.ONE_FAILED, 2, 2, 0): False,
    }
    for (rule, edges, taken, failed), holds in table.items():
        assert join_holds(rule, edges, taken, failed) is holds, rule


def test_start_status_explains_a_skip() -> None:
    assert start_status(JoinRule.ONE_SUCCESS, 1, 1, 0, False) == (StepStatus.READY, None)
    assert start_status(JoinRule.ONE_SUCCESS, 1, 0, 1, False) == (K, "upstream failed")
    assert start_status(JoinRule.ONE_SUCCESS, 1, 1, 0, True) == (K, RUN_FAILING)
    # Handlers and cleanup still start in a failing run.
    assert start_status(JoinRule.ONE_FAILED, 1, 0, 1, True) == (StepStatus.READY, None)
    assert start_status(JoinRule.ALL_DONE, 1, 0, 1, True) == (StepStatus.READY, None)
    status, reason = start_status(JoinRule.ALL_SUCCESS, 2, 1, 0, False)
    assert status is K and reason == "join all_success: 1 of 2 incoming edges taken"


def test_success_creates_single_predecessor_successors_ready() -> None:
    assert after_step_ended(G, "a", S, False) == [
        CreateStep("b", StepStatus.READY),
        CreateStep("c", StepStatus.READY),
    ]
    assert after_step_ended(G, "b", S, False) == [
        ArriveAtJoin("d", "b", EdgeState.TAKEN),
        ArriveAtJoin("on_error", "b", EdgeState.TAKEN),
    ]


def test_conditions_decide_which_edges_are_taken() -> None:
    asked: list[str] = []

    def condition(succ: str) -> bool | None:
        asked.append(succ)
        return succ == "b"

    assert after_step_ended(G, "a", S, False, condition) == [
        CreateStep("b", StepStatus.READY),
        CreateStep("c", K, "no incoming edge taken (join: one_success)"),
    ]
    assert asked == ["b", "c"]
    asked.clear()
    after_step_ended(G, "a", F, False, condition)
    assert asked == []  # conditions are evaluated only when the source completed


def test_failure_and_failing_run_skip_downstream() -> None:
    assert after_step_ended(G, "a", F, True) == [
        CreateStep("b", K, "upstream failed"),
        CreateStep("c", K, "upstream failed"),
    ]
    assert after_step_ended(G, "a", S, True)[0] == CreateStep("b", K, RUN_FAILING)
    assert after_step_ended(G, "c", K, False)[0] == ArriveAtJoin("d", "c", EdgeState.NOT_TAKEN)


def test_join_waits_for_every_predecessor() -> None:
    assert join_resolution(G, "d", 1, 1, 0, False) is None
    assert join_resolution(G, "d", 2, 2, 0, False) == (StepStatus.READY, None)
    assert join_resolution(G, "d", 2, 1, 1, False) == (K, "upstream failed")
    assert join_resolution(G, "on_error", 2, 1, 1, True) == (StepStatus.READY, None)


def test_recovered_failures_do_not_fail_the_run() -> None:
    assert not fails_run(G, "b")
    assert fails_run(G, "a")


def test_retry_shorthand_until_attempts_run_out() -> None:
    error = user_error("boom")
    a, b = DIAMOND.step("a").retriers, DIAMOND.step("b").retriers
    assert plan_retry(a, error, 1, {}, "s") == Retry(2, 7, "0")
    assert plan_retry(a, error, 2, {"0": 1}, "s") == Retry(3, 7, "0")
    assert plan_retry(a, error, 3, {"0": 2}, "s") is None
    assert plan_retry(b, error, 1, {}, "s") is None


def test_run_outcome_counts_sinks() -> None:
    run = RunRecord("r", "d", 1, RunStatus.RUNNING, {}, 0, sinks_total=2)
    assert run_outcome(run, 1) is None
    assert run_outcome(run, 2) is RunStatus.SUCCEEDED
    failing = RunRecord("r", "d", 1, RunStatus.RUNNING, {}, 0, sinks_total=2, failing=True)
    assert run_outcome(failing, 2) is RunStatus.FAILED
