"""The workloads of the simulation: workflow definitions, the runs started, and what the
documented semantics say each run must end as (an oracle independent of the baseline).

Lambda steps name a behaviour the simulated runner plays (``sim:<behaviour>``):
``ok`` returns ``{"step": id}``, ``fail_first`` fails attempt 1 and succeeds after,
``rows`` returns ``{"rows": params.rows}``, ``fail_when`` fails every attempt whose
payload says ``fail: true`` (an iteration that fails) and returns ``{"step": id}`` else;
``fail_as`` fails attempt N with the error type ``payload.errors[N - 1]`` (retryable)
and succeeds past the list, ``fail_always`` fails every attempt (``sim.Flaky``,
retryable); ``slow`` runs ``payload.seconds`` (its process parked meanwhile, the world
going on: World.take_time), then returns ``{"step": id}``.

Every step a crash could lose gets ``retries`` (``SAFE_RETRIES``): from before platform
errors (a lost lease) had a retry budget of their own, when a crash between a claim and
the attempt's end write cost a user retry. They change no fault-free result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SAFE_RETRIES = 3
OK, FAIL_FIRST, ROWS = "sim:ok", "sim:fail_first", "sim:rows"
FAIL_WHEN = "sim:fail_when"
FAIL_AS, FAIL_ALWAYS = "sim:fail_as", "sim:fail_always"
SLOW = "sim:slow"


@dataclass(frozen=True)
class RunSpec:
    workflow: str
    params: dict[str, Any] = field(default_factory=dict)
    at_ms: int = 0  # when the API call is made, after the workload starts
    # Started as the workflow's trigger would for this event (the events function); two
    # RunSpecs with the same event are one duplicated delivery: one run.
    event: dict[str, Any] | None = None


@dataclass(frozen=True)
class SignalSpec:
    """A signal sent through the API at ``at_ms`` (a failed send is retried)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    at_ms: int = 0
    request_id: str | None = None


@dataclass(frozen=True)
class FireSpec:
    """A time of a cron or rate trigger's schedule, delivered at ``at_ms`` as the
    schedule delivers it: the message the engine's schedule holds (``ctx.schedules``,
    put by the push's ``sync_triggers``), with ``time_ms`` (after the workload starts)
    as the scheduled time, on the event queue. A time with no delivery is one the
    scheduler slept through (``podium dev`` on a machine asleep fires each schedule's
    latest time on waking: the trigger's ``catchup`` makes up the rest)."""

    workflow: str
    trigger: str
    time_ms: int
    at_ms: int


@dataclass(frozen=True)
class BreakpointSpec:
    """A breakpoint set on ``path`` (a step of ``workflow``, or ``loop/step`` of a loop's
    body) before the workload starts: every attempt of the step pauses before it starts.
    An operator resumes the steps it holds in the runs ``resume_runs`` (workload
    indexes) one by one (``podium steps resume``, by path), every ``RESUME_EVERY_MS``,
    and clears it at ``clear_at_ms`` (``podium breakpoints clear``: every step it holds
    resumes); a request a fault cut short is made again."""

    workflow: str
    path: str
    clear_at_ms: int
    resume_runs: tuple[int, ...] = ()


RESUME_EVERY_MS = 10_000


@dataclass(frozen=True)
class BackfillSpec:
    """``podium backfill`` of ``workflow``'s cron or rate trigger, asked at ``at_ms``
    (``POST /workflows/{name}/backfill`` with ``request`` as its body; asked again, the
    same, when a fault cut it short)."""

    workflow: str
    request: dict[str, Any]
    at_ms: int = 0


@dataclass(frozen=True)
class Expected:
    """What a run must end as: its status and some of its steps' statuses."""

    status: str
    steps: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoopChildren:
    """What a loop step's iterations (its child runs) must end as, counted by run status
    (a status not named: none). Without faults the counts are exact: the order in which
    iterations end is then fixed. Under faults a crash or a clock jump reorders ends and
    launches, so only the statuses in ``under_faults`` (counts no timing can change,
    such as a while's iterations up to ``max_iterations``) are compared, leaving out
    fences (an index a racing launch opened, ended STOPPED by the loop's end before it
    ever ran)."""

    statuses: dict[str, int]
    under_faults: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Shape:
    name: str
    workflows: tuple[dict[str, Any], ...]
    runs: tuple[RunSpec, ...]
    # One Expected per run (by index), or None where only the baseline is the oracle.
    expected: tuple[Expected | None, ...] = ()
    # "last_only": only the newest run is compared exactly (see invariants.py).
    last_only: bool = False
    # "first_only": every run SUCCEEDED or DISCARDED, at least one SUCCEEDED.
    first_only: bool = False
    # The delay between attempts of a step (seconds), checked on every invocation pair:
    # one for all (a minimum), or one per retry (the delay before attempt 2, 3...: a
    # policy's backoff, exact in the fault-free world; under faults, where a lost
    # attempt shifts the numbers, their minimum is).
    retry_delays: dict[str, int | tuple[int, ...]] = field(default_factory=dict)
    # The attempts a step ends with in the fault-free world (a retry budget used up, or
    # a policy's retries): checked exactly there, in every run of the workload.
    attempts: dict[str, int] = field(default_factory=dict)
    # Breakpoints, and the operator who resumes and clears them (``breakpoint_ignored``).
    breakpoints: tuple[BreakpointSpec, ...] = ()
    # Backfills asked for (``backfill_broken``; their runs count in ``distinct_runs``).
    backfills: tuple[BackfillSpec, ...] = ()
    # Functions that take time (``sim:slow``): under faults every process runs
    # interleaved, so one parks while its function runs and the sweeper comes meanwhile.
    slow: bool = False
    # Steps whose end legitimately depends on timing or message order: each must end in
    # one of these statuses (None: no item, e.g. dispatched but never claimed) and is
    # left out of the exact comparison with the fault-free run.
    loose: dict[str, frozenset[str | None]] = field(default_factory=dict)
    note: str = ""
    signals: tuple[SignalSpec, ...] = ()
    # How many runs the shape's workflows must have in the end (duplicated trigger
    # events start one run each), when it is not one per RunSpec.
    distinct_runs: int | None = None
    # Under faults, when the order in which retries and faults deliver the trigger's
    # events legitimately changes how many runs they start: the counts allowed (the
    # fault-free world must still have exactly ``distinct_runs``).
    distinct_runs_under_faults: frozenset[int] | None = None
    # Times of cron and rate triggers' schedules, delivered as the scheduler would.
    fires: tuple[FireSpec, ...] = ()
    # Callback steps (by step id): what the outside party does with each attempt's
    # token (sim/callbacks.py: success, fail, late, never, beats, silent, approve,
    # reject, any).
    callbacks: dict[str, str] = field(default_factory=dict)
    # The run statuses a run may end with when its loose steps decide it (left out of
    # the exact comparison with the fault-free run, as the loose steps are).
    run_loose: frozenset[str] | None = None
    # What loose steps must end as in the fault-free world, where timing is exact (under
    # faults a crash may legitimately reorder what decides them).
    fault_free_steps: dict[str, str] = field(default_factory=dict)
    # Loop steps (by step id, in the workload's runs): how their iterations must end, by
    # status (``invariants._check_loop_children``).
    loop_children: dict[str, LoopChildren] = field(default_factory=dict)
    # Lambda steps (by step id, in the workload's runs): the rendered ``payload`` the
    # step's function must have been invoked with, when the step SUCCEEDED (data flow:
    # a loop's or a subworkflow's output read by its successor).
    payloads: dict[str, Any] = field(default_factory=dict)


def lam(step_id: str, fn: str = OK, **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "lambda", "function": fn, "retries": SAFE_RETRIES, **extra}


