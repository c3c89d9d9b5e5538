"""A signal trigger turned off and on again joined the signals sent while it was off.

Enabling kept the trigger's ``since`` (adapters/trigger_states.py ``set_enabled``) and
a join looked for partners sent after ``since`` only (service/signal_triggers.py): a
signal sent while the trigger was disabled was ignored on arrival, but the first
partner sent once it was on again joined it and started a run, for data the operator
had turned the trigger off for. A disabled s3 or event trigger drops what comes
meanwhile (as a disabled EventBridge rule does); a signal trigger now does too: turned
on again, it counts only the signals sent since (``TriggerState.enabled_at``), on every
store. An enable of a trigger already on changes nothing, and a rate trigger's
``since`` (its slots' anchor) never moves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from podium.service.triggers import list_triggers, set_enabled
from podium.testing import send_signal

WF: dict[str, Any] = {
    "name": "wf",
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [
        {"id": "both", "signal": {"names": ["a_ready", "b_ready"], "join_keys": ["day"]}},
        {"id": "often", "rate": "1h"},
    ],
}


@pytest.fixture(params=["moto", "sqlite", "memory"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(
        clock=ManualClock(), store=request.param, home=home, capture_output=False
    ) as runtime:
        yield runtime


def _runs(rt: LocalRuntime) -> list[str]:
    return [r.trigger or "" for r in rt.services.store.list_runs("wf")]


def test_signals_sent_while_disabled_are_not_joined_once_enabled(rt: LocalRuntime) -> None:
    rt.push(WF)
    rt.clock.advance(1000)
    set_enabled(rt.services, "wf", "both", False)
    rt.clock.advance(1000)
    send_signal(rt, "a_ready", {"day": "d1"}, request_id="a-off")  # while off: ignored
    rt.clock.advance(1000)
    set_enabled(rt.services, "wf", "both", True)
    rt.clock.advance(1000)
    send_signal(rt, "b_ready", {"day": "d1"}, request_id="b-on")
    assert "signal:both" not in _runs(rt)  # a-off was sent while the trigger was off

    rt.clock.advance(1000)
    send_signal(rt, "a_ready", {"day": "d1"}, request_id="a-on")  # sent again, once on
    assert _runs(rt).count("signal:both") == 1


def test_an_enable_of_a_trigger_already_on_keeps_its_signals(rt: LocalRuntime) -> None:
    rt.push(WF)
    rt.clock.advance(1000)
    send_signal(rt, "a_ready", {"day": "d1"}, request_id="a1")
    rt.clock.advance(1000)
    set_enabled(rt.services, "wf", "both", True)  # on already: nothing changes
    rt.clock.advance(1000)
    send_signal(rt, "b_ready", {"day": "d1"}, request_id="b1")
    assert _runs(rt).count("signal:both") == 1


def test_a_rate_triggers_since_stays_when_enabled_again(rt: LocalRuntime) -> None:
    """``since`` anchors a rate trigger's slots (core/engine/backfill.py rate_anchor):
    turning it off and on again must not move them."""
    rt.push(WF)
    before = {t["id"]: t["since"] for t in list_triggers(rt.services, "wf")}
    rt.clock.advance(1000)
    set_enabled(rt.services, "wf", "often", False)
    set_enabled(rt.services, "wf", "both", False)
    rt.clock.advance(1000)
    state = set_enabled(rt.services, "wf", "often", True)
    set_enabled(rt.services, "wf", "both", True)
    assert state.since == before["often"] and state.enabled_at == rt.clock.now_ms()
    assert {t["id"]: t["since"] for t in list_triggers(rt.services, "wf")} == before
