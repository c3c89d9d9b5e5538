"""A run's stop landing at a chosen state of a two-step run ``a -> b``, on the threaded
moto server (tests/integration/racing_support.py): every interleaving of a stop with a
step's life is reached on purpose, not by chance.

test_racing_actions.py::test_stop_against_steps_finishing spreads its stops over the
lives of runs it starts together: under load they mostly land while the runs start,
rarely as a step finishes, and the refusal (the run ended first) was not seen in 65
loaded runs. Here the steps' work (``work``, called in-process by the lambda runner)
waits on a gate the test opens, so each state is reached before the stop is sent:
``a`` READY and not claimed, ``a`` inside its work, ``a``'s work returning (the gate
opened and the stop sent from two threads, at offsets spread over ``a``'s end and the
run's end), ``b`` inside its work, and the run ended. The store's writes the order is
judged by are tapped (``Tap``), so each race is classified by what provably came first.

The invariants, after the engine is pumped until nothing is left to do: the run is
STOPPED (SUCCEEDED or FAILED when it ended first, and the stop was refused naming that)
and settled; no step is left unfinished; no attempt's work ran twice; every run slot and
permit is back; a STOPPED run carries no error and no failing flag unless the run was
flagged failing before the stop; ``b`` never started when the stop landed while ``a``
was unfinished.

Run-end rules, read in core/engine (decide.run_status_of, plans.plan_run_end) and the
service (attempts._after_step_failed, advance.complete_if_done, lifecycle.stop_run): a
failing ``a`` (no retries; failure_mode fail_after_running) flags the run failing
(``mark_run_failing``: ``fl``, ``er`` "a: ValueError: broken ..."), ``b`` is created
SKIPPED, and the run ends FAILED only when its sink is counted (``complete_if_done``:
RUNNING -> FAILED). The stop's RUNNING -> STOPPED write and that FAILED write expect the
same status: whichever lands first decides. A stop that lands first ends the run
STOPPED; one that lands after is refused (``ActionRefused``, status FAILED). So the
correct outcome of a failure racing a stop is STOPPED when the stop's write lands
before the run's FAILED write, else FAILED. A STOPPED run carries the failure only when
it was flagged failing before the stop landed (the failure happened first; ``stop_run``
writes only the status, ``ended_at`` and ``reason``); a flag sent after the stop is
refused (``mark_run_failing`` on condition the run has not ended) and nothing more is
propagated (test_failing_after_stop.py tests that on every store). A step that
succeeds after the stop's STOPPED write, beating the stop's end of it, has its worker
claim ``b`` from the run as it read it; ``b`` ends STOPPED unstarted
(test_a_step_ending_after_its_runs_stop_starts_no_successor)."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from podium.core.engine.actions import ActionRefused, RunAction
from podium.core.engine.status import RunStatus, StepStatus
from podium.service.actions import Actor, run_action
from podium.service.advance import start_roots
from podium.service.context import Services
from podium.service.runs import start_run
from podium.service.workflows import push_workflow
from tests.integration.racing_support import pump_concurrently, race, racing_services

HERE = "tests.integration.test_racing_stop_at_state"
WF = "stop_at_state"
KEY = "stop_at_state_key"  # a's permit: the stop must give it back
GATE_S = 60.0  # a gate never opened fails the work (and the test) instead of hanging

_LOCK = threading.Lock()
CALLS: Counter[str] = Counter()  # "run/step/attempt" -> how many times its work ran
ENTERED: dict[str, float] = {}  # "run/step" -> when its work first began (monotonic)
_GATES: dict[str, threading.Event] = {}
FAILS: set[str] = set()  # runs whose "a" raises


def _gate(run_id: str, step: str) -> threading.Event:
    with _LOCK:
        return _GATES.setdefault(f"{run_id}/{step}", threading.Event())


def work(event: dict[str, Any]) -> str:
    run_id, step = event["run"]["id"], event["step"]
    key = f"{run_id}/{step}"
    with _LOCK:
        CALLS[f"{key}/{event['attempt']}"] += 1
        ENTERED.setdefault(key, time.monotonic())
        gate = _GATES.setdefault(key, threading.Event())  # closed until the test opens it
    if not gate.wait(GATE_S):
        raise RuntimeError(f"{key}: its gate was never opened")
    if step == "a" and run_id in FAILS:
        raise ValueError("broken")
    return "ok"


def _workflow() -> dict[str, Any]:
    a = {
        "id": "a",
        "type": "lambda",
        "function": f"{HERE}:work",
        "concurrency": {"key": KEY, "limit": 100},
    }
    b = {"id": "b", "type": "lambda", "function": f"{HERE}:work", "depends_on": ["a"]}
    return {"name": WF, "run_strategy": {"parallel": 100}, "steps": [a, b]}  # fmt: skip


# -- the order of the writes that matter --------------------------------------------------
class Tap:
    """Wraps the store's writes a race is judged by, marking each with a sequence number
    taken before it is sent and after it returned (moto applies requests one at a time,
    so a write sent after another returned was applied after it). ``after_stop``: a hook
    run in the stopping thread right after a run's STOPPED write, before the stop ends
    the run's steps; ``after_a_end`` and ``after_flag``: one run in the worker right
    after a's end write, or the run's failing flag, before what follows it."""

    def __init__(self, store: Any) -> None:
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self.marks: dict[tuple[str, str], int] = {}
        self.after_stop: dict[str, Callable[[], None]] = {}
        self.after_a_end: dict[str, Callable[[], None]] = {}
        self.after_flag: dict[str, Callable[[], None]] = {}
        self._events: dict[tuple[str, str], threading.Event] = {}
        real_run, real_step, real_flag, real_end_flag = (
            store.transition_run,
            store.transition_step,
            store.mark_run_failing,
            store.end_step_failing_run,
        )

        def transition_run(run_id: str, *args: Any, **kwargs: Any) -> Any:
            stop = kwargs.get("to") is RunStatus.STOPPED
            if stop:
                self._mark(run_id, "stop_sent")
            moved = real_run(run_id, *args, **kwargs)
            if stop:
                self._mark(run_id, "stop_done")
                hook = self.after_stop.pop(run_id, None)
                if hook is not None:
                    hook()
            return moved

        def transition_step(run_id: str, step: str, *args: Any, **kwargs: Any) -> Any:
            ends = (
                step == "a"
                and kwargs.get("expected") == frozenset({StepStatus.RUNNING})
                and kwargs.get("to") in (StepStatus.SUCCEEDED, StepStatus.FAILED)
            )
            if not ends:
                return real_step(run_id, step, *args, **kwargs)
            write = partial(real_step, run_id, step, *args, **kwargs)
            return self._marked(run_id, "a_end", write, self.after_a_end)

        def mark_run_failing(run_id: str, *args: Any, **kwargs: Any) -> Any:
            write = partial(real_flag, run_id, *args, **kwargs)
            return self._marked(run_id, "flag", write, self.after_flag)

        def end_step_failing_run(run_id: str, step: str, *args: Any, **kwargs: Any) -> Any:
            write = partial(real_end_flag, run_id, step, *args, **kwargs)
            if step != "a":
                return write()
            # One write ends a and flags its run: both marks, then both hooks.
            self._mark(run_id, "a_end_sent")
            self._mark(run_id, "flag_sent")
            try:
                written = write()
            finally:
                self._mark(run_id, "a_end_done")
                self._mark(run_id, "flag_done")
            for hooks in (self.after_a_end, self.after_flag):
                hook = hooks.pop(run_id, None)
                if hook is not None:
                    hook()
            return written

        store.transition_run = transition_run
        store.transition_step = transition_step
        store.mark_run_failing = mark_run_failing
        store.end_step_failing_run = end_step_failing_run

    def _marked(
        self, run_id: str, what: str, write: Callable[[], Any], hooks: dict[str, Callable[[], None]]
    ) -> Any:
        """``write``, marked ``{what}_sent`` before and ``{what}_done`` after (even when it
        raised); then the run's hook in ``hooks``, if any."""
        self._mark(run_id, f"{what}_sent")
        try:
            written = write()
        finally:
            self._mark(run_id, f"{what}_done")
        hook = hooks.pop(run_id, None)
        if hook is not None:
            hook()
        return written

    def _mark(self, run_id: str, what: str) -> None:
        with self._lock:
            if (run_id, what) not in self.marks:
                self.marks[(run_id, what)] = next(self._seq)
            happened = self._events.setdefault((run_id, what), threading.Event())
        happened.set()

    def event(self, run_id: str, what: str) -> threading.Event:
        """Set once ``what`` was marked for the run."""
        with self._lock:
            return self._events.setdefault((run_id, what), threading.Event())

    def ended(self, run_id: str) -> threading.Event:
        return self.event(run_id, "a_end_done")

    def before(self, run_id: str, first: str, then: str) -> bool:
        """``first`` provably came before ``then`` (both marked)."""
        x, y = self.marks.get((run_id, first)), self.marks.get((run_id, then))
        return x is not None and y is not None and x < y