def noop(step_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "noop", "retries": SAFE_RETRIES, **extra}


def _all_ok(steps: list[str]) -> Expected:
    return Expected("SUCCEEDED", {s: "SUCCEEDED" for s in steps})


def _spaced(workflow: str, n: int, gap_ms: int = 50) -> tuple[RunSpec, ...]:
    return tuple(RunSpec(workflow, at_ms=i * gap_ms) for i in range(n))


def diamond() -> Shape:
    wf = {
        "name": "sim_diamond",
        "steps": [
            lam("a"),
            lam("b", depends_on=["a"]),
            lam("c", depends_on=["a"]),
            lam("d", depends_on=["b", "c"], join="all_success"),
        ],
    }
    return Shape("diamond", (wf,), (RunSpec("sim_diamond"),), (_all_ok(["a", "b", "c", "d"]),))


def fanout() -> Shape:
    n = 20
    wf = {
        "name": "sim_fanout",
        "steps": [
            noop("root"),
            *(lam(f"p{i}", depends_on=["root"]) for i in range(n)),
            noop("join", depends_on=[f"p{i}" for i in range(n)]),
        ],
    }
    steps = ["root", "join", *(f"p{i}" for i in range(n))]
    return Shape("fanout", (wf,), (RunSpec("sim_fanout"),), (_all_ok(steps),))


def retrying() -> Shape:
    wf = {
        "name": "sim_retry",
        "steps": [
            {
                "id": "a",
                "type": "lambda",
                "function": FAIL_FIRST,
                "retries": 2 + SAFE_RETRIES,
                "retry_delay_seconds": 5,
            },
            lam("b", depends_on=["a"]),
        ],
    }
    return Shape(
        "retry", (wf,), (RunSpec("sim_retry"),), (_all_ok(["a", "b"]),), retry_delays={"a": 5}
    )


def long_retry() -> Shape:
    """A retry delay beyond the sweeper's 5-minute staleness (issue 8, bug 3)."""
    wf = {
        "name": "sim_long_retry",
        "steps": [
            {
                "id": "a",
                "type": "lambda",
                "function": FAIL_FIRST,
                "retries": 1 + SAFE_RETRIES,
                "retry_delay_seconds": 3600,
            },
        ],
    }
    return Shape(
        "long_retry",
        (wf,),
        (RunSpec("sim_long_retry"),),
        (_all_ok(["a"]),),
        retry_delays={"a": 3600},
    )


def conditional() -> Shape:
    wf = {
        "name": "sim_branch",
        "params": {"rows": {"type": "int", "default": 5}},
        "steps": [
            lam("a", ROWS),
            noop("big", depends_on=[{"step": "a", "when": "steps.a.output.rows >= 10"}]),
            noop("small", depends_on=[{"step": "a", "when": "steps.a.output.rows < 10"}]),
            noop("merge", depends_on=["big", "small"]),
        ],
    }
    small = Expected("SUCCEEDED", {"a": "SUCCEEDED", "big": "SKIPPED", "small": "SUCCEEDED",
                                   "merge": "SUCCEEDED"})  # fmt: skip
    big = Expected("SUCCEEDED", {"a": "SUCCEEDED", "big": "SUCCEEDED", "small": "SKIPPED",
                                 "merge": "SUCCEEDED"})  # fmt: skip
    return Shape(
        "conditional",
        ({**wf, "run_strategy": {"parallel": 2}},),
        (RunSpec("sim_branch", {"rows": 5}), RunSpec("sim_branch", {"rows": 50}, 20)),
        (small, big),
    )


def key_limit() -> Shape:
    """A concurrency key of limit 2 shared by 3 runs (one step fails its first attempt
    while holding a permit: a retry with permits)."""
    key = {"key": "sim_key", "limit": 2}
    wf = {
        "name": "sim_keyed",
        "run_strategy": {"parallel": 3},
        "steps": [
            noop("root"),
            lam("k1", depends_on=["root"], concurrency=key),
            {
                **lam("k2", FAIL_FIRST, depends_on=["root"], concurrency=key),
                "retry_delay_seconds": 1,
            },
            lam("k3", depends_on=["root"], concurrency=key),
            noop("join", depends_on=["k1", "k2", "k3"]),
        ],
    }
    steps = ["root", "k1", "k2", "k3", "join"]
    return Shape("key_limit", (wf,), _spaced("sim_keyed", 3), (_all_ok(steps),) * 3)


def job_give_back() -> Shape:
    """Batch-like jobs behind a concurrency key of limit 1, shared by 3 runs: a start
    whose look-up is throttled, or whose submit acted but answered throttled (ECS-like,
    sim/jobs.py), is given back, its permit released, and claimed again as the same
    attempt, which finds a job it started; ``retries: 0``, as a give-back spends none."""
    key = {"key": "sim_jobs", "limit": 1}
    job = {"type": "batch_job", "job_queue": "q", "job_definition": "d", "retries": 0}
    wf = {
        "name": "sim_jobs",
        "run_strategy": {"parallel": 3},
        "steps": [
            noop("root"),
            {"id": "j1", **job, "depends_on": ["root"], "concurrency": key},
            {"id": "j2", **job, "depends_on": ["root"], "concurrency": key},
            noop("join", depends_on=["j1", "j2"]),
        ],
    }
    steps = ["root", "j1", "j2", "join"]
    return Shape("job_give_back", (wf,), _spaced("sim_jobs", 3), (_all_ok(steps),) * 3)


def max_parallel() -> Shape:
    wf = {
        "name": "sim_mps",
        "max_parallel_steps": 2,
        "steps": [noop("root"), *(lam(f"p{i}", depends_on=["root"]) for i in range(5))],
    }
    steps = ["root", *(f"p{i}" for i in range(5))]
    return Shape("max_parallel", (wf,), (RunSpec("sim_mps"),), (_all_ok(steps),))


def _chain_wf(name: str, strategy: Any) -> dict[str, Any]:
    return {
        "name": name,
        "run_strategy": strategy,
        "steps": [lam("a"), lam("b", depends_on=["a"])],
    }


def parallel2() -> Shape:
    wf = _chain_wf("sim_par2", {"parallel": 2})
    return Shape("parallel2", (wf,), _spaced("sim_par2", 5), (_all_ok(["a", "b"]),) * 5)


def sequential() -> Shape:
    wf = _chain_wf("sim_seq", "sequential")
    return Shape("sequential", (wf,), _spaced("sim_seq", 3), (_all_ok(["a", "b"]),) * 3)


def last_only() -> Shape:
    wf = _chain_wf("sim_last", "last_only")
    return Shape(
        "last_only",
        (wf,),
        _spaced("sim_last", 5, 10),
        (None,) * 5,
        last_only=True,
        note="the newest run must succeed; each older one SUCCEEDED, STOPPED or DISCARDED",
    )


def first_only() -> Shape:
    wf = _chain_wf("sim_first", "first_only")
    return Shape(
        "first_only",
        (wf,),
        _spaced("sim_first", 5, 10),
        (None,) * 5,
        first_only=True,
        note="every run SUCCEEDED or DISCARDED (timing decides how many), one at a time",
    )


def first_only_overlap() -> Shape:
    """first_only whose first run sleeps a minute: the runs started while it runs (10 ms
    apart) are DISCARDED, never queued to run after it (the ``first_only`` shape's runs
    are so short that one may legitimately end before the next starts)."""
    wf = {
        "name": "sim_first_overlap",
        "run_strategy": "first_only",
        "steps": [
            {"id": "nap", "type": "sleep", "seconds": 60, "retries": SAFE_RETRIES},
            lam("b", depends_on=["nap"]),
        ],
    }
    return Shape(
        "first_only_overlap",
        (wf,),
        _spaced("sim_first_overlap", 5, 10),
        (None,) * 5,
        first_only=True,
        note="a run created while another runs is DISCARDED (run_strategy_broken)",
    )


