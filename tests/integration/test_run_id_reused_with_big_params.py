"""A start's client token (`run_id`) sent again with other params, when the
params are big enough to be stored as a payload (over 4 KiB)."""

from __future__ import annotations

from pathlib import Path

from podium.adapters.clock import ManualClock
from podium.core.engine.request_ids import RunIdReused
from podium.local.runtime import LocalRuntime
from podium.service.bindings import run_params
from podium.service.runs import start_run

LOAD = {
    "name": "r29c_load",
    "params": {"blob": {"type": "string"}},
    "steps": [{"id": "nap", "type": "sleep", "seconds": 3600}],
}


def test_a_run_id_sent_again_with_other_big_params_is_refused_and_keeps_the_first_params(
    tmp_path: Path,
) -> None:
    """`POST /runs` with `run_id: token-1` and 10 KB of params starts a run whose params
    are a payload. The same run_id sent again with other 10 KB params (a client bug, two
    jobs sharing a token) wrote them to the same key before the start found the run
    existed: the first run's params were silently replaced, and the second start was
    answered with the first run instead of 409 `run_id_conflict`. Big params are now
    stored under a key named by their content."""
    first, second = "a" * 10_000, "b" * 10_000
    with LocalRuntime(store="sqlite", home=str(tmp_path / "home"), clock=ManualClock()) as rt:
        rt.push(LOAD)
        run = start_run(rt.services, "r29c_load", {"blob": first}, run_id="token-1")
        assert run_params(rt.services, run)["blob"] == first
        refused = None
        try:
            start_run(rt.services, "r29c_load", {"blob": second}, run_id="token-1")
        except RunIdReused as exc:
            refused = exc
        kept = rt.store.get_run("token-1")
        assert run_params(rt.services, kept)["blob"] == first, (
            "the running run's params were replaced by the second start's"
        )
        assert refused is not None and refused.fields == ["params"]
