from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    """The embedded runtime on moto, with a manual clock (waits cost no time)."""
    with LocalRuntime(clock=ManualClock()) as rt:
        yield rt


def chain(name: str, n: int, **step: Any) -> dict[str, Any]:
    steps = []
    for i in range(n):
        s: dict[str, Any] = {"id": f"s{i}", "type": "noop", **step}
        if i:
            s["depends_on"] = [f"s{i - 1}"]
        steps.append(s)
    return {"name": name, "steps": steps}


def fan(name: str, n: int) -> dict[str, Any]:
    return {
        "name": name,
        "steps": [
            {"id": "root", "type": "noop"},
            *({"id": f"p{i}", "type": "noop", "depends_on": ["root"]} for i in range(n)),
            {"id": "join", "type": "noop", "depends_on": [f"p{i}" for i in range(n)]},
        ],
    }