def strict_sequential() -> Shape:
    wf = _chain_wf("sim_strict", "strict_sequential")
    return Shape("strict_sequential", (wf,), _spaced("sim_strict", 3), (_all_ok(["a", "b"]),) * 3)


def strict_fail() -> Shape:
    """strict_sequential whose first run fails: the queue is blocked, and the two runs
    behind it wait QUEUED until ``podium unblock`` (docs/run-strategies.md). Nothing
    unblocks it while the workload runs (without operators' actions); the settling's
    operator does (World.operators_round), and then both run and succeed. A run
    admitted after the failed run's end with no unblock in between is a
    ``run_strategy_broken``."""
    wf = {
        "name": "sim_strict_fail",
        "run_strategy": "strict_sequential",
        "params": {"fail": {"type": "bool", "default": False}},
        "steps": [
            lam("a", FAIL_WHEN, payload={"fail": "${params.fail}"}),
            lam("b", depends_on=["a"]),
        ],
    }
    runs = (
        RunSpec("sim_strict_fail", {"fail": True}),
        RunSpec("sim_strict_fail", at_ms=50),
        RunSpec("sim_strict_fail", at_ms=100),
    )
    failed = Expected("FAILED", {"a": "FAILED", "b": "SKIPPED"})
    ok = _all_ok(["a", "b"])
    return Shape("strict_fail", (wf,), runs, (failed, ok, ok))


def chain() -> Shape:
    """A chain of 10: every step runs in-process after the previous one (no message of
    its own), so only replays and the sweeper recover a crash in the middle."""
    steps = [lam("s0"), *(lam(f"s{i}", depends_on=[f"s{i - 1}"]) for i in range(1, 10))]
    steps[4]["emit"] = [{"signal": "sim_chain_s4", "params": {"run": "${run.id}"}}]
    wf = {"name": "sim_chain", "steps": steps}
    names = [f"s{i}" for i in range(10)]
    return Shape("chain", (wf,), (RunSpec("sim_chain"),), (_all_ok(names),))


def recover() -> Shape:
    wf = {
        "name": "sim_recover",
        "steps": [
            {"id": "a", "type": "fail", "message": "boom"},
            noop("b", depends_on=["a"]),
            noop("handler", depends_on=["a"], join="one_failed", recover=True),
        ],
    }
    want = Expected("SUCCEEDED", {"a": "FAILED", "b": "SKIPPED", "handler": "SUCCEEDED"})
    return Shape("recover", (wf,), (RunSpec("sim_recover"),), (want,))


def long_sleep() -> Shape:
    wf = {
        "name": "sim_sleep",
        "steps": [lam("a"), {"id": "nap", "type": "sleep", "seconds": 7200,
                             "depends_on": ["a"]}, lam("b", depends_on=["nap"])],
    }  # fmt: skip
    return Shape("long_sleep", (wf,), (RunSpec("sim_sleep"),), (_all_ok(["a", "nap", "b"]),))


def fail_sibling() -> Shape:
    """fail_after_running: a ready sibling of a failing root still runs (issue 8, bug 7)."""
    wf = {
        "name": "sim_sibling",
        "steps": [{"id": "b", "type": "fail", "message": "boom"}, lam("c")],
    }
    want = Expected("FAILED", {"b": "FAILED", "c": "SUCCEEDED"})
    return Shape("fail_sibling", (wf,), (RunSpec("sim_sibling"),), (want,))


def fail_beside_sleep() -> Shape:
    """fail_after_running: a step running when a sibling branch fails finishes, but what
    it releases after the failure does not start (a deploy after a parallel test failed).
    """
    wf = {
        "name": "sim_fail_beside",
        "steps": [
            {"id": "boom", "type": "fail", "message": "boom"},
            {"id": "nap", "type": "sleep", "seconds": 60},
            lam("after", depends_on=["nap"]),
        ],
    }
    want = Expected("FAILED", {"boom": "FAILED", "nap": "SUCCEEDED"})
    return Shape(
        "fail_beside_sleep",
        (wf,),
        (RunSpec("sim_fail_beside"),),
        (want,),
        # A worker that dies between boom's FAILED and flagging the run leaves the flag
        # to the sweeper's replay, minutes later: nap may end (and release ``after``)
        # first. Without faults, ``after`` is decided a minute after the failure.
        loose={"after": frozenset({"SKIPPED", "SUCCEEDED"})},
        fault_free_steps={"after": "SKIPPED"},
    )


def step_timeout() -> Shape:
    """A step timeout: a 600 s sleep with ``timeout: 60`` ends TIMED_OUT (its timer at
    the deadline), and its successor sees a failed edge."""
    wf = {
        "name": "sim_step_timeout",
        "steps": [
            {"id": "nap", "type": "sleep", "seconds": 600, "timeout": 60},
            lam("b", depends_on=["nap"]),
        ],
    }
    want = Expected("TIMED_OUT", {"nap": "TIMED_OUT", "b": "SKIPPED"})
    return Shape("step_timeout", (wf,), (RunSpec("sim_step_timeout"),), (want,))


def run_timeout() -> Shape:
    """A run timeout: the run ends TIMED_OUT, its waiting attempt TIMED_OUT. Two runs:
    a ``timeout`` of 120 s (its timer a queue delay) over a one-hour sleep, and one of
    1,800 s (past 15 minutes: a one-time schedule, which puts the timer on its queue at
    the deadline itself, where the run times out: ``late_fault_free``) over a two-hour
    sleep."""
    wf = {
        "name": "sim_run_timeout",
        "timeout": 120,
        "steps": [lam("a"), {"id": "nap", "type": "sleep", "seconds": 3600, "depends_on": ["a"]}],
    }
    long_wf = {
        "name": "sim_run_timeout_long",
        "timeout": 1800,
        "steps": [lam("a"), {"id": "nap", "type": "sleep", "seconds": 7200, "depends_on": ["a"]}],
    }
    # A clock jump may let the run time out before (or while) ``a`` runs.
    loose = {
        "a": frozenset({"SUCCEEDED", "TIMED_OUT", "STOPPED", None}),
        "nap": frozenset({"TIMED_OUT", "STOPPED", "SKIPPED", None}),
    }
    want = Expected("TIMED_OUT")
    runs = (RunSpec("sim_run_timeout"), RunSpec("sim_run_timeout_long", at_ms=50))
    return Shape("run_timeout", (wf, long_wf), runs, (want, want), loose=loose)


def fail_immediately() -> Shape:
    """failure_mode fail_immediately: the run fails at once, a running sibling STOPPED."""
    wf = {
        "name": "sim_fail_now",
        "steps": [
            lam("a"),
            {"id": "boom", "type": "fail", "message": "boom", "failure_mode": "fail_immediately",
             "depends_on": ["a"]},
            {"id": "nap", "type": "sleep", "seconds": 3600, "depends_on": ["a"]},
        ],
    }  # fmt: skip
    # Whether ``nap`` was claimed before ``boom`` failed depends on message order (an
    # exec that arrives after the run failed creates no item), and when boom's message
    # comes back late (a crash, clock jumps), the hour of sleep may be over first.
    loose = {"nap": frozenset({"STOPPED", "SUCCEEDED", None})}
    want = Expected("FAILED", {"a": "SUCCEEDED", "boom": "FAILED"})
    return Shape("fail_immediately", (wf,), (RunSpec("sim_fail_now"),), (want,), loose=loose)