@dataclass(frozen=True)
class Race:
    ctx: Services
    tap: Tap


@pytest.fixture(scope="module")
def stand() -> Iterator[Race]:
    """One moto server for the module (each test pumps it while it runs)."""
    with racing_services() as (ctx, _):
        push_workflow(ctx, _workflow())
        yield Race(ctx, Tap(ctx.store))


@pytest.fixture
def rig(stand: Race) -> Iterator[Race]:
    """The module's stand, pumped by 16 threads for the test's length; every gate is
    opened at the end, so no worker stays blocked in a work function."""
    stop = threading.Event()
    pumper = threading.Thread(
        target=pump_concurrently,
        args=(stand.ctx, stop.is_set),
        kwargs={"workers": 16, "deadline_s": 600},  # room for a batch of runs held in ``work``
    )
    pumper.start()
    try:
        yield stand
    finally:
        with _LOCK:
            gates = list(_GATES.values())
        for gate in gates:
            gate.set()
        _quiet(stand.ctx, timeout_s=30)
        stop.set()
        pumper.join()


# -- waiting ------------------------------------------------------------------------------
def _until(what: str, check: Callable[[], bool], timeout_s: float = 30.0) -> None:
    end = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def _idle(ctx: Services) -> bool:
    """No message due within a minute, none being handled (a received message stays
    in its queue, due again at the end of its visibility, until it is deleted). The
    ended_check a stopped run schedules a lease later is not due."""
    soon = ctx.now() + 60_000
    for queue in (ctx.work_queue, ctx.event_queue):
        due = queue.next_visible_at()  # type: ignore[attr-defined]
        if due is not None and due <= soon:
            return False
    return True


