from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime


@pytest.fixture(autouse=True)
def _podium_logger_state() -> Iterator[None]:
    """The Lambda wiring (bootstrap.from_environment) configures the process-wide 'podium'
    logger through Powertools, which keeps its own marks on the logger object ('init',
    'powertools_handler', ...). Every test gets the logger back exactly as it found it:
    a logger marked configured whose handlers were put back by a test makes Powertools
    fail (IndexError) in whichever test wires next."""
    podium_logger = logging.getLogger("podium")
    saved = dict(podium_logger.__dict__)
    handlers = list(podium_logger.handlers)
    yield
    podium_logger.__dict__.clear()
    podium_logger.__dict__.update(saved)
    podium_logger.handlers = handlers


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    """The embedded runtime on moto, with a manual clock (waits cost no time)."""
    with LocalRuntime(clock=ManualClock()) as rt:
        yield rt


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def memory_rt(manual_clock: ManualClock) -> Iterator[LocalRuntime]:
    """The embedded runtime on the memory store, on ``manual_clock``."""
    with LocalRuntime(store="memory", clock=manual_clock) as rt:
        yield rt


@pytest.fixture
def home_rt() -> Iterator[LocalRuntime]:
    """The embedded runtime on an in-memory SQLite home, with a manual clock, its steps'
    output left to the test's own capture."""
    with LocalRuntime(
        clock=ManualClock(), store="sqlite", home=":memory:", capture_output=False
    ) as rt:
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


def foreach(step_id: str, over: dict[str, Any], *steps: dict[str, Any]) -> dict[str, Any]:
    """A ``foreach`` step over ``over`` whose body is ``steps``."""
    return {"id": step_id, "type": "foreach", "over": over, "steps": list(steps)}


def queued_noop_loop(n: int, concurrency: int) -> dict[str, Any]:
    """W4's shape (``podium.bench.loops.foreach``) whose iterations go through the queues:
    a param on its noop keeps the body from ending as it starts, so its iterations are
    not written already ended (service/instant_iterations.py). For tests of the queues'
    way: starts, ends, counts and wake-ups of iteration runs."""
    from podium.bench.loops import foreach as noop_loop

    defn = noop_loop(n, concurrency)
    defn["steps"][0]["steps"][0]["params"] = {"via": "the queues"}
    return defn
