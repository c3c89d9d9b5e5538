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
from contextlib import contextmanager
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
from podium.service.context import Services
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
from podium.sim.shapes import FAIL_FIRST, FAIL_WHEN, ROWS, Shape

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


class SimTimers:
    """The Timers port: a wait up to 15 minutes is a queue delay; a longer one is a
    one-time schedule (as EventBridge Scheduler's) that puts the message, with its due
    time, on the queue when due and deletes itself. A schedule still held at the end is
    a ``timer_leak``."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.schedules: dict[str, tuple[int, str, dict[str, Any]]] = {}

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
                self._queue(queue).send(body, 0)
                del self.schedules[name]
                fired = True
        return fired


# ---------------------------------------------------------------------------- runner


class SimRunner:
    """Plays the user's functions: records every invocation, answers per behaviour."""

    def __init__(self, world: World) -> None:
        self._world = world

    def invoke(self, invocation: Invocation) -> InvocationResult:
        run_id, step, attempt = invocation.idempotency_key.rsplit("/", 2)
        self._world.invocations[(run_id, step, int(attempt))] += 1
        self._world.invoked_by[(run_id, step, int(attempt))] = self._world.sched.current()
        self._world.invoked_at.setdefault((run_id, step), []).append(
            (int(attempt), self._world.clock.now_ms())
        )
        self._world.invoked_with[(run_id, step, int(attempt))] = invocation.payload.get("payload")
        if invocation.function == FAIL_FIRST and int(attempt) == 1:
            return InvocationResult(False, error="first attempts fail")
        if invocation.function == FAIL_WHEN and invocation.payload["payload"].get("fail"):
            return InvocationResult(False, error="this iteration fails", retryable=False)
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


