"""``podium run --workers N`` runs ready steps at once (README: "a pool of threads
(--workers N)"). The pump timed the first calls of each function alone on its own thread
(local/runtime.py ``_probe``, PROBE_CALLS of them), receiving nothing meanwhile: of two
parallel steps calling one slow function the second started only once the first had
ended (four parallel 6 s steps took 12 s with --workers 4), and a run's quick step
waited for a slow step of another function."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from podium.local.runtime import LocalRuntime

NAP_S = 1.5


def nap(event: dict[str, Any]) -> dict[str, Any]:
    """Sleeps, and writes when it ran (monotonic clock) to the file its payload names."""
    payload = event["payload"]
    started = time.monotonic()
    time.sleep(NAP_S)
    ended = time.monotonic()
    with open(payload["log"], "a", encoding="utf-8") as out:
        out.write(json.dumps([payload["name"], started, ended]) + "\n")
    return {"slept": NAP_S}


def quick(event: dict[str, Any]) -> dict[str, Any]:
    payload = event["payload"]
    with open(payload["log"], "a", encoding="utf-8") as out:
        out.write(json.dumps([payload["name"], time.monotonic(), time.monotonic()]) + "\n")
    return {"quick": True}


def _calls(log: Path) -> dict[str, tuple[float, float]]:
    return {
        name: (start, end) for name, start, end in map(json.loads, log.read_text().splitlines())
    }


def _logged(log: Path, name: str, function: str = "nap") -> dict[str, Any]:
    """A lambda step ``name`` calling ``function`` of this module, which logs to ``log``."""
    return {
        "id": name,
        "type": "lambda",
        "function": f"{__name__}:{function}",
        "payload": {"log": str(log), "name": name},
    }


def _run_on_two_workers(tmp_path: Path, name: str, *steps: dict[str, Any]) -> str:
    """Runs the workflow ``name`` of ``steps`` in a home with two workers; its status."""
    with LocalRuntime(store="sqlite", home=tmp_path / "home", workers=2) as rt:
        return rt.run({"name": name, "steps": list(steps)}).run.status.value


def test_two_parallel_steps_of_one_slow_function_run_at_once(tmp_path: Path) -> None:
    """Two independent steps calling one slow function, with two workers, ran one after
    the other: the run took two naps, not one."""
    log = tmp_path / "calls.jsonl"
    status = _run_on_two_workers(tmp_path, "two_naps", _logged(log, "left"), _logged(log, "right"))
    assert status == "SUCCEEDED"
    (_, a_end), (b_start, _) = sorted(_calls(log).values())
    assert b_start < a_end, (
        f"the second call started {b_start - a_end:.2f}s after the first ended:"
        " the two ready steps ran one after the other with --workers 2"
    )


def test_a_quick_step_does_not_wait_for_the_first_call_of_a_slow_one(tmp_path: Path) -> None:
    """A quick step ready beside the first call of a slow function waited for it."""
    log = tmp_path / "calls.jsonl"
    steps = (_logged(log, "slow"), _logged(log, "quick", "quick"))
    assert _run_on_two_workers(tmp_path, "slow_and_quick", *steps) == "SUCCEEDED"
    calls = _calls(log)
    assert calls["quick"][0] < calls["slow"][1], "the quick step ran only after the slow one"
