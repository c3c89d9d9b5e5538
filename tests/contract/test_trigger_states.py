"""Contract suite for TriggerStates (memory, SQLite, DynamoDB on moto): a trigger's
on/off state and since-time survive new versions; the catch-up watermark only moves
forward; the routing index takes a workflow off a key only on condition of its
activation generation, and holds as many workflows per key on every store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.memory_store import MemoryStateStore
from podium.adapters.sqlite.store import SqliteStateStore
from podium.adapters.table_schema import create_table
from podium.core.engine.trigger_index import (
    MAX_ROUTE_WORKFLOWS,
    RouteActivations,
    RouteIndexFull,
)
from podium.core.ports import TriggerState, TriggerStates


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def states(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TriggerStates]:
    if request.param == "memory":
        yield MemoryStateStore().trigger_states()
        return
    if request.param == "sqlite":
        store = SqliteStateStore(tmp_path / "podium.db")
        yield store.trigger_states()
        store.close()
        return
    with mock_aws():
        import boto3

        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        yield DynamoStateStore(client, "t").trigger_states()


def test_ensure_creates_once_and_keeps_the_first_state(states: TriggerStates) -> None:
    assert states.ensure("wf", "nightly", True, 100) == TriggerState(True, 100)
    assert states.ensure("wf", "nightly", False, 200) == TriggerState(True, 100)
    assert states.states("wf") == {"nightly": TriggerState(True, 100)}
    assert states.states("other") == {}


def test_enable_and_disable_keep_the_since_time(states: TriggerStates) -> None:
    states.ensure("wf", "t", True, 100)
    assert states.set_enabled("wf", "t", False, 500) == TriggerState(False, 100)
    assert states.ensure("wf", "t", True, 900) == TriggerState(False, 100)
    assert states.set_enabled("wf", "t", True, 900) == TriggerState(True, 100, enabled_at=900)
    assert states.set_enabled("wf", "new", False, 900) == TriggerState(False, 900)


def test_turned_on_again_keeps_when_only_from_off_to_on(states: TriggerStates) -> None:
    """``enabled_at``: when the trigger was last turned from off to on (a signal trigger
    counts signals from then on); an enable of one on already, or one made enabled,
    leaves it; a disable keeps it; ``since`` never moves (a rate's slots hang on it)."""
    assert states.set_enabled("wf", "made", True, 50) == TriggerState(True, 50)
    assert states.set_enabled("wf", "made", True, 60) == TriggerState(True, 50)
    states.ensure("wf", "t", True, 100)
    assert states.set_enabled("wf", "t", True, 200) == TriggerState(True, 100)
    states.set_enabled("wf", "t", False, 300)
    assert states.set_enabled("wf", "t", True, 400) == TriggerState(True, 100, enabled_at=400)
    assert states.set_enabled("wf", "t", True, 500) == TriggerState(True, 100, enabled_at=400)
    assert states.set_enabled("wf", "t", False, 600) == TriggerState(False, 100, enabled_at=400)
    assert states.set_enabled("wf", "t", True, 700) == TriggerState(True, 100, enabled_at=700)
    assert states.get_state("wf", "t") == TriggerState(True, 100, enabled_at=700)
    assert states.states("wf")["t"] == TriggerState(True, 100, enabled_at=700)
    states.ensure("wf", "off", False, 800)  # made off (the definition's enabled: false)
    assert states.set_enabled("wf", "off", True, 900) == TriggerState(True, 800, enabled_at=900)


def test_the_watermark_moves_forward_only(states: TriggerStates) -> None:
    states.ensure("wf", "t", True, 100)
    assert states.mark_fired("wf", "t", 1000)
    assert not states.mark_fired("wf", "t", 1000)
    assert not states.mark_fired("wf", "t", 900)
    assert states.mark_fired("wf", "t", 2000)
    assert states.states("wf")["t"].fired_at == 2000
    assert not states.mark_fired("wf", "unknown", 5)


def test_a_schedule_rule_and_its_start_are_kept_with_the_state(states: TriggerStates) -> None:
    """Catch-up's floor outlives the trigger's schedule (deleted while it is off)."""
    states.set_rule("wf", "t", "cron(0 6 * * ? *) UTC", 50)  # no state yet: nothing kept
    assert states.get_state("wf", "t") is None
    states.ensure("wf", "t", True, 100)
    states.set_rule("wf", "t", "cron(0 6 * * ? *) UTC", 150)
    states.set_enabled("wf", "t", False, 200)
    states.mark_fired("wf", "t", 300)
    kept = states.get_state("wf", "t")
    assert kept == TriggerState(False, 100, 300, rule="cron(0 6 * * ? *) UTC", rule_since=150)
    assert states.states("wf")["t"] == kept
    states.set_rule("wf", "t", "rate(5 minutes) UTC", 400)
    assert states.states("wf")["t"].rule_since == 400


def test_backfill_cancels_are_counted_one_by_one(states: TriggerStates) -> None:
    """A backfill's driver stops once the count moved past the one its backfill saw: a
    count, not a time, so that a cancel and a backfill in the same millisecond are
    ordered, and two cancels racing count two."""
    assert states.cancel_backfills("wf", "t") is None  # no state yet: nothing kept
    assert states.get_state("wf", "t") is None
    states.ensure("wf", "t", True, 100)
    assert states.states("wf")["t"].backfill_cancels == 0
    assert states.cancel_backfills("wf", "t") == 1
    assert states.cancel_backfills("wf", "t") == 2
    state = states.get_state("wf", "t")
    assert state is not None and state.backfill_cancels == 2
    assert states.states("wf")["t"] == state
    assert state.enabled and state.since == 100  # nothing else changes
    states.set_enabled("wf", "t", False, 400)
    states.mark_fired("wf", "t", 500)
    assert states.states("wf")["t"].backfill_cancels == 2


def test_backfills_pause_until_resumed_or_cancelled(states: TriggerStates) -> None:
    """The pause mark is kept on the trigger's state, read by each driver tick; a
    cancel ends it in the same write (a backfill asked for after a cancel runs)."""
    assert states.pause_backfills("wf", "t", True) is None  # no state: nothing kept
    assert states.get_state("wf", "t") is None
    states.ensure("wf", "t", True, 100)
    assert not states.states("wf")["t"].backfills_paused
    assert states.pause_backfills("wf", "t", True) is True
    state = states.get_state("wf", "t")
    assert state is not None and state.backfills_paused and state.enabled
    assert states.states("wf")["t"] == state
    assert states.pause_backfills("wf", "t", True) is True  # again: still paused
    assert states.pause_backfills("wf", "t", False) is False
    assert not states.states("wf")["t"].backfills_paused
    states.pause_backfills("wf", "t", True)
    assert states.cancel_backfills("wf", "t") == 1
    state = states.get_state("wf", "t")
    assert state is not None and not state.backfills_paused and state.backfill_cancels == 1


def test_the_latest_failure_to_start_a_run_is_kept(states: TriggerStates) -> None:
    states.record_failure("wf", "upload", "no state yet: nothing kept", 50)
    states.ensure("wf", "upload", True, 100)
    assert states.states("wf")["upload"].failed_at is None
    states.record_failure("wf", "upload", "params.key: only csv", 300)
    states.record_failure("wf", "upload", "an older one", 200)  # late: the newer stays
    state = states.states("wf")["upload"]
    assert (state.failed_at, state.error) == (300, "params.key: only csv")
    states.record_failure("wf", "upload", "x" * 5000, 400)
    assert states.states("wf")["upload"].error == "x" * 2000
    assert states.states("wf")["upload"].enabled  # nothing else changes


def test_get_state_reads_one_trigger_without_making_it(states: TriggerStates) -> None:
    assert states.get_state("wf", "t") is None
    assert states.states("wf") == {}  # a read makes nothing
    states.ensure("wf", "t", False, 100)
    states.mark_fired("wf", "t", 300)
    states.record_failure("wf", "t", "boom", 400)
    assert states.get_state("wf", "t") == TriggerState(False, 100, 300, 400, "boom")
    assert states.get_state("wf", "other") is None
    assert states.get_state("other", "t") is None


def test_the_routing_index_adds_and_answers_once_built(states: TriggerStates) -> None:
    assert states.get_routes(["s3:b"]) is None  # never built: the caller lists workflows
    states.add_routes("a", ["s3:b", "event:default"])
    assert states.get_routes(["s3:b"]) is None
    states.mark_routes_built()
    states.add_routes("b", ["s3:b", "signal:x"])
    states.add_routes("a", ["s3:b"])  # again: idempotent
    states.add_routes("c", [])
    assert states.get_routes(["s3:b", "signal:x", "s3:none"]) == {
        "s3:b": frozenset({"a", "b"}),
        "signal:x": frozenset({"b"}),
    }
    assert states.get_routes(["event:default"]) == {"event:default": frozenset({"a"})}
    assert states.get_routes([]) == {}
    many = [f"signal:n{i}" for i in range(150)]  # more keys than one BatchGetItem takes
    states.add_routes("d", many)
    assert states.get_routes(many) == {k: frozenset({"d"}) for k in many}
    states.mark_routes_built()  # again: idempotent
    assert states.get_routes(["signal:x"]) == {"signal:x": frozenset({"b"})}


def test_routes_are_removed_on_condition_of_the_activation_generation(
    states: TriggerStates,
) -> None:
    states.mark_routes_built()
    assert states.route_activations("a") == RouteActivations(0, {})
    states.add_routes("a", ["s3:b", "signal:x"])
    states.add_routes("b", ["s3:b"])
    # Never activated (generation 0): removed; a key it is not under is left alone.
    assert states.remove_routes("a", ["s3:b", "s3:none"], 0, [])
    assert states.get_routes(["s3:b", "signal:x", "s3:none"]) == {
        "s3:b": frozenset({"b"}),
        "signal:x": frozenset({"a"}),
    }
    states.begin_activation("a", "t1", 100)
    assert states.route_activations("a") == RouteActivations(1, {"t1": 100})
    assert not states.remove_routes("a", ["signal:x"], 0, [])  # the generation moved
    assert states.get_routes(["signal:x"]) == {"signal:x": frozenset({"a"})}
    states.begin_activation("a", "t2", 200)
    assert states.route_activations("a") == RouteActivations(2, {"t1": 100, "t2": 200})
    # Removed with a crashed activation's mark, at once; its last name gone, a key
    # answers nothing.
    assert states.remove_routes("a", ["signal:x"], 2, ["t1"])
    assert states.get_routes(["signal:x"]) == {}
    assert states.route_activations("a") == RouteActivations(2, {"t2": 200})
    assert states.end_activation("a", "t2")
    assert states.route_activations("a") == RouteActivations(3, {})
    assert not states.end_activation("a", "t1")  # its mark was cleared: said so
    assert states.route_activations("a") == RouteActivations(4, {})
    assert states.remove_routes("a", [], 4, [])  # nothing to write
    assert states.route_activations("b") == RouteActivations(0, {})  # its own
    states.add_routes("a", ["signal:x"])  # back again
    assert states.get_routes(["signal:x"]) == {"signal:x": frozenset({"a"})}
    many = [f"signal:n{i}" for i in range(150)]  # more keys than one transaction takes
    states.add_routes("d", many)
    states.add_routes("e", many[:2])
    assert states.remove_routes("d", many, 0, [])
    assert states.get_routes(many) == {k: frozenset({"e"}) for k in many[:2]}


def test_a_key_holds_as_many_workflows_on_every_store(
    states: TriggerStates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("podium.adapters.trigger_states.MAX_ROUTE_WORKFLOWS", 3)
    states.mark_routes_built()
    for name in ("a", "b", "c"):
        states.add_routes(name, ["s3:b", f"signal:{name}"])
    with pytest.raises(RouteIndexFull) as full:
        states.add_routes("d", ["s3:b"])
    assert (full.value.key, full.value.workflow) == ("s3:b", "d")
    states.add_routes("a", ["s3:b"])  # one already in: idempotent, full or not
    assert states.get_routes(["s3:b"]) == {"s3:b": frozenset({"a", "b", "c"})}
    assert states.remove_routes("c", ["s3:b"], 0, [])
    states.add_routes("d", ["s3:b"])  # room again
    assert states.get_routes(["s3:b"]) == {"s3:b": frozenset({"a", "b", "d"})}


def test_the_limit_of_a_key_fits_one_dynamodb_item() -> None:
    """``MAX_ROUTE_WORKFLOWS`` names of the longest kind (80 characters) and the longest
    key are one item DynamoDB (moto) takes: the count, not the size, refuses the next."""
    with mock_aws():
        import boto3

        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        states = DynamoStateStore(client, "t").trigger_states()
        key = "event:" + "b" * 256 + ":" + "s" * 256
        names = [f"w{i:05d}".ljust(80, "x") for i in range(MAX_ROUTE_WORKFLOWS)]
        client.put_item(
            TableName="t",
            Item={"pk": {"S": "TRGR#" + key}, "sk": {"S": "#R"}, "wf": {"SS": names[:-1]}},
        )
        states.add_routes(names[-1], [key])
        states.mark_routes_built()
        assert states.get_routes([key]) == {key: frozenset(names)}
        with pytest.raises(RouteIndexFull):
            states.add_routes("y" * 80, [key])


def test_a_backfill_driver_ticks_on_condition_and_ends(states: TriggerStates) -> None:
    """A backfill driver's tick (``backfill_drivers``): a start takes the driver over
    (one tick on, atomic); a tick moves only from the tick read, so of the copies of one
    driver message one moves it and the rest are told False; an end forgets it on the
    same condition. Written only on a trigger that has a state."""
    assert states.start_backfill_driver("wf", "t", "d1") is None
    assert states.get_state("wf", "t") is None  # nothing made
    states.ensure("wf", "t", True, 100)
    assert states.start_backfill_driver("wf", "t", "d1") == 1
    assert states.start_backfill_driver("wf", "t", "d1") == 2  # asked again: takes over
    assert not states.advance_backfill_driver("wf", "t", "d1", 1, 2)  # the older chain
    assert states.advance_backfill_driver("wf", "t", "d1", 2, 3)
    assert not states.advance_backfill_driver("wf", "t", "d1", 2, 3)  # a copy: lost
    assert states.start_backfill_driver("wf", "t", "d2") == 1
    state = states.get_state("wf", "t")
    assert state is not None and dict(state.backfill_drivers) == {"d1": 3, "d2": 1}
    assert dict(states.states("wf")["t"].backfill_drivers) == {"d1": 3, "d2": 1}
    assert dict(states.ensure("wf", "t", True, 900).backfill_drivers) == {"d1": 3, "d2": 1}
    # The other marks on the same state are left as they were, and leave the ticks.
    assert states.cancel_backfills("wf", "t") == 1
    assert states.pause_backfills("wf", "t", True) is True
    state = states.get_state("wf", "t")
    assert state is not None and state.backfill_cancels == 1 and state.backfills_paused
    assert dict(state.backfill_drivers) == {"d1": 3, "d2": 1}
    assert not states.end_backfill_driver("wf", "t", "d1", 2)
    assert states.end_backfill_driver("wf", "t", "d1", 3)
    assert not states.advance_backfill_driver("wf", "t", "d1", 3, 4)  # ended: a late copy
    state = states.get_state("wf", "t")
    assert state is not None and dict(state.backfill_drivers) == {"d2": 1}
    assert state == TriggerState(
        True, 100, backfill_cancels=1, backfills_paused=True, backfill_drivers={"d2": 1}
    )
    # Another trigger of the workflow keeps ticks of its own.
    assert dict(states.ensure("wf", "u", True, 100).backfill_drivers) == {}
    assert dict(states.states("wf")["u"].backfill_drivers) == {}


def test_an_adopted_driver_makes_its_first_tick_once(states: TriggerStates) -> None:
    """``seen`` 0: a driver with no tick kept (adopted from a message sent before
    drivers had ids). Its first tick is made on condition that it has none, on a trigger
    that has a state."""
    assert not states.advance_backfill_driver("wf", "t", "old", 0, 1)
    assert states.get_state("wf", "t") is None  # no item made without a state
    states.ensure("wf", "t", True, 100)
    assert not states.end_backfill_driver("wf", "t", "old", 0)  # nothing kept to forget
    assert states.advance_backfill_driver("wf", "t", "old", 0, 1)
    assert not states.advance_backfill_driver("wf", "t", "old", 0, 1)  # a copy: lost
    state = states.get_state("wf", "t")
    assert state is not None and dict(state.backfill_drivers) == {"old": 1}
    assert states.advance_backfill_driver("wf", "t", "old", 1, 3)  # any tick on
    assert states.end_backfill_driver("wf", "t", "old", 3)
    state = states.get_state("wf", "t")
    assert state is not None and dict(state.backfill_drivers) == {}
