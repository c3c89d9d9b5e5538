"""A signal trigger's join tries its candidates, and its consumed marks last.

- A join took the oldest unused signal of each other name, tested ``condition`` on that
  one set and gave up: a signal the condition refused blocked every later valid set of
  its key until it expired, and whether a run started depended on arrival order. Now
  the first set, oldest first, whose condition holds joins; a condition that fails to
  evaluate is the trigger's failure (`podium triggers list`) and its set is passed over.
- The mark "consumed by this trigger" expired after 90 days while a signal may live 365:
  once the mark was gone the still-live signal joined a second set (a second run). Now
  a mark lasts at least as long as the signals of its set.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.core.engine.signals import SignalRequest
from podium.local.runtime import TABLE_NAME, LocalRuntime
from podium.service.signals import send_signal
from podium.service.triggers import list_triggers

DAY = 86_400_000


def joined(condition: str, names: list[str] | None = None) -> dict[str, Any]:
    return {
        "name": "joined",
        "params": {"day": {"type": "string"}},
        "steps": [{"id": "a", "type": "noop"}],
        "run_strategy": {"parallel": 10},
        "triggers": [
            {
                "id": "both",
                "signal": {
                    "names": names or ["sales_ready", "costs_ready"],
                    "join_keys": ["day"],
                    "condition": condition,
                },
                "params": {"day": "${event.signals.costs_ready.params.day}"},
            }
        ],
    }


ROWS_OK = "event.signals.sales_ready.params.rows < 1000000"


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store=request.param, clock=clock, **home) as runtime:
        yield runtime


def send(rt: LocalRuntime, name: str, **params: Any) -> None:
    rt.clock.advance(1000)  # type: ignore[union-attr]
    send_signal(rt.services, SignalRequest(name, params))


def sets(rt: LocalRuntime) -> list[dict[str, Any]]:
    """The params of the runs the trigger started, one per set joined."""
    return [run.params for run in rt.store.list_runs("joined", 100)]


def test_a_signal_the_condition_refuses_does_not_block_a_later_valid_set(
    rt: LocalRuntime,
) -> None:
    rt.push(joined(ROWS_OK))
    send(rt, "sales_ready", day="d1", rows=2_000_000)  # refused by the condition
    send(rt, "sales_ready", day="d1", rows=5)  # the corrected one
    send(rt, "costs_ready", day="d1", batch=1)
    assert sets(rt) == [{"day": "d1"}]
    # The refused one stays unused; the good one is consumed: nothing more joins.
    send(rt, "costs_ready", day="d1", batch=2)
    assert len(sets(rt)) == 1
    # Another corrected sales signal joins the waiting costs signal (batch 2).
    send(rt, "sales_ready", day="d1", rows=7)
    assert len(sets(rt)) == 2


@pytest.mark.parametrize("order", ["costs_last", "costs_first"])
def test_the_outcome_does_not_depend_on_arrival_order(rt: LocalRuntime, order: str) -> None:
    rt.push(joined(ROWS_OK))
    sales = [{"day": "d1", "rows": 2_000_000}, {"day": "d1", "rows": 5}]
    costs = {"day": "d1"}
    if order == "costs_first":
        send(rt, "costs_ready", **costs)
    for params in sales:
        send(rt, "sales_ready", **params)
    if order == "costs_last":
        send(rt, "costs_ready", **costs)
    assert sets(rt) == [{"day": "d1"}]


def test_a_join_of_three_names_tries_the_sets_of_every_name(rt: LocalRuntime) -> None:
    rt.push(
        joined(
            "event.signals.sales_ready.params.v == event.signals.stock_ready.params.v",
            ["sales_ready", "stock_ready", "costs_ready"],
        )
    )
    send(rt, "sales_ready", day="d1", v=1)
    send(rt, "sales_ready", day="d1", v=2)
    send(rt, "stock_ready", day="d1", v=3)
    send(rt, "stock_ready", day="d1", v=2)
    send(rt, "costs_ready", day="d1", batch=1)  # the first set that holds: sales v2 + stock v2
    assert sets(rt) == [{"day": "d1"}]
    send(rt, "stock_ready", day="d1", v=1)
    send(rt, "costs_ready", day="d1", batch=2)  # then sales v1 + stock v1
    assert len(sets(rt)) == 2
    send(rt, "costs_ready", day="d1", batch=3)  # stock v3 has no sales partner left
    assert len(sets(rt)) == 2


def test_a_condition_that_fails_to_evaluate_is_the_triggers_failure(rt: LocalRuntime) -> None:
    rt.push(joined(ROWS_OK))
    send(rt, "sales_ready", day="d1")  # no rows: the condition cannot be evaluated
    send(rt, "sales_ready", day="d1", rows=5)
    send(rt, "costs_ready", day="d1")
    assert sets(rt) == [{"day": "d1"}]  # the set that could be evaluated joined
    (listed,) = list_triggers(rt.services, "joined")
    assert listed["last_failure"] is not None
    assert listed["last_failure"]["error"].startswith("triggers.both.signal.condition: ")
    assert "rows" in listed["last_failure"]["error"]


def ttl_sweep(rt: LocalRuntime) -> int:
    """What DynamoDB's TTL does (moto never does it): items past ``expires_at`` go."""
    db, gone = rt.dynamodb, 0  # type: ignore[attr-defined]
    now_s = rt.clock.now_ms() // 1000
    for page in db.get_paginator("scan").paginate(TableName=TABLE_NAME):
        for item in page["Items"]:
            if "expires_at" in item and int(item["expires_at"]["N"]) < now_s:
                db.delete_item(TableName=TABLE_NAME, Key={"pk": item["pk"], "sk": item["sk"]})
                gone += 1
    return gone


