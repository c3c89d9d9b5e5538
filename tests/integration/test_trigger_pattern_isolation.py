"""One workflow's event pattern that cannot be matched (stored before a check that now
refuses it) is that trigger's failure: the other workflows' triggers on the same event
still start their runs. Before, the raise went up through the events function, so the
event failed for every workflow and was retried into the dead-letter queue."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from podium.service import triggers
from podium.service.triggers import route_trigger_event


def _wf(name: str, rule: list[Any]) -> dict[str, Any]:
    pattern = {"source": ["aws.glue"], "detail": {"jobName": rule}}
    return {
        "name": name,
        "steps": [{"id": "a", "type": "noop"}],
        "triggers": [{"id": "on_glue", "event": {"pattern": pattern}}],
    }


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def test_a_pattern_that_raises_fails_its_trigger_alone(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt.push(_wf("a_bad", [{"suffix": "-old"}]))
    rt.push(_wf("b_good", [{"prefix": "etl-"}]))
    real = triggers.matches

    def raising_for_a_bad(pattern: Mapping[str, Any], event: Any) -> bool:
        if pattern["detail"]["jobName"] == [{"suffix": "-old"}]:  # stands for a bad one
            raise TypeError("unhashable type: 'list'")
        return real(pattern, event)

    monkeypatch.setattr(triggers, "matches", raising_for_a_bad)
    event = {
        "id": "e-1",
        "source": "aws.glue",
        "detail-type": "Glue Job State Change",
        "detail": {"state": "SUCCEEDED", "jobName": "etl-daily"},
    }
    result = route_trigger_event(rt.services, event)
    assert result is not None, result
    assert len(result["runs"]) == 1 and result["failed"] == ["a_bad/on_glue"], result
    state = rt.store.trigger_states().get_state("a_bad", "on_glue")
    assert state is not None and "cannot be matched" in (state.error or ""), state
