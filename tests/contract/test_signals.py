"""Contract suite for the Signals port, run on every adapter: memory, SQLite, DynamoDB
on moto. Stored with a TTL, de-duplicated by request id (or by name and params), found
by name and matching params (= > >= < <=) since a time, newest first; waiters; marks of
consumption."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.memory_store import MemoryStateStore
from podium.adapters.sqlite.store import SqliteStateStore
from podium.adapters.table_schema import create_table
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.signals import (
    ConsumedMark,
    HeadPage,
    Op,
    ParamMatch,
    SignalRequest,
    Waiter,
    new_signal,
    parse_match,
)
from podium.core.ports import Signals

DAY = 86_400_000


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def signals(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Signals]:
    if request.param == "memory":
        yield MemoryStateStore().signals()
        return
    if request.param == "sqlite":
        store = SqliteStateStore(tmp_path / "podium.db")
        yield store.signals()
        store.close()
        return
    with mock_aws():
        import boto3

        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "signals")
        yield DynamoStateStore(client, "signals").signals()


def send(signals: Signals, name: str, at: int, **kw: Any) -> Any:
    return signals.send(new_signal(SignalRequest(name, **kw), at))


def test_a_sent_signal_is_found_by_name(signals: Signals) -> None:
    stored, created = send(signals, "table_ready", 1000, params={"table": "sales"}, payload=[1])
    assert created and stored.params == {"table": "sales"}
    found = signals.find("table_ready", [], now=2000)
    assert [s.signal_id for s in found] == [stored.signal_id]
    assert found[0].payload == [1] and found[0].sent_at == 1000
    assert signals.find("other", [], now=2000) == []


def test_the_same_request_id_is_stored_once(signals: Signals) -> None:
    first, created = send(signals, "done", 1000, params={"n": 1}, request_id="req-1")
    again, created_again = send(signals, "done", 2000, params={"n": 2}, request_id="req-1")
    assert created and not created_again
    assert again.signal_id == first.signal_id and again.params == {"n": 1}
    assert len(signals.find("done", [], now=3000, limit=10)) == 1


def test_without_request_id_the_same_name_and_params_are_one_signal(signals: Signals) -> None:
    _, a = send(signals, "done", 1000, params={"n": 1, "t": "x"})
    _, b = send(signals, "done", 2000, params={"t": "x", "n": 1})
    _, c = send(signals, "done", 3000, params={"n": 2, "t": "x"})
    assert (a, b, c) == (True, False, True)
    assert len(signals.find("done", [], now=4000, limit=10)) == 2


def test_an_expired_signal_is_not_found_and_may_be_sent_again(signals: Signals) -> None:
    send(signals, "tick", 1000, ttl_ms=5000)
    assert signals.find("tick", [], now=5999)
    assert signals.find("tick", [], now=6000) == []
    again, created = send(signals, "tick", 7000)
    assert created and again.sent_at == 7000
    assert [s.sent_at for s in signals.find("tick", [], now=8000, limit=5)] == [7000]


def test_the_default_ttl_is_90_days(signals: Signals) -> None:
    stored, _ = send(signals, "kept", 0)
    assert stored.expires_at == 90 * DAY
    assert signals.find("kept", [], now=90 * DAY - 1)
    assert signals.find("kept", [], now=90 * DAY) == []


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (Op.EQ, 5, [5]),
        (Op.GT, 5, [9, 7]),
        (Op.GE, 5, [9, 7, 5]),
        (Op.LT, 5, [3]),
        (Op.LE, 5, [5, 3]),
    ],
)
def test_params_match_with_each_operator(
    signals: Signals, op: Op, value: int, expected: list[int]
) -> None:
    for i, n in enumerate([3, 5, 7, 9]):
        send(signals, "rows", 1000 + i, params={"n": n, "table": "t"})
    found = signals.find(
        "rows", [ParamMatch("n", op, value), ParamMatch("table", Op.EQ, "t")], now=9000, limit=10
    )
    assert [s.params["n"] for s in found] == expected


def test_strings_compare_as_strings_and_never_equal_ints(signals: Signals) -> None:
    send(signals, "d", 1000, params={"date": "2026-01-05"})
    send(signals, "d", 1001, params={"date": "2026-01-20"})
    send(signals, "d", 1002, params={"date": 5})
    later = signals.find("d", [ParamMatch("date", Op.GE, "2026-01-10")], now=2000, limit=5)
    assert [s.params["date"] for s in later] == ["2026-01-20"]
    assert signals.find("d", [ParamMatch("date", Op.EQ, "5")], now=2000) == []
    assert [s.params["date"] for s in signals.find("d", parse_match({"date": 5}), now=2000)] == [5]


def test_a_missing_param_does_not_match(signals: Signals) -> None:
    send(signals, "d", 1000, params={"a": "x"})
    assert signals.find("d", [ParamMatch("b", Op.EQ, "x")], now=2000) == []


def test_find_since_a_time_newest_first_within_the_limit(signals: Signals) -> None:
    for at in (1000, 2000, 3000, 4000):
        send(signals, "s", at, params={"at": at})
    assert [s.sent_at for s in signals.find("s", [], now=9000, since=2000, limit=10)] == [
        4000,
        3000,
        2000,
    ]
    assert [s.sent_at for s in signals.find("s", [], now=9000, limit=2)] == [4000, 3000]


def test_find_pages_past_many_non_matching_signals(signals: Signals) -> None:
    send(signals, "many", 1, params={"k": "wanted"})
    for i in range(250):
        send(signals, "many", 10 + i, params={"k": f"other-{i}"})
    found = signals.find("many", [ParamMatch("k", Op.EQ, "wanted")], now=10_000)
    assert [s.sent_at for s in found] == [1]


def test_found_signals_are_whole_with_payload_request_id_and_source(signals: Signals) -> None:
    """A find reads the signals' heads (adapters keep the payload apart from what it
    queries), yet returns each signal as it was sent."""
    sent = [
        send(signals, "whole", 1000, params={"n": 1, "t": "a"}, payload={"big": "x" * 5000}),
        send(signals, "whole", 1001, params={"n": 2}, request_id="req-2", source="cli"),
        send(signals, "whole", 1002, params={}, payload=0, source="emit"),
        send(signals, "whole", 1003, params={"n": -(2**63), "t": ""}, payload=[None]),
        send(signals, "whole", 1004, payload="", request_id="req-4"),
    ]
    expected = [s.as_json() for s, _ in reversed(sent)]
    assert [s.as_json() for s in signals.find("whole", [], now=2000, limit=10)] == expected
    assert [s.as_json() for s in signals.find("whole", [], now=2000, limit=2)] == expected[:2]
    wanted = [ParamMatch("n", Op.LE, 1)]
    found = signals.find("whole", wanted, now=2000, limit=10)
    assert [s.as_json() for s in found] == [expected[1], expected[4]]


def test_find_pages_past_expired_signals_to_the_live_ones(signals: Signals) -> None:
    """Expired signals (not yet deleted) are passed over, however many come first."""
    for i in range(3):
        send(signals, "mixed", 1000 + i, params={"i": i}, payload={"i": i}, ttl_ms=DAY)
    for i in range(40):
        send(signals, "mixed", 2000 + i, params={"i": 100 + i}, payload={"i": i}, ttl_ms=100)
    found = signals.find("mixed", [], now=5000, limit=2)
    assert [s.params["i"] for s in found] == [2, 1]
    assert [s.payload for s in found] == [{"i": 2}, {"i": 1}]
    some = signals.find("mixed", [ParamMatch("i", Op.LT, 100)], now=5000, limit=5)
    assert [s.params["i"] for s in some] == [2, 1, 0]


def test_a_signal_whose_id_was_sent_again_is_not_found_with_its_payload(
    signals: Signals,
) -> None:
    """An expired signal's id is free again: sent again by a clock ahead of the finder's
    (the old one still unexpired to it), the old one is not returned with the new one's
    payload, nor with its own, which the store no longer holds."""
    send(signals, "again", 1000, params={"k": "v"}, payload="first", ttl_ms=5000)
    _, created = send(signals, "again", 7000, params={"k": "v"}, payload="second")
    assert created
    found = signals.find("again", [], now=5999, limit=5)
    assert [(s.sent_at, s.payload) for s in found] == [(7000, "second")]


def test_a_waiter_keeps_the_time_of_its_last_miss(signals: Signals) -> None:
    w, other = Waiter("r1", "wait"), Waiter("r2", "wait")
    signals.add_waiter("ready", w, expires_at=50_000)
    assert signals.last_miss("ready", w) is None
    signals.note_miss("ready", w, 1000)
    assert signals.last_miss("ready", w) == 1000
    signals.note_miss("ready", w, 3000)
    signals.note_miss("ready", w, 2000)  # a slower check that began earlier: kept later
    assert signals.last_miss("ready", w) == 3000
    assert signals.last_miss("other", w) is None and signals.last_miss("ready", other) is None
    assert signals.waiters("ready", now=4000) == [w]
    # Registered again (a wait begun afresh): it forgets its misses.
    signals.add_waiter("ready", w, expires_at=60_000)
    assert signals.last_miss("ready", w) is None
    # A waiter that is gone keeps nothing, and is not brought back by a late miss.
    signals.note_miss("ready", w, 5000)
    signals.remove_waiter("ready", w)
    signals.note_miss("ready", w, 6000)
    signals.note_miss("ready", other, 6000)
    assert signals.last_miss("ready", w) is None and signals.last_miss("ready", other) is None
    assert signals.waiters("ready", now=7000) == []


def test_waiters_are_added_once_listed_until_expiry_and_removed(signals: Signals) -> None:
    w = Waiter("r1", "wait")
    signals.add_waiter("ready", w, expires_at=5000)
    signals.add_waiter("ready", w, expires_at=5000)
    signals.add_waiter("ready", Waiter("r2", "x/1/y"), expires_at=9000)
    assert signals.waiters("ready", now=1000) == [w, Waiter("r2", "x/1/y")]
    assert signals.waiters("ready", now=6000) == [Waiter("r2", "x/1/y")]
    signals.remove_waiter("ready", w)
    signals.remove_waiter("ready", w)
    assert signals.waiters("ready", now=1000) == [Waiter("r2", "x/1/y")]
    assert signals.waiters("other", now=1000) == []


def test_a_signal_is_consumed_once_per_consumer(signals: Signals) -> None:
    assert signals.consume("wf/t0", ["p:a", "p:b"], "run-1", 10_000)
    assert signals.consume("wf/t0", ["p:a", "p:b"], "run-1", 10_000)  # a replay: the same set
    assert signals.consumed_by("wf/t0", "p:a") == signals.consumed_by("wf/t0", "p:b") == "run-1"
    # Another set holding p:a is refused, and writes nothing (p:c stays free).
    assert not signals.consume("wf/t0", ["p:c", "p:a"], "run-2", 10_000)
    assert signals.consumed_by("wf/t0", "p:c") is None
    assert signals.consume("wf/t0", ["p:c"], "run-3", 10_000)
    # Each trigger (consumer) has its own marks.
    assert signals.consume("wf/t1", ["p:a", "p:b"], "run-9", 10_000)
    assert signals.consumed_by("wf/t2", "p:a") is None


def test_marks_are_read_back_with_their_group_expiry_and_time(signals: Signals) -> None:
    """A signal trigger marks instances (``<id>@<sent_at>``) with the consume's time;
    a mark made before that (``made_at`` None) reads back without one."""
    assert signals.consume("wf/t0", ["p:a@1000", "p:b@2000"], "set-1", 10_000, made_at=3000)
    assert signals.consume("wf/t0", ["p:old"], "p:old", 9_000)  # an old mark: no time
    got = signals.marks("wf/t0", ["p:a@1000", "p:old", "p:none", "p:a@1000"])
    assert got == {
        "p:a@1000": ConsumedMark("set-1", 10_000, 3000),
        "p:old": ConsumedMark("p:old", 9_000, None),
    }
    assert signals.marks("wf/t1", ["p:a@1000"]) == {}
    assert signals.marks("wf/t0", []) == {}


def test_a_signal_is_read_by_its_id_until_it_expires(signals: Signals) -> None:
    sent, _ = signals.send(new_signal(SignalRequest("ready", params={"d": "x"}), 1000))
    assert signals.get(sent.signal_id, now=1001) == sent
    assert signals.get(sent.signal_id, now=sent.expires_at) is None
    assert signals.get("p:none", now=1001) is None


def test_bad_signals_are_refused_with_the_place_and_the_fix() -> None:
    with pytest.raises(DefinitionError) as err:
        new_signal(SignalRequest("bad name!", params={"x": 1.5, "ok": True}), 0)
    text = str(err.value)
    assert "signal.name" in text and "signal.params.x" in text and "signal.params.ok" in text
    with pytest.raises(DefinitionError, match=r"match\.n\.op"):
        parse_match({"n": {"op": "!=", "value": 1}})


def test_find_heads_reads_pages_of_heads_without_payloads(signals: Signals) -> None:
    """A page looks at ``size`` signals at most, matching or not, newest first, and gives
    the matching ones' heads (no payload); its ``next`` reads on from where it stopped,
    each signal once, until there is no more."""
    send(signals, "paged", 999, params={"i": 99, "even": 0}, ttl_ms=1)  # expired by then
    for i in range(10):
        send(signals, "paged", 1000 + i, params={"i": i, "even": i % 2}, payload={"i": i})
    page = signals.find_heads("paged", [], now=5000, size=4)
    assert [h.signal.params["i"] for h in page.heads] == [9, 8, 7, 6]
    assert all(h.signal.payload is None and not h.whole for h in page.heads)
    assert page.next == (1006, page.heads[-1].signal.signal_id)
    wanted = [ParamMatch("even", Op.EQ, 0)]
    seen, before, pages = [], None, 0
    while True:
        page = signals.find_heads("paged", wanted, now=5000, before=before, size=3)
        pages += 1
        assert len(page.heads) <= 3
        seen += [h.signal.params["i"] for h in page.heads]
        if page.next is None:
            break
        before = page.next
    assert seen == [8, 6, 4, 2, 0] and pages in (4, 5)  # a full last page may need one more
    since = signals.find_heads("paged", [], now=5000, since=1007, size=100)
    assert [h.signal.params["i"] for h in since.heads] == [9, 8, 7] and since.next is None
    assert signals.find_heads("none", [], now=5000, size=10) == HeadPage([], None)


def test_whole_reads_the_payloads_of_the_heads_it_is_given(signals: Signals) -> None:
    sent = [
        send(signals, "w", 1000, params={"n": 1}, payload={"big": "x" * 5000})[0],
        send(signals, "w", 1001, params={"n": 2}, request_id="req-2", source="cli")[0],
        send(signals, "w", 1002, params={"n": 3}, payload=0, source="emit")[0],
    ]
    heads = signals.find_heads("w", [], now=2000, size=10).heads
    assert [h.whole for h in heads] == [False, True, False]
    assert [s.as_json() for s in signals.whole(heads)] == [s.as_json() for s in reversed(sent)]
    assert [s.as_json() for s in signals.whole(heads[2:])] == [sent[0].as_json()]
    assert signals.whole([]) == []


def test_whole_leaves_out_a_head_whose_id_was_sent_again(signals: Signals) -> None:
    send(signals, "again", 1000, params={"k": "v"}, payload="first", ttl_ms=5000)
    (old,) = signals.find_heads("again", [], now=2000, size=5).heads
    send(signals, "again", 7000, params={"k": "v"}, payload="second")
    new = signals.find_heads("again", [], now=5999, size=5).heads[0]
    assert new.signal.sent_at == 7000
    assert [(s.sent_at, s.payload) for s in signals.whole([old, new])] == [(7000, "second")]


def test_a_page_of_heads_passes_over_expired_ones(signals: Signals) -> None:
    """Expired heads that are still stored (DynamoDB's TTL deletes an item days after
    its expiry, not at once) count toward no page's size, on any store: a page holds the
    ``size`` newest live signals, and ``next`` is the last of them. (DynamoDB's Limit
    counts every item a Query evaluates: its page reads on past the expired ones.)"""
    at = 1000
    for i in range(10):  # newest first: expired, 9, 8, expired, 7, 6, expired, ...
        if i % 2 == 0:
            send(signals, "mixed", at, params={"i": 100 + i, "even": 0}, ttl_ms=1)
            at += 1
        send(signals, "mixed", at, params={"i": i, "even": i % 2}, payload=i, ttl_ms=DAY)
        at += 1
    send(signals, "mixed", at, params={"i": 200, "even": 0}, ttl_ms=1)  # the newest
    now = at + 10
    seen: list[list[int]] = []
    before = None
    while True:
        page = signals.find_heads("mixed", [], now=now, before=before, size=4)
        seen.append([h.signal.params["i"] for h in page.heads])
        if page.next is None:
            break
        assert page.next == page.heads[-1].position
        before = page.next
    assert seen[:3] == [[9, 8, 7, 6], [5, 4, 3, 2], [1, 0]] and seen[3:] in ([], [[]])
    # With a condition: the same 4 live heads looked at, the matching ones returned.
    page = signals.find_heads("mixed", [ParamMatch("even", Op.EQ, 0)], now=now, size=4)
    assert [h.signal.params["i"] for h in page.heads] == [8, 6]
    assert page.next is not None and page.next[0] == page.heads[-1].signal.sent_at


def test_heads_written_now_need_no_mark_of_their_id_alone(signals: Signals) -> None:
    """A head in the current layout was written by a release that marks signal
    instances only: a join reads one mark key for it (``SignalHead.id_marks`` False;
    heads of the layout before read two: tests/integration/test_signal_mark_keys.py)."""
    send(signals, "fresh", 1000, params={"n": 1}, payload={"p": 1})
    send(signals, "fresh", 1001, params={"n": 2})
    heads = signals.find_heads("fresh", [], now=2000, size=10).heads
    assert [h.signal.params["n"] for h in heads] == [2, 1]
    assert [h.id_marks for h in heads] == [False, False]


def test_marks_of_more_keys_than_one_statement_or_call_holds(signals: Signals) -> None:
    """Marks are read for any number of keys (SQLite's statements and DynamoDB's
    BatchGetItem calls hold a few hundred at most: the store reads them in chunks)."""
    keys = [f"p:{i:04d}@{1000 + i}" for i in range(450)]
    marked = keys[::3]
    for start in range(0, len(marked), 50):  # a DynamoDB transaction: 100 items at most
        assert signals.consume("wf/t", marked[start : start + 50], f"g{start}", 9_000, 5)
    got = signals.marks("wf/t", [*keys, *keys[:10]])  # a key asked twice is read once
    assert sorted(got) == sorted(marked)
    assert got[marked[-1]] == ConsumedMark(f"g{(len(marked) - 1) // 50 * 50}", 9_000, 5)