def _quiet(
    ctx: Services, runs: Sequence[str] = (), timeout_s: float = 30.0, *, idle: bool = True
) -> None:
    """Until the runs settled and (``idle``) the engine has nothing left to do."""

    def done() -> bool:
        return all(ctx.store.get_run(r).settled for r in runs) and (not idle or _idle(ctx))

    _until(f"runs {list(runs)} settled" + (" and the queues idle" if idle else ""), done, timeout_s)
    if idle:
        time.sleep(0.05)
        _until("the queues idle", lambda: _idle(ctx), timeout_s)


def _entered(run_id: str, step: str) -> None:
    _until(f"{run_id}/{step} in its work", lambda: f"{run_id}/{step}" in ENTERED)


def _new_run(rig: Race, *, fails: bool = False, open_b: bool = True) -> str:
    run_id = start_run(rig.ctx, WF).run_id
    if fails:
        FAILS.add(run_id)
    if open_b:
        _gate(run_id, "b").set()
    return run_id


def _stop(ctx: Services, run_id: str) -> str:
    try:
        return run_action(ctx, run_id, RunAction.STOP, Actor("op")).status
    except ActionRefused as refused:
        return f"refused:{refused.status}"


# -- the invariants -----------------------------------------------------------------------
def _steps(ctx: Services, run_id: str) -> dict[str, Any]:
    return {s.step: s for s in ctx.store.list_steps(run_id)}


def _calls(run_id: str, step: str) -> int:
    with _LOCK:
        return sum(n for k, n in CALLS.items() if k.startswith(f"{run_id}/{step}/"))


def _shown(ctx: Services, run_id: str) -> dict[str, Any]:
    run = ctx.store.get_run(run_id)
    with _LOCK:
        calls = {k: n for k, n in CALLS.items() if k.startswith(f"{run_id}/")}
    return {
        "run": (run.status.value, run.settled, run.error, run.failing),
        "steps": {k: (s.status.value, s.attempt) for k, s in _steps(ctx, run_id).items()},
        "calls": calls,
    }


