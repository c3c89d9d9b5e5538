"""Step functions and workflows for the console's browser tests (``module:function``)."""

from __future__ import annotations

import time
from typing import Any


def extract(event: dict[str, Any]) -> dict[str, Any]:
    print("extracted 1200 rows")  # captured per attempt where the runtime keeps logs
    time.sleep(0.15)
    return {"rows": 1200, "date": event["params"].get("date")}


def flaky(event: dict[str, Any]) -> dict[str, Any]:
    """Fails its first attempt, succeeds on the second."""
    time.sleep(0.1)
    if event["attempt"] < 2:
        raise RuntimeError("warehouse busy, try again")
    return {"loaded": 1200, "attempt": event["attempt"]}


def broken(event: dict[str, Any]) -> dict[str, Any]:
    time.sleep(0.05)
    raise ValueError("bad row 42: amount is not a number")


DIAMOND = {
    "name": "diamond_etl",
    "description": "A diamond: one branch retries and succeeds, the other fails.",
    "params": {"date": {"type": "string", "default": "2026-03-01"}},
    "steps": [
        {"id": "extract", "type": "lambda", "function": "tests.browser.console_support:extract"},
        {
            "id": "load_warehouse",
            "type": "lambda",
            "function": "tests.browser.console_support:flaky",
            "depends_on": ["extract"],
            "retries": 2,
            "retry_delay_seconds": 1,
        },
        {
            "id": "validate",
            "type": "lambda",
            "function": "tests.browser.console_support:broken",
            "depends_on": ["extract"],
            "params": {"table": "sales_${params.date}"},
        },
        {"id": "publish", "type": "noop", "depends_on": ["load_warehouse", "validate"]},
    ],
}


def fanout(n: int) -> dict[str, Any]:
    parts = [f"part_{i:05d}" for i in range(n)]
    return {
        "name": f"fanout_{n}",
        "steps": [
            {"id": "start", "type": "noop"},
            *({"id": p, "type": "noop", "depends_on": ["start"]} for p in parts),
            {"id": "join", "type": "noop", "depends_on": parts},
        ],
    }


def slow(event: dict[str, Any]) -> dict[str, Any]:
    time.sleep(2.5)
    return {"slept": 2.5}


LIVE = {
    "name": "live_refresh",
    "steps": [
        {"id": "first", "type": "noop"},
        {
            "id": "slow",
            "type": "lambda",
            "function": "tests.browser.console_support:slow",
            "depends_on": ["first"],
        },
        {"id": "last", "type": "noop", "depends_on": ["slow"]},
    ],
}


def nap(event: dict[str, Any]) -> dict[str, Any]:
    time.sleep(0.6)
    return {"napped": event["step"]}


def always_fails(event: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("down for maintenance")
