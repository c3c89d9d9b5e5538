"""The simulated world: the real service code on a store, simulated queues, a simulated
runner, a manual clock, and processes (handler invocations, sweeps, API calls) that a
seeded scheduler interleaves and kills.

Processes. A *solo* process runs to completion on the main thread. A *concurrent* one
runs on a thread of its own, but only while it holds the baton: at every fault point it
may hand the baton back to the scheduler, which then resumes another process or starts
a new one. Exactly one thread runs at a time, every choice comes from the seed's
``random.Random``, so a seed replays exactly (run with ``PYTHONHASHSEED=0``).

Queues are at least once: a delivery hides the message for its visibility timeout and
deletes it only when the handler returns; a process that died leaves it to be delivered
again when the timeout expires, and after ``MAX_RECEIVES`` receives it goes to the
queue's dead-letter list.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from podium.adapters.clock import ManualClock
from podium.adapters.memory_store import MemoryStateStore
from podium.core.engine.permits import holder_id
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.retention import own_permit_key
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import Admission, Claim, Invocation, InvocationResult
from podium.service import inbox
from podium.service.admission import unblock
from podium.service.context import DefinitionCache, Services
from podium.service.execute import perform
from podium.service.runs import start_run
from podium.service.runtimes.registry import RUNTIMES
from podium.service.sweep import sweep
from podium.service.wakeups import collected
from podium.service.workflows import push_workflow
from podium.sim.callbacks import CallbackSender, SimEvents
from podium.sim.faults import (
    INJECTED,
    INJECTED_NAMES,
    FaultProxy,
    FaultRates,
    Livelock,
    LostReply,
    SimCrash,
    Throttled,
    is_read,
)
from podium.sim.jobs import SimJobs
from podium.sim.shapes import (
    FAIL_ALWAYS,
    FAIL_AS,
    FAIL_FIRST,
    FAIL_WHEN,
    RESUME_EVERY_MS,
    ROWS,
    SLOW,
    BackfillSpec,
    BreakpointSpec,
    Shape,
)

MAX_RECEIVES = 5  # as the deployed queues (infra/podium_cdk/queues.py)
VISIBILITY_MS = {"work": 900_000, "event": 300_000}
# A Lambda invocation lives 15 minutes at most: a process parked longer (a clock jump
# while it waited its turn) is killed at its next call, as Lambda kills it at its
# timeout (the engine's worker lease, 16 minutes, counts on it).
LAMBDA_MAX_MS = 900_000
SWEEP_EVERY_MS = 60_000  # the deployed sweeper's schedule
API_RETRY_MS = 1_000  # a client retries a failed start with the same run id
MAX_CALLS_PER_PROCESS = 3_000
MAX_TICKS = 60_000
MAX_DRAIN = 20_000
HOT_DELIVERIES = 60  # handled deliveries of one (run, step, attempt) exec: a hot loop
START_MS = 1_767_225_600_000
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class SimIds:
    """ULIDs without randomness: the clock's milliseconds, then a counter."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self._n = itertools.count(1)
        self._last_ms = 0

    def new_id(self) -> str:
        ms = max(self._clock.now_ms(), self._last_ms)
        self._last_ms = ms
        value = (ms << 80) | next(self._n)
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        return "".join(reversed(chars))


# ---------------------------------------------------------------------------- queues


@dataclass
class SimMessage:
    seq: int
    body: str
    visible_at: int
    receives: int = 0
    generation: int = 0
    failures: list[str] = field(default_factory=list)


class SimQueue:
    """At-least-once, delays, visibility timeout, receive limit and a dead-letter list."""

    def __init__(self, world: World, name: str) -> None:
        self._world = world
        self.name = name
        self.messages: dict[int, SimMessage] = {}
        self.dead: list[SimMessage] = []
        self._seq = itertools.count()
        self.sent = 0

    def send(self, message: Mapping[str, Any], delay_seconds: int = 0) -> None:
        self._put(message, min(delay_seconds, 900))

    def send_many(self, messages: Sequence[Mapping[str, Any]]) -> None:
        for m in messages:
            self._put(m, 0)

    def _put(self, message: Mapping[str, Any], delay_seconds: int) -> None:
        body = json.dumps(message, separators=(",", ":"), sort_keys=True)
        copies = 2 if self._world.draw(self._world.rates.duplicate) else 1
        for _ in range(copies):
            seq = next(self._seq)
            due = self._world.clock.now_ms() + delay_seconds * 1000
            self.messages[seq] = SimMessage(seq, body, due)
            self.sent += 1

    def visible(self, now: int) -> list[SimMessage]:
        return [m for m in self.messages.values() if m.visible_at <= now]

    def next_visible_at(self) -> int | None:
        return min((m.visible_at for m in self.messages.values()), default=None)

    def receive(self, msg: SimMessage, now: int) -> SimMessage | None:
        """Hide ``msg`` for the visibility timeout; None when it went to the DLQ."""
        msg.receives += 1
        if msg.receives > MAX_RECEIVES:
            del self.messages[msg.seq]
            self.dead.append(msg)
            return None
        msg.generation += 1
        msg.visible_at = now + VISIBILITY_MS[self.name]
        return msg

    def delete(self, msg: SimMessage, generation: int) -> None:
        current = self.messages.get(msg.seq)
        if current is not None and current.generation == generation:
            del self.messages[msg.seq]


# The timers the engine withdraws when their wait ends another way (a sleep stopped, a
# waiting step that ended before its deadline, a signal wait released or ended): a
# ``done`` of these kinds, and a ``signals`` check (service/deadlines.withdraw_deadline,
# runtimes/simple.terminate, signal_waits, signal_waiters). Others (a retry's exec, a
# run's deadline, a heartbeat check) fire and are dropped by design.
WITHDRAWN_DONE_KINDS = frozenset({"timer", "deadline"})


class SimTimers:
    """The Timers port: a wait up to 15 minutes is a queue delay; a longer one is a
    one-time schedule (as EventBridge Scheduler's) that puts the message, with its due
    time, on the queue when due and deletes itself. A schedule still held at the end, or
    one the engine withdraws that fired after its wait had ended (``fired_in_vain``:
    judged in the fault-free world, where no crash cuts a withdrawal short), is a
    ``timer_leak``."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.schedules: dict[str, tuple[int, str, dict[str, Any]]] = {}
        # Withdrawable schedules that fired after their wait was over: what they say.
        self.fired_in_vain: list[str] = []

    def _queue(self, name: str) -> SimQueue:
        return self._world.work if name == "work" else self._world.event

    def schedule(self, message: Mapping[str, Any], due_ms: int, *, queue: str, dedup: str) -> None:
        delay = max(0, -(-(due_ms - self._world.clock.now_ms()) // 1000))
        if delay <= 900:
            self._queue(queue).send(dict(message), delay)
        else:
            self.schedules[dedup] = (due_ms, queue, {**message, "nb": due_ms})

    def cancel(self, *, dedup: str, due_ms: int, set_ms: int | None = None) -> None:
        self.schedules.pop(dedup, None)  # as Scheduler's DeleteSchedule

    def next_due(self) -> int | None:
        return min((due for due, _, _ in self.schedules.values()), default=None)

    def fire_due(self, now: int) -> bool:
        fired = False
        for name, (due, queue, body) in sorted(self.schedules.items()):
            if due <= now:
                self._world.log(f"TIMER {name} fires")
                over = self._wait_over(body)
                if over is not None:
                    self.fired_in_vain.append(f"schedule {name} due {due} for {body}: {over}")
                self._queue(queue).send(body, 0)
                del self.schedules[name]
                fired = True
        return fired

    def _wait_over(self, body: Mapping[str, Any]) -> str | None:
        """Why a withdrawable timer's wait was over when it fired (None: it was not, or
        the timer is not one the engine withdraws): the attempt it names ended, or its
        step no longer waits for signals. Read without faults."""
        kind = body.get("t")
        if kind == "done" and (body.get("e") or {}).get("kind") in WITHDRAWN_DONE_KINDS:
            record = self._world.inner_store.get_step(body["run"], body["step"])
            if record is None or record.attempt != body["attempt"]:
                return f"its step is at attempt {record.attempt if record else None}"
            if record.status is not StepStatus.RUNNING:
                return f"its attempt ended {record.status.value} at {record.ended_at}"
        elif kind == "signals":
            record = self._world.inner_store.get_step(body["run"], body["step"])
            if record is not None and record.status is not StepStatus.WAITING_FOR_SIGNALS:
                return f"its step no longer waits for signals ({record.status.value})"
        return None


# ---------------------------------------------------------------------------- runner


class SimRunner:
    """Plays the user's functions: records every invocation, answers per behaviour."""

    def __init__(self, world: World) -> None:
        self._world = world

    def invoke(self, invocation: Invocation) -> InvocationResult:
        run_id, step, attempt = invocation.idempotency_key.rsplit("/", 2)
        self._world.invocations[(run_id, step, int(attempt))] += 1
        self._world.invoked_by[(run_id, step, int(attempt))] = self._world.sched.current()
        self._world.invoked_seq.setdefault((run_id, step, int(attempt)), self._world.seq)
        self._world.invoked_at.setdefault((run_id, step), []).append(
            (int(attempt), self._world.clock.now_ms())
        )
        self._world.invoked_with[(run_id, step, int(attempt))] = invocation.payload.get("payload")
        if invocation.function == FAIL_FIRST and int(attempt) == 1:
            return InvocationResult(False, error="first attempts fail")
        if invocation.function == FAIL_WHEN and invocation.payload["payload"].get("fail"):
            return InvocationResult(False, error="this iteration fails", retryable=False)
        if invocation.function == FAIL_AS:
            errors = invocation.payload["payload"]["errors"]
            if int(attempt) <= len(errors):
                failed = errors[int(attempt) - 1]
                return InvocationResult(False, error=f"attempt {attempt}", error_type=failed)
        if invocation.function == SLOW:
            self._world.take_time(int(invocation.payload["payload"]["seconds"]) * 1000)
        if invocation.function == FAIL_ALWAYS:
            return InvocationResult(False, error="every attempt fails", error_type="sim.Flaky")
        if invocation.function == ROWS:
            return InvocationResult(True, output={"rows": invocation.payload["params"]["rows"]})
        return InvocationResult(True, output={"step": step})

    def invoke_async(self, invocation: Invocation) -> InvocationResult:
        """An ``Event`` invoke (``lambda`` with ``invocation: async``): its function calls
        back (sim/callbacks.py); counted per attempt there, not with ``invoke``'s."""
        from podium.sim.callbacks import invoke_async

        return invoke_async(self._world, invocation)