def marks(rt: LocalRuntime) -> list[dict[str, Any]]:
    """The items marking a signal used by a trigger."""
    items = rt.dynamodb.scan(TableName=TABLE_NAME)["Items"]  # type: ignore[attr-defined]
    return [i for i in items if i["pk"]["S"].startswith("SIGC#")]


def test_a_consumed_mark_outlives_the_signals_of_its_set() -> None:
    wf = {
        "name": "joined",
        "params": {"day": {"type": "string"}},
        "steps": [{"id": "a", "type": "noop"}],
        "triggers": [
            {
                "id": "both",
                "signal": {"names": ["ref_data", "sales_ready"], "join_keys": ["day"]},
                "params": {"day": "${event.signals.sales_ready.params.day}"},
            }
        ],
    }
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store="moto", clock=clock) as rt:
        rt.push(wf)
        clock.advance(1000)
        ref = SignalRequest("ref_data", {"day": "d1"}, ttl_ms=365 * DAY)
        send_signal(rt.services, ref)
        send_signal(rt.services, SignalRequest("sales_ready", {"day": "d1"}, request_id="l1"))
        first = {r.run_id for r in rt.store.list_runs("joined", 10)}
        assert len(first) == 1
        clock.advance(100 * DAY)  # past 90 days; ref_data lives on
        ttl_sweep(rt)
        assert len(marks(rt)) == 2  # the set's marks are still there
        # An upstream re-run sends sales_ready for the day again (a new request id): the
        # ref_data signal was consumed by the first set and joins no second one.
        send_signal(rt.services, SignalRequest("sales_ready", {"day": "d1"}, request_id="l2"))
        assert {r.run_id for r in rt.store.list_runs("joined", 10)} <= first
        # Once ref_data itself has expired, its mark goes too: none is kept for ever.
        clock.advance(266 * DAY)
        ttl_sweep(rt)
        assert marks(rt) == []


def test_a_join_that_loses_a_partner_to_a_racing_set_joins_another(rt: LocalRuntime) -> None:
    """Between reading its partners and consuming them, another arrival's set took one:
    the join gave up, though another partner was waiting. It now reads the partners
    left and tries again."""
    rt.push(joined("true"))
    sales = []
    for rows in (1, 2):
        rt.clock.advance(1000)  # type: ignore[union-attr]
        stored, _ = send_signal(
            rt.services, SignalRequest("sales_ready", {"day": "d1", "rows": rows})
        )
        sales.append(stored.signal_id)
    signals = rt.services.signals
    assert signals is not None
    real = signals.consume
    raced: list[str] = []

    def racing(
        consumer: str, ids: Any, group: str, expires_at: int, made_at: int | None = None
    ) -> bool:
        if not raced:  # a racing arrival's set takes the sales signal this one read
            (taken,) = [i for i in ids if i.split("@")[0] in sales]
            raced.append(taken)
            assert real(consumer, [taken], f"{taken}+racer", expires_at, made_at)
        return real(consumer, ids, group, expires_at, made_at)

    signals.consume = racing  # type: ignore[method-assign]
    send(rt, "costs_ready", day="d1")
    assert raced and sets(rt) == [{"day": "d1"}]