def ignore_failure() -> Shape:
    """failure_mode ignore_failure: FAILED_IGNORED counts as success downstream."""
    wf = {
        "name": "sim_ignore",
        "steps": [
            {"id": "boom", "type": "fail", "message": "boom", "failure_mode": "ignore_failure"},
            lam("b", depends_on=["boom"]),
        ],
    }
    want = Expected("SUCCEEDED", {"boom": "FAILED_IGNORED", "b": "SUCCEEDED"})
    return Shape("ignore_failure", (wf,), (RunSpec("sim_ignore"),), (want,))


S3_EVENT = {
    "version": "0",
    "id": "sim-s3-1",
    "source": "aws.s3",
    "detail-type": "Object Created",
    "time": "2026-01-01T00:00:00Z",
    "detail": {"bucket": {"name": "landing"}, "object": {"key": "raw/day.csv"}},
}


def duplicate_trigger() -> Shape:
    """An S3 trigger's event delivered twice (EventBridge delivers at least once): one
    run, with the params the trigger maps from the event."""
    wf = {
        "name": "sim_s3",
        "run_strategy": {"parallel": 5},
        "params": {"key": {"type": "string"}},
        "steps": [lam("load"), lam("report", depends_on=["load"])],
        "triggers": [
            {
                "id": "upload",
                "s3": {"bucket": "landing", "prefix": "raw/"},
                "params": {"key": "${event.detail.object.key}"},
            }
        ],
    }
    runs = (RunSpec("sim_s3", event=S3_EVENT), RunSpec("sim_s3", event=S3_EVENT, at_ms=40))
    want = _all_ok(["load", "report"])
    return Shape("duplicate_trigger", (wf,), runs, (want, want), distinct_runs=1)


def signal_wait() -> Shape:
    """A step waiting for a signal: one run reaches it before the signal is sent, one
    after; a wake-up lost to a crash is caught by the sweeper."""
    wf = {
        "name": "sim_signal",
        "run_strategy": {"parallel": 5},
        "steps": [
            lam("a"),
            {
                "id": "wait",
                "type": "noop",
                "depends_on": ["a"],
                "wait_for": [{"signal": "ready", "match": {"day": "d1"}}],
            },
            lam("b", depends_on=["wait"]),
        ],
    }
    runs = (RunSpec("sim_signal"), RunSpec("sim_signal", at_ms=2_000))
    signals = (
        SignalSpec("ready", {"day": "d0"}, at_ms=100, request_id="s0"),  # matches nothing
        SignalSpec("ready", {"day": "d1"}, at_ms=1_000, request_id="s1"),
    )
    want = _all_ok(["a", "wait", "b"])
    return Shape("signal_wait", (wf,), runs, (want, want), signals=signals)


def foreach_failures() -> Shape:
    """A foreach of 50 with concurrency 5 whose iterations 7, 17, ..., 47 fail:
    on_failure continue tolerates exactly those 5, so the loop and the run succeed. The
    step after it reads the loop's output (``payload_differs``): its counts and its
    iterations' outputs, index-aligned, null where the iteration failed (a ``noop``
    body step has no output)."""
    wf = {
        "name": "sim_foreach",
        "steps": [
            lam("a"),
            {
                "id": "each",
                "type": "foreach",
                "depends_on": ["a"],
                "over": {"i": "${podium.range(0, 50)}"},
                "concurrency": 5,
                "on_failure": "continue",
                "tolerated_failures": 5,
                "steps": [
                    lam("work", FAIL_WHEN, payload={"fail": "${iteration.i % 10 == 7}"}),
                    noop("after", depends_on=["work"]),
                ],
            },
            lam("b", depends_on=["each"], payload={"got": "${steps.each.output}"}),
        ],
    }
    want = _all_ok(["a", "each", "b"])
    outputs = [None if i % 10 == 7 else {"step": "work"} for i in range(50)]
    got = {"count": 50, "succeeded": 45, "failed": 5, "skipped": 0, "outputs": {"work": outputs}}
    return Shape(
        "foreach_failures",
        (wf,),
        (RunSpec("sim_foreach"),),
        (want,),
        payloads={"b": {"got": got}},
    )


def foreach_instant() -> Shape:
    """A foreach of 40 (concurrency 8) whose body of noops ends as it starts: its
    iterations are written already ended by the launching pass
    (service/instant_iterations.py), under the same faults as the queues' way."""
    wf = {
        "name": "sim_instant",
        "steps": [
            lam("a"),
            {
                "id": "each",
                "type": "foreach",
                "depends_on": ["a"],
                "over": {"i": "${podium.range(0, 40)}"},
                "concurrency": 8,
                "steps": [noop("x"), noop("y", depends_on=["x"])],
            },
            lam("b", depends_on=["each"]),
        ],
    }
    want = _all_ok(["a", "each", "b"])
    children = LoopChildren({"SUCCEEDED": 40}, frozenset({"SUCCEEDED"}))
    return Shape(
        "foreach_instant",
        (wf,),
        (RunSpec("sim_instant"),),
        (want,),
        loop_children={"each": children},
    )


def foreach_fail_fast() -> Shape:
    """fail_fast: the first failed iteration stops the others; the step and run fail."""
    wf = {
        "name": "sim_foreach_fast",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"i": [0, 1, 2, 3, 4, 5]},
                "concurrency": 3,
                "on_failure": "fail_fast",
                "steps": [lam("work", FAIL_WHEN, payload={"fail": "${iteration.i == 1}"})],
            },
            lam("b", depends_on=["each"]),
        ],
    }
    want = Expected("FAILED", {"each": "FAILED", "b": "SKIPPED"})
    # Without faults: iterations 0-2 start; 0 succeeds and 3 starts; 1 fails and stops
    # 2 and 3. Under faults any of them may end first; only iteration 1 fails.
    children = LoopChildren({"SUCCEEDED": 1, "FAILED": 1, "STOPPED": 2}, frozenset({"FAILED"}))
    return Shape(
        "foreach_fail_fast",
        (wf,),
        (RunSpec("sim_foreach_fast"),),
        (want,),
        loop_children={"each": children},
    )


def nested_foreach() -> Shape:
    """A foreach inside a foreach (4 x 3), each level with its own concurrency."""
    wf = {
        "name": "sim_nested",
        "steps": [
            {
                "id": "outer",
                "type": "foreach",
                "over": {"a": ["w", "x", "y", "z"]},
                "concurrency": 2,
                "steps": [
                    {
                        "id": "inner",
                        "type": "foreach",
                        "over": {"b": [1, 2, 3]},
                        "concurrency": 2,
                        "steps": [lam("leaf")],
                    }
                ],
            },
        ],
    }
    return Shape("nested_foreach", (wf,), (RunSpec("sim_nested"),), (_all_ok(["outer"]),))


def while_ten() -> Shape:
    """A while of 10 iterations whose state is updated from each iteration's output."""
    wf = {
        "name": "sim_while",
        "steps": [
            {
                "id": "loop",
                "type": "while",
                "state": {"n": 0, "last": ""},
                "condition": "state.n < 10",
                "update": {"n": "${state.n + 1}", "last": "${steps.t.output.step}"},
                "steps": [lam("t")],
            },
            lam("b", depends_on=["loop"], payload={"got": "${steps.loop.output.state}"}),
        ],
    }
    # Every field of the state is updated from each iteration (not only ``n``).
    return Shape(
        "while_ten",
        (wf,),
        (RunSpec("sim_while"),),
        (_all_ok(["loop", "b"]),),
        payloads={"b": {"got": {"n": 10, "last": "t"}}},
    )