class Scheduler:
    """Hands one baton between the main thread and the concurrent processes."""

    def __init__(self) -> None:
        self.back = threading.Semaphore(0)
        self.local = threading.local()

    def current(self) -> Proc | None:
        return getattr(self.local, "proc", None)

    def run_solo(self, proc: Proc) -> None:
        outer = self.current()
        self.local.proc = proc
        try:
            proc.fn()
        except BaseException as exc:
            proc.error = exc
        finally:
            self.local.proc = outer
            proc.done = True

    def start(self, proc: Proc) -> None:
        thread = threading.Thread(target=self._body, args=(proc,), daemon=True)
        thread.start()
        self.back.acquire()  # it runs until its first hand-over (or its end)

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
        proc.go.release()
        self.back.acquire()

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
        self.sched = Scheduler()
        self.obs = Observations()
        self.invocations: Counter[tuple[str, str, int]] = Counter()
        self.invoked_at: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self.invoked_by: dict[tuple[str, str, int], Proc | None] = {}
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
        self.limits: dict[str, int] = {}  # concurrency key -> limit
        self.slot_limits: dict[str, int] = {}  # workflow -> run limit
        self.mps: dict[str, int] = {}  # workflow -> max_parallel_steps
        # workflow -> step -> the concurrency key it claims a permit of (its own steps)
        self.keyed: dict[str, dict[str, str]] = {}
        # workflow -> its foreach steps (a definition each): children running at once
        self.loops: dict[str, list[Any]] = {}
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
            if self.clock.now_ms() - proc.started_ms > LAMBDA_MAX_MS:
                self.log(f"{proc.label}: KILLED at its 15 minutes, before {port}.{name}")
                proc.faults += 1
                raise SimCrash(f"the Lambda timeout, before {port}.{name}")
            if proc.concurrent and self.draw(self.rates.switch):
                self.sched.hand_over(proc)
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
        if name in ("transition_step", "end_step_failing_run"):
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
            self._run_created(_arg(args, kwargs, 0, "run").run_id, running=False)
        elif name == "start_alone" and result is None:
            self._run_created(_arg(args, kwargs, 0, "run").run_id, running=True)
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
        if StepStatus.RUNNING not in kwargs["expected"]:
            return
        changes = kwargs.get("changes") or {}
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

    # ------------------------------------------------------------ limits

    def check_limits(self, where: str) -> None:
        """No limit exceeded at any moment: read after every store write."""
        if self._in_check:
            return
        self._in_check = True
        try:
            permits = self.inner_store.permits()
            keys = dict(self.limits)
            for wf, limit in self.mps.items():
                for run_id in self._runs_of(wf):
                    keys[own_permit_key(run_id)] = limit
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
            slots = self.inner_store.run_slots()
            for wf, limit in self.slot_limits.items():
                active = slots.state(wf).active
                if active > limit:
                    self.obs.limit_violations.append(f"{wf} slots: {active} > {limit} {where}")
            for wf, steps in self.loops.items():
                for run_id in self._runs_of(wf):
                    self._check_loops(run_id, steps, where)
        finally:
            self._in_check = False

    def _running_by_key(self) -> Counter[str]:
        """The steps RUNNING now, counted under each key they need a permit of: their
        run's own ``run:<id>`` (max_parallel_steps: every step of the run) and their
        concurrency key. Read from the steps themselves (the definitions say what each
        needs), not from the permits, nor from the engine's own answer (``needs_of``)."""
        running: Counter[str] = Counter()
        for wf in self.mps.keys() | self.keyed.keys():
            keyed = self.keyed.get(wf, {})
            for run_id in self._runs_of(wf):
                for record in self.inner_store.list_steps(run_id):
                    if record.status is not StepStatus.RUNNING:
                        continue
                    if wf in self.mps:
                        running[own_permit_key(run_id)] += 1
                    if record.step in keyed:
                        running[keyed[record.step]] += 1
        return running

    def _check_loops(self, run_id: str, steps: list[Any], where: str) -> None:
        """A foreach never has more than ``concurrency`` children unfinished, at any
        moment (its nested foreach steps are checked in each child the same way)."""
        from podium.core.engine.errors import RunNotFound
        from podium.core.engine.identity import child_run_id

        for spec in steps:
            if spec.type != "foreach":
                continue
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
                self._check_loops(child_id, list(spec.steps), where)
            if open_children > spec.concurrency:
                self.obs.limit_violations.append(
                    f"{run_id}/{spec.id}: {open_children} iterations running >"
                    f" {spec.concurrency} {where}"
                )

    def _runs_of(self, workflow: str) -> list[str]:
        return [rid for i, rid in self.run_ids.items() if self.shape.runs[i].workflow == workflow]

    # ------------------------------------------------------------ processes

    def spawn(
        self, kind: str, label: str, fn: Callable[[], Any], on_done: Callable[[Proc], None]
    ) -> None:
        concurrent = self.draw(self.rates.concurrent)
        proc = Proc(kind, label, fn, concurrent)
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

    def resume_one(self) -> None:
        proc = self.rng.choice(self.procs)
        self.sched.resume(proc)
        self._reap(proc)

    def finish_all(self, kill: bool = False) -> None:
        while self.procs:
            proc = self.procs[0]
            proc.abort = kill
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
        report = sweep(self.ctx, self.store)
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
            if defn.max_parallel_steps is not None:
                self.mps[defn.name] = defn.max_parallel_steps
            for step in defn.steps:
                if step.permit is not None:
                    self.limits[step.permit.key] = step.permit.limit
                    self.keyed.setdefault(defn.name, {})[step.id] = step.permit.key
            loops = [s for s in defn.steps if s.type == "foreach"]
            if loops:
                self.loops[defn.name] = loops
        for i, spec in enumerate(self.shape.runs):
            heapq.heappush(self.pending_api, (START_MS + spec.at_ms, next(self._api_seq), i))
        for i, signal in enumerate(self.shape.signals):
            due = START_MS + signal.at_ms
            heapq.heappush(self.pending_signals, (due, next(self._api_seq), i))
        for i, fire in enumerate(self.shape.fires):
            heapq.heappush(self.pending_fires, (START_MS + fire.at_ms, next(self._api_seq), i))

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
        if self.procs and self.rng.random() < 0.5:
            self.resume_one()
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
        if self.procs:
            self.resume_one()
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