def _settled_invariants(ctx: Services, run_id: str) -> None:
    """What holds whoever won: the run ended and settled, every step ended, each
    attempt's work ran at most once (a's exactly once when it was claimed), nothing
    held."""
    seen = _shown(ctx, run_id)
    run = ctx.store.get_run(run_id)
    assert run.status.terminal and run.settled, seen
    steps = _steps(ctx, run_id)
    assert all(s.status.terminal for s in steps.values()), seen
    assert all(s.waiting_key is None for s in steps.values()), seen
    with _LOCK:
        mine = {k: n for k, n in CALLS.items() if k.startswith(f"{run_id}/")}
    assert all(n == 1 for n in mine.values()), seen  # no attempt's work ran twice
    for step, record in steps.items():  # work ran only for attempts that were claimed
        assert _calls(run_id, step) <= max(record.attempt, 0), seen


def _nothing_held(ctx: Services) -> None:
    """Every run slot and permit given back, nobody waiting on the key."""
    slots = ctx.store.run_slots().state(WF)
    permits = ctx.store.permits().state(KEY)
    assert slots.holders == {}, slots
    assert (permits.holders, permits.waiting) == ({}, 0), permits


def _stopped_clean(ctx: Services, run_id: str) -> None:
    run = ctx.store.get_run(run_id)
    assert run.status is RunStatus.STOPPED, _shown(ctx, run_id)
    assert (run.error, run.failing, run.failing_since) == (None, False, None), _shown(ctx, run_id)


# -- each state, reached before the stop --------------------------------------------------
def test_stop_while_a_is_ready_before_the_pump_sees_it(stand: Race) -> None:
    """``a`` READY with nobody pumping: the state is held for sure while the stop lands;
    the pump then delivers the start and exec messages to the stopped run."""
    ctx = stand.ctx
    run_id = start_run(ctx, WF).run_id
    start_roots(ctx, run_id)
    a = ctx.store.get_step(run_id, "a")
    assert a is not None and a.status is StepStatus.READY and a.attempt == 0
    assert _stop(ctx, run_id) == "STOPPED"
    _gate(run_id, "a").set()
    _gate(run_id, "b").set()
    stop = threading.Event()
    pumper = threading.Thread(target=pump_concurrently, args=(ctx, stop.is_set))
    pumper.start()
    try:
        _quiet(ctx, [run_id])
    finally:
        stop.set()
        pumper.join()
    seen = _shown(ctx, run_id)
    _stopped_clean(ctx, run_id)
    _settled_invariants(ctx, run_id)
    assert {k: s.status for k, s in _steps(ctx, run_id).items()} == {"a": StepStatus.STOPPED}, seen
    assert _calls(run_id, "a") == 0 and _calls(run_id, "b") == 0, seen
    _nothing_held(ctx)


def test_stop_while_a_is_running(rig: Race) -> None:
    ctx = rig.ctx
    run_id = _new_run(rig)
    _entered(run_id, "a")
    assert ctx.store.get_step(run_id, "a").status is StepStatus.RUNNING  # type: ignore[union-attr]
    assert ctx.store.permits().state(KEY).holders != {}  # a holds its permit
    assert _stop(ctx, run_id) == "STOPPED"
    stopped = _shown(ctx, run_id)
    _gate(run_id, "a").set()  # its work returns into a stopped step: dropped
    _quiet(ctx, [run_id])
    seen = _shown(ctx, run_id)
    assert seen == {**stopped, "run": seen["run"]}, (stopped, seen)  # nothing moved after
    _stopped_clean(ctx, run_id)
    _settled_invariants(ctx, run_id)
    assert {k: s.status for k, s in _steps(ctx, run_id).items()} == {"a": StepStatus.STOPPED}, seen
    assert (_calls(run_id, "a"), _calls(run_id, "b")) == (1, 0), seen
    _nothing_held(ctx)