def subworkflow() -> Shape:
    """A subworkflow step: the child run's outputs become the step's output."""
    child = {
        "name": "sim_child",
        "outputs": {"from": "${steps.c.output.step}"},
        "steps": [lam("c"), lam("d", depends_on=["c"])],
    }
    parent = {
        "name": "sim_parent",
        "steps": [
            lam("a"),
            {"id": "sub", "type": "subworkflow", "workflow": "sim_child", "depends_on": ["a"]},
            lam("b", depends_on=["sub"], payload={"got": "${steps.sub.output.from}"}),
        ],
    }
    want = _all_ok(["a", "sub", "b"])
    return Shape(
        "subworkflow",
        (child, parent),
        (RunSpec("sim_parent"),),
        (want,),
        payloads={"b": {"got": "c"}},  # the child's ``outputs``, as the child rendered them
    )


def subworkflow_modes() -> Shape:
    """A subworkflow step waiting for a child that fails: the step fails with it (not
    retried: ``retries: 0``), its successor is SKIPPED and the run FAILED."""
    child = {
        "name": "sim_child_fail",
        "steps": [lam("c"), {"id": "boom", "type": "fail", "message": "boom", "depends_on": ["c"]}],
    }
    parent = {
        "name": "sim_sub_wait",
        "steps": [
            {"id": "sub", "type": "subworkflow", "workflow": "sim_child_fail", "retries": 0},
            lam("after", depends_on=["sub"]),
        ],
    }
    want = Expected("FAILED", {"sub": "FAILED", "after": "SKIPPED"})
    return Shape("subworkflow_modes", (child, parent), (RunSpec("sim_sub_wait"),), (want,))


def subworkflow_detached() -> Shape:
    """``wait: false`` over a child that sleeps 10 minutes: the step succeeds once the
    child has started, and its successor runs at once; the child goes on alone. The
    step's own ``timeout: 60`` bounds only a step that waits, so a step that waited for
    its child would end TIMED_OUT. Under faults a clock jump between the step's claim
    and its end may time it out all the same (loose); without faults both succeed."""
    child = {"name": "sim_child_long", "steps": [{"id": "nap", "type": "sleep", "seconds": 600}]}
    parent = {
        "name": "sim_sub_detached",
        "steps": [
            {"id": "detach", "type": "subworkflow", "workflow": "sim_child_long", "wait": False,
             "timeout": 60, "retries": 0},
            lam("after", depends_on=["detach"]),
        ],
    }  # fmt: skip
    return Shape(
        "subworkflow_detached",
        (child, parent),
        (RunSpec("sim_sub_detached"),),
        (None,),
        loose={
            "detach": frozenset({"SUCCEEDED", "TIMED_OUT"}),
            "after": frozenset({"SUCCEEDED", "SKIPPED"}),
        },
        run_loose=frozenset({"SUCCEEDED", "TIMED_OUT"}),
        fault_free_steps={"detach": "SUCCEEDED", "after": "SUCCEEDED"},
    )


def loop_policies() -> Shape:
    """Two loops' failure policies. ``finish_running`` (concurrency 2, iteration 1
    fails): no iteration starts after the failure, the running ones finish, then the
    step fails. A while whose condition always holds, capped by ``max_iterations: 3``:
    exactly 3 iterations run, then the step fails. Without faults: iterations 0 and 1
    start; 0 succeeds and 2 starts; 1 fails; 2 finishes. Under faults the foreach's
    iterations may end in any order (only iteration 1 fails); the while's 3 hold."""
    finish = {
        "name": "sim_finish_running",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"i": "${podium.range(0, 6)}"},
                "concurrency": 2,
                "on_failure": "finish_running",
                "steps": [lam("work", FAIL_WHEN, payload={"fail": "${iteration.i == 1}"})],
            }
        ],
    }
    capped = {
        "name": "sim_while_cap",
        "steps": [
            {
                "id": "loop",
                "type": "while",
                "state": {"n": 0},
                "condition": "state.n >= 0",
                "max_iterations": 3,
                "update": {"n": "${state.n + 1}"},
                "steps": [lam("t")],
            }
        ],
    }
    every = frozenset({"SUCCEEDED", "FAILED", "STOPPED", "TIMED_OUT"})
    return Shape(
        "loop_policies",
        (finish, capped),
        (RunSpec("sim_finish_running"), RunSpec("sim_while_cap")),
        (Expected("FAILED", {"each": "FAILED"}), Expected("FAILED", {"loop": "FAILED"})),
        loop_children={
            "each": LoopChildren({"SUCCEEDED": 2, "FAILED": 1}, frozenset({"FAILED"})),
            "loop": LoopChildren({"SUCCEEDED": 3}, every),
        },
    )


def signal_trigger() -> Shape:
    """A signal trigger joining ``sa`` and ``sb`` on ``day``, with a condition on
    ``sa``: a run per set of unused signals whose condition holds, each signal consumed
    once. d1 gets two sets (s1+s2, then s3, waiting for an unused ``sa``, with s6); d2's
    set (s4+s5) fails the condition. Whatever order retries and faults send them in,
    exactly two runs (``distinct_runs``)."""
    wf = {
        "name": "sim_sigtrig",
        "run_strategy": {"parallel": 5},
        "params": {"day": {"type": "string"}},
        "steps": [lam("a")],
        "triggers": [
            {
                "id": "both",
                "signal": {
                    "names": ["sa", "sb"],
                    "join_keys": ["day"],
                    "condition": "event.signals.sa.params.n < 5",
                },
                "params": {"day": "${event.signals.sa.params.day}"},
            }
        ],
    }
    signals = (
        SignalSpec("sa", {"day": "d1", "n": 1}, at_ms=100, request_id="s1"),
        SignalSpec("sb", {"day": "d1"}, at_ms=200, request_id="s2"),  # joins s1: a run
        SignalSpec("sb", {"day": "d1"}, at_ms=300, request_id="s3"),  # no unused sa yet
        SignalSpec("sa", {"day": "d2", "n": 9}, at_ms=400, request_id="s4"),
        SignalSpec("sb", {"day": "d2"}, at_ms=500, request_id="s5"),  # condition false
        SignalSpec("sa", {"day": "d1", "n": 2}, at_ms=600, request_id="s6"),  # joins s3
    )
    return Shape("signal_trigger", (wf,), (), (), signals=signals, distinct_runs=2)


def key_wait() -> Shape:
    """A concurrency key of limit 1 held by a 30 s sleep in each of 3 runs: the second
    and third wait for a permit, each woken by the release before it (without faults
    within ``LATE_FAULT_FREE_MS`` of it: a lost wake-up waits for the sweeper)."""
    key = {"key": "sim_key_wait", "limit": 1}
    wf = {
        "name": "sim_key_wait",
        "run_strategy": {"parallel": 3},
        "steps": [
            {"id": "hold", "type": "sleep", "seconds": 30, "concurrency": key,
             "retries": SAFE_RETRIES},
            lam("after", depends_on=["hold"]),
        ],
    }  # fmt: skip
    return Shape("key_wait", (wf,), _spaced("sim_key_wait", 3), (_all_ok(["hold", "after"]),) * 3)


