"""A signal trigger whose ``condition`` reads only params (and ids) tries its sets on the
partners' heads: it read the payload of every partner of every set it tried (by key,
up to 64 KB each) to evaluate a condition that never looked at one. Now it reads the
payloads of the set it starts only; a condition that may read a payload reads them
for the sets it tries, as before (core/engine/signals.py ``condition_reads_payload``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.core.engine.signals import SignalRequest, new_signal
from podium.local.runtime import LocalRuntime
from podium.service.signals import send_signal

PAYLOAD = {"rows": "x" * 7_000}  # 7 KB: two read units whenever it is read


def workflow(condition: str) -> dict[str, Any]:
    return {
        "name": "pairs",
        "params": {"a": {"type": "int"}, "b": {"type": "int"}, "rows": {"type": "int"}},
        "steps": [{"id": "x", "type": "noop"}],
        "run_strategy": {"parallel": 50},
        "triggers": [
            {
                "id": "t",
                "signal": {"names": ["a", "b"], "condition": condition},
                "params": {
                    "a": "${event.signals.a.params.n}",
                    "b": "${event.signals.b.params.n}",
                    # The run's params read the payload: the set it starts is whole.
                    "rows": "${size(event.signals.b.payload.rows)}",
                },
            }
        ],
    }


class Reads:
    """The payloads read by key from DynamoDB (``SIGID#`` items)."""

    def __init__(self, rt: LocalRuntime) -> None:
        self.payloads = 0
        rt.store._db.meta.events.register("before-parameter-build.dynamodb", self._hook)  # type: ignore[attr-defined]

    def _hook(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        keys = [params.get("Key") or {}]
        for asked in (params.get("RequestItems") or {}).values():
            keys.extend(asked.get("Keys", []))
        self.payloads += sum(k.get("pk", {}).get("S", "").startswith("SIGID#") for k in keys)


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store="moto", clock=clock) as runtime:
        yield runtime


def fill(rt: LocalRuntime, count: int) -> None:
    """``count`` signals of ``b`` (n = 0, 1, ...) with 7 KB payloads, not offered to
    the trigger."""
    assert rt.services.signals is not None
    for n in range(count):
        rt.clock.advance(1000)  # type: ignore[attr-defined]
        rt.services.signals.send(
            new_signal(SignalRequest("b", params={"n": n}, payload=PAYLOAD), rt.services.now())
        )


def arrive(rt: LocalRuntime) -> None:
    rt.clock.advance(1000)  # type: ignore[attr-defined]
    send_signal(rt.services, SignalRequest("a", params={"n": 7}))


@pytest.mark.parametrize(
    ("condition", "payloads"),
    [
        # Params only: tried on heads, 30 sets refused; the started set's payload only.
        ("event.signals.b.params.n >= 30", 1),
        # It may read the payload: each set tried has its partner's read (31).
        ("event.signals.b.params.n >= 30 && size(event.signals.b.payload.rows) > 0", 31),
    ],
)
def test_a_condition_on_params_reads_the_payload_of_the_set_it_starts(
    rt: LocalRuntime, condition: str, payloads: int
) -> None:
    rt.push(workflow(condition))
    fill(rt, 40)
    reads = Reads(rt)
    arrive(rt)
    (run,) = rt.store.list_runs("pairs", 10)
    assert run.params == {"a": 7, "b": 30, "rows": 7_000}
    assert reads.payloads == payloads
