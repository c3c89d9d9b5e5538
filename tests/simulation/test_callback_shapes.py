"""The callback shapes under their fault schedules (podium.sim.callbacks; ``--shapes
callbacks``): async lambdas, wait_for_callback and approval steps called back through
the API's service entry point with successes, failures, heartbeats, results after the
deadline and none at all, sent twice, contradicted and retried, and results and
heartbeats just before, at and just after a run's own deadline. Each attempt ends as
its first recorded result says (TIMED_OUT when it came after the deadline, the step's
or the run's, or never; its result when it came in time, even once the run's deadline
ended the run), no token is handed out twice for one start, no conflicting result is
accepted, and every run ends with nothing held.

A set of its own, not the default mix: with it the memory run of seeds 0:150 took
about 1.6 times as long (its waits run to their 20- and 30-minute deadlines, sweeping
every minute), and adding shapes to the mix would move every existing seed to another
shape (``seed % len(mix)``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from podium.sim import callbacks
from podium.sim.simulate import CALLBACK_MIX, Simulator, factory_for, simulate
from tests.simulation.test_simulation import _explain

MEMORY_SEEDS = range(0, 400)
# One seed of each of these on DynamoDB (moto): seed i runs MOTO_MIX[i].
MOTO_MIX = ("callback_success", "callback_timeouts", "callback_any", "callback_run_deadline")
MOTO_SEEDS = range(0, len(MOTO_MIX))

# What a bulk run must have exercised, so that the shapes keep testing these paths.
PATHS = (
    "result accepted",
    "result accepted again",  # a client's retry after its reply was lost
    "duplicate accepted again",  # the same result while the attempt still waits
    "conflict refused: another result came first",  # while it waits: refused
    "result refused: 409 not_waiting",  # a late result after the deadline's timer
    "result refused: 409 deadline_passed",  # a late result before the timer
    "heartbeat accepted",
    "heartbeat refused: 409 deadline_passed",  # after the run's deadline, before its timer
    "stranger refused: 403 not_an_approver",
    "token repeated",  # a start cut short, redone (its worker died before the mark)
    "gave up",  # a recorded result whose done message was lost: found by the engine
)


def test_callback_shapes_violate_nothing_on_memory() -> None:
    report = simulate(MEMORY_SEEDS, "memory", CALLBACK_MIX)
    assert report.seeds == len(MEMORY_SEEDS)
    assert not report.failing_seeds, _explain(report)
    missing = [p for p in PATHS if not report.stats[p]]
    assert not missing, f"paths no seed took: {missing}; took {dict(report.stats)}"


def test_callback_shapes_violate_nothing_on_moto() -> None:
    report = simulate(MOTO_SEEDS, "moto", MOTO_MIX)
    assert report.seeds == len(MOTO_SEEDS)
    assert not report.failing_seeds, _explain(report)


def test_the_simulate_command_takes_the_callback_set(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from podium.sim.__main__ import main

    assert main(["--seeds", "0:2", "--shapes", "callbacks", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["seeds"] == 2


# ------------------------------------------------------------------ the oracle bites


def _run(shape: str, seed: int) -> list[str]:
    factory = factory_for("memory")
    with factory.session():
        return list(Simulator(factory, (shape,)).run_seed(seed).verdict.details)


def _caught(shape: str, flags: Callable[[str], bool], seeds: int = 60) -> int:
    """The first seed of ``shape`` with a violation that ``flags`` picks, else fails.
    Break-on-purpose tests run seeds until one races: a fixed handful breaks whenever
    the engine's calls, and so the fault schedules, change."""
    for seed in range(seeds):
        if any(flags(d) for d in _run(shape, seed)):
            return seed
    pytest.fail(f"no seed of {shape} 0-{seeds - 1} was caught")


def test_a_token_published_twice_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from podium.service.runtimes.callback import TOKEN_EVENT, CallbackRuntime

    begin = CallbackRuntime.begin

    def publish_again(self, ctx, attempt):  # type: ignore[no-untyped-def]
        ctx.events.publish([{"detail-type": TOKEN_EVENT, "detail": {
            "token": "again", "run_id": attempt.run.run_id, "step": attempt.step,
            "attempt": attempt.number, "type": "lambda"}}])  # fmt: skip
        return begin(self, ctx, attempt)

    monkeypatch.setattr(CallbackRuntime, "begin", publish_again)
    assert any(d.startswith("double_start") for d in _run("callback_success", 0))


def test_a_conflicting_result_accepted_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from podium.core.engine.callback_results import Verdict
    from podium.service import callbacks as service

    monkeypatch.setattr(service, "verdict", lambda *_a, **_k: Verdict.FIRST)
    _caught("callback_success", lambda d: d.startswith("callback_conflict"))


def test_a_late_result_taken_as_in_time_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from podium.service import attempts

    monkeypatch.setattr(attempts, "deadline_of", lambda *_a, **_k: 2**62)
    monkeypatch.setattr("podium.service.callbacks._too_late", lambda *_a, **_k: None)
    # About one seed in ten races this way.
    _caught("callback_timeouts", lambda d: d.startswith("callback_outcome") and "(late)" in d)


def test_a_result_in_time_dropped_by_the_runs_deadline_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As before the fix: the run's deadline timer, handled before the done of a result
    the API accepted in time, ended the waiting step TIMED_OUT."""
    from podium.service import lifecycle

    assert "callback_run_deadline" in CALLBACK_MIX  # in the set CI runs in bulk
    monkeypatch.setattr(lifecycle, "kept_result", lambda *_a, **_k: None)
    _caught(
        "callback_run_deadline",
        lambda d: (
            d.startswith("callback_outcome") and "run_deadline" in d and "ended TIMED_OUT" in d
        ),
    )


# ------------------------------------------------------ a done lost with its request


@pytest.mark.parametrize(("shape", "seed"), [("callback_success", 215), ("callback_fail", 246)])
def test_a_lost_done_of_a_recorded_result_is_applied_promptly(
    shape: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result recorded by the API whose done message was lost (the request died
    between its mark and its done, and its client gave up) is applied by the poll the
    request set before the mark, not at the step's deadline (10 days for an approval)."""
    monkeypatch.setattr(callbacks, "GIVE_UP_ANYWHERE", True)
    details = _run(shape, seed)
    assert not details, "\n".join(details)