def test_stop_while_b_is_running(rig: Race) -> None:
    ctx = rig.ctx
    run_id = _new_run(rig, open_b=False)
    _entered(run_id, "a")
    _gate(run_id, "a").set()
    _entered(run_id, "b")
    assert _stop(ctx, run_id) == "STOPPED"
    _gate(run_id, "b").set()
    _quiet(ctx, [run_id])
    seen = _shown(ctx, run_id)
    _stopped_clean(ctx, run_id)
    _settled_invariants(ctx, run_id)
    assert {k: s.status for k, s in _steps(ctx, run_id).items()} == {
        "a": StepStatus.SUCCEEDED,
        "b": StepStatus.STOPPED,
    }, seen
    assert (_calls(run_id, "a"), _calls(run_id, "b")) == (1, 1), seen
    _nothing_held(ctx)


@pytest.mark.parametrize("fails", [False, True], ids=["succeeded", "failed"])
def test_stop_after_the_run_ended_is_refused_and_changes_nothing(rig: Race, fails: bool) -> None:
    ctx = rig.ctx
    run_id = _new_run(rig, fails=fails)
    _entered(run_id, "a")
    _gate(run_id, "a").set()
    _quiet(ctx, [run_id])
    ended = RunStatus.FAILED if fails else RunStatus.SUCCEEDED
    before = (_shown(ctx, run_id), ctx.store.get_run(run_id), len(ctx.store.list_events(run_id)))
    assert before[1].status is ended, before
    with pytest.raises(ActionRefused) as refused:
        run_action(ctx, run_id, RunAction.STOP, Actor("op"))
    assert refused.value.status == ended.value
    _quiet(ctx, [run_id])
    after = (_shown(ctx, run_id), ctx.store.get_run(run_id), len(ctx.store.list_events(run_id)))
    assert after == before
    _settled_invariants(ctx, run_id)
    if fails:
        assert before[1].failing and (before[1].error or "").startswith("a: ValueError: broken")
        assert before[0]["steps"] == {"a": ("FAILED", 1), "b": ("SKIPPED", 0)}, before
    else:
        assert before[0]["steps"] == {"a": ("SUCCEEDED", 1), "b": ("SUCCEEDED", 1)}, before
    _nothing_held(ctx)


def test_stop_just_after_a_ended(rig: Race) -> None:
    """The stop lands right after a's SUCCEEDED write, before its worker created ``b``:
    that worker read the run as RUNNING when it claimed ``a`` and goes on with ``b``
    (created claimed, performed in-process) after the run's stop settled it; the
    ended_check a lease later is what would end a ``b`` still open then (docs/
    architecture.md). What must hold: ``b`` ends, the run stays STOPPED and clean, and
    nothing is held."""
    ctx = rig.ctx
    run_id = _new_run(rig)
    answers: list[str] = []
    rig.tap.after_a_end[run_id] = lambda: answers.append(_stop(ctx, run_id))
    _entered(run_id, "a")
    _gate(run_id, "a").set()
    _quiet(ctx, [run_id])
    seen = _shown(ctx, run_id)
    assert answers == ["STOPPED"], seen
    _stopped_clean(ctx, run_id)
    _settled_invariants(ctx, run_id)
    steps = _steps(ctx, run_id)
    assert steps["a"].status is StepStatus.SUCCEEDED, seen
    assert steps["b"].status in (StepStatus.SUCCEEDED, StepStatus.STOPPED), seen
    _nothing_held(ctx)


# -- a's work returning while the stop is sent: the race, classified -----------------------
BEFORE_END = "stop accepted before a's end"  # a ended STOPPED; its result was dropped
AFTER_END = "stop accepted after a's end"  # a's own end first, then the run's stop
REFUSED = "refused: the run ended first"
# The run stopped before a's end was sent, and a's end beat the stop's end of a:
BEFORE_END_A_KEPT = "stop accepted before a's end, a's end kept"  # a failed: fine
END_BEAT_CANCEL = "stop accepted before a's end, a's end kept, b ended unstarted"