# ---------------------------------------------------------------------------- processes


class Proc:
    def __init__(self, kind: str, label: str, fn: Callable[[], Any], concurrent: bool) -> None:
        self.kind = kind
        self.label = label
        self.fn = fn
        self.concurrent = concurrent
        self.calls = 0
        self.done = False
        self.error: BaseException | None = None
        self.go = threading.Semaphore(0)
        self.abort = False
        self.on_done: Callable[[Proc], None] | None = None
        self.started_ms = 0  # when it began (the world's clock)
        self.faults = 0  # faults injected into it (crashes, throttles, lost replies)
        # run id -> the world's call sequence number of its last ``get_run`` of it
        self.reads: dict[str, int] = {}
        self.finished_seq: int | None = None  # the world's sequence number at its end
        # Permits of the steps whose running attempt it ended: its to give back
        self.owed: list[PermitHold] = []
        self.message: dict[str, Any] | None = None  # the queue message it handles
        # Its own store (a proxy of the world's, FaultProxy): what the service keys a
        # process's in-memory state by (in-flight attempts, recent run reads, cached
        # breakpoints), so one process never sees another's, as on AWS.
        self.store: Any = None
        # Until when a user function it invoked runs (a concurrent process, parked)
        self.busy_until = 0
        # backfill driver -> its tick on the trigger's state at the first read of it
        self.driver_seen: dict[str, int] = {}


class Scheduler:
    """Hands one baton between the main thread and the concurrent processes.
    ``switch`` is told which process holds the baton (None: the main thread's world)."""

    def __init__(self, switch: Callable[[Proc | None], None] = lambda _p: None) -> None:
        self.back = threading.Semaphore(0)
        self.local = threading.local()
        self.switch = switch

    def current(self) -> Proc | None:
        return getattr(self.local, "proc", None)

    def run_solo(self, proc: Proc) -> None:
        outer = self.current()
        self.local.proc = proc
        self.switch(proc)
        try:
            proc.fn()
        except BaseException as exc:
            proc.error = exc
        finally:
            self.local.proc = outer
            self.switch(outer)
            proc.done = True

    def start(self, proc: Proc) -> None:
        outer = self.current()
        thread = threading.Thread(target=self._body, args=(proc,), daemon=True)
        self.switch(proc)
        thread.start()
        self.back.acquire()  # it runs until its first hand-over (or its end)
        self.switch(outer)

    def _body(self, proc: Proc) -> None:
        self.local.proc = proc
        try:
            proc.fn()
        except BaseException as exc:
            proc.error = exc
        finally:
            proc.done = True
            self.back.release()

    def resume(self, proc: Proc) -> None:
        outer = self.current()
        self.switch(proc)
        proc.go.release()
        self.back.acquire()
        self.switch(outer)

    def hand_over(self, proc: Proc) -> None:
        """Called on the process's own thread: park until resumed."""
        self.back.release()
        proc.go.acquire()
        if proc.abort:
            proc.faults += 1
            raise SimCrash(f"{proc.label}: killed while parked")


# ---------------------------------------------------------------------------- the world


@dataclass
class RunOutcome:
    index: int
    run: RunRecord | None
    steps: dict[str, StepRecord]


@dataclass
class Observations:
    """What the world saw while it ran (the invariants read these)."""

    limit_violations: list[str] = field(default_factory=list)
    handler_errors: list[str] = field(default_factory=list)
    hot_loops: list[str] = field(default_factory=list)
    unsettled: list[str] = field(default_factory=list)
    permits_held: list[str] = field(default_factory=list)  # ``permit_held_after_end``
    backfills: list[str] = field(default_factory=list)  # ``backfill_broken``, as it ran


@dataclass
class PauseSpan:
    """A run PAUSED: from the store write that paused it (an operator's pause, its walk
    of the run's tree, a loop's child created or paused as its parent is) to the write
    that moved it on (a resume, the sweeper's resume of a child, its end). ``seq`` and
    ``end_seq`` are the world's call sequence numbers of those writes; ``by`` the
    process that paused it."""

    run_id: str
    at: int
    seq: int
    by: Proc | None
    end_at: int | None = None
    end_seq: int | None = None


@dataclass
class ClaimSeen:
    """A step attempt claimed (the store write that made it RUNNING): when, by whom, and
    the claiming process's last read of the run before it (``read_seq``: the world's
    sequence number of its ``get_run``, None when it read none). ``given_back``: the
    claim was handed back unstarted (READY again at the attempt before: a worker that
    found its run paused after claiming a successor in-process, or out of time)."""

    run_id: str
    step: str
    attempt: int
    at: int
    seq: int
    by: Proc | None
    read_seq: int | None
    given_back: bool = False


@dataclass
class RunWrites:
    """The store writes that took a run through its workflow's run strategy, as the
    world's call sequence numbers (``World.seq``, exact where clock reads are not: a
    process reads the time, then may wait before it writes): the write that created
    it (QUEUED, DISCARDED, or RUNNING at once: first_only), the one that made it RUNNING
    (its admission; a child run is created RUNNING) and the one that ended it."""

    created: int | None = None
    admitted: int | None = None
    ended: int | None = None


@dataclass
class KeyWait:
    """A step that queued for a concurrency key (``holder``: ``run/step``): when the
    write that queued it was made and when its claim of a permit of ``key`` was (None:
    not yet)."""

    key: str
    holder: str
    queued_at: int
    claimed_at: int | None = None


@dataclass(frozen=True)
class RunSeen:
    """A run created (its workflow, version and place in a loop), and what its
    definition limits it by: ``max_parallel_steps`` (its own ``run:<id>`` key), its
    steps' concurrency keys (step id -> key) and its foreach steps (iterations at once)."""

    workflow: str
    version: int
    parent_index: int | None
    mps: int | None
    keyed: dict[str, str]
    loops: tuple[Any, ...]


@dataclass
class PermitHold:
    """A permit of ``key`` held by the step ``holder`` (``run/step``) since ``at``; once
    the attempt that holds it ended (as ``ended``: for good, to be retried, or a job's
    start given back; by ``owed_by``), owed back by that process before it is done."""

    key: str
    holder: str
    at: int
    owed_by: Proc | None = None
    owed_at: int = 0
    owed_faults: int = 0
    ended: str = ""


