"""What the permit-queue race tests share: a workflow whose one step needs the key
``KEY`` (limit 1), so its runs queue on it, and a runtime on memory or SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from podium.adapters.clock import ManualClock
from podium.core.engine.records import StepRecord
from podium.local.runtime import LocalRuntime

KEY = "warehouse"
STORES = ["memory", "sqlite"]


@contextmanager
def keyed_runtime(store: str) -> Iterator[LocalRuntime]:
    home = ":memory:" if store == "sqlite" else None
    with LocalRuntime(clock=ManualClock(), store=store, home=home) as runtime:
        yield runtime


def keyed() -> dict[str, Any]:
    return {
        "name": "keyed",
        "run_strategy": {"parallel": 10},
        "steps": [
            {"id": "load", "type": "sleep", "seconds": 1,
             "concurrency": {"key": KEY, "limit": 1}},
        ],
    }  # fmt: skip


def step(rt: LocalRuntime, run_id: str) -> StepRecord:
    record = rt.store.get_step(run_id, "load")
    assert record is not None
    return record
