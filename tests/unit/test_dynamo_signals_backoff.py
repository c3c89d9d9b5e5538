"""DynamoSignals' BatchGetItem reads (a signal trigger's marks, the payloads of found
signals): keys left unprocessed (throttled) are asked again after a wait that doubles,
capped, and a store that keeps refusing ends in StoreUnavailable (the caller's message
is redelivered later) instead of asking forever, without a pause."""

from __future__ import annotations

from typing import Any

import pytest

from podium.adapters.dynamo_signals import DynamoSignals
from podium.core.engine.errors import StoreUnavailable
from podium.core.engine.signals import ConsumedMark

TABLE = "t"


class Throttling:
    """batch_get_item answering ``refusals`` calls with every key unprocessed, then all."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.calls: list[list[str]] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        keys = RequestItems[TABLE]["Keys"]
        self.calls.append([k["sk"]["S"] for k in keys])
        if len(self.calls) <= self.refusals:
            return {"Responses": {TABLE: []}, "UnprocessedKeys": RequestItems}
        items = [{**k, "grp": {"S": "g"}, "xm": {"N": "9"}, "at": {"N": "1"}} for k in keys]
        return {"Responses": {TABLE: items}, "UnprocessedKeys": {}}


def test_unprocessed_keys_are_asked_again_after_a_doubling_wait() -> None:
    client, waits = Throttling(refusals=3), []
    signals = DynamoSignals(client, TABLE, sleep=waits.append)
    got = signals.marks("wf/t", ["a@1", "b@2", "a@1"])
    assert got == {k: ConsumedMark("g", 9, 1) for k in ("a@1", "b@2")}
    assert client.calls == [["a@1", "b@2"]] * 4
    assert waits == [0.05, 0.1, 0.2]


def test_the_wait_is_capped_and_the_tries_bounded() -> None:
    client, waits = Throttling(refusals=100), []
    signals = DynamoSignals(client, TABLE, sleep=waits.append)
    with pytest.raises(StoreUnavailable, match="unread"):
        signals.marks("wf/t", ["a@1"])
    assert len(client.calls) == 8
    assert waits == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_no_wait_when_nothing_is_left_unprocessed() -> None:
    client, waits = Throttling(refusals=0), []
    signals = DynamoSignals(client, TABLE, sleep=waits.append)
    assert set(signals.marks("wf/t", [f"k{i}" for i in range(150)])) == {
        f"k{i}" for i in range(150)
    }
    assert [len(c) for c in client.calls] == [100, 50] and waits == []
