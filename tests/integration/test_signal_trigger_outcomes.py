"""What a signal trigger made of a delivery reaches the sender's answer whole: the
failures recorded by a join that lost a race to another set, and by the join that then
started (or could not start) the run, in the order they were recorded.
``service/signal_triggers.py`` passed one ``failures`` list down five functions, each
appending to it; each now returns its outcome (a refactor: the answer is unchanged)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.local.runtime import LocalRuntime
from podium.service.triggers import list_triggers
from tests.integration.test_api import call

# The set of ``a`` with the oldest ``b`` cannot be evaluated (that ``b`` has no ``k``);
# with the next ``b`` it holds.
CONDITION = "event.signals.b.params.k > 1"


def _workflow(params: dict[str, str]) -> dict[str, Any]:
    return {
        "name": "wf",
        "params": {"n": {"type": "int"}},
        "steps": [{"id": "s", "type": "noop"}],
        "triggers": [
            {"id": "t", "signal": {"names": ["a", "b"], "condition": CONDITION}, "params": params}
        ],
    }


def _runs(runtime: LocalRuntime) -> list[Any]:
    return runtime.services.store.list_runs("wf", 10)


def _send(name: str, params: dict[str, Any]) -> dict[str, Any]:
    status, answer = call("POST", "/signals", {"name": name, "params": params})
    assert status == 201, answer
    return answer  # type: ignore[no-any-return]


def _first_consume_loses(runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another arrival consumes a partner between this join's read and its consume."""
    signals = runtime.services.signals
    real = signals.consume
    lost = [True]

    def consume(*args: Any, **kwargs: Any) -> bool:
        if lost.pop() if lost else False:
            return False
        return real(*args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(signals, "consume", consume)


def test_a_join_that_lost_a_race_keeps_its_failures_in_the_answer(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.push(_workflow({"n": "${event.signals.b.params.k}"}))
    runtime.clock.advance(1000)
    assert _send("b", {"j": 1})["failed"] == []  # no ``a`` yet: no set tried
    runtime.clock.advance(1000)
    assert _send("b", {"k": 5})["failed"] == []
    runtime.clock.advance(1000)
    _first_consume_loses(runtime, monkeypatch)
    answer = _send("a", {})
    # The condition failed on the first set in each try (the lost one and the next).
    assert len(answer["failed"]) == 2
    assert all("triggers.t.signal.condition" in f["error"] for f in answer["failed"])
    [run] = _runs(runtime)
    assert run.params == {"n": 5}


def test_a_condition_failure_then_a_params_failure_are_both_answered_in_order(
    runtime: LocalRuntime,
) -> None:
    runtime.push(_workflow({"n": "${event.signals.b.params.missing}"}))
    runtime.clock.advance(1000)
    _send("b", {"j": 1})
    runtime.clock.advance(1000)
    _send("b", {"k": 5})
    runtime.clock.advance(1000)
    answer = _send("a", {})
    assert [f["trigger"] for f in answer["failed"]] == ["t", "t"]
    condition, params = (f["error"] for f in answer["failed"])
    assert "triggers.t.signal.condition" in condition and "triggers.t.params" in params
    assert _runs(runtime) == []
    [state] = list_triggers(runtime.services, "wf")
    assert state["last_failure"]["error"] == params  # the last one recorded
