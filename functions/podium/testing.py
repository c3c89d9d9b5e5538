"""Test your own workflows in pytest on the embedded runtime.

    from podium.testing import run_workflow, step_of

    def test_my_etl():
        view = run_workflow("workflows/etl.yaml", params={"date": "2026-01-15"})
        assert view.run.status.value == "SUCCEEDED"
        assert step_of(view, "load").output["rows"] > 0

Or use the ``podium_runtime`` fixture (add ``pytest_plugins = ["podium.testing"]`` to your
conftest.py) to push several workflows, start runs and pump them yourself.

Both run on the embedded default, the SQLite home: ``run_workflow`` on a fresh in-memory
database (or on ``home=PATH`` to inspect the run afterwards with ``podium runs show
--home PATH``), the fixture on a fresh home in the test's ``tmp_path``. ``store="moto"``
runs the same on DynamoDB in moto instead. What steps print stays on the test's output
(pytest shows it for a failing test), rather than in the home's step logs.

Lambda steps that name a Lambda function run the Python callable mapped to it: by
``podium.toml`` beside the workflow file (its ``[functions]`` table), then by
``functions={"sales-extract": "sales_etl:extract"}``, which wins. The fixture's runtime
reads the ``podium.toml`` of each file it pushes; ``podium_runtime.functions`` is its
mapping, to add to.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeGuard

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.records import StepRecord
from podium.local.runtime import LocalRuntime
from podium.service.runs import RunView

__all__ = [
    "LocalRuntime",
    "RunView",
    "fire_trigger",
    "podium_runtime",
    "run_workflow",
    "send_signal",
    "step_of",
]


def step_of(view: RunView, step: str) -> StepRecord:
    for s in view.steps:
        if s.step == step:
            return s
    raise KeyError(f"step '{step}' has no instance in run {view.run.run_id}")


def run_workflow(
    source: str | Path | dict[str, Any],
    params: dict[str, Any] | None = None,
    *,
    home: str | Path | None = None,
    store: str = "sqlite",
    functions: dict[str, str] | None = None,
) -> RunView:
    """Push and run one workflow to the end on a fresh embedded runtime (virtual time).

    ``home``: a local home directory to keep the run in (default: none, in memory).
    ``functions``: Lambda name -> ``module:function`` that plays it (over podium.toml)."""
    if _is_path(source):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no workflow definition at {path}: check the path")
        sys.path.insert(0, str(path.resolve().parent))
        source = path
    where = home if home is not None else ":memory:"
    with LocalRuntime(
        clock=ManualClock(), store=store, home=where, capture_output=False, functions=functions
    ) as rt:
        return rt.run(source, params)


def _is_path(source: str | Path | dict[str, Any]) -> TypeGuard[str | Path]:
    """A ``Path``, or a one-line ``str`` that is no inline mapping: a file's path. A
    definition's text has a line break (or is a one-line ``{...}``); asking the file
    system whether such a text exists fails once it is longer than a file's name."""
    if isinstance(source, Path):
        return True
    return isinstance(source, str) and "\n" not in source and not source.lstrip().startswith("{")


@pytest.fixture
def podium_runtime(tmp_path: Path) -> Iterator[LocalRuntime]:
    """A fresh embedded runtime (a SQLite home in ``tmp_path``) on a manual clock."""
    with LocalRuntime(
        clock=ManualClock(), store="sqlite", home=tmp_path / ".podium", capture_output=False
    ) as rt:
        yield rt


def send_signal(
    runtime: LocalRuntime,
    name: str,
    params: dict[str, str | int] | None = None,
    payload: Any = None,
    *,
    request_id: str | None = None,
    pump: bool = True,
) -> Any:
    """Send a signal into a local runtime (steps waiting for it wake up; signal triggers
    start runs) and, with ``pump``, deliver what follows. Returns the stored signal."""
    from podium.core.engine.signals import SignalRequest
    from podium.service.signals import send_signal as send

    signal, _ = send(runtime.services, SignalRequest(name, dict(params or {}), payload, request_id))
    if pump:
        runtime.pump(advance_time=False)
    return signal


def fire_trigger(
    runtime: LocalRuntime,
    workflow: str,
    event: dict[str, Any] | str | Path,
    *,
    trigger: str | None = None,
    pump: bool = True,
) -> RunView:
    """Start a run of ``workflow`` as its trigger would for ``event``: an S3 or
    EventBridge event (a dict, or a JSON file such as an S3 'Object Created' event), or
    ``{"time": "2026-01-01T06:00:00Z"}`` for a cron or rate trigger. With ``pump``, the
    run goes to the end; returns its view."""
    import json

    from podium.service.triggers import start_from_event

    body = event if isinstance(event, dict) else json.loads(Path(event).read_text())
    run = start_from_event(runtime.services, workflow, body, trigger)
    if pump:
        runtime.pump(run_id=run.run_id)
    return runtime.describe(run.run_id)