class World:
    def __init__(
        self,
        seed: int,
        shape: Shape,
        store: Any,
        *,
        faulty: bool,
        describe: bool = False,
        intensity: float = 1.0,
    ) -> None:
        self.seed = seed
        self.shape = shape
        self.rng = random.Random(seed * 7919 + (1 if faulty else 0))
        self.rates = FaultRates.draw(self.rng, intensity) if faulty else FaultRates.none()
        self.faults_on = faulty
        self.clock = ManualClock(START_MS)
        self.sched = Scheduler(self._switch_to)
        self.obs = Observations()
        self.invocations: Counter[tuple[str, str, int]] = Counter()
        self.invoked_at: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self.invoked_by: dict[tuple[str, str, int], Proc | None] = {}
        # (run, step, attempt) -> the world's call sequence number at its first invoke
        self.invoked_seq: dict[tuple[str, str, int], int] = {}
        # Steps an operator retried in place (sim/actions.py), with the status they had:
        # their next attempt comes at once, not after the step's retry delay.
        self.operator_retried: dict[tuple[str, str], StepStatus] = {}
        # Runs an operator stopped, or whose step it skipped or stopped (sim/actions.py):
        # their results are not compared.
        self.changed_by_operator: set[str] = set()
        # Runs an operator's restart created (sim/actions.py): they must end and settle too.
        self.restarted: set[str] = set()
        self.deliveries: Counter[str] = Counter()
        self.trace: list[str] | None = [] if describe else None
        self.writes = 0
        self.inner_store = store
        self.work = SimQueue(self, "work")
        self.event = SimQueue(self, "event")
        self.queues = {"work": self.work, "event": self.event}
        self.store = FaultProxy(store, self, "store")
        self.timers = SimTimers(self)
        self.jobs = SimJobs(self)
        self.callbacks = CallbackSender(self)
        self.ctx = Services(
            runtimes=RUNTIMES,
            store=self.store,
            work_queue=FaultProxy(self.work, self, "work_queue"),
            event_queue=FaultProxy(self.event, self, "event_queue"),
            runner=FaultProxy(SimRunner(self), self, "runner"),
            clock=self.clock,
            ids=SimIds(self.clock),
            jobs={"batch_job": FaultProxy(self.jobs, self, "jobs")},
            **self._optional_ports(),
        )
        self.procs: list[Proc] = []
        self.run_ids: dict[int, str] = {}
        self.pending_api: list[tuple[int, int, int]] = []  # (due, seq, workload index)
        self.pending_signals: list[tuple[int, int, int]] = []  # (due, seq, signal index)
        self.pending_fires: list[tuple[int, int, int]] = []  # (due, seq, fire index)
        self._api_seq = itertools.count()
        self.next_sweep = START_MS + SWEEP_EVERY_MS
        self.limits: dict[str, int] = {}  # concurrency key -> limit (loop bodies' too)
        self.slot_limits: dict[str, int] = {}  # workflow -> run limit
        # Every run created (top runs, loop iterations, subworkflow runs, restarts, runs
        # a trigger or a backfill started), seen at the write that created it (a top
        # run's: its queue entry's, run_slots.enqueue or start_alone; a child's:
        # create_run), with what its definition
        # says it is limited by (RunSeen): what check_limits and the end's
        # ``permit_leak`` judge, wherever the run is in a tree.
        self.created: dict[str, RunSeen] = {}
        # The harness's own definition reads (no faults): versions never change.
        self.definitions = DefinitionCache(store)
        # Breakpoints (Shape.breakpoints): the keys set, by the workflow its runs run
        # (a loop's body: ``wf/loop``); the write that cleared each (name, key); and each
        # step's resumes (PAUSED -> READY writes) as (attempt, sequence number).
        self.breakpoint_keys: dict[str, set[str]] = {}
        self.breakpoint_clears: dict[tuple[str, str], int] = {}
        self.step_resumes: dict[tuple[str, str], list[tuple[int, int]]] = {}
        # (run, step, attempt) -> the process whose write ended the running attempt
        # first (its worker, or another: a sweep's reclaim, a stop): ``ran_twice_at_once``.
        self.ended_by: dict[tuple[str, str, int], Proc | None] = {}
        # The backfill drivers a message was sent for (the request's first, or a tick's).
        self.drivers_sent: set[str] = set()
        # Operators' requests to make at a time: (due, order, request).
        self.pending_ops: list[tuple[int, int, Callable[[], None]]] = []
        # (run, step) -> attempt -> the error type of its failure, seen at the write that
        # ended the attempt (to be retried, or for good): ``retry_over_budget``.
        self.failure_ends: dict[tuple[str, str], dict[int, str]] = {}
        self._in_check = False
        self.redriven: list[str] = []  # dead letters put back by the operator's redrive
        # What ``ran_while_paused`` and ``permit_held_after_end`` judge, seen at the store
        # writes themselves (observe_write): each call of a port has a sequence number.
        self.seq = 0
        self.pause_spans: dict[str, list[PauseSpan]] = {}
        self.claims: list[ClaimSeen] = []
        self._last_claim: dict[tuple[str, str, int], ClaimSeen] = {}
        self.holds: dict[tuple[str, str], PermitHold] = {}
        self._holder_keys: dict[str, set[str]] = {}
        # run id -> when the store write that ended it was made (its ``ended_at`` may be
        # an earlier ``now``, taken by a process before it wrote: ``work_after_end``)
        self.ended_writes: dict[str, int] = {}
        # What ``run_strategy_broken`` judges: each run's creation, admission and end
        # writes, and each workflow's unblocks (the write clearing a strict queue's
        # block) as (sequence number, time).
        self.run_writes: dict[str, RunWrites] = {}
        self.unblocks: dict[str, list[tuple[int, int]]] = {}
        # What the key wake-up check of ``late_fault_free`` judges: the steps that
        # queued for a concurrency key, and when each key's permits were given back.
        self.key_waits: list[KeyWait] = []
        self._queued_for: dict[tuple[str, str], KeyWait] = {}
        self.key_releases: dict[str, list[int]] = {}
        # (run, step, attempt) -> the rendered ``payload`` its function was invoked with
        self.invoked_with: dict[tuple[str, str, int], Any] = {}

    def _optional_ports(self) -> dict[str, Any]:
        """Ports that Services may have (added over time): each one a fault point too."""
        names = {f.name for f in dataclasses.fields(Services)}
        ports: dict[str, Any] = {}
        if "timers" in names:
            ports["timers"] = FaultProxy(self.timers, self, "timers")
        if "payloads" in names:
            from podium.adapters.payloads import MemoryPayloads

            ports["payloads"] = FaultProxy(MemoryPayloads(), self, "payloads")
        if "events" in names:
            ports["events"] = FaultProxy(SimEvents(self), self, "events")
        return ports

    def _switch_to(self, proc: Proc | None) -> None:
        """The process that holds the baton works through its own store proxy: the
        service keeps a process's in-memory state (the attempts it has in flight, its
        recent reads of runs, the breakpoints it read) by its ``ctx.store``, and on AWS
        the sweeper's Lambda knows nothing of a worker's. One shared proxy let the
        sweeper take every worker's attempt for its own, in flight here, and spared it
        the reclaim the lease stands for."""
        self.ctx.store = proc.store if proc is not None and proc.store is not None else self.store

    def take_time(self, ms: int) -> None:
        """A user function runs ``ms``: a concurrent process parks until then, while the
        world goes on (other processes, sweeps, clock jumps; it is killed at its next
        call past its 15 minutes, as Lambda kills it); a solo one holds the world that
        long (the clock moves on)."""
        proc = self.sched.current()
        if proc is None or not proc.concurrent:
            self.clock.advance(ms)
            return
        proc.busy_until = self.clock.now_ms() + ms
        self.log(f"{proc.label}: its function runs {ms} ms")
        self.sched.hand_over(proc)

    # ------------------------------------------------------------ fault points

    def draw(self, p: float) -> bool:
        return self.faults_on and p > 0 and self.rng.random() < p

    def log(self, line: str) -> None:
        if self.trace is not None:
            self.trace.append(f"t+{self.clock.now_ms() - START_MS}ms {line}")

    def call(
        self,
        port: str,
        name: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        proc = self.sched.current()
        read = is_read(name) or (port == "payloads" and name == "get")
        if proc is not None:
            proc.calls += 1
            if proc.calls > MAX_CALLS_PER_PROCESS:
                proc.faults += 1
                raise Livelock(f"{proc.label}: over {MAX_CALLS_PER_PROCESS} calls")
            self._within_lambda_life(proc, port, name)
            if proc.concurrent and self.draw(self.rates.switch):
                self.sched.hand_over(proc)
                # Parked meanwhile (a clock jump): Lambda killed it at its 15 minutes,
                # before the call it was about to make.
                self._within_lambda_life(proc, port, name)
            if self.draw(self.rates.crash_before):
                self.log(f"{proc.label}: CRASH before {port}.{name}{_brief(args)}")
                proc.faults += 1
                raise SimCrash(f"before {port}.{name}")
            if port.startswith("store") and self.draw(self.rates.throttle):
                self.log(f"{proc.label}: THROTTLED {port}.{name}{_brief(args)}")
                proc.faults += 1
                raise Throttled(f"{port}.{name}")
        result = fn(*args, **kwargs)
        self.seq += 1
        if self.trace is not None and proc is not None:
            self.log(f"{proc.label}: {port}.{name}{_brief(args)}")
        if not read:
            self.writes += 1
            if port.startswith("store"):
                self.observe_write(port, name, args, kwargs, result, proc)
                self.check_limits(f"after {port}.{name}")
        elif proc is not None and name == "get_run" and port == "store":
            proc.reads[args[0] if args else kwargs["run_id"]] = self.seq
        elif proc is not None and name == "get_state" and port == "store.trigger_states":
            handled = proc.message or {}
            driver = handled.get("id")
            if isinstance(driver, str) and handled.get("t") == "backfill":
                ticks = result.backfill_drivers if result is not None else {}
                proc.driver_seen.setdefault(driver, ticks.get(driver, 0))
        if not read and port in ("timers", "work_queue", "event_queue"):
            self._driver_sent(args, proc)
        if proc is not None:
            if self.draw(self.rates.crash_after):
                self.log(f"{proc.label}: CRASH after {port}.{name}")
                proc.faults += 1
                raise SimCrash(f"after {port}.{name}")
            if not read and self.draw(self.rates.lost_reply):
                self.log(f"{proc.label}: LOST REPLY of {port}.{name}")
                proc.faults += 1
                raise LostReply(f"{port}.{name}")
        return result

    def _within_lambda_life(self, proc: Proc, port: str, name: str) -> None:
        if self.clock.now_ms() - proc.started_ms > LAMBDA_MAX_MS:
            self.log(f"{proc.label}: KILLED at its 15 minutes, before {port}.{name}")
            proc.faults += 1
            raise SimCrash(f"the Lambda timeout, before {port}.{name}")

    # ------------------------------------------------------------ writes observed

    def observe_write(
        self,
        port: str,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        result: Any,
        proc: Proc | None,
    ) -> None:
        """What a store write did that the invariants judge later, seen at the write
        itself (a timeline event comes after it, and a crash in between leaves none):
        a run paused or moved on from PAUSED (``ran_while_paused``), a step attempt
        claimed or its claim given back, a permit taken or given back, and a running
        attempt's end (``permit_held_after_end``); a run created, admitted or ended, and
        a strict queue unblocked (``run_strategy_broken``); a step queued for a key, and
        a key's permit given back (the key wake-ups of ``late_fault_free``)."""
        if name == "set_breakpoint" and not kwargs.get("on", True):
            workflow, key = _arg(args, kwargs, 0, "workflow"), _arg(args, kwargs, 1, "step")
            self.breakpoint_clears.setdefault((workflow, key), self.seq)
        elif name in ("transition_step", "end_step_failing_run"):
            run_id, step = _arg(args, kwargs, 0, "run_id"), _arg(args, kwargs, 1, "step")
            self._step_moved(run_id, step, kwargs, result, proc)
        elif name == "create_step":
            record = _arg(args, kwargs, 0, "step")
            if record.status is StepStatus.RUNNING:
                self._claimed(record.run_id, record.step, record.attempt, proc)
        elif name in ("transition_run", "end_counted_child", "create_run"):
            run = _arg(args, kwargs, 0, "run") if name == "create_run" else result
            if isinstance(run, RunRecord):
                if name == "create_run":
                    self._run_created(run.run_id, running=run.status is RunStatus.RUNNING)
                    self._limits_of(run)
                self._run_moved(run, proc)
        elif port == "store.run_slots":
            self._slots_written(name, args, kwargs, result)
        elif port == "store.permits":
            if name == "claim" and result.outcome is Claim.CLAIMED:
                record = _arg(args, kwargs, 0, "step")
                self._claimed(record.run_id, record.step, kwargs["attempt"], proc)
                holder = holder_id(record.run_id, record.step)
                keys = self._holder_keys.setdefault(holder, set())
                now = self.clock.now_ms()
                for need in _arg(args, kwargs, 1, "needs"):
                    self.holds[(need.key, holder)] = PermitHold(need.key, holder, now)
                    keys.add(need.key)
                    waited = self._queued_for.pop((need.key, holder), None)
                    if waited is not None:
                        waited.claimed_at = now
                        self.key_waits.append(waited)
            elif name == "wait" and result:
                record = _arg(args, kwargs, 0, "step")
                key, holder = _arg(args, kwargs, 1, "key"), holder_id(record.run_id, record.step)
                if (key, holder) not in self._queued_for:  # waiting again keeps its place
                    self._queued_for[(key, holder)] = KeyWait(key, holder, self.clock.now_ms())
            elif name == "release" and result:
                key, holder = _arg(args, kwargs, 0, "key"), _arg(args, kwargs, 1, "holder")
                self.holds.pop((key, holder), None)
                self._holder_keys.get(holder, set()).discard(key)
                self.key_releases.setdefault(key, []).append(self.clock.now_ms())

    def _slots_written(
        self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any
    ) -> None:
        """A run slots write (admission.py): a run queued, created RUNNING holding the
        only slot (first_only), admitted, or a strict queue unblocked."""
        if name == "enqueue":
            run = _arg(args, kwargs, 0, "run")
            self._run_created(run.run_id, running=False)
            self._limits_of(run)
        elif name == "start_alone" and result is None:
            run = _arg(args, kwargs, 0, "run")
            self._run_created(run.run_id, running=True)
            self._limits_of(run)
        elif name == "admit" and result is Admission.ADMITTED:
            writes = self.run_writes.setdefault(_arg(args, kwargs, 0, "entry").run_id, RunWrites())
            if writes.admitted is None:
                writes.admitted = self.seq
        elif name == "unblock":
            workflow = _arg(args, kwargs, 0, "workflow")
            self.unblocks.setdefault(workflow, []).append((self.seq, self.clock.now_ms()))

    def _run_created(self, run_id: str, *, running: bool) -> None:
        writes = self.run_writes.setdefault(run_id, RunWrites())
        if writes.created is None:
            writes.created = self.seq
            if running:
                writes.admitted = self.seq

    def _step_moved(
        self, run_id: str, step: str, kwargs: dict[str, Any], result: Any, proc: Proc | None
    ) -> None:
        to = kwargs["to"]
        if to is StepStatus.RUNNING:
            self._claimed(run_id, step, result.attempt, proc)
            return
        if to is StepStatus.READY and StepStatus.PAUSED in kwargs["expected"]:
            resumes = self.step_resumes.setdefault((run_id, step), [])
            resumes.append((kwargs["attempt"], self.seq))
        if StepStatus.RUNNING not in kwargs["expected"]:
            return
        ended = to is StepStatus.RETRY_WAIT or to.terminal  # not a claim given back
        if ended and kwargs.get("attempt") is not None:
            self.ended_by.setdefault((run_id, step, kwargs["attempt"]), proc)
        changes = kwargs.get("changes") or {}
        error_type = changes.get("error_type")
        if error_type and kwargs.get("attempt") is not None and to in _FAILURE_ENDS:
            ends = self.failure_ends.setdefault((run_id, step), {})
            ends.setdefault(kwargs["attempt"], error_type)
        if to is StepStatus.READY and "retry_counts" not in changes:
            # Given back unstarted (plan_give_back: a continuation held by a pause, a
            # worker out of time). A start that did nothing (a job's throttled look-up,
            # counted in retry_counts) was a start.
            claim = self._last_claim.get((run_id, step, kwargs["attempt"]))
            if claim is not None:
                claim.given_back = True
        elif proc is not None:
            # The attempt ended: for good, failed to be retried, or its start given back
            # (a job's look-up throttled): each gives its permits back at once.
            for key in self._holder_keys.get(holder_id(run_id, step), ()):
                hold = self.holds[(key, holder_id(run_id, step))]
                hold.owed_by, hold.owed_at = proc, self.clock.now_ms()
                hold.owed_faults, hold.ended = proc.faults, to.value
                proc.owed.append(hold)

    def _claimed(self, run_id: str, step: str, attempt: int, proc: Proc | None) -> None:
        read = proc.reads.get(run_id) if proc is not None else None
        claim = ClaimSeen(run_id, step, attempt, self.clock.now_ms(), self.seq, proc, read)
        self.claims.append(claim)
        self._last_claim[(run_id, step, attempt)] = claim

    def _run_moved(self, run: RunRecord, proc: Proc | None) -> None:
        if run.status.terminal:
            self.ended_writes.setdefault(run.run_id, self.clock.now_ms())
            writes = self.run_writes.setdefault(run.run_id, RunWrites())
            if writes.ended is None:
                writes.ended = self.seq
        spans = self.pause_spans.get(run.run_id)
        open_span = spans[-1] if spans and spans[-1].end_seq is None else None
        now = self.clock.now_ms()
        if run.status is RunStatus.PAUSED:
            if open_span is None:
                span = PauseSpan(run.run_id, now, self.seq, proc)
                self.pause_spans.setdefault(run.run_id, []).append(span)
        elif open_span is not None:
            open_span.end_at, open_span.end_seq = now, self.seq

    def _driver_sent(self, args: tuple[Any, ...], proc: Proc | None) -> None:
        """A backfill driver's next message sent by a process handling one of its copies
        that was not live: its tick had moved on (another copy took it) or its driver
        had ended when the process first read the trigger's state. Such a copy must
        drop itself (service/backfill.on_driver): one that sends on grows a chain of
        its own, and every duplicate or redelivery doubles them."""
        if not args:
            return
        sent = args[0] if isinstance(args[0], list) else [args[0]]
        for message in sent:
            if isinstance(message, Mapping) and message.get("t") == "backfill":
                self.drivers_sent.add(str(message.get("id")))
        handled = proc.message if proc is not None else None
        if proc is None or handled is None or handled.get("t") != "backfill":
            return
        driver, tick = handled.get("id"), handled.get("tick")
        seen = proc.driver_seen.get(driver) if isinstance(driver, str) else None
        if seen is None or not isinstance(tick, int) or tick == 0:
            return
        for message in sent:
            onward = isinstance(message, Mapping) and message.get("t") == "backfill"
            if onward and message.get("id") == driver and not tick - 1 <= seen <= tick:
                self.obs.backfills.append(
                    f"driver {driver}: a copy at tick {tick} sent tick {message.get('tick')}"
                    f" though the trigger's state was at tick {seen} (by {proc.label})"
                )

    # ------------------------------------------------------------ limits

    def check_limits(self, where: str) -> None:
        """No limit exceeded at any moment: read after every store write."""
        if self._in_check:
            return
        self._in_check = True
        try:
            permits = self.inner_store.permits()
            keys = dict(self.limits)
            keys.update(self.own_keys())
            running = self._running_by_key()
            for key, limit in keys.items():
                held = permits.state(key).active
                if held > limit:
                    self.obs.limit_violations.append(f"{key}: {held} > {limit} {where}")
                # The permits say what was claimed; the steps, what runs: a claim that
                # took no permit shows only here.
                if running[key] > limit:
                    self.obs.limit_violations.append(
                        f"{key}: {running[key]} steps running > {limit} {where}"
                    )
            self._check_backfills(where)
            slots = self.inner_store.run_slots()
            for wf, limit in self.slot_limits.items():
                active = slots.state(wf).active
                if active > limit:
                    self.obs.limit_violations.append(f"{wf} slots: {active} > {limit} {where}")
            for run_id, limits in list(self.created.items()):
                if limits.loops:
                    self._check_loops(run_id, limits.loops, where)
        finally:
            self._in_check = False

    def _check_backfills(self, where: str) -> None:
        """A backfill's ``max_active``: no more of its runs unended at once."""
        for spec in self.shape.backfills:
            limit = spec.request.get("max_active")
            if limit is None:
                continue
            ids = [r for r, seen in self.created.items() if seen.workflow == spec.workflow]
            runs = self.inner_store.get_runs(ids).values() if ids else ()
            active = [r.run_id for r in runs if r.trigger == "backfill" and not r.status.terminal]
            if len(active) > limit:
                self.obs.backfills.append(
                    f"{spec.workflow}: {len(active)} backfill runs unended > max_active"
                    f" {limit} {where}"
                )

    def _limits_of(self, run: RunRecord) -> None:
        """What a run just created is limited by, from its definition (a loop
        iteration's: its body's; a restart's and a subworkflow's run: their workflow's)."""
        compiled = self.definitions.get(run.workflow, run.version)
        keyed = {s.id: s.permit.key for s in compiled.definition.steps if s.permit is not None}
        loops = tuple(s for s in compiled.definition.steps if s.type == "foreach")
        mps = compiled.definition.max_parallel_steps
        limits = RunSeen(run.workflow, run.version, run.parent_index, mps, keyed, loops)
        self.created.setdefault(run.run_id, limits)

    def own_keys(self) -> dict[str, int]:
        """The ``run:<id>`` key of every run created with ``max_parallel_steps`` (top
        runs, restarts and subworkflow runs alike), and its limit."""
        return {
            own_permit_key(run_id): limits.mps
            for run_id, limits in self.created.items()
            if limits.mps is not None
        }

    def _running_by_key(self) -> Counter[str]:
        """The steps RUNNING now, counted under each key they need a permit of: their
        run's own ``run:<id>`` (max_parallel_steps: every step of the run) and their
        concurrency key, in every run created (a key in a loop's body counts the steps
        of all its iterations, and of every run that names it). Read from the steps
        themselves (the definitions say what each needs), not from the permits, nor
        from the engine's own answer (``needs_of``)."""
        running: Counter[str] = Counter()
        for run_id, limits in self.created.items():
            if limits.mps is None and not limits.keyed:
                continue
            for record in self.inner_store.list_steps(run_id):
                if record.status is not StepStatus.RUNNING:
                    continue
                if limits.mps is not None:
                    running[own_permit_key(run_id)] += 1
                if record.step in limits.keyed:
                    running[limits.keyed[record.step]] += 1
        return running

    def _check_loops(self, run_id: str, steps: tuple[Any, ...], where: str) -> None:
        """A foreach never has more than ``concurrency`` children unfinished, at any
        moment (a nested foreach is checked in each iteration, a run of its own)."""
        from podium.core.engine.errors import RunNotFound
        from podium.core.engine.identity import child_run_id

        for spec in steps:
            open_children, missing, index = 0, 0, 0
            # Children are created in index order, a batch of at most `concurrency`
            # at a time: a gap longer than that is the end of the created ones.
            while missing <= spec.concurrency:
                child_id = child_run_id(run_id, spec.id, index)
                index += 1
                try:
                    child = self.inner_store.get_run(child_id)
                except RunNotFound:
                    missing += 1
                    continue
                missing = 0
                if not child.status.terminal:
                    open_children += 1
            if open_children > spec.concurrency:
                self.obs.limit_violations.append(
                    f"{run_id}/{spec.id}: {open_children} iterations running >"
                    f" {spec.concurrency} {where}"
                )

    # ------------------------------------------------------------ processes

    def spawn(
        self, kind: str, label: str, fn: Callable[[], Any], on_done: Callable[[Proc], None]
    ) -> None:
        concurrent = self.draw(self.rates.concurrent) or (self.faults_on and self.shape.slow)
        proc = Proc(kind, label, fn, concurrent)
        proc.store = FaultProxy(self.inner_store, self, "store")
        proc.on_done = on_done
        proc.started_ms = self.clock.now_ms()
        self.log(f"{label}: start{' (concurrent)' if concurrent else ''}")
        if concurrent:
            self.procs.append(proc)
            self.sched.start(proc)
            self._reap(proc)
        else:
            self.sched.run_solo(proc)
            self._finish(proc)

    def _reap(self, proc: Proc) -> None:
        if proc.done:
            self.procs.remove(proc)
            self._finish(proc)

    def _finish(self, proc: Proc) -> None:
        proc.finished_seq = self.seq
        for hold in proc.owed:
            # The process that ended a step's attempt gives its permits back before it
            # is done; only a fault injected into it since (a crash, a throttle or lost
            # reply it caught) leaves that to the redelivery or the sweeper.
            if self.holds.get((hold.key, hold.holder)) is hold and proc.faults == hold.owed_faults:
                self.obs.permits_held.append(
                    f"{hold.holder} still holds {hold.key} when {proc.label}, which ended it"
                    f" {hold.ended} {self.clock.now_ms() - hold.owed_at} ms before, was"
                    " done without a fault"
                )
        proc.owed = []
        err = proc.error
        if err is not None:
            self.log(f"{proc.label}: died ({type(err).__name__}: {err})")
            if isinstance(err, Livelock):
                self.obs.hot_loops.append(f"{proc.label}: {err}")
            elif not isinstance(err, INJECTED):
                self.obs.handler_errors.append(f"{proc.label}: {type(err).__name__}: {err}")
        if proc.on_done is not None:
            proc.on_done(proc)

    def resume_one(self) -> bool:
        """Resume a process that is not waiting for its function to end; False: none."""
        now = self.clock.now_ms()
        ready = [p for p in self.procs if p.busy_until <= now]
        if not ready:
            return False
        proc = self.rng.choice(ready)
        self.sched.resume(proc)
        self._reap(proc)
        return True

    def busy_until(self) -> int | None:
        """When the first function a parked process runs ends (None: none runs)."""
        return min((p.busy_until for p in self.procs if p.busy_until), default=None)

    def finish_all(self, kill: bool = False) -> None:
        while self.procs:
            proc = self.procs[0]
            proc.abort = kill
            self.clock.advance_to(max(self.clock.now_ms(), proc.busy_until))
            self.sched.resume(proc)
            self._reap(proc)

    def deliver(self, queue: SimQueue, msg: SimMessage) -> None:
        received = queue.receive(msg, self.clock.now_ms())
        if received is None:
            self.log(f"{queue.name} message {msg.body} -> DLQ")
            return
        generation = received.generation
        body = json.loads(received.body)
        label = f"{queue.name}<{_short(received.body)}>#{received.receives}"

        def handle() -> None:
            proc = self.sched.current()
            if proc is not None:
                proc.message = body
            # A batch of one, as handlers/_sqs.run_batch runs it: loop wake-ups are
            # sent at its end, and lost with a crash before it (the poll makes them up).
            with collected(self.ctx):
                if queue is self.work:
                    cont = inbox.handle_work(self.ctx, body)
                else:
                    cont = inbox.handle_event(self.ctx, body)
                while cont is not None:
                    inline = not self.draw(self.rates.not_inline)
                    cont = perform(self.ctx, cont, inline=inline)

        def done(proc: Proc) -> None:
            if proc.error is None:
                queue.delete(received, generation)
                self._count_handled(body)
            else:
                received.failures.append(f"{type(proc.error).__name__}: {proc.error}")

        self.spawn(queue.name, label, handle, done)

    def _count_handled(self, body: dict[str, Any]) -> None:
        """A hot loop: one exec handled (not crashed) over and over."""
        if body.get("t") != "exec":
            return
        key = f"{body['run']}/{body['step']}#{body['attempt']}"
        self.deliveries[key] += 1
        if self.deliveries[key] == HOT_DELIVERIES:
            self.obs.hot_loops.append(f"exec {key} handled {HOT_DELIVERIES} times")

    def start_api(self, index: int) -> None:
        spec = self.shape.runs[index]
        if spec.event is not None:
            self.start_from_event(index)
            return
        if index not in self.run_ids:
            self.run_ids[index] = self.ctx.ids.new_id()
        run_id = self.run_ids[index]

        def call() -> None:
            start_run(self.ctx, spec.workflow, spec.params, run_id=run_id)

        def done(proc: Proc) -> None:
            if proc.error is not None:  # the client retries with the same id
                due = self.clock.now_ms() + API_RETRY_MS
                heapq.heappush(self.pending_api, (due, next(self._api_seq), index))

        self.spawn("api", f"api<start {spec.workflow} #{index}>", call, done)

    def start_from_event(self, index: int) -> None:
        """The events function handed a trigger event (retried when it fails, as
        EventBridge retries a failed delivery)."""
        from podium.service.triggers import event_run_id, start_from_event

        spec = self.shape.runs[index]
        assert spec.event is not None
        self.run_ids[index] = event_run_id(self.inner_ctx(), spec.workflow, spec.event)

        def call() -> None:
            start_from_event(self.ctx, spec.workflow, spec.event or {})

        def done(proc: Proc) -> None:
            if proc.error is not None:
                due = self.clock.now_ms() + API_RETRY_MS
                heapq.heappush(self.pending_api, (due, next(self._api_seq), index))

        self.spawn("events", f"events<{spec.workflow} #{index}>", call, done)

    def inner_ctx(self) -> Services:
        """The wiring without faults (for the harness's own reads)."""
        return Services(
            runtimes=RUNTIMES,
            store=self.inner_store,
            work_queue=self.work,
            event_queue=self.event,
            runner=SimRunner(self),
            clock=self.clock,
            ids=SimIds(self.clock),
            jobs={"batch_job": self.jobs},
        )

    def send_signal_api(self, index: int) -> None:
        from podium.core.engine.signals import SignalRequest
        from podium.service.signals import send_signal

        spec = self.shape.signals[index]
        request = SignalRequest(spec.name, dict(spec.params), request_id=spec.request_id)

        def call() -> None:
            send_signal(self.ctx, request)

        def done(proc: Proc) -> None:
            if proc.error is not None:  # the client retries (the request id dedupes)
                due = self.clock.now_ms() + API_RETRY_MS
                heapq.heappush(self.pending_signals, (due, next(self._api_seq), index))

        self.spawn("api", f"api<signal {spec.name} #{index}>", call, done)

    def deliver_fire(self, index: int) -> None:
        """A time of a trigger's recurring schedule, as the scheduler delivers it (outside
        the engine: no fault but the queue's own duplicates): the message the engine's
        schedule holds, with the scheduled time in place, on the event queue. A trigger
        whose schedule is gone (disabled, removed) fires nothing."""
        from podium.adapters.schedules import with_time
        from podium.service.triggers import schedule_name

        fire = self.shape.fires[index]
        assert self.ctx.schedules is not None
        spec = self.ctx.schedules.get(schedule_name(fire.workflow, fire.trigger))
        if spec is None:
            self.log(f"SCHEDULE {fire.workflow}/{fire.trigger}: none to fire")
            return
        message = with_time(dict(spec.message), START_MS + fire.time_ms)
        self.log(f"SCHEDULE {fire.workflow}/{fire.trigger} fires {message['at']}")
        self.event.send(message)

    def start_sweep(self) -> None:
        self.spawn("sweep", "sweep", self._sweep, lambda _p: None)

    def _sweep(self) -> None:
        """A pass; a check that raised something the faults did not inject is a bug the
        pass only logged (it goes on with the other runs): a handler error here."""
        report = sweep(self.ctx, self.ctx.store)  # the sweeping process's own store
        for what, err in zip(report.failed, report.errors, strict=True):
            self.log(f"sweep: the check of {what} failed ({type(err).__name__}: {err})")
            if not isinstance(err, INJECTED):
                self.obs.handler_errors.append(f"sweep of {what}: {type(err).__name__}: {err}")

    # ------------------------------------------------------------ the workload

    def setup(self) -> None:
        from podium.core.dsl.load import validate_definition
        from podium.core.dsl.models import Strategy

        for doc in self.shape.workflows:
            push_workflow(self.ctx, doc)
            defn = validate_definition(doc)
            if defn.strategy is not Strategy.FIRST_ONLY:
                self.slot_limits[defn.name] = defn.run_limit
            else:
                self.slot_limits[defn.name] = 1
            todo = list(defn.steps)
            while todo:  # loop bodies too, nested ones included
                step = todo.pop()
                if step.permit is not None:
                    self.limits[step.permit.key] = step.permit.limit
                todo += getattr(step, "steps", None) or []
        self.set_breakpoints()
        for backfill in self.shape.backfills:
            self.op_at(START_MS + backfill.at_ms, partial(self.start_backfill, backfill))
        for i, spec in enumerate(self.shape.runs):
            heapq.heappush(self.pending_api, (START_MS + spec.at_ms, next(self._api_seq), i))
        for i, signal in enumerate(self.shape.signals):
            due = START_MS + signal.at_ms
            heapq.heappush(self.pending_signals, (due, next(self._api_seq), i))
        for i, fire in enumerate(self.shape.fires):
            heapq.heappush(self.pending_fires, (START_MS + fire.at_ms, next(self._api_seq), i))

    # ------------------------------------------------------------ breakpoints

    def set_breakpoints(self) -> None:
        """The shape's breakpoints, set before the workload starts (no faults), and the
        operator's requests that resume what they hold and clear them."""
        from podium.core.engine.breakpoints import breakpoint_key
        from podium.core.engine.loops import body_workflow
        from podium.service.breakpoints import set_breakpoint

        for spec in self.shape.breakpoints:
            set_breakpoint(self.inner_ctx(), spec.workflow, spec.path)
            *loops, step = spec.path.split("/")
            name = spec.workflow
            for loop in loops:
                name = body_workflow(name, loop)
            self.breakpoint_keys.setdefault(name, set()).add(breakpoint_key(step, None))
            if spec.resume_runs:
                self.op_at(START_MS + RESUME_EVERY_MS, partial(self.resume_held, spec))
            self.op_at(START_MS + spec.clear_at_ms, partial(self.start_clear, spec))

    def op_at(self, due: int, request: Callable[[], None]) -> None:
        heapq.heappush(self.pending_ops, (due, next(self._api_seq), request))

    def resume_held(self, spec: BreakpointSpec) -> None:
        """``podium steps resume``, by path, for each step the breakpoint holds in the
        runs named (read without faults); again RESUME_EVERY_MS later, until its clear."""
        from podium.service.pausing import BREAKPOINT

        step = spec.path.rsplit("/", 1)[-1]
        for index in spec.resume_runs:
            run_id = self.run_ids.get(index)
            if run_id is None:
                continue
            for _, path, record in self.steps_below(run_id, run_id, ""):
                held = record.status is StepStatus.PAUSED and record.reason == BREAKPOINT
                if held and record.step == step:
                    self.start_resume_step(run_id, path, f"b{next(self._api_seq)}")
        later = self.clock.now_ms() + RESUME_EVERY_MS
        if later < START_MS + spec.clear_at_ms:
            self.op_at(later, partial(self.resume_held, spec))

    def start_resume_step(self, run_id: str, path: str, request: str) -> None:
        from podium.core.engine.actions import ActionRefused, StepAction
        from podium.service.actions import Actor, step_action

        def call() -> None:
            # Refused: resumed already (a request repeated), or the run moved on.
            with suppress(ActionRefused):
                step_action(self.ctx, run_id, path, StepAction.RESUME, Actor("sim", None, request))

        def done(proc: Proc) -> None:
            if proc.error is not None:  # asked again, with its request id
                again = partial(self.start_resume_step, run_id, path, request)
                self.op_at(self.clock.now_ms() + API_RETRY_MS, again)

        self.spawn("api", f"api<resume {run_id}/{path}>", call, done)

    def start_clear(self, spec: BreakpointSpec) -> None:
        """``podium breakpoints clear``: every step it holds resumes (asked again after a
        fault: clearing again is harmless)."""
        from podium.service.breakpoints import clear_breakpoints

        def done(proc: Proc) -> None:
            if proc.error is not None:
                self.op_at(self.clock.now_ms() + API_RETRY_MS, partial(self.start_clear, spec))

        call = partial(clear_breakpoints, self.ctx, spec.workflow, spec.path)
        self.spawn("api", f"api<clear {spec.workflow} {spec.path}>", call, done)

    def start_backfill(self, spec: BackfillSpec) -> None:
        """``POST /workflows/{name}/backfill`` as an API process; asked again, the same,
        when a fault cut it short (a repeat starts nothing twice)."""
        from podium.service.backfill import backfill_request, parse_request

        def call() -> None:
            backfill_request(self.ctx, spec.workflow, parse_request(spec.request))

        def done(proc: Proc) -> None:
            if proc.error is not None:
                self.op_at(self.clock.now_ms() + API_RETRY_MS, partial(self.start_backfill, spec))

        self.spawn("api", f"api<backfill {spec.workflow}>", call, done)

    def steps_below(
        self, top: str, run_id: str, prefix: str, statuses: frozenset[RunStatus] | None = None
    ) -> list[tuple[str, str, StepRecord]]:
        """(run, step path, step) of a run and of its loops' iterations (in ``statuses``:
        any when None; path ``loop/index/step``, nested alike: what ``podium runs steps``
        takes), read without faults."""
        from podium.core.engine.identity import child_run_id

        found: list[tuple[str, str, StepRecord]] = []
        for s in self.inner_store.list_steps(run_id):
            found.append((top, prefix + s.step, s))
            ids = [child_run_id(run_id, s.step, i) for i in range(s.children_launched)]
            children = self.inner_store.get_runs(ids) if ids else {}
            for child in children.values():
                # A subworkflow's run is a run of another workflow, not addressed by path.
                if child.iteration is None or (statuses and child.status not in statuses):
                    continue
                inner = f"{prefix}{s.step}/{child.parent_index}/"
                found += self.steps_below(top, child.run_id, inner, statuses)
        return found

    def pick(self, queue: SimQueue, now: int) -> SimMessage | None:
        visible = queue.visible(now)
        if not visible:
            return None
        if self.draw(self.rates.shuffle):
            return self.rng.choice(visible)
        return min(visible, key=lambda m: (m.visible_at, m.seq))

    def tick(self) -> bool:
        """One step of the environment; False when nothing is left to do."""
        now = self.clock.now_ms()
        if self.procs and self.rng.random() < 0.5 and self.resume_one():
            return True
        if self.draw(self.rates.sweep):
            self.start_sweep()
            return True
        if self.draw(self.rates.jump):
            jump = self.rng.choice((30_000, 300_000, 960_000, 1_800_000, 3_700_000))
            jump = self.callbacks.clamp_jump(now, jump)
            self.log(f"CLOCK JUMP +{jump}ms")
            self.clock.advance(jump)
            return True
        if self.pending_api and self.pending_api[0][0] <= now:
            _, _, index = heapq.heappop(self.pending_api)
            self.start_api(index)
            self._step_clock()
            return True
        if self.pending_signals and self.pending_signals[0][0] <= now:
            _, _, index = heapq.heappop(self.pending_signals)
            self.send_signal_api(index)
            self._step_clock()
            return True
        if self.pending_ops and self.pending_ops[0][0] <= now:
            heapq.heappop(self.pending_ops)[2]()
            self._step_clock()
            return True
        if self.pending_fires and self.pending_fires[0][0] <= now:
            _, _, index = heapq.heappop(self.pending_fires)
            self.deliver_fire(index)
            return True
        if self.callbacks.is_due(now):
            self.callbacks.send_next()
            self._step_clock()
            return True
        if self.timers.fire_due(now):
            return True
        queues = [q for q in (self.work, self.event) if q.visible(now)]
        if queues:
            queue = self.rng.choice(queues) if len(queues) > 1 else queues[0]
            msg = self.pick(queue, now)
            assert msg is not None
            self.deliver(queue, msg)
            self._step_clock()
            return True
        if self.procs and self.resume_one():
            return True
        if self.next_sweep <= now:
            self.next_sweep = now + SWEEP_EVERY_MS
            self.start_sweep()
            return True
        # idle: time passes until the next thing is due
        dues = [q.next_visible_at() for q in (self.work, self.event)]
        dues.append(self.pending_api[0][0] if self.pending_api else None)
        dues.append(self.pending_signals[0][0] if self.pending_signals else None)
        dues.append(self.pending_fires[0][0] if self.pending_fires else None)
        dues.append(self.pending_ops[0][0] if self.pending_ops else None)
        dues.append(self.busy_until())
        dues.append(self.timers.next_due())
        dues.append(self.callbacks.next_due())
        nxt = min((d for d in dues if d is not None), default=None)
        if nxt is None:
            return False
        self.clock.advance_to(min(nxt, self.next_sweep))
        return True

    def _step_clock(self) -> None:
        self.clock.advance(self.rng.randrange(0, 200) if self.faults_on else 1)

    def run(self) -> None:
        self.setup()
        ticks = 0
        while ticks < MAX_TICKS and self.tick():
            ticks += 1
        if ticks >= MAX_TICKS:
            self.obs.hot_loops.append(f"the workload did not finish in {MAX_TICKS} steps")
        self.settle()

    def drain(self) -> bool:
        """Deliver everything (time passes to each delay's end); False if it would not end."""
        for _ in range(MAX_DRAIN):
            if self.procs:
                self.finish_all()
                continue
            if self.pending_api:
                due, _, index = heapq.heappop(self.pending_api)
                self.clock.advance_to(due)
                self.start_api(index)
                continue
            if self.pending_signals:
                due, _, index = heapq.heappop(self.pending_signals)
                self.clock.advance_to(due)
                self.send_signal_api(index)
                continue
            if self.pending_fires:
                due, _, index = heapq.heappop(self.pending_fires)
                self.clock.advance_to(due)
                self.deliver_fire(index)
                continue
            if self.pending_ops:
                due, _, request = heapq.heappop(self.pending_ops)
                self.clock.advance_to(due)
                request()
                continue
            now = self.clock.now_ms()
            if self.timers.fire_due(now):
                continue
            if self.callbacks.is_due(now):
                self.callbacks.send_next()
                continue
            for queue in (self.event, self.work):
                msg = self.pick(queue, now)
                if msg is not None:
                    self.deliver(queue, msg)
                    break
            else:
                dues = [q.next_visible_at() for q in self.queues.values()]
                dues.append(self.timers.next_due())
                dues.append(self.callbacks.next_due())
                nxt = min((t for t in dues if t is not None), default=None)
                if nxt is None:
                    return True
                self.clock.advance_to(nxt)
        return False

    def settle(self) -> None:
        """No more faults: finish every process, drain, sweep past every lease, repeat
        until a whole round changes nothing."""
        self.faults_on = False
        self.finish_all()
        services = self.ctx
        quiet = 0
        for rounds in range(60):
            self.redrive_dead_letters()
            self.operators_round()
            before = (self.writes, self.work.sent, self.event.sent)
            if not self.drain():
                self.obs.hot_loops.append(f"queues did not drain in {MAX_DRAIN} deliveries")
                return
            self.clock.advance(services.lease_ms + services.stale_ready_ms + 1_000)
            self.start_sweep()
            if not self.drain():
                self.obs.hot_loops.append(f"queues did not drain in {MAX_DRAIN} deliveries")
                return
            after = (self.writes, self.work.sent, self.event.sent)
            quiet = quiet + 1 if after == before else 0
            if quiet >= 2 and self.clock.now_ms() > self.horizon():
                return
            if rounds >= 3 and self.callbacks.seen and self.clock.now_ms() <= self.horizon():
                # Still waiting for a far lease or due time (a callback step's 10-day
                # default timeout, which its lease is): time passes to it.
                self.log(f"SETTLE: time passes to t+{self.horizon() - START_MS}ms")
                self.clock.advance_to(self.horizon())
        self.obs.unsettled.append("still changing after 60 sweep rounds")

    def operators_round(self) -> None:
        """What operators do at each round of the settling: a strict_sequential queue
        that a failed run blocks is unblocked (``podium unblock``), so the runs behind it
        end too. Each unblock may admit a run that fails and blocks it again: the next
        round unblocks it again. (The acting world also unblocks at random moments.)"""
        for workflow in self.blocked_workflows():
            self.start_unblock(workflow)
        self.finish_all()

    def blocked_workflows(self) -> list[str]:
        """strict_sequential workflows whose queue a failed run blocks (read without
        faults)."""
        slots = self.inner_store.run_slots()
        return [wf for wf in sorted(self.slot_limits) if slots.state(wf).blocked_by]

    def start_unblock(self, workflow: str) -> None:
        """``podium unblock``: the queue moves on after a failed run (idempotent), as an
        API process; one that failed is asked again."""

        def done(proc: Proc) -> None:
            if isinstance(proc.error, INJECTED):
                self.start_unblock(workflow)

        self.spawn("api", f"api<unblock {workflow}>", partial(unblock, self.ctx, workflow), done)

    def redrive_dead_letters(self) -> None:
        """The operator's redrive (the DLQ alarm's runbook): a message that died only of
        injected faults goes back to its queue. Others stay (``dlq_unexplained``)."""
        for queue in self.queues.values():
            keep = []
            for msg in queue.dead:
                if msg.failures and all(f.startswith(INJECTED_NAMES) for f in msg.failures):
                    self.log(f"REDRIVE {queue.name} {msg.body} from the DLQ")
                    self.redriven.append(msg.body)
                    msg.receives = 0
                    msg.visible_at = self.clock.now_ms()
                    queue.messages[msg.seq] = msg
                else:
                    keep.append(msg)
            queue.dead = keep

    def horizon(self) -> int:
        """The latest lease or due time anything in the store still waits for."""
        latest = 0
        for run_id in self.run_ids.values():
            for s in self.inner_store.list_steps(run_id):
                latest = max(latest, _latest_time(s))
        permits = self.inner_store.permits()
        for key in self.limits:
            latest = max(latest, *permits.state(key).holders.values(), 0)
        latest = max(latest, self.timers.next_due() or 0)
        latest = max(latest, *(r.due for r in self.callbacks.pending), 0)
        return latest + self.ctx.stale_ready_ms

    # ------------------------------------------------------------ results

    def outcomes(self) -> list[RunOutcome]:
        out = []
        for i in range(len(self.shape.runs)):
            rid = self.run_ids.get(i)
            if rid is None:
                out.append(RunOutcome(i, None, {}))
                continue
            try:
                run = self.inner_store.get_run(rid)
            except Exception:
                out.append(RunOutcome(i, None, {}))
                continue
            steps = {s.step: s for s in self.inner_store.list_steps(rid)}
            for (retried_run, step), was in self.operator_retried.items():
                record = steps.get(step)
                lost_race = (
                    retried_run == rid
                    and record is not None
                    and record.status is StepStatus.STOPPED
                    and run.status in (RunStatus.FAILED, RunStatus.TIMED_OUT)
                )
                if lost_race and record is not None:
                    # The retry lost the race with the run's end (a run that fails at
                    # once, or whose end was decided in the same instant): its attempt
                    # was stopped with the run, which ended as it would have.
                    steps[step] = dataclasses.replace(record, status=was)
            out.append(RunOutcome(i, run, steps))
        return out


# The ends of a running attempt that failed: to be retried, or for good.
_FAILURE_ENDS = frozenset(
    {StepStatus.RETRY_WAIT, StepStatus.FAILED, StepStatus.FAILED_IGNORED, StepStatus.TIMED_OUT}
)


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> Any:
    """A call's argument, given by position or by name."""
    return args[index] if len(args) > index else kwargs[name]


def _latest_time(step: StepRecord) -> int:
    """The latest time a step item names (a lease, a retry's due time, a deadline...),
    read generically so fields the engine adds later count too."""
    latest = 0
    for f in dataclasses.fields(step):
        value = getattr(step, f.name)
        if isinstance(value, int) and f.name.endswith(("_at", "_until", "deadline")):
            latest = max(latest, value)
    return latest


def _short(body: str) -> str:
    data = json.loads(body)
    parts = [data.get("t", "?"), str(data.get("run", ""))[-4:]]
    if "step" in data:
        parts.append(f"{data['step']}#{data.get('attempt')}")
    if "nb" in data:
        parts.append("nb")
    return " ".join(parts)


def _brief(args: tuple[Any, ...]) -> str:
    shown = []
    for a in args[:3]:
        if isinstance(a, StepRecord):
            shown.append(f"{a.step}:{a.status.value}#{a.attempt}")
        elif isinstance(a, RunRecord):
            shown.append(f"run {a.run_id[-4:]}:{a.status.value}")
        elif isinstance(a, str):
            shown.append(a[-12:])
        elif isinstance(a, dict) and isinstance(a.get("t"), str):  # a message
            shown.append(_short(json.dumps(a)))
        elif isinstance(a, dict):  # e.g. count_sinks' {step: index}: a step may be "t"
            shown.append(f"dict({len(a)})")
        elif isinstance(a, list) and a and isinstance(a[0], dict):
            shown.append("[" + ", ".join(_short(json.dumps(m)) for m in a) + "]")
        else:
            shown.append(type(a).__name__)
    return "(" + ", ".join(shown) + ")"


# ---------------------------------------------------------------------------- stores


class StoreFactory:
    """Makes a fresh, empty store per world."""

    name = "memory"

    def make(self) -> Any:
        return MemoryStateStore()

    def dispose(self, store: Any) -> None:
        return None

    @contextmanager
    def session(self) -> Iterator[StoreFactory]:
        yield self


class MotoStoreFactory(StoreFactory):
    """DynamoDB on moto (in-process ``mock_aws``): a new table per world."""

    name = "moto"

    def __init__(self) -> None:
        self._client: Any = None
        self._n = itertools.count()

    @contextmanager
    def session(self) -> Iterator[StoreFactory]:
        import os

        import boto3
        from moto import mock_aws

        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        with mock_aws():
            self._client = boto3.client("dynamodb", region_name="us-east-1")
            yield self
            self._client = None

    def make(self) -> Any:
        from podium.adapters.clock import SystemClock
        from podium.adapters.dynamo_expiry import ExpiringRunItems
        from podium.adapters.dynamo_store import DynamoStateStore
        from podium.adapters.table_schema import create_table

        name = f"podium-sim-{next(self._n)}"
        create_table(self._client, name)
        # One sink an item: every shape with two or more sinks (recover, fail_sibling,
        # fail_immediately, max_parallel) counts them on several items, as a deployed
        # run with more than 256 does (the partial item's path: test_dynamo_sink_count).
        # Run items stamped to expire as deployed (90 days), so every write the sim
        # makes goes through the stamping a deployed table's writes do.
        expiring = ExpiringRunItems(self._client, after_days=90, clock=SystemClock())
        return DynamoStateStore(expiring, name, sink_shard=1)

    def dispose(self, store: Any) -> None:
        self._client.delete_table(
            TableName=store._table if hasattr(store, "_table") else store.table_name
        )


def factory_for(name: str) -> StoreFactory:
    if name == "memory":
        return StoreFactory()
    if name == "moto":
        return MotoStoreFactory()
    raise ValueError(f"unknown store {name!r}: use memory or moto")
