"""What routing one event or one signal to the triggers costs in DynamoDB requests (on
moto): one read of the routing index, whatever the number of workflows, instead of a
listing of every workflow head; no write of a trigger's state that exists already; and
the index never misses a trigger just pushed, activated, or pushed before the index
existed (core/engine/trigger_index.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.load import validate_definition
from podium.core.engine.schedule import parse_iso
from podium.core.engine.signals import SignalRequest
from podium.core.engine.trigger_index import (
    build_index,
    candidates,
    definition_routes,
    event_routes,
    signal_route,
)
from podium.handlers import events
from podium.local.runtime import LocalRuntime
from podium.service.signals import send_signal
from podium.service.versions import activate

OWN = {
    "id": "o1",
    "source": "podium",
    "detail-type": "Podium Step Status Change",
    "detail": {"run_id": "R", "workflow": "other", "step": "s", "attempt": 1, "at": 1},
}


def s3_event(bucket: str, event_id: str = "e1") -> dict[str, Any]:
    return {
        "id": event_id,
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": "2026-03-27T12:00:00Z",
        "detail": {"bucket": {"name": bucket}, "object": {"key": "raw/k.csv", "size": 1}},
    }


def workflow(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"wf{i}",
        "steps": [{"id": "a", "type": "noop"}],
        "run_strategy": {"parallel": 50},
        "triggers": [
            {"id": "up", "s3": {"bucket": f"bucket-{i}"}},
            {"id": "ev", "event": {"pattern": {"source": [f"acme.{i}"]}}},
        ],
        **extra,
    }


class Calls:
    """DynamoDB requests by operation, and the writes to trigger states (``TRG#``)."""

    def __init__(self, rt: LocalRuntime) -> None:
        self.ops: Counter[str] = Counter()
        self.state_writes = 0
        rt.store._db.meta.events.register("before-parameter-build.dynamodb", self._hook)  # type: ignore[attr-defined]

    def _hook(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.ops[model.name] += 1
        key = params.get("Key") or params.get("Item") or {}
        if model.name in ("UpdateItem", "PutItem") and key.get("pk", {}).get("S", "").startswith(
            "TRG#"
        ):
            self.state_writes += 1

    def take(self) -> tuple[dict[str, int], int]:
        out = (dict(self.ops), self.state_writes)
        self.ops.clear()
        self.state_writes = 0
        return out


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(
        store="moto", clock=ManualClock(start_ms=parse_iso("2026-03-27T12:00:00Z"))
    ) as runtime:
        yield runtime


def _costs(rt: LocalRuntime, n: int) -> dict[str, Any]:
    """Requests of each kind of event once ``n`` workflows have triggers (the second of
    each: the first warms the process's definition cache)."""
    for i in range(n):
        rt.push(workflow(i))
    calls = Calls(rt)
    out: dict[str, Any] = {}
    for k in range(2):
        events.handler({"podium_bus": "podium", "event": {**OWN, "id": f"o{k}"}}, None)
        out["own"] = calls.take()
    for k in range(2):
        events.handler({"id": f"x{k}", "source": "nobody", "detail-type": "d"}, None)
        out["unmatched"] = calls.take()
    for k in range(2):
        send_signal(rt.services, SignalRequest("unused", params={"k": k}))
        out["signal"] = calls.take()
    events.handler(s3_event("bucket-0"), None)  # starts its run
    calls.take()
    events.handler(s3_event("bucket-0"), None)  # delivered again: finds its run
    out["s3_again"] = calls.take()
    return out


def test_one_event_costs_the_same_requests_with_1_or_50_workflows() -> None:
    costs = []
    for n in (1, 50):
        with LocalRuntime(
            store="moto", clock=ManualClock(start_ms=parse_iso("2026-03-27T12:00:00Z"))
        ) as rt:
            costs.append(_costs(rt, n))
    assert costs[0] == costs[1]
    one = costs[1]
    # Podium's own status change no trigger takes: one read of the index, nothing else.
    assert one["own"] == ({"BatchGetItem": 1}, 0)
    assert one["unmatched"] == ({"BatchGetItem": 1}, 0)
    # Stored (one transaction), its waiting steps (one Query), its triggers: the index.
    assert one["signal"] == ({"TransactWriteItems": 1, "Query": 1, "BatchGetItem": 1}, 0)
    ops, state_writes = one["s3_again"]
    assert ops.get("BatchGetItem") == 1  # the index
    assert state_writes == 0  # the trigger's state exists: read, not written


def test_a_matched_event_writes_no_trigger_state_that_exists(rt: LocalRuntime) -> None:
    rt.push(workflow(0))  # the push made the states (sync_triggers)
    calls = Calls(rt)
    first = events.handler(s3_event("bucket-0"), None)
    assert len(first["runs"]) == 1
    assert calls.take()[1] == 0
    again = events.handler(s3_event("bucket-0"), None)
    assert again["runs"] == first["runs"]
    assert calls.take()[1] == 0


def test_a_trigger_without_a_state_gets_one_since_set_once(rt: LocalRuntime) -> None:
    rt.push(workflow(0))
    store = rt.store
    store._db.delete_item(  # type: ignore[attr-defined]
        TableName=store._table,  # type: ignore[attr-defined]
        Key={"pk": {"S": "TRG#wf0"}, "sk": {"S": "up"}},
    )
    states = store.trigger_states()
    assert states.get_state("wf0", "up") is None
    events.handler(s3_event("bucket-0", "e1"), None)
    made = states.get_state("wf0", "up")
    assert made is not None
    rt.clock.advance(60_000)  # type: ignore[attr-defined]
    events.handler(s3_event("bucket-0", "e2"), None)
    assert states.get_state("wf0", "up") == made  # since kept


def test_a_trigger_pushed_or_activated_a_moment_ago_is_routed(rt: LocalRuntime) -> None:
    rt.push({"name": "late", "steps": [{"id": "a", "type": "noop"}]})
    events.handler(s3_event("late-bucket"), None)  # the index is built meanwhile
    rt.push(
        {
            "name": "late",
            "steps": [{"id": "a", "type": "noop"}],
            "triggers": [{"id": "up", "s3": {"bucket": "late-bucket"}}],
        }
    )
    assert len(events.handler(s3_event("late-bucket", "e2"), None)["runs"]) == 1
    # A third version without it, then the second activated again (a rollback's path).
    rt.push({"name": "late", "steps": [{"id": "b", "type": "noop"}]})
    assert events.handler(s3_event("late-bucket", "e3"), None)["matched"] == 0
    activate(rt.services, "late", 2)
    assert len(events.handler(s3_event("late-bucket", "e4"), None)["runs"]) == 1
    # A signal trigger pushed now takes the next signal.
    rt.push(
        {
            "name": "sig",
            "steps": [{"id": "a", "type": "noop"}],
            "triggers": [{"id": "s", "signal": {"names": ["go"]}}],
        }
    )
    rt.clock.advance(1_000)  # type: ignore[attr-defined]
    sent = send_signal(rt.services, SignalRequest("go"))
    assert sent is not None
    assert len(rt.store.list_runs("sig")) == 1


def test_a_workflow_that_drops_its_s3_trigger_is_no_longer_read_for_its_bucket(
    rt: LocalRuntime,
) -> None:
    """Its new active version has no trigger on the bucket: once it is active, the
    workflow is off the bucket's key, and the bucket's events read nothing of it."""
    rt.push(workflow(0))
    rt.push({**workflow(0), "triggers": [workflow(0)["triggers"][1]]})  # keeps "ev"
    states = rt.store.trigger_states()
    states.mark_routes_built()
    assert states.get_routes(["s3:bucket-0", "event:default:acme.0"]) == {
        "event:default:acme.0": frozenset({"wf0"})
    }
    calls = Calls(rt)
    for k in range(2):  # the second: the first warms the definition cache
        assert events.handler(s3_event("bucket-0", f"d{k}"), None)["matched"] == 0
        ops, _ = calls.take()
    assert ops == {"BatchGetItem": 1}  # the index; no read of wf0's head or version
    # Rolled back: on the key again, before it is active; dropped again by the next push.
    activate(rt.services, "wf0", 1)
    assert len(events.handler(s3_event("bucket-0", "r1"), None)["runs"]) == 1
    rt.push({**workflow(0), "triggers": []})
    assert states.get_routes(["s3:bucket-0", "event:default:acme.0"]) == {}


def test_a_store_from_before_the_index_is_indexed_by_the_first_event(rt: LocalRuntime) -> None:
    for i in range(3):
        rt.push(workflow(i))
    db, table = rt.store._db, rt.store._table  # type: ignore[attr-defined]
    for item in db.scan(TableName=table)["Items"]:  # as a store made before the index
        if item["pk"]["S"].startswith("TRGR"):
            db.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    assert rt.store.trigger_states().get_routes(["s3:bucket-2"]) is None
    assert len(events.handler(s3_event("bucket-2"), None)["runs"]) == 1
    assert rt.store.trigger_states().get_routes(["s3:bucket-2"]) == {
        "s3:bucket-2": frozenset({"wf2"})
    }
    calls = Calls(rt)
    events.handler({"podium_bus": "podium", "event": OWN}, None)
    assert calls.take() == ({"BatchGetItem": 1}, 0)


# the pure index -----------------------------------------------------------------------
def _definition(triggers: list[dict[str, Any]]) -> Any:
    return validate_definition(
        {"name": "w", "steps": [{"id": "a", "type": "noop"}], "triggers": triggers}
    )


def test_routes_of_a_definition() -> None:
    defn = _definition(
        [
            {"id": "up", "s3": {"bucket": "my-bucket"}},
            {"id": "named", "event": {"pattern": {"source": ["a", "b"]}}},
            {"id": "any", "event": {"bus": "ops", "pattern": {"source": [{"prefix": "x"}]}}},
            {"id": "mine", "event": {"bus": "podium", "pattern": {"detail-type": ["y"]}}},
            {"id": "sig", "signal": {"names": ["s1", "s2"]}},
            {"id": "nightly", "cron": "0 6 * * *"},
        ]
    )
    assert definition_routes(defn) == {
        "s3:my-bucket",
        "event:default:a",
        "event:default:b",
        "event:ops",
        "event:podium",
        "signal:s1",
        "signal:s2",
    }
    index = build_index({"w": defn, "none": _definition([])})
    assert candidates(index, event_routes(s3_event("my-bucket"), "default")) == ["w"]
    assert candidates(index, event_routes(s3_event("my-bucket"), "ops")) == ["w"]  # any
    assert candidates(index, event_routes({"source": "a"}, "default")) == ["w"]
    assert candidates(index, event_routes({"source": "c"}, "default")) == []
    assert candidates(index, event_routes(OWN, "podium")) == ["w"]
    assert candidates(index, [signal_route("s2")]) == ["w"]
    assert candidates(index, [signal_route("s3")]) == []


def test_event_routes_of_odd_events() -> None:
    assert event_routes({}, "default") == ("event:default",)
    assert event_routes({"source": ["a", 1, "a"]}, "b") == ("event:b", "event:b:a")
    assert event_routes({"source": "x" * 300}, "b") == ("event:b",)
    weird = {"source": "aws.s3", "detail": {"bucket": {"name": ["b1", 2, "y" * 64]}}}
    assert event_routes(weird, "default") == (
        "event:default",
        "event:default:aws.s3",
        "s3:b1",
    )
    assert event_routes({"source": "aws.s3", "detail": "x"}, "default")[-1] == (
        "event:default:aws.s3"
    )


def test_many_workflows_on_one_source_cost_one_listing_not_a_read_each(
    rt: LocalRuntime,
) -> None:
    """Every candidate's active version read on its own was N GetItems per event when N
    workflows listen to one source (every Glue job's state change): past a few, one
    listing of the heads is read instead, as before the index."""
    for i in range(20):
        # Candidates by source; the event below matches none of them (no run starts).
        pattern = {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"]}
        shared = {"id": "glue", "event": {"pattern": pattern}}
        rt.push({**workflow(i), "triggers": [shared]})
    calls = Calls(rt)
    for k in range(2):  # the second: the first warms the definition cache
        events.handler({"id": f"g{k}", "source": "aws.glue", "detail-type": "x"}, None)
        ops, _ = calls.take()
    assert ops.get("GetItem", 0) <= 20 // 2, ops  # no read per workflow
    assert ops.get("Query", 0) == 1, ops
