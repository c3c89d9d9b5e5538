"""A signal trigger needing more than 20 params on one signal (every ``join_keys`` key,
plus each param its ``match`` names) was accepted at push and could never start a run: a
signal has at most 20 params, and one lacking a join key is passed over silently
(service/signal_triggers.py ``_join``: no failure recorded, ``failed`` empty). The push
refused ``match`` alone over 20 ("none would ever match") but not join_keys, nor the
two together; it now refuses both, naming ``triggers[i].signal`` and the count."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.signals import SignalRequest
from podium.local.runtime import LocalRuntime
from podium.service.signals import send_signal


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="sqlite", home=":memory:", clock=ManualClock()) as runtime:
        yield runtime


def _joined_on(join_keys: list[str], match: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "joins",
        "steps": [{"id": "a", "type": "noop"}],
        "triggers": [
            {
                "id": "ab",
                "signal": {"names": ["a", "b"], "join_keys": join_keys, "match": match},
            }
        ],
    }


@pytest.mark.parametrize(
    ("join_keys", "match"),
    [
        pytest.param([f"k{i}" for i in range(21)], {}, id="21-join-keys"),
        pytest.param(
            [f"j{i}" for i in range(6)],
            {"a": {f"m{i}": 1 for i in range(15)}},
            id="15-matched-plus-6-joined",
        ),
    ],
)
def test_a_signal_trigger_needing_more_than_20_params_is_refused_at_push(
    rt: LocalRuntime, join_keys: list[str], match: dict[str, Any]
) -> None:
    with pytest.raises(DefinitionError) as refused:
        rt.push(_joined_on(join_keys, match))
    assert "triggers[0].signal" in str(refused.value)
    assert "21 params" in str(refused.value)


def test_a_param_both_joined_and_matched_counts_once(rt: LocalRuntime) -> None:
    """Guard: a join key the match names too is one param of the signal (20 in all)."""
    keys = [f"k{i}" for i in range(20)]
    rt.push(_joined_on(keys, {"a": {"k0": "v"}}))


def test_a_trigger_on_20_join_keys_still_starts_its_run(rt: LocalRuntime) -> None:
    """Guard: 20 join keys (the most a signal can carry) is a valid trigger, and it joins
    its two signals into one run."""
    keys = [f"k{i}" for i in range(20)]
    rt.push(_joined_on(keys, {}))
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    clock.advance(1000)
    params: dict[str, str | int] = {k: "v" for k in keys}
    send_signal(rt.services, SignalRequest("a", params))
    send_signal(rt.services, SignalRequest("b", params))
    assert len(rt.store.list_runs("joins", 10)) == 1