def _judge(rig: Race, run_id: str, answer: str, fails: bool) -> str:
    ctx, tap = rig.ctx, rig.tap
    _settled_invariants(ctx, run_id)
    run = ctx.store.get_run(run_id)
    steps = _steps(ctx, run_id)
    marks = {w: n for (r, w), n in tap.marks.items() if r == run_id}
    seen = (answer, _shown(ctx, run_id), marks)
    assert _calls(run_id, "a") == 1, seen
    a_end = StepStatus.FAILED if fails else StepStatus.SUCCEEDED
    if answer.startswith("refused:"):
        # The run ended first: the refusal names its status, and the stop wrote nothing.
        ended = RunStatus.FAILED if fails else RunStatus.SUCCEEDED
        assert (answer, run.status) == (f"refused:{ended.value}", ended), seen
        assert "stop_done" not in marks, seen
        b_end = StepStatus.SKIPPED if fails else StepStatus.SUCCEEDED
        assert {k: s.status for k, s in steps.items()} == {"a": a_end, "b": b_end}, seen
        return REFUSED
    assert answer == "STOPPED" and run.status is RunStatus.STOPPED, seen
    if steps["a"].status is StepStatus.STOPPED:
        # The stop ended a while its work ran: its result was dropped, b never started.
        _stopped_clean(ctx, run_id)
        assert "b" not in steps and _calls(run_id, "b") == 0, seen
        return BEFORE_END
    assert steps["a"].status is a_end, seen
    if tap.before(run_id, "stop_done", "a_end_sent"):
        # The run stopped while a was unfinished, and a's end beat the stop's end of a.
        if not fails:
            # Its worker went on from the run as it read it and claimed b, which ended
            # unstarted (test_a_step_ending_after_its_runs_stop_starts_no_successor).
            _stopped_clean(ctx, run_id)
            assert steps["b"].status is StepStatus.STOPPED, seen
            assert _calls(run_id, "b") == 0, seen
            return END_BEAT_CANCEL
        # Its failure is not applied to the stopped run: no flag, nothing propagated.
        _stopped_clean(ctx, run_id)
        assert "b" not in steps, seen
        return BEFORE_END_A_KEPT
    # a's end first, then the stop: b (created by a's worker, which read the run as
    # RUNNING) may have started, but it ended.
    if not fails:
        _stopped_clean(ctx, run_id)
        assert steps["b"].status in (StepStatus.SUCCEEDED, StepStatus.STOPPED), seen
        return AFTER_END
    # a failed, its end (which flags the run in the same write: end_step_failing_run)
    # not proven after the stop's. A run stopped after that write keeps the flag and the
    # error (and a's worker went on: b SKIPPED); when the stop's write landed first (the
    # two were in flight together), the end was written alone, and then nothing more is
    # propagated.
    if run.failing:
        assert not tap.before(run_id, "stop_done", "flag_sent"), seen
        assert (run.error or "").startswith("a: ValueError: broken"), seen
        assert steps["b"].status is StepStatus.SKIPPED, seen
    else:
        _stopped_clean(ctx, run_id)
        assert "b" not in steps, seen
    return AFTER_END


# How the gate's opening is placed against the stop (each a delay in seconds):
AFTER_SENT = "the gate opens this long after the stop's STOPPED write was sent"
AFTER_CALL = "the gate opens this long after the stop was called"
STOP_LATER = "the stop is called this long after the gate opened"


@dataclass(frozen=True)
class Plan:
    how: str
    delay_s: float


def _race(rig: Race, run_id: str, plan: Plan) -> str:
    """a is inside its work: open its gate and send the stop from two threads released
    together, placed as ``plan`` says. Returns the stop's answer."""
    ctx = rig.ctx
    gate = _gate(run_id, "a")
    sent = rig.tap.event(run_id, "stop_sent")

    def contender(i: int) -> str:
        if i == 0:
            if plan.how == AFTER_SENT:
                assert sent.wait(20)
            if plan.how != STOP_LATER:
                time.sleep(plan.delay_s)
            gate.set()
            return "opened"
        if plan.how == STOP_LATER:
            time.sleep(plan.delay_s)
        answer = _stop(ctx, run_id)
        gate.set()  # a stop refused before its write (a test error): a is not left blocked
        return answer

    _, answer = race(2, contender)
    return str(answer)


