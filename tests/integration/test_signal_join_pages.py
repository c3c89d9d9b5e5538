"""A signal trigger's join reads heads in pages and payloads only for the set it starts.

- A join asked the store for the newest 50, then the newest 1,000 whole signals of each
  other name: every one's payload was read (by key, up to 64 KB each), though it keeps
  one set; and a partner older than the newest 1,000 (all used) was never found. Now it
  reads pages of heads (no payload), newest first, page after page, up to a bound on
  what one arrival looks through (``_MAX_LOOKED``; stopping there is recorded on the
  trigger), and the payloads of the set it starts (service/signal_triggers.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.core.engine.signals import Signal, SignalRequest, instance_key, new_signal
from podium.local.runtime import LocalRuntime
from podium.service import signal_triggers
from podium.service.signals import send_signal
from podium.service.triggers import list_triggers

PAYLOAD = {"rows": "x" * 7_000}  # 7 KB: two read units whenever it is read
PAIRS = {
    "name": "pairs",
    "params": {"a": {"type": "int"}, "b": {"type": "int"}},
    "steps": [{"id": "x", "type": "noop"}],
    "run_strategy": {"parallel": 50},
    "triggers": [
        {
            "id": "t",
            "signal": {"names": ["a", "b"]},
            "params": {"a": "${event.signals.a.params.n}", "b": "${event.signals.b.params.n}"},
        }
    ],
}
CONSUMER = "pairs/t"


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store=request.param, clock=clock, **home) as runtime:
        runtime.push(PAIRS)
        yield runtime


def stored(rt: LocalRuntime, name: str, n: int, **kw: Any) -> Signal:
    """A signal stored as a send stores it, without offering it to the triggers."""
    assert rt.services.signals is not None
    rt.clock.advance(1000)  # type: ignore[union-attr]
    signal, _ = rt.services.signals.send(
        new_signal(SignalRequest(name, params={"n": n}, **kw), rt.services.now())
    )
    return signal


def backlog(rt: LocalRuntime, first: int, count: int, **kw: Any) -> None:
    """``count`` signals of ``b``, each already used by the trigger (another set)."""
    assert rt.services.signals is not None
    sent = [stored(rt, "b", first + i, **kw) for i in range(count)]
    for start in range(0, count, 50):  # a DynamoDB transaction takes 100 items at most
        keys = [instance_key(s) for s in sent[start : start + 50]]
        assert rt.services.signals.consume(CONSUMER, keys, f"used-{start}", 2**50)


def arrive(rt: LocalRuntime, name: str, n: int) -> None:
    rt.clock.advance(1000)  # type: ignore[union-attr]
    send_signal(rt.services, SignalRequest(name, params={"n": n}))


def pairs(rt: LocalRuntime) -> list[tuple[int, int]]:
    return sorted((r.params["a"], r.params["b"]) for r in rt.store.list_runs("pairs", 100))


def last_failure(rt: LocalRuntime) -> str | None:
    (listed,) = list_triggers(rt.services, "pairs")
    failure = listed["last_failure"]
    return None if failure is None else str(failure["error"])


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 5, then 20, at most 100 heads: the bound's behaviour without storing
    thousands of signals (on moto too)."""
    monkeypatch.setattr(signal_triggers, "_FIRST_PAGE", 5)
    monkeypatch.setattr(signal_triggers, "_PAGE", 20)
    monkeypatch.setattr(signal_triggers, "_MAX_LOOKED", 100)


@pytest.mark.usefixtures("small_pages")
def test_a_partner_behind_pages_of_used_signals_is_found(rt: LocalRuntime) -> None:
    stored(rt, "b", 0)
    backlog(rt, 1, 90)  # 5, 20, 20, 20, 20 heads: the fifth page reaches it
    arrive(rt, "a", 7)
    assert pairs(rt) == [(7, 0)]
    assert last_failure(rt) is None


@pytest.mark.usefixtures("small_pages")
def test_a_join_stops_at_its_bound_and_says_so(rt: LocalRuntime) -> None:
    stored(rt, "b", 0)
    backlog(rt, 1, 100)  # the unused one is the 101st newest: past the bound
    arrive(rt, "a", 7)
    assert pairs(rt) == []
    failure = last_failure(rt)
    assert failure is not None and "no set among the newest 100 signals of b" in failure
    # A partner within the bound is found as ever.
    stored(rt, "b", 200)
    arrive(rt, "a", 8)
    assert pairs(rt) == [(8, 200)]


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_partner_older_than_the_newest_1000_is_found(store: str) -> None:
    """With the real pages: a join read the newest 1,000 signals of a name at most."""
    home = {"home": ":memory:"} if store == "sqlite" else {}
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store=store, clock=clock, **home) as local:
        local.push(PAIRS)
        stored(local, "b", 0)
        backlog(local, 1, 1_200)
        arrive(local, "a", 7)
        assert pairs(local) == [(7, 0)]


class Reads:
    """DynamoDB reads: the payloads read by key (``SIGID#`` items), and the calls of
    each operation."""

    def __init__(self, rt: LocalRuntime) -> None:
        self.payloads = 0
        self.calls: dict[str, int] = {}
        rt.store._db.meta.events.register("before-parameter-build.dynamodb", self._hook)  # type: ignore[attr-defined]

    def _hook(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls[model.name] = self.calls.get(model.name, 0) + 1
        keys = [params.get("Key") or {}]
        for asked in (params.get("RequestItems") or {}).values():
            keys.extend(asked.get("Keys", []))
        self.payloads += sum(k.get("pk", {}).get("S", "").startswith("SIGID#") for k in keys)


@pytest.mark.parametrize("used", [True, False])
def test_a_join_reads_the_payload_of_the_set_it_starts_only(used: bool) -> None:
    """300 signals of ``b`` with 7 KB payloads; the oldest unused, the others used by
    the trigger (or all unused). The arrival read the payloads of the newest 50, then
    of all 300 (350 payloads, 700 read units, one round trip for each candidate's
    marks); now it reads heads, marks a few candidates a call, and one payload."""
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store="moto", clock=clock) as rt:
        # Its condition and params read the payload: the set's signals are whole.
        trigger = {
            **PAIRS["triggers"][0],
            "signal": {"names": ["a", "b"], "condition": "size(event.signals.b.payload.rows) > 0"},
            "params": {
                **PAIRS["triggers"][0]["params"],
                "rows": "${size(event.signals.b.payload.rows)}",
            },
        }
        params = {**PAIRS["params"], "rows": {"type": "int"}}
        rt.push({**PAIRS, "params": params, "triggers": [trigger]})
        stored(rt, "b", 0, payload=PAYLOAD)
        if used:
            backlog(rt, 1, 299, payload=PAYLOAD)
        else:
            for i in range(1, 300):
                stored(rt, "b", i, payload=PAYLOAD)
        reads = Reads(rt)
        arrive(rt, "a", 7)
        expected = 0 if used else 250  # the oldest of the newest 50 when none is used
        ((a, b),) = pairs(rt)
        assert (a, b) == (7, expected)
        (run,) = rt.store.list_runs("pairs", 1)
        assert run.params == {"a": 7, "b": expected, "rows": 7_000}
        assert reads.payloads == 1, reads.__dict__  # b's: a's own is in hand
        assert reads.calls.get("BatchGetItem", 0) <= 20, reads.__dict__
