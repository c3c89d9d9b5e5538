"""A loop reads its iterations' outputs when it ends (index-aligned ``outputs``), but an
iteration that ended is settled and out of the sweeper's index: nothing wrote its items
again, so in a loop that ran longer than the retention (``run_retention_days``,
DynamoDB's TTL from each item's last write) the first iterations' items expired before
the loop ended, and the loop's output said null for them. The renewal of a run now
renews the partitions of the children of its steps that have not ended
(core/engine/retention.py ``children_kept_with``, adapters/dynamo_expiry.py), a bounded
number per check; a running iteration renews itself (its loop's poll watched it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters import dynamo_expiry
from podium.adapters.clock import ManualClock
from podium.adapters.dynamo_expiry import KEPT_SK, TTL_ATTRIBUTE
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import TABLE_NAME, LocalRuntime
from podium.service.sweep import sweep
from tests.integration.test_long_run_retention import stamps

DAY_MS = 86_400_000
DAY_S = 86_400
RETENTION_DAYS = 90  # LocalRuntime's moto table
ECHO = f"{__name__}:echo"


def echo(event: dict[str, Any]) -> dict[str, Any]:
    return {"d": event["payload"]["d"]}


def body(short_days: int) -> list[dict[str, Any]]:
    """An iteration: ``a`` (its output), then a sleep of 100 days when ``d`` is 100, of
    ``short_days`` days otherwise."""
    return [
        {"id": "a", "type": "lambda", "function": ECHO, "payload": {"d": "${iteration.d}"}},
        {
            "id": "short",
            "type": "sleep",
            "seconds": short_days * DAY_S,
            "timeout": f"{short_days + 10}d",  # a sweep steps 5 days
            "depends_on": [{"step": "a", "when": "iteration.d != 100"}],
        },
        {
            "id": "long",
            "type": "sleep",
            "seconds": 100 * DAY_S,
            "timeout": "101d",
            "depends_on": [{"step": "a", "when": "iteration.d == 100"}],
        },
        {"id": "b", "type": "noop", "depends_on": ["short", "long"]},
    ]


def serial_loop(days: list[int], short_days: int = 10, concurrency: int = 1) -> dict[str, Any]:
    """A foreach one iteration at a time (long ECS jobs, say): the first ends early, the
    last runs 100 days, so the loop ends 90 days after the first ended and more."""
    return {
        "id": "each",
        "type": "foreach",
        "concurrency": concurrency,
        "timeout": "120d",
        "over": {"d": days},
        "steps": body(short_days),
    }


def _ttl(rt: LocalRuntime, now_s: int) -> list[tuple[str, str]]:
    """DynamoDB's TTL: delete every item whose stamp has passed."""
    gone: list[tuple[str, str]] = []
    kwargs: dict[str, Any] = {"TableName": TABLE_NAME}
    while True:
        page = rt.dynamodb.scan(**kwargs)
        for item in page["Items"]:
            if TTL_ATTRIBUTE in item and int(item[TTL_ATTRIBUTE]["N"]) <= now_s:
                key = {"pk": item["pk"], "sk": item["sk"]}
                rt.dynamodb.delete_item(TableName=TABLE_NAME, Key=key)
                gone.append((item["pk"]["S"], item["sk"]["S"]))
        if "LastEvaluatedKey" not in page:
            return gone
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _days(rt: LocalRuntime, clock: ManualClock, days: int, step: int = 5) -> Iterator[int]:
    """Move on ``days`` days, ``step`` at a time: deliver what is due and sweep."""
    for _ in range(0, days, step):
        clock.advance(step * DAY_MS)
        rt.pump(advance_time=False)
        sweep(rt.services, rt.store)
        rt.pump(advance_time=False)
        yield clock.now_ms()


def _kept(rt: LocalRuntime, run_id: str) -> dict[str, Any]:
    item = rt.dynamodb.get_item(
        TableName=TABLE_NAME, Key={"pk": {"S": f"R#{run_id}"}, "sk": {"S": KEPT_SK}}
    ).get("Item", {})
    return {k: v for k, v in item.items() if k not in ("pk", "sk", TTL_ATTRIBUTE)}