def retry_policies() -> Shape:
    """Retry budgets used up, and a ``retry`` policy's retriers (docs/workflow-language.md,
    "Retries"). ``spent`` (``retries: 2``) fails every attempt: 3 attempts, then
    FAILED_IGNORED; a ``fail`` step with ``retries: 1`` ends after 2. ``policy`` fails
    with ``sim.Flaky`` three times, then ``sim.Other``, then succeeds, under three
    retriers: the first names every error but its ``when`` never holds (skipped), the
    second takes ``sim.Flaky`` with ``backoff_rate: 3`` capped by ``max_delay: 10``
    (2 s, 6 s, then 10 s, not 18), the third ``sim.Other`` (1 s): 5 attempts. The
    retries' counts (``retry_over_budget``, ``attempts``) and delays (``retry_early``,
    and ``late_fault_free`` without faults) are judged."""
    flaky, other = "sim.Flaky", "sim.Other"
    policy = [
        {"errors": ["Podium.ALL"], "when": "error.type == 'sim.Never'", "max_attempts": 5,
         "interval": 1},
        {"errors": [flaky], "max_attempts": 3, "interval": 2, "backoff_rate": 3,
         "max_delay": 10},
        {"errors": [other], "max_attempts": 1, "interval": 1},
    ]  # fmt: skip
    wf = {
        "name": "sim_retry_policies",
        "steps": [
            {"id": "spent", "type": "lambda", "function": FAIL_ALWAYS, "retries": 2,
             "retry_delay_seconds": 1, "failure_mode": "ignore_failure"},
            {"id": "boom", "type": "fail", "message": "boom", "retries": 1,
             "retry_delay_seconds": 1, "failure_mode": "ignore_failure"},
            {"id": "policy", "type": "lambda", "function": FAIL_AS, "retry": policy,
             "payload": {"errors": [flaky, flaky, flaky, other]}},
            lam("after", depends_on=["spent", "boom", "policy"]),
        ],
    }  # fmt: skip
    want = Expected("SUCCEEDED", {"spent": "FAILED_IGNORED", "boom": "FAILED_IGNORED",
                                  "policy": "SUCCEEDED", "after": "SUCCEEDED"})  # fmt: skip
    return Shape(
        "retry_policies",
        (wf,),
        (RunSpec("sim_retry_policies"),),
        (want,),
        retry_delays={"spent": 1, "policy": (2, 6, 10, 1)},
        attempts={"spent": 3, "boom": 2, "policy": 5},
    )


def breakpoints() -> Shape:
    """Breakpoints on a step and on a loop body's step, in two runs: the first run's
    held steps are resumed one by one (every 10 s, by path: ``each/1/work``), the second
    run's wait for the clear a minute in. No attempt of a held step starts before its
    resume or the clear (``breakpoint_ignored``), a platform retry's attempt is held
    again, and both runs succeed."""
    wf = {
        "name": "sim_breakpoints",
        "run_strategy": {"parallel": 2},
        "steps": [
            lam("a"),
            lam("gate", depends_on=["a"]),
            {
                "id": "each",
                "type": "foreach",
                "depends_on": ["a"],
                "over": {"i": "${podium.range(0, 3)}"},
                "concurrency": 3,
                "steps": [lam("work")],
            },
            lam("b", depends_on=["gate", "each"]),
        ],
    }
    held = (
        BreakpointSpec("sim_breakpoints", "gate", 60_000, resume_runs=(0,)),
        BreakpointSpec("sim_breakpoints", "each/work", 60_000, resume_runs=(0,)),
    )
    want = _all_ok(["a", "gate", "each", "b"])
    return Shape(
        "breakpoints",
        (wf,),
        _spaced("sim_breakpoints", 2, 100),
        (want, want),
        breakpoints=held,
    )


def backfill() -> Shape:
    """A backfill of a cron trigger every 4 hours over a past day (6 times) with
    ``max_active: 2``, whose runs sleep a minute: the request starts 2, and its driver
    (one message every 30 s) starts the next as they end. One run per time
    (``distinct_runs``), never more than 2 running, the driver's duplicated or
    redelivered messages never growing chains of their own, and nothing of the driver
    left on the trigger's state at the end (``backfill_broken``)."""
    wf = {
        "name": "sim_backfill",
        "run_strategy": {"parallel": 5},
        "steps": [
            {"id": "nap", "type": "sleep", "seconds": 60, "retries": SAFE_RETRIES},
            lam("a", depends_on=["nap"]),
        ],
        "triggers": [{"id": "every4h", "cron": "0 */4 * * *"}],
    }
    request = {"from": "2025-12-31", "to": "2025-12-31", "max_active": 2}
    return Shape("backfill", (wf,), (), (), distinct_runs=6,
                 backfills=(BackfillSpec("sim_backfill", request),))  # fmt: skip


def slow_steps() -> Shape:
    """User functions that take time: 90 s, 5 minutes and 14 minutes (under Lambda's 15),
    one after the other, and three of 2 minutes side by side. While a worker's function
    runs, the world goes on (sweeps every minute, clock jumps, other workers): the
    sweeper must leave an attempt whose worker lives alone (its lease, 16 minutes,
    outlives any worker) and reclaim only one whose worker died
    (``ran_twice_at_once``)."""
    wf = {
        "name": "sim_slow",
        "steps": [
            lam("s1", SLOW, payload={"seconds": 90}),
            lam("s2", SLOW, depends_on=["s1"], payload={"seconds": 300}),
            lam("s3", SLOW, depends_on=["s2"], payload={"seconds": 840}),
            *(lam(f"w{i}", SLOW, depends_on=["s1"], payload={"seconds": 120}) for i in range(3)),
        ],
    }
    want = _all_ok(["s1", "s2", "s3", "w0", "w1", "w2"])
    return Shape("slow_steps", (wf,), (RunSpec("sim_slow"),), (want,), slow=True)


def keys_in_children() -> Shape:
    """A concurrency key of limit 2 held by a 20 s sleep in each of a foreach's 4
    iterations (all 4 launched at once) and in a subworkflow's run, under a parent with
    ``max_parallel_steps: 2`` (its loop and subworkflow steps hold a place while their
    children run): the limits hold in child runs too, and in a restart's run (an
    operator's, with ``--actions``), which has a ``run:<id>`` key of its own."""
    key = {"key": "sim_tree_key", "limit": 2}
    hold = {"id": "hold", "type": "sleep", "seconds": 20, "concurrency": key,
            "retries": SAFE_RETRIES}  # fmt: skip
    child = {"name": "sim_keyed_child", "steps": [hold, lam("c", depends_on=["hold"])]}
    parent = {
        "name": "sim_keyed_tree",
        "max_parallel_steps": 2,
        "steps": [
            noop("root"),
            {
                "id": "each",
                "type": "foreach",
                "depends_on": ["root"],
                "over": {"i": "${podium.range(0, 4)}"},
                "concurrency": 4,
                "steps": [hold, lam("w", depends_on=["hold"])],
            },
            {"id": "sub", "type": "subworkflow", "workflow": "sim_keyed_child",
             "depends_on": ["root"]},
            lam("p", depends_on=["root"]),
            lam("join", depends_on=["each", "sub", "p"]),
        ],
    }  # fmt: skip
    want = _all_ok(["root", "each", "sub", "p", "join"])
    children = LoopChildren({"SUCCEEDED": 4}, frozenset({"SUCCEEDED"}))
    return Shape(
        "keys_in_children",
        (child, parent),
        (RunSpec("sim_keyed_tree"),),
        (want,),
        loop_children={"each": children},
    )


def schedule_catchup() -> Shape:
    """A cron trigger every 5 minutes with ``catchup: all``, whose scheduler delivers
    0:05 and then, having slept through 0:10 and 0:15 (``podium dev`` on a machine
    asleep fires each schedule's latest time on waking), 0:20: that firing starts the
    times missed since the last one that fired, so 4 runs, one per scheduled time
    (``distinct_runs``). Under faults the two deliveries may be handled in either order
    (a crash, a redelivery): a firing handled before any other knows of no last one
    and catches up nothing, so 2 runs then (the time that fired stays marked: a
    firing repeated never starts one twice)."""
    wf = {
        "name": "sim_catchup",
        "run_strategy": {"parallel": 5},
        "steps": [lam("a")],
        "triggers": [{"id": "every5", "cron": "*/5 * * * *", "catchup": "all"}],
    }
    fires = (
        FireSpec("sim_catchup", "every5", 300_000, 300_000),
        FireSpec("sim_catchup", "every5", 1_200_000, 1_200_000),
    )
    return Shape("schedule_catchup", (wf,), (), (), fires=fires, distinct_runs=4,
                 distinct_runs_under_faults=frozenset({2, 4}))  # fmt: skip


