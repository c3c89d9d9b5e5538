"""Contract suite for TriggerStates (memory, SQLite, DynamoDB on moto): a trigger's
on/off state and since-time survive new versions; the catch-up watermark only moves
forward."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.memory_store import MemoryStateStore
from podium.adapters.sqlite.store import SqliteStateStore
from podium.adapters.table_schema import create_table
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
    assert states.set_enabled("wf", "t", True, 900) == TriggerState(True, 100)
    assert states.set_enabled("wf", "new", False, 900) == TriggerState(False, 900)


def test_the_watermark_moves_forward_only(states: TriggerStates) -> None:
    states.ensure("wf", "t", True, 100)
    assert states.mark_fired("wf", "t", 1000)
    assert not states.mark_fired("wf", "t", 1000)
    assert not states.mark_fired("wf", "t", 900)
    assert states.mark_fired("wf", "t", 2000)
    assert states.states("wf")["t"].fired_at == 2000
    assert not states.mark_fired("wf", "unknown", 5)


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


def test_the_routing_index_is_add_only_and_answers_once_built(states: TriggerStates) -> None:
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
