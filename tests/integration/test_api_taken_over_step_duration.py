"""A step a restart took over, in the API's run view (GET /runs/{id}).

``reuse.take_over`` starts and ends the step at the restart's write, so GET /runs/{id}
(and ``podium runs show`` against a stack, which prints its ``duration_ms``) said it ran
for 0 ms, as the console did until it showed the duration it ran for in the run it was
taken over from. The API's view now shows that too, and the run it ran in
(``taken_over.ran_in``), from the logic the console uses (service/taken_over.py)."""

from __future__ import annotations

from podium.core.engine.actions import RunAction
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from tests.integration.test_api import call

DOC = {
    "name": "nap_then_fail",
    "steps": [
        {"id": "nap", "type": "sleep", "seconds": 90},
        {"id": "bad", "type": "fail", "message": "boom", "depends_on": ["nap"]},
    ],
}


def test_get_run_shows_a_taken_over_step_with_the_duration_it_ran_for(
    runtime: LocalRuntime,
) -> None:
    runtime.push(DOC)
    old = runtime.start_run("nap_then_fail").run_id
    runtime.pump()
    status, first = call("GET", f"/runs/{old}")
    assert status == 200 and first["run"]["status"] == "FAILED", first
    ran = next(s for s in first["steps"] if s["step"] == "nap")
    assert ran["duration_ms"] >= 90_000, ran
    restarted = run_action(runtime.services, old, RunAction.RESTART, Actor("alice"))
    assert restarted.new_run is not None
    runtime.pump()

    status, body = call("GET", f"/runs/{restarted.new_run}")
    assert status == 200, body
    nap = next(s for s in body["steps"] if s["step"] == "nap")
    # Before: 0 (it started and ended at the restart's write), and no word of where.
    assert nap["duration_ms"] == ran["duration_ms"], nap
    assert nap["taken_over"] == {"ran_in": old}, nap
    bad = next(s for s in body["steps"] if s["step"] == "bad")
    assert "taken_over" not in bad  # it ran again, in the new run


def test_a_restart_of_a_restart_shows_where_the_step_ran_first(runtime: LocalRuntime) -> None:
    runtime.push(DOC)
    old = runtime.start_run("nap_then_fail").run_id
    runtime.pump()
    once = run_action(runtime.services, old, RunAction.RESTART, Actor("alice")).new_run
    assert once is not None
    runtime.pump()
    twice = run_action(runtime.services, once, RunAction.RESTART, Actor("alice")).new_run
    assert twice is not None
    runtime.pump()
    status, body = call("GET", f"/runs/{twice}", query={"limit": "1"})  # a page: nap first
    assert status == 200, body
    [nap] = body["steps"]
    assert nap["step"] == "nap" and nap["taken_over"] == {"ran_in": old}, nap
    assert nap["duration_ms"] >= 90_000, nap
