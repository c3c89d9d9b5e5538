"""Signals in memory (unit tests and the default wiring): behaves like the DynamoDB one."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from podium.core.engine.signals import (
    ConsumedMark,
    HeadPage,
    ParamMatch,
    Signal,
    SignalHead,
    Waiter,
    head_of,
    matches,
)


class MemorySignals:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, Signal] = {}
        self._by_name: dict[str, list[Signal]] = {}
        self._waiters: dict[str, dict[Waiter, int]] = {}
        self._misses: dict[tuple[str, Waiter], int] = {}  # a check's time that found none
        self._consumed: dict[tuple[str, str], ConsumedMark] = {}  # the group that used it

    def send(self, signal: Signal) -> tuple[Signal, bool]:
        with self._lock:
            old = self._by_id.get(signal.signal_id)
            if old is not None and old.expires_at > signal.sent_at:
                return old, False
            self._by_id[signal.signal_id] = signal
            self._by_name.setdefault(signal.name, []).append(signal)
            return signal, True

    def find(
        self,
        name: str,
        conditions: Sequence[ParamMatch],
        *,
        now: int,
        since: int | None = None,
        limit: int = 1,
    ) -> list[Signal]:
        with self._lock:
            found = [
                s
                for s in self._by_name.get(name, [])
                if s.expires_at > now
                and self._by_id.get(s.signal_id) is s
                and matches(s, conditions, since=since)
            ]
        found.sort(key=lambda s: (s.sent_at, s.signal_id), reverse=True)
        return found[:limit]

    def find_heads(
        self,
        name: str,
        conditions: Sequence[ParamMatch],
        *,
        now: int,
        since: int | None = None,
        before: tuple[int, str] | None = None,
        size: int,
    ) -> HeadPage:
        with self._lock:
            live = [
                s
                for s in self._by_name.get(name, [])
                if s.expires_at > now
                and self._by_id.get(s.signal_id) is s
                and (since is None or s.sent_at >= since)
                and (before is None or (s.sent_at, s.signal_id) < before)
            ]
        live.sort(key=lambda s: (s.sent_at, s.signal_id), reverse=True)
        looked = live[: max(size, 1)]
        # Heads as the other stores give them (no payload): a caller that forgets to ask
        # for the whole signals finds out here, not only on DynamoDB.
        heads = [head_of(s) for s in looked if matches(s, conditions, since=since)]
        more = len(live) > len(looked)
        return HeadPage(heads, (looked[-1].sent_at, looked[-1].signal_id) if more else None)

    def whole(self, heads: Sequence[SignalHead]) -> list[Signal]:
        with self._lock:
            stored = {h.signal.signal_id: self._by_id.get(h.signal.signal_id) for h in heads}
        out: list[Signal] = []
        for h in heads:
            if h.whole:  # as the other stores: nothing more to read
                out.append(h.signal)
                continue
            found = stored[h.signal.signal_id]
            if found is not None and found.sent_at == h.signal.sent_at:
                out.append(found)
        return out

    def add_waiter(self, name: str, waiter: Waiter, expires_at: int) -> None:
        with self._lock:
            self._waiters.setdefault(name, {})[waiter] = expires_at
            self._misses.pop((name, waiter), None)  # as the others' put does

    def waiters(self, name: str, now: int) -> list[Waiter]:
        with self._lock:
            held = self._waiters.get(name, {})
            return sorted(
                (w for w, exp in held.items() if exp > now), key=lambda w: (w.run_id, w.step)
            )

    def remove_waiter(self, name: str, waiter: Waiter) -> None:
        with self._lock:
            self._waiters.get(name, {}).pop(waiter, None)
            self._misses.pop((name, waiter), None)

    def last_miss(self, name: str, waiter: Waiter) -> int | None:
        with self._lock:
            return self._misses.get((name, waiter))

    def note_miss(self, name: str, waiter: Waiter, at: int) -> None:
        with self._lock:
            if waiter not in self._waiters.get(name, {}):
                return
            held = self._misses.get((name, waiter))
            if held is None or held < at:
                self._misses[(name, waiter)] = at

    def consume(
        self,
        consumer: str,
        signal_ids: Sequence[str],
        group: str,
        expires_at: int,
        made_at: int | None = None,
    ) -> bool:
        with self._lock:
            held = [self._consumed.get((consumer, s)) for s in signal_ids]
            if any(m is not None and m.group != group for m in held):
                return False
            for s, m in zip(signal_ids, held, strict=True):
                if m is None:  # a replay keeps the first mark, as SQLite's does
                    self._consumed[(consumer, s)] = ConsumedMark(group, expires_at, made_at)
            return True

    def consumed_by(self, consumer: str, signal_id: str) -> str | None:
        with self._lock:
            mark = self._consumed.get((consumer, signal_id))
        return None if mark is None else mark.group

    def marks(self, consumer: str, keys: Sequence[str]) -> dict[str, ConsumedMark]:
        with self._lock:
            held = {k: self._consumed.get((consumer, k)) for k in keys}
        return {k: m for k, m in held.items() if m is not None}

    def get(self, signal_id: str, *, now: int) -> Signal | None:
        with self._lock:
            found = self._by_id.get(signal_id)
        return found if found is not None and found.expires_at > now else None
