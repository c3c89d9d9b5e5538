"""A version item was read back with an eventually consistent GetItem
(``DynamoStateStore.get_workflow_version``: the head was read consistently, the version
item it named was not). DynamoDB may answer such a read with the table as it was before
a write that already succeeded (a new item: not there yet), so reads that followed a push
within moments could miss the version the head already named: the push itself (which
reads the new version back to make its schedules) and a run started right after it.

DynamoDB's eventual consistency is modelled on moto by a thin wrapper of the store's
client: a GetItem without ``ConsistentRead`` of an item written since the last
``caught_up()`` answers as a replica that has not seen the write yet (no item); every
consistent read, and every other call, goes to moto unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.runs import start_run
from podium.service.versions import activate
from podium.service.workflows import push_definition


class LaggingReplica:
    """The store's DynamoDB client, with reads that are not consistent answered as a
    replica behind the latest writes would (an item put since ``caught_up``: absent)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._fresh: set[tuple[str, str]] = set()

    def caught_up(self) -> None:
        self._fresh.clear()

    @staticmethod
    def _key(key: dict[str, Any]) -> tuple[str, str]:
        return key["pk"]["S"], key["sk"]["S"]

    def put_item(self, **kwargs: Any) -> Any:
        self._fresh.add(self._key(kwargs["Item"]))
        return self._client.put_item(**kwargs)

    def transact_write_items(self, **kwargs: Any) -> Any:
        answer = self._client.transact_write_items(**kwargs)
        for item in kwargs["TransactItems"]:
            if "Put" in item:
                self._fresh.add(self._key(item["Put"]["Item"]))
        return answer

    def get_item(self, **kwargs: Any) -> Any:
        if not kwargs.get("ConsistentRead") and self._key(kwargs["Key"]) in self._fresh:
            return {"ResponseMetadata": {"HTTPStatusCode": 200}}  # not replicated yet
        return self._client.get_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


NIGHTLY: dict[str, Any] = {
    "name": "nightly",
    "steps": [{"id": "load", "type": "noop"}],
    "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
}
PLAIN: dict[str, Any] = {"name": "plain", "steps": [{"id": "load", "type": "noop"}]}


@pytest.fixture
def lagging() -> Iterator[tuple[LocalRuntime, LaggingReplica]]:
    clock = ManualClock(start_ms=parse_iso("2026-04-01T00:00:00Z"))
    with LocalRuntime(store="moto", clock=clock) as rt:
        replica = LaggingReplica(rt.store._db)  # type: ignore[union-attr]
        rt.store._db = replica  # type: ignore[union-attr]
        yield rt, replica


def test_a_push_of_a_scheduled_workflow_reads_its_new_version_consistently(
    lagging: tuple[LocalRuntime, LaggingReplica],
) -> None:
    """A push to a stack of a workflow with a cron trigger stored the version, then read
    it back (to make its schedule) with an eventually consistent read: DynamoDB might not
    have had it there yet, and the push answered 404 "no version 1" for a version it had
    stored. The read of a version the consistent head names is consistent now."""
    rt, _ = lagging
    pushed = push_definition(rt.services, NIGHTLY)
    assert pushed.created and pushed.version.version == 1


def test_a_run_started_right_after_a_push_finds_the_version(
    lagging: tuple[LocalRuntime, LaggingReplica],
) -> None:
    """``podium push`` then ``podium start`` at once (two API calls, or a trigger's event
    in the moment after an activation): the start read the head (consistent: version 2
    is active) and then version 2's item eventually consistently, which DynamoDB could
    answer without it: the start was refused as "no version 2" of a workflow whose
    version 2 was stored and active. It starts the run on version 2 now."""
    rt, replica = lagging
    push_definition(rt.services, PLAIN)
    replica.caught_up()
    push_definition(rt.services, {**PLAIN, "steps": [{"id": "other", "type": "noop"}]})
    run = start_run(rt.services, "plain")
    assert run.version == 2 and run.status is RunStatus.RUNNING


def test_a_version_pushed_without_activation_is_activated_right_after(
    lagging: tuple[LocalRuntime, LaggingReplica],
) -> None:
    """``podium push --no-activate`` then ``podium workflows activate plain 2`` at once:
    the activation read version 2 (to route its triggers before it is active) with an
    eventually consistent read, which DynamoDB could answer without it: the activation
    was refused as "version 2 not found" right after the push listed it. It activates
    version 2 now."""
    rt, replica = lagging
    push_definition(rt.services, PLAIN)
    replica.caught_up()
    pushed = push_definition(
        rt.services, {**PLAIN, "steps": [{"id": "other", "type": "noop"}]}, activate=False
    )
    assert pushed.version.version == 2 and pushed.version.active_version == 1
    assert activate(rt.services, "plain", 2).version == 2
    assert rt.store.active_version("plain") == 2