def test_an_iteration_that_ended_early_keeps_its_output_until_a_long_loop_ends() -> None:
    clock = ManualClock()
    with LocalRuntime(store="moto", clock=clock) as rt:
        rt.push({"name": "serial", "steps": [serial_loop([10, 100])]})
        run = rt.start_run("serial")
        rt.pump(advance_time=False)
        first = child_run_id(run.run_id, "each", 0)
        for _ in _days(rt, clock, 105):  # the first ended at day 10; its items went at 100
            pass
        assert rt.store.get_run(run.run_id).status is RunStatus.RUNNING  # the loop runs
        gone = _ttl(rt, clock.now_ms() // 1000)
        assert not gone, gone
        rt.pump()  # the last iteration ends at day 110, and the loop with it
        assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED
        output = rt.store.get_step(run.run_id, "each").output
        assert output["outputs"]["a"] == [{"d": 10}, {"d": 100}]
        assert rt.store.get_run(first).status is RunStatus.SUCCEEDED


def test_an_iteration_of_a_nested_loop_is_kept_through_its_running_parent_iteration() -> None:
    """The outer iteration runs (its loop's poll put it in the sweeper's index): its own
    checks renew it and its inner loop's ended iterations."""
    inner = serial_loop([10, 100])
    outer = {
        "id": "outer",
        "type": "foreach",
        "timeout": "120d",
        "over": {"o": [0]},
        "steps": [inner],
    }
    clock = ManualClock()
    with LocalRuntime(store="moto", clock=clock) as rt:
        rt.push({"name": "nested", "steps": [outer]})
        run = rt.start_run("nested")
        rt.pump(advance_time=False)
        for _ in _days(rt, clock, 105):
            pass
        assert rt.store.get_run(run.run_id).status is RunStatus.RUNNING
        gone = _ttl(rt, clock.now_ms() // 1000)
        assert not gone, gone
        rt.pump()
        assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED
        output = rt.store.get_step(run.run_id, "outer").output
        assert output["outputs"]["each"][0]["outputs"]["a"] == [{"d": 10}, {"d": 100}]


def test_a_round_over_many_iterations_goes_on_at_the_next_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bounded per check: the round keeps its place in ``#KEPT`` and ends (``at``) once
    every iteration is renewed; each is renewed once a round."""
    monkeypatch.setattr(dynamo_expiry, "CHILDREN_PER_CALL", 2)
    clock = ManualClock()
    with LocalRuntime(store="moto", clock=clock) as rt:
        loop = serial_loop([1, 1, 1, 1, 1, 100], short_days=2, concurrency=6)
        rt.push({"name": "many", "steps": [loop]})
        run = rt.start_run("many")
        rt.pump(advance_time=False)
        children = [child_run_id(run.run_id, "each", i) for i in range(6)]
        for _ in _days(rt, clock, 45):  # day 45: half the retention, the first round
            pass
        began = clock.now_ms()
        renewed = began // 1000 + RETENTION_DAYS * DAY_S
        soon = began // 1000 + RETENTION_DAYS * 3 // 4 * DAY_S
        cursor = {"cs": {"S": "each"}, "ci": {"N": "1"}, "rs": {"N": str(began)}}
        assert _kept(rt, run.run_id) == cursor  # two iterations renewed: 0 and 1
        assert set(stamps(rt, children[0]).values()) == {renewed}
        assert max(stamps(rt, children[2]).values()) < soon  # not yet
        marks = [_kept(rt, run.run_id) for _ in _days(rt, clock, 10)]
        assert marks == [{**cursor, "ci": {"N": "3"}}, {"at": {"N": str(began)}}]
        for child in children[:5]:  # none expires before the next round, half R on
            assert min(stamps(rt, child).values()) >= soon
        for _ in _days(rt, clock, 40):  # day 95: they would have gone; the loop runs
            pass
        assert rt.store.get_run(run.run_id).status is RunStatus.RUNNING
        assert not _ttl(rt, clock.now_ms() // 1000)
        rt.pump()
        output = rt.store.get_step(run.run_id, "each").output
        assert output["outputs"]["a"] == [{"d": d} for d in (1, 1, 1, 1, 1, 100)]


def test_the_iterations_of_a_loop_that_ended_are_not_renewed() -> None:
    """Its output holds what it read of them: a run that waits after its loop pays for
    its own items only."""
    workflow = {
        "name": "then_waits",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"d": [1, 2]},
                "steps": [{"id": "a", "type": "noop"}],
            },
            {
                "id": "wait",
                "type": "sleep",
                "seconds": 100 * DAY_S,
                "timeout": "101d",
                "depends_on": ["each"],
            },
        ],
    }
    clock = ManualClock()
    with LocalRuntime(store="moto", clock=clock) as rt:
        rt.push(workflow)
        run = rt.start_run("then_waits")
        rt.pump(advance_time=False)
        child = child_run_id(run.run_id, "each", 0)
        before = stamps(rt, child)
        for _ in _days(rt, clock, 50, step=10):
            pass
        assert "at" in _kept(rt, run.run_id)  # the run itself was renewed
        assert stamps(rt, child) == before