def _race_batch(rig: Race, plans: list[Plan], *, fails: bool) -> Counter[str]:
    """One run per plan, all started together and each held inside a's work; then each
    raced in turn (the next once the last settled), and every one judged once the
    engine is quiet."""
    ctx = rig.ctx
    runs = [_new_run(rig, fails=fails) for _ in plans]
    for run_id in runs:
        _entered(run_id, "a")
    answers = []
    for run_id, plan in zip(runs, plans, strict=True):
        answers.append(_race(rig, run_id, plan))
        _quiet(ctx, [run_id], idle=False)
    _quiet(ctx, runs)
    return Counter(
        _judge(rig, run_id, answer, fails) for run_id, answer in zip(runs, answers, strict=True)
    )


def _calibrate(rig: Race, *, fails: bool) -> float:
    """How long, under the load of the moment, from a's gate opening to the run's end
    (and the refusal of a stop after it)."""
    ctx = rig.ctx
    run_id = _new_run(rig, fails=fails)
    _entered(run_id, "a")
    opened = time.monotonic()
    _gate(run_id, "a").set()
    _until("the run's end", lambda: ctx.store.get_run(run_id).status.terminal)
    took = time.monotonic() - opened
    _quiet(ctx, [run_id])
    assert _judge(rig, run_id, _stop(ctx, run_id), fails) == REFUSED
    return took


def _plans(run_end_s: float) -> list[Plan]:
    """From the stop ending a before its work returns, through a's end landing amid
    the stop's writes, to the stop landing after the run's end."""
    return [
        *(Plan(AFTER_SENT, d) for d in (0.03, 0.006, 0.0)),
        *(Plan(AFTER_CALL, d) for d in (0.0, 0.01)),
        *(Plan(STOP_LATER, run_end_s * f) for f in (0.0, 0.5, 1.5, 3.0)),
    ]


# Aimed at a branch not reached yet (load changes the timings).
_AIM: dict[str, Callable[[float], Plan]] = {
    BEFORE_END: lambda r: Plan(AFTER_SENT, 0.3),
    AFTER_END: lambda r: Plan(AFTER_CALL, 0.0),
    REFUSED: lambda r: Plan(STOP_LATER, r * 5 + 0.1),
}


def _race_until_covered(rig: Race, *, fails: bool) -> Counter[str]:
    run_end_s = _calibrate(rig, fails=fails)
    seen = _race_batch(rig, _plans(run_end_s), fails=fails)
    for _ in range(3):
        missing = [branch for branch in _AIM if seen[branch] == 0]
        if not missing:
            break
        seen += _race_batch(rig, [_AIM[b](run_end_s) for b in missing for _ in (1, 2)], fails=fails)
    _nothing_held(rig.ctx)
    return seen


@pytest.mark.parametrize("fails", [False, True], ids=["a_succeeds", "a_fails"])
def test_stop_racing_a_finishing_reaches_every_branch(rig: Race, fails: bool) -> None:
    seen = _race_until_covered(rig, fails=fails)
    print(f"branches ({'a fails' if fails else 'a succeeds'}): {dict(seen)}")
    assert all(seen[b] >= 1 for b in (BEFORE_END, AFTER_END, REFUSED)), seen


# -- the interleavings that break the invariants, made deterministic -----------------------
def _stop_with_a_ending_in_between(rig: Race, run_id: str) -> str:
    """The stop's STOPPED write lands while a is inside its work; a's work then returns
    and its end write lands before the stop ends the run's steps (it beats the stop's
    RUNNING -> STOPPED of a, which then finds a ended and leaves it)."""

    def let_a_end() -> None:
        _gate(run_id, "a").set()
        assert rig.tap.ended(run_id).wait(20)

    rig.tap.after_stop[run_id] = let_a_end
    return _stop(rig.ctx, run_id)


def test_a_step_ending_after_its_runs_stop_starts_no_successor(rig: Race) -> None:
    ctx = rig.ctx
    run_id = _new_run(rig, open_b=False)
    _entered(run_id, "a")
    answer = _stop_with_a_ending_in_between(rig, run_id)
    _gate(run_id, "b").set()
    _quiet(ctx, [run_id])
    seen = (answer, _shown(ctx, run_id))
    # What holds: the run stopped and settled, a kept its result, nothing held.
    assert answer == "STOPPED", seen
    assert rig.tap.before(run_id, "stop_done", "a_end_sent"), seen
    _stopped_clean(ctx, run_id)
    _settled_invariants(ctx, run_id)
    _nothing_held(ctx)
    assert _steps(ctx, run_id)["a"].status is StepStatus.SUCCEEDED, seen
    # a's worker went on from the run as it read it and claimed b; the run's status,
    # read before b would start, ended b unstarted (service/continuations.py).
    assert _steps(ctx, run_id)["b"].status is StepStatus.STOPPED, seen
    assert _calls(run_id, "b") == 0, seen