# ---------------------------------------------------------------------------- callbacks
# Steps that wait for a callback (sim/callbacks.py plays the party that calls back).
# ``retries: 0``: a callback's failure is retryable, and the per-attempt oracle
# (invariants._check_callbacks) judges the attempt the step ended with; a lost lease has
# a budget of its own.


def async_lam(step_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "lambda", "function": "sim:callback", "invocation": "async",
            "retries": 0, **extra}  # fmt: skip


def wait_cb(step_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "wait_for_callback", "retries": 0,
            "payload": {"step": step_id, "run": "${run.id}"}, **extra}  # fmt: skip


def approval(step_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "approval", "message": f"release {step_id}?",
            "approvers": ["alice", "bob"], "retries": 0, **extra}  # fmt: skip


def callback_success() -> Shape:
    """An async lambda, a wait_for_callback and an approval, each called back with a
    success, in two runs whose waiting steps share a concurrency key of limit 2 (a
    permit held while waiting); the results join."""
    key = {"key": "sim_cb", "limit": 2}
    wf = {
        "name": "sim_cb_ok",
        "run_strategy": {"parallel": 2},
        "steps": [
            lam("a"),
            async_lam("invoke", depends_on=["a"], concurrency=key),
            wait_cb("wait", depends_on=["a"], concurrency=key),
            approval("approve", depends_on=["a"]),
            lam("b", depends_on=["invoke", "wait", "approve"], join="all_success",
                payload={"got": "${steps.invoke.output.cb}"}),
        ],
    }  # fmt: skip
    callbacks = {"invoke": "success", "wait": "success", "approve": "approve"}
    want = _all_ok(["a", "invoke", "wait", "approve", "b"])
    return Shape("callback_success", (wf,), _spaced("sim_cb_ok", 2, 500), (want, want),
                 callbacks=callbacks)  # fmt: skip


def callback_fail() -> Shape:
    """A callback that fails its step and an approval rejected: the run fails, the step
    after them is skipped."""
    wf = {
        "name": "sim_cb_fail",
        "steps": [
            lam("a"),
            async_lam("invoke", depends_on=["a"]),
            approval("approve", depends_on=["a"]),
            noop("b", depends_on=["invoke", "approve"]),
        ],
    }
    callbacks = {"invoke": "fail", "approve": "reject"}
    want = Expected("FAILED", {"a": "SUCCEEDED", "invoke": "FAILED", "approve": "FAILED",
                               "b": "SKIPPED"})  # fmt: skip
    return Shape("callback_fail", (wf,), (RunSpec("sim_cb_fail"),), (want,), callbacks=callbacks)


def callback_timeouts() -> Shape:
    """The timeout paths: a result after the deadline (TIMED_OUT however it races the
    deadline's timer), no result (a 60 s deadline: a queue delay; a 30-minute one: a
    one-time schedule, withdrawn by nothing), silence after one heartbeat (the
    heartbeat check), and heartbeats that keep a long wait alive until its success (its
    timeout far enough that no clock jump or redo of a start cut short reaches it)."""
    wf = {
        "name": "sim_cb_timeouts",
        "steps": [
            async_lam("late", timeout=120),
            wait_cb("never", timeout=60),
            wait_cb("never_long", timeout=1800),
            wait_cb("silent", timeout=3600, heartbeat_seconds=60),
            async_lam("beats", timeout=43_200, heartbeat_seconds=60),
        ],
    }
    callbacks = {"late": "late", "never": "never", "never_long": "never", "silent": "silent",
                 "beats": "beats"}  # fmt: skip
    want = Expected("TIMED_OUT", {"late": "TIMED_OUT", "never": "TIMED_OUT",
                                  "never_long": "TIMED_OUT", "silent": "TIMED_OUT"})  # fmt: skip
    # ``beats`` succeeds fault-free; a storm can keep its start from ever completing
    # (its claim message dead-lettered after a crash that came before the heartbeat
    # check was set) until clock jumps reach its deadline: TIMED_OUT with no token
    # handed out. The per-attempt oracle judges it (and its heartbeats' silences).
    loose: dict[str, frozenset[str | None]] = {"beats": frozenset({"SUCCEEDED", "TIMED_OUT"})}
    return Shape("callback_timeouts", (wf,), (RunSpec("sim_cb_timeouts"),), (want,),
                 callbacks=callbacks, loose=loose)  # fmt: skip


def callback_any() -> Shape:
    """Callbacks whose result the seed draws (success, fail, late or never) for each
    attempt: the steps are loose, each attempt judged by the per-attempt oracle; a
    cleanup step runs in any case. A concurrency key of limit 1 and a long deadline's
    schedule (one step) are held while they wait and given back however they end."""
    key = {"key": "sim_cb_any", "limit": 1}
    wf = {
        "name": "sim_cb_any",
        "steps": [
            async_lam("x1", timeout=300, concurrency=key),
            wait_cb("x2", timeout=300, concurrency=key),
            wait_cb("x3", timeout=1200),
            noop("cleanup", depends_on=["x1", "x2", "x3"], join="all_done"),
        ],
    }
    ends: frozenset[str | None] = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT"})
    loose = {"x1": ends, "x2": ends, "x3": ends}
    want = Expected("any of them", {"cleanup": "SUCCEEDED"})  # the run: as they end
    return Shape("callback_any", (wf,), (RunSpec("sim_cb_any"),), (want,), loose=loose,
                 callbacks={"x1": "any", "x2": "any", "x3": "any"},
                 run_loose=frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT"}))  # fmt: skip


def callback_run_deadline() -> Shape:
    """A run's own ``timeout`` with callback steps waiting: ``edge`` (a wait_for_callback)
    and ``edge_fn`` (an async lambda) are called back around the run's deadline (fault
    free, well before it; faulty, a success or a failure just before it, at it or just
    after it, and a heartbeat on either side), ``hold`` never: the run always ends
    TIMED_OUT at its deadline. A result received by the run's deadline is the step's
    outcome, whichever of its done and the run's timer is handled first; one after it
    is refused (deadline_passed) and the step ends TIMED_OUT. ``after`` runs only when
    ``edge``'s result was applied before the run ended."""
    wf = {
        "name": "sim_cb_run_deadline",
        "timeout": 300,
        "steps": [
            # A success kept at the run's deadline sends its emit too (an emit message).
            wait_cb("edge", timeout=3600, emit=[{"signal": "sim_edge_done"}]),
            async_lam("edge_fn", timeout=3600),
            wait_cb("hold", timeout=3600),
            noop("after", depends_on=["edge"]),
        ],
    }
    callbacks = {"edge": "run_deadline", "edge_fn": "run_deadline", "hold": "never"}
    # A storm can keep a step from starting until the run's deadline (STOPPED, or no
    # item); the per-attempt oracle judges each attempt that started. ``after``, started
    # just before the run's deadline and ending after it, times out with the run.
    ends: frozenset[str | None] = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED", None})
    loose = {"edge": ends, "edge_fn": ends,
             "hold": frozenset({"TIMED_OUT", "STOPPED", None}),
             "after": ends - {"FAILED"} | {"SKIPPED"}}  # fmt: skip
    want = Expected("TIMED_OUT")
    return Shape("callback_run_deadline", (wf,), (RunSpec("sim_cb_run_deadline"),), (want,),
                 callbacks=callbacks, loose=loose)  # fmt: skip


def callback_foreach() -> Shape:
    """A foreach of 6 async lambdas, 3 at a time, each called back with a success."""
    wf = {
        "name": "sim_cb_each",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"i": "${podium.range(0, 6)}"},
                "concurrency": 3,
                "steps": [async_lam("work", payload={"i": "${iteration.i}"})],
            },
            lam("b", depends_on=["each"]),
        ],
    }
    want = _all_ok(["each", "b"])
    return Shape("callback_foreach", (wf,), (RunSpec("sim_cb_each"),), (want,),
                 callbacks={"work": "success"})  # fmt: skip


def callback_parent_deadline() -> Shape:
    """A run's own ``timeout`` that stops child runs with callback steps waiting: a
    foreach of 2 async lambdas (``it_edge``) and a subworkflow whose run waits for a
    callback (``sub_edge``), each called back around the parent's deadline (fault free,
    well before it; faulty, just before it, at it or just after it), ``hold`` never:
    the parent always ends TIMED_OUT. A result received by the parent's deadline is the
    child step's outcome, also when the parent's end stops the child (STOPPED) before
    its done is handled; one after it is not."""
    child = {"name": "sim_cb_child", "steps": [wait_cb("sub_edge", timeout=3600)]}
    # The loop and subworkflow steps' own timeouts end later than the run's: the
    # children inherit the earlier of the two (deadlines.children_deadline).
    each = {"id": "each", "type": "foreach", "over": {"i": "${podium.range(0, 2)}"},
            "timeout": 3600, "steps": [async_lam("it_edge", timeout=3600),
                                       async_lam("it_past", timeout=3600)]}  # fmt: skip
    parent = {
        "name": "sim_cb_parent_deadline",
        "timeout": 300,
        "steps": [
            each,
            {"id": "sub", "type": "subworkflow", "workflow": "sim_cb_child", "timeout": 3600},
            wait_cb("hold", timeout=3600),
        ],
    }
    callbacks = {"it_edge": "run_deadline", "it_past": "after_run_deadline",
                 "sub_edge": "run_deadline", "hold": "never"}  # fmt: skip
    ends: frozenset[str | None] = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED", None})
    loose = {"each": ends, "sub": ends, "hold": frozenset({"TIMED_OUT", "STOPPED", None})}
    want = Expected("TIMED_OUT")
    # Started 20 s in: its deadline falls between two of the sweeper's minutes (one at
    # the deadline itself would end the run before ``it_past``'s request came).
    return Shape("callback_parent_deadline", (child, parent),
                 (RunSpec("sim_cb_parent_deadline", at_ms=20_000),), (want,), callbacks=callbacks,
                 loose=loose)  # fmt: skip


def callback_step_deadline() -> Shape:
    """A loop step's and a subworkflow step's own ``timeout`` (300 s; the run has none)
    stopping child runs with callback steps waiting: a foreach of 2 async lambdas
    (``st_edge``) and a subworkflow whose run waits for a callback (``st_sub_edge``),
    each called back around the step's deadline (fault free, well before it). A result
    received by the step's deadline is the child step's outcome, also when the step's
    timeout stops the child (STOPPED) before its done is handled; one after it is not.
    Each step ends SUCCEEDED (every result in time and applied first) or TIMED_OUT."""
    child = {"name": "sim_cb_st_child", "steps": [wait_cb("st_sub_edge", timeout=3600)]}
    each = {"id": "st_each", "type": "foreach", "over": {"i": "${podium.range(0, 2)}"},
            "timeout": 300, "retries": 0,
            "steps": [async_lam("st_edge", timeout=3600)]}  # fmt: skip
    sub = {"id": "st_sub", "type": "subworkflow", "workflow": "sim_cb_st_child",
           "timeout": 300, "retries": 0}  # fmt: skip
    # The run's own timeout ends later than the steps': the children inherit the
    # earlier of the two (deadlines.children_deadline).
    parent = {"name": "sim_cb_step_deadline", "timeout": 3600, "steps": [each, sub]}
    callbacks = {"st_edge": "run_deadline", "st_sub_edge": "run_deadline"}
    ends: frozenset[str | None] = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED", None})
    loose = {"st_each": ends, "st_sub": ends}
    run_loose = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT"})
    want = Expected("SUCCEEDED")
    return Shape("callback_step_deadline", (child, parent),
                 (RunSpec("sim_cb_step_deadline"),), (want,), callbacks=callbacks,
                 loose=loose, run_loose=run_loose)  # fmt: skip


def callback_retry() -> Shape:
    """Callback steps whose failures are retried (a ``wait_for_callback`` with 2
    retries, an async lambda with 1): every attempt fails, and once the next attempt
    hands its token out, the party of the one before sends its failure and a heartbeat
    again (``fail_echo``): a closed attempt refuses both (``callback_stale``), and the
    step fails with its last attempt."""
    wf = {
        "name": "sim_cb_retry",
        "steps": [
            wait_cb("again", retries=2, retry_delay_seconds=5),
            async_lam("again_fn", retries=1, retry_delay_seconds=5),
            noop("b", depends_on=["again", "again_fn"]),
        ],
    }
    callbacks = {"again": "fail_echo", "again_fn": "fail_echo"}
    want = Expected("FAILED", {"again": "FAILED", "again_fn": "FAILED", "b": "SKIPPED"})
    return Shape("callback_retry", (wf,), (RunSpec("sim_cb_retry"),), (want,),
                 callbacks=callbacks)  # fmt: skip


CALLBACK_BUILDERS: dict[str, Callable[[], Shape | None]] = {
    "callback_success": callback_success,
    "callback_fail": callback_fail,
    "callback_timeouts": callback_timeouts,
    "callback_any": callback_any,
    "callback_foreach": callback_foreach,
    "callback_run_deadline": callback_run_deadline,
    "callback_parent_deadline": callback_parent_deadline,
    "callback_step_deadline": callback_step_deadline,
    "callback_retry": callback_retry,
}


BUILDERS: dict[str, Callable[[], Shape | None]] = {
    "diamond": diamond,
    "fanout": fanout,
    "retry": retrying,
    "conditional": conditional,
    "key_limit": key_limit,
    "max_parallel": max_parallel,
    "parallel2": parallel2,
    "sequential": sequential,
    "last_only": last_only,
    "first_only": first_only,
    "strict_sequential": strict_sequential,
    "chain": chain,
    "recover": recover,
    "long_sleep": long_sleep,
    "long_retry": long_retry,
    "fail_sibling": fail_sibling,
    "step_timeout": step_timeout,
    "run_timeout": run_timeout,
    "fail_immediately": fail_immediately,
    "ignore_failure": ignore_failure,
    "duplicate_trigger": duplicate_trigger,
    "signal_wait": signal_wait,
    "foreach_failures": foreach_failures,
    "foreach_fail_fast": foreach_fail_fast,
    "foreach_instant": foreach_instant,
    "nested_foreach": nested_foreach,
    "while_ten": while_ten,
    "subworkflow": subworkflow,
    "job_give_back": job_give_back,
    "fail_beside_sleep": fail_beside_sleep,
    "subworkflow_modes": subworkflow_modes,
    "subworkflow_detached": subworkflow_detached,
    "loop_policies": loop_policies,
    "signal_trigger": signal_trigger,
    "first_only_overlap": first_only_overlap,
    "key_wait": key_wait,
    "strict_fail": strict_fail,
    "schedule_catchup": schedule_catchup,
    "keys_in_children": keys_in_children,
    "retry_policies": retry_policies,
    "breakpoints": breakpoints,
    "backfill": backfill,
    "slow_steps": slow_steps,
}


def all_shapes() -> dict[str, Shape]:
    out: dict[str, Shape] = {}
    for name, build in {**BUILDERS, **CALLBACK_BUILDERS}.items():
        shape = build()
        if shape is not None:
            out[name] = shape
    return out


SHAPES = all_shapes()