def _failed_and_stopped_clean(ctx: Services, run_id: str, seen: object) -> None:
    """The run settled with nothing held, a FAILED, the run stopped keeping no failure,
    and b never created."""
    _settled_invariants(ctx, run_id)
    _nothing_held(ctx)
    assert _steps(ctx, run_id)["a"].status is StepStatus.FAILED, seen
    _stopped_clean(ctx, run_id)
    assert "b" not in _steps(ctx, run_id), seen


def _fail_a_stopping_in(rig: Race, hook: dict[str, Callable[[], None]]) -> tuple[str, list[str]]:
    """A run whose a fails, ``hook`` (one of the tap's, run in a's worker) sending the
    operator's stop; once the engine is quiet: the run and the stop's answers."""
    ctx = rig.ctx
    run_id = _new_run(rig, fails=True)
    answers: list[str] = []
    hook[run_id] = lambda: answers.append(_stop(ctx, run_id))
    _entered(run_id, "a")
    _gate(run_id, "a").set()
    _quiet(ctx, [run_id])
    return run_id, answers


def test_a_step_failing_after_its_runs_stop_leaves_the_run_clean(rig: Race) -> None:
    """The failure of a step that ended after its run's STOPPED write is not applied
    to the run (store.mark_run_failing refuses an ended run) and propagates nothing."""
    ctx = rig.ctx
    run_id = _new_run(rig, fails=True)
    _entered(run_id, "a")
    answer = _stop_with_a_ending_in_between(rig, run_id)
    _quiet(ctx, [run_id])
    seen = (answer, _shown(ctx, run_id))
    assert answer == "STOPPED", seen
    assert rig.tap.before(run_id, "stop_done", "a_end_sent"), seen
    _failed_and_stopped_clean(ctx, run_id, seen)


def test_a_stop_just_after_a_failed_finds_the_run_flagged(rig: Race) -> None:
    """The stop lands right after a's FAILED end. That end flagged the run in the same
    write (store.end_step_failing_run): there is no moment between them for a stop (or
    a sibling branch's end) to see a failed step in a run not failing. The stop wins
    the run's end, and the failure, recorded before it, stays."""
    ctx = rig.ctx
    run_id, answers = _fail_a_stopping_in(rig, rig.tap.after_a_end)
    seen = (answers, _shown(ctx, run_id))
    assert answers == ["STOPPED"], seen
    assert rig.tap.before(run_id, "flag_done", "stop_sent"), seen
    _stopped_keeping_the_failure(ctx, run_id, seen)


def test_a_stop_just_after_the_run_was_flagged_failing_keeps_the_failure(rig: Race) -> None:
    """The stop lands after a's failure flagged the run, before the run's FAILED end:
    the stop wins the run's end (STOPPED), and the failure, recorded before it, stays
    on the run (its error and flag); a's worker goes on and creates b SKIPPED."""
    ctx = rig.ctx
    run_id, answers = _fail_a_stopping_in(rig, rig.tap.after_flag)
    seen = (answers, _shown(ctx, run_id))
    assert answers == ["STOPPED"], seen
    assert rig.tap.before(run_id, "flag_done", "stop_sent"), seen
    _stopped_keeping_the_failure(ctx, run_id, seen)


def _stopped_keeping_the_failure(ctx: Services, run_id: str, seen: object) -> None:
    """The run STOPPED, settled, nothing held, its error and flag a's failure; a's
    worker went on and created b SKIPPED."""
    _settled_invariants(ctx, run_id)
    _nothing_held(ctx)
    run = ctx.store.get_run(run_id)
    assert run.status is RunStatus.STOPPED and run.failing, seen
    assert (run.error or "").startswith("a: ValueError: broken"), seen
    assert {k: s.status for k, s in _steps(ctx, run_id).items()} == {
        "a": StepStatus.FAILED,
        "b": StepStatus.SKIPPED,
    }, seen
