"""The embedded runtime: the real handlers on a local store, fed by an in-process pump.

``LocalRuntime`` wires the real service code to a store and two queues, and delivers queue
messages to the same Lambda handlers a deployment runs. Lambda steps resolve to local
callables: ``module:function``, or a Lambda name mapped by ``functions`` (``podium.toml``
beside a pushed file, ``--functions``; see ``local/functions.py``). With the default
virtual clock, sleeps and retry delays cost no real time. Stores:

- ``sqlite``: the local home, a SQLite file (``HOME/podium.db``, WAL) that keeps
  workflows, runs and queued messages across processes; what ``podium run`` and
  ``podium.testing`` use (``home=":memory:"`` keeps it in memory instead);
- ``moto``: DynamoDB on in-process moto with the deployed table's schema (fidelity checks,
  ``podium run --backend moto``, the integration tests);
- ``memory``: the unit tests' fakes.

With the home, the runtime also keeps what steps print per attempt (``local/capture.py``,
read by ``podium runs logs``) and big outputs as files; it delivers only the messages
this process sent (others on the same home deliver theirs; a message of a run another
live process started goes to that one), adopts those of processes that died, reclaims
at once a step running in-process under a process that left the home (stopped or dead:
``adopt``), and, when its run is stuck with nothing queued, lets the sweeper reclaim what
a dead process left RUNNING. ``workers`` > 1 runs steps that call user code on a pool of
threads; engine work stays on the pump's thread.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import AbstractContextManager, nullcontext, suppress
from functools import partial
from pathlib import Path
from typing import Any

from podium import bootstrap
from podium.adapters.clock import FastForwardClock, ManualClock, SystemClock, UlidGenerator
from podium.adapters.dynamo_expiry import ExpiringRunItems
from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.memory_store import MemoryStateStore
from podium.adapters.payloads import FilePayloads, PayloadsUnwritable
from podium.adapters.queues import LocalMessage, LocalQueue
from podium.adapters.runners import LocalFunctionRunner, RoutingRunner
from podium.adapters.sqlite import Database, SqliteQueue, SqliteStateStore
from podium.adapters.sqlite.db import HomeLocked
from podium.adapters.sqlite.logs import SqliteLogs
from podium.adapters.sqlite.queue import Owners
from podium.adapters.sqlite.timers import SqliteTimers
from podium.adapters.table_schema import create_table
from podium.core.engine.errors import RunNotFound
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import FunctionRunner
from podium.core.text_checks import is_ascii_digits
from podium.handlers import advance as advance_handler
from podium.handlers import work as work_handler
from podium.local import capture
from podium.local.capture import AttemptCapture, CapturingRunner
from podium.local.stand_ins import StandIns
from podium.service.abandoned import reclaim_abandoned, reclaim_left_running
from podium.service.context import Services
from podium.service.runs import RunView, describe_run, start_run
from podium.service.runtimes.registry import RUNTIMES
from podium.service.triggers import route_own_events
from podium.service.workflows import push_workflow

# Step types whose RUNNING steps have child runs (loop iterations, a subworkflow's run).
PARENT_STEP_TYPES = frozenset({"foreach", "while", "subworkflow"})

TABLE_NAME = "podium-state"
REGION = "us-east-1"
QUEUE_VISIBILITY_SECONDS = 960  # matches the work function's 15-minute timeout + margin
# Step types whose attempts run no user code: delivered on the pump's own thread.
ENGINE_ONLY_STEPS = frozenset({"noop", "fail", "sleep", "wait_for_callback", "approval"})
# User code faster than this per call is delivered in batches too, not a thread per call.
MAX_RECOVERIES = 10  # sweeps of lost work per runtime (each must move something)
FAST_CALL_MS = 1.0
SLOW_CALL_MS = 50.0  # a first call this slow is not timed again: it gets threads at once
PROBE_CALLS = 3
# A home another process keeps locked past the busy timeout (a `podium runs prune
# --vacuum` of a big home, a sqlite3 shell left in a transaction): the pump tries again
# every LOCK_RETRY_S (each try waits the busy timeout too) for LOCK_PATIENCE_S with no
# progress, then gives up in a line: a vacuum takes minutes, a forgotten shell forever.
# Leaving the owners registry at the end is worth less waiting: a row left behind is
# taken for dead once this process is gone.
LOCK_PATIENCE_S = 600.0
RETIRE_PATIENCE_S = 60.0
LOCK_RETRY_S = 1.0
KNOWN_CLAIMS = 10_000  # abandoned claims remembered as left to the sweeper (then looked at again)

log = logging.getLogger("podium.local")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class _Context:
    """What the handlers read of a Lambda context."""

    function_name = "podium-local"
    aws_request_id = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


class LocalRuntime:
    def __init__(
        self,
        *,
        virtual_time: bool = True,
        clock: ManualClock | FastForwardClock | SystemClock | None = None,
        deliver_twice: bool = False,
        shuffle_seed: int | None = None,
        batch_size: int = 10,
        work_batch_size: int | None = None,
        event_batch_size: int | None = None,
        store: str = "moto",
        home: str | os.PathLike[str] | None = None,
        workers: int = 1,
        capture_output: bool | None = None,
        functions: dict[str, str] | None = None,
        stand_ins: StandIns | None = None,
    ) -> None:
        if store not in ("sqlite", "moto", "memory"):
            raise ValueError(
                "store must be 'sqlite' (the local home), 'moto' (DynamoDB on moto) or 'memory'"
            )
        self.store_kind = store
        # The home directory (sqlite only): None = $PODIUM_HOME or .podium; ":memory:" = none.
        self.home: Path | None = None
        self._in_memory_home = store == "sqlite" and str(home) == ":memory:"
        if store == "sqlite" and not self._in_memory_home:
            self.home = bootstrap.local_home(home)
        if workers < 1:
            raise ValueError("workers must be at least 1")
        # Threads that deliver messages (and so run steps) at once; 1 = in this thread.
        self.workers = workers
        # Steps' print() output kept per attempt (default: with the home, where
        # ``podium runs logs`` reads it) instead of reaching this process's stdout.
        self.capture_output = store == "sqlite" if capture_output is None else capture_output
        self.virtual_time = virtual_time
        self.deliver_twice = deliver_twice
        self._shuffle = random.Random(shuffle_seed) if shuffle_seed is not None else None
        self.batch_size = batch_size
        # Messages a delivery hands the work / advance handler, each queue on its own (as
        # a deployment's two event source mappings are); ``batch_size`` when not given.
        self.work_batch_size = batch_size if work_batch_size is None else work_batch_size
        self.event_batch_size = batch_size if event_batch_size is None else event_batch_size
        if min(self.batch_size, self.work_batch_size, self.event_batch_size) < 1:
            raise ValueError("batch sizes must be at least 1")
        self.clock: ManualClock | FastForwardClock | SystemClock = clock or (
            FastForwardClock() if virtual_time else SystemClock()
        )
        self._mock: Any = None
        self._db: Database | None = None
        self._logs_db: Database | None = None
        self.owners: Owners | None = None
        self._run_versions: dict[str, tuple[str, int]] = {}
        self._cost: dict[str, float] = {}  # user code -> ms per delivery (moving average)
        self._probes: dict[str, int] = {}  # user code -> calls timed
        self._timing = threading.Lock()  # the two above, written by worker threads too
        self._recoveries = 0
        # Whether this runtime took over other processes' messages (``adopt``): then
        # virtual time jumps only to the timers of the run it waits for (``_ours``).
        self._adopted = False
        # run id -> the run at the top of its tree (a loop iteration's, a child run's)
        self._roots: dict[str, str] = {}
        self._told_callback = False
        # Abandoned claims of waiting steps (run, step, claimant): the sweeper's, not
        # looked at again (_reclaim_left_running).
        self._left_to_sweeper: set[tuple[str, str, str]] = set()
        # (workflow, version, callbacks?) -> (has steps that wait, has loop steps)
        self._may_wait_cache: dict[tuple[str, int, bool], tuple[bool, bool]] = {}
        # In-process moto is not safe with concurrent requests: deliveries take turns.
        self._serial: AbstractContextManager[Any] = (
            threading.Lock() if store == "moto" else nullcontext()
        )
        self._next_look = 0.0
        self._capturing = False
        self.work_queue: LocalQueue | SqliteQueue
        self.event_queue: LocalQueue | SqliteQueue
        self.work_dlq: LocalQueue | SqliteQueue
        self.event_dlq: LocalQueue | SqliteQueue
        self.delivered = 0
        # Lambda name -> module:function that plays it here (podium.toml, --functions).
        self.functions: dict[str, str] = dict(functions or {})
        self._local_runner = LocalFunctionRunner()
        self._local_runner.functions = self.functions  # shared: push() may add to it
        # podium.toml's stand-ins of ecs_task / batch_job, http hosts and secrets.
        self.stand_ins = stand_ins or StandIns()

    # lifecycle -------------------------------------------------------------------
    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def database(self) -> Path | None:
        """The home's SQLite file (None unless the store is a home on disk)."""
        return self.home / bootstrap.HOME_DB if self.home is not None else None

    def start(self) -> None:
        from moto import mock_aws

        # Steps' own AWS calls (boto3 in a module:function) go to in-process moto too,
        # whatever the store: a local run needs no AWS account.
        os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
        self._mock = mock_aws()
        self._mock.start()
        try:
            self._start_services()
        except BaseException:
            # A home that is locked, read-only or damaged: leave nothing on (moto would
            # mock AWS for the rest of a test session), and say the first error.
            with suppress(Exception):
                self.stop()
            raise

    def _start_services(self) -> None:
        clock = self.clock
        self.store: DynamoStateStore | MemoryStateStore | SqliteStateStore
        if self.store_kind == "sqlite":
            self._start_home()
        else:
            self._start_in_process()
        runner: FunctionRunner = RoutingRunner(self._local_runner, None)
        # Without a home, logs live in a private in-memory database for this runtime.
        self._logs_db = self._db if self._db is not None else Database(":memory:")
        self.logs = SqliteLogs(self._logs_db)
        if self.capture_output:
            capture.install()
            self._capturing = True
            runner = CapturingRunner(runner, self.logs, clock)
        timers = None
        if isinstance(self.work_queue, SqliteQueue) and isinstance(self.event_queue, SqliteQueue):
            timers = SqliteTimers(self.work_queue, self.event_queue, clock)
        self.services = Services(
            runtimes=RUNTIMES,
            store=self.store,
            work_queue=self.work_queue,
            event_queue=self.event_queue,
            runner=runner,
            clock=clock,
            ids=UlidGenerator(clock),
            timers=timers,
            # Big outputs live beside the database, so they outlive the process too.
            payloads=_HomePayloads(self.home / "payloads") if self.home is not None else None,
        )
        self._wire_stand_ins()
        bootstrap.install(self.services)
        if self.owners is not None:
            # A step running in-process under a process that stopped or died (a Ctrl-C,
            # a kill) is retried now, not after its lease (service/abandoned.py): the
            # ones whose claimant left the home, and when nobody else works on it,
            # every one (a claim names no process in a home older than claimants).
            self._reclaim_left_running()
            if not self.owners.others_alive():
                reclaim_abandoned(self.services)

    def _wire_stand_ins(self) -> None:
        """ecs_task, batch_job, glue_job and sfn_execution run their podium.toml
        stand-ins; http steps may call loopback and the hosts podium.toml allows (secrets
        from the environment)."""
        from podium.adapters.http_transport import (
            MappedHttpTransport,
            MappedSecrets,
            StdlibHttpTransport,
        )
        from podium.adapters.jobs.local import LOCAL_KINDS, LocalJobs
        from podium.core.ports import HttpAccess
        from podium.local.stand_ins import LOOPBACK_HOSTS

        capture = AttemptCapture(self.logs, self.clock) if self.capture_output else None
        # An async lambda's call outlives its invoke: it prints (and fails) into its
        # attempt's log through this, as a Lambda's log group would have it.
        self._local_runner.capture = capture
        for kind in LOCAL_KINDS:
            targets = self.stand_ins.jobs.setdefault(kind, {})  # shared: push() may add
            self.services.jobs[kind] = LocalJobs(kind, targets, self._local_runner.resolve, capture)
        transport = MappedHttpTransport(
            StdlibHttpTransport(), self.stand_ins.http_map, self._local_runner.resolve
        )
        self.services.http = HttpAccess(
            transport,
            LOOPBACK_HOSTS | frozenset(self.stand_ins.http_hosts) | transport.mapped_hosts(),
            MappedSecrets(
                bootstrap.local_secrets(self.stand_ins.secrets), mapped=self.stand_ins.secrets
            ),
        )

    def _start_home(self) -> None:
        self._db = Database(":memory:" if self.database is None else self.database)
        self.store = SqliteStateStore(self._db)
        # This process delivers the messages it sends, and adopts those of dead processes.
        self.owners = Owners(self._db, self.clock)
        self.owners.register()
        self._adopted = self.owners.adopt() > 0  # the steps they left: _start_services
        queue = partial(SqliteQueue, self._db, clock=self.clock)
        self.work_dlq = queue("work-dlq")
        self.event_dlq = queue("event-dlq")
        self.work_queue = queue(
            "work",
            visibility_timeout_seconds=QUEUE_VISIBILITY_SECONDS,
            dead_letters=self.work_dlq,
            owner=self.owners.token,
        )
        self.event_queue = queue(
            "events",
            visibility_timeout_seconds=60,
            dead_letters=self.event_dlq,
            owner=self.owners.token,
        )

    def _start_in_process(self) -> None:
        clock = self.clock
        if self.store_kind == "moto":
            self.dynamodb = bootstrap.aws_clients(REGION, embedded=True)["dynamodb"]
            create_table(self.dynamodb, TABLE_NAME)
            # Stamped as a deployed table's default (90 days): moto never deletes them.
            expiring = ExpiringRunItems(self.dynamodb, after_days=90, clock=clock)
            self.store = DynamoStateStore(expiring, TABLE_NAME)
        else:
            self.store = MemoryStateStore()
        work_dlq = LocalQueue("work-dlq", clock)
        event_dlq = LocalQueue("event-dlq", clock)
        self.work_dlq, self.event_dlq = work_dlq, event_dlq
        self.work_queue = LocalQueue(
            "work",
            clock,
            visibility_timeout_seconds=QUEUE_VISIBILITY_SECONDS,
            dead_letters=work_dlq,
        )
        self.event_queue = LocalQueue(
            "events", clock, visibility_timeout_seconds=60, dead_letters=event_dlq
        )

    def stop(self) -> None:
        try:
            # What this process published and no pump routed yet (a ``podium runs kill``
            # from the CLI, which never pumps) would end with it: offered to the triggers
            # on Podium's bus now, while the store is open. The runs they start are left
            # on the home for ``podium dev`` (or the next ``podium run``) to adopt. (No
            # mock: never started, or stopped already.)
            if getattr(self, "services", None) is not None and self._mock is not None:
                self._route_own_events()
        except Exception as exc:  # the process ends anyway: said, not raised over its end
            log.warning("status changes not offered to bus: podium triggers: %s", exc)
        finally:
            self._retire()

    def _retire(self) -> None:
        bootstrap.install(None)
        if self._capturing:
            capture.uninstall()
            self._capturing = False
        if self._logs_db is not None and self._logs_db is not self._db:
            self._logs_db.close()
        self._logs_db = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        try:
            if self.owners is not None:
                self._leave_the_registry(self.owners)
        finally:  # closed even when the home refuses the retirement (locked, read-only)
            self.owners = None
            if self._db is not None:
                self._db.close()
                self._db = None

    @staticmethod
    def _leave_the_registry(owners: Owners) -> None:
        """Retire, waiting a while for a home another process keeps locked: a row left
        behind keeps this process's messages from the next one until it is gone."""
        lock = _LockWait(RETIRE_PATIENCE_S)
        while True:
            try:
                owners.retire()
                return
            except HomeLocked as exc:
                lock.wait(exc)

    # use cases -------------------------------------------------------------------
    def push(self, source: str | Path | dict[str, Any]) -> str:
        """Push a definition; a file's ``podium.toml`` adds its function mapping (the
        runtime's own ``functions`` win)."""
        if isinstance(source, Path):
            from podium.local.functions import config_beside, functions_for
            from podium.local.stand_ins import read_stand_ins

            for name, target in functions_for(source).items():
                self.functions.setdefault(name, target)
            self.stand_ins.merge(read_stand_ins(config_beside(source)))
            if self.services.http is not None:
                self._wire_stand_ins()  # hosts and secrets of this file too
            wv, _ = push_workflow(self.services, source.read_text(), str(source))
        else:
            wv, _ = push_workflow(self.services, source)
        return wv.name

    def start_run(
        self,
        workflow: str,
        params: dict[str, Any] | None = None,
        *,
        tags: dict[str, str] | None = None,
    ) -> RunRecord:
        return start_run(self.services, workflow, params, trigger="local", tags=tags)

    def run(
        self,
        source: str | Path | dict[str, Any],
        params: dict[str, Any] | None = None,
        on_progress: Callable[[RunView], None] | None = None,
    ) -> RunView:
        name = self.push(source)
        run = self.start_run(name, params)
        self.pump(on_progress=on_progress, run_id=run.run_id)
        return self.describe(run.run_id)

    def describe(self, run_id: str) -> RunView:
        return describe_run(self.services, run_id)

    # the pump --------------------------------------------------------------------
    def pump(
        self,
        *,
        max_deliveries: int | None = None,
        on_progress: Callable[[RunView], None] | None = None,
        run_id: str | None = None,
        progress_every_s: float = 0.25,
        workers: int | None = None,
        advance_time: bool = True,
        wait: bool = True,
    ) -> int:
        """Deliver messages until both queues are empty (or a limit); returns deliveries.
        ``wait=False`` delivers only what is due now (time does not move on to the next
        timer): a test's view of "everything that happens before the next event".

        ``advance_time=False`` stops once nothing is due now, instead of moving virtual
        time to the next timer (a test then sends a signal to a step that waits): the
        same as ``wait=False``, by another name.

        With several ``workers`` (default: the runtime's), messages are delivered one at a
        time on a pool of threads, so ready steps run in parallel; virtual time moves
        only when no delivery is in flight, so the result is the same as with one.

        A home another process keeps locked past the busy timeout is waited for, said in
        a line (``_LockWait``): the lock passes, and the run goes on."""
        count = _Count()
        lock = _LockWait(LOCK_PATIENCE_S)
        while True:
            try:
                if (workers or self.workers) > 1 and advance_time and wait:
                    self._pump_parallel(
                        count,
                        workers or self.workers,
                        max_deliveries,
                        on_progress,
                        run_id,
                        progress_every_s,
                    )
                else:
                    self._pump_serial(
                        count,
                        max_deliveries,
                        on_progress,
                        run_id,
                        progress_every_s,
                        advance_time and wait,
                    )
                break
            except HomeLocked as exc:
                lock.wait(exc, progress=count.n)
        if on_progress and run_id:
            on_progress(self.describe(run_id))
        self.delivered += count.n
        return count.n

    def _pump_serial(
        self,
        count: _Count,
        max_deliveries: int | None,
        on_progress: Callable[[RunView], None] | None,
        run_id: str | None,
        progress_every_s: float,
        moving: bool,
    ) -> None:
        last_progress = time.monotonic()
        context = _Context()
        while max_deliveries is None or count.n < max_deliveries:
            moved = self._deliver(self.event_queue, advance_handler.handler, context)
            moved += self._deliver(self.work_queue, work_handler.handler, context)
            count.n += moved
            moved += self._route_own_events()
            if on_progress and run_id and time.monotonic() - last_progress > progress_every_s:
                on_progress(self.describe(run_id))
                last_progress = time.monotonic()
            if moved:
                continue
            if not moving:
                break
            due = [
                t
                for t in (self.event_queue.next_visible_at(), self.work_queue.next_visible_at())
                if t is not None
            ]
            if not due:
                if self._keep_waiting(run_id):
                    continue
                break
            if not self._wait_for_timers(run_id, min(due)):
                break

    def _pump_parallel(
        self,
        count: _Count,
        workers: int,
        max_deliveries: int | None,
        on_progress: Callable[[RunView], None] | None,
        run_id: str | None,
        progress_every_s: float,
    ) -> None:
        """Engine work (events, and steps that run no user code) is delivered in batches
        on this thread, as with one worker: threads would only fight over the GIL and the
        database lock. A step that runs user code gets a worker thread of its own."""
        last_progress = time.monotonic()
        context = _Context()
        inflight: set[Future[int]] = set()

        def room(size: int = 1) -> int:
            """Messages to take now, up to a batch of ``size`` (room() > 0: any room)."""
            if max_deliveries is None:
                return size
            return min(size, max_deliveries - count.n - len(inflight))

        with _Workers(workers) as pool:
            while True:
                received = self._route_own_events()
                if room() > 0:
                    batch = self.event_queue.receive(room(self.event_batch_size))
                    received += len(batch)
                    if batch:
                        count.n += self._handle(
                            self.event_queue, advance_handler.handler, batch, context
                        )
                if room() > 0 and len(inflight) < workers:
                    batch = self.work_queue.receive(room(self.work_batch_size))
                    received += len(batch)
                    engine: list[LocalMessage] = []
                    user: list[tuple[str, LocalMessage]] = []
                    for msg in batch:
                        code = self._user_code(msg.body)
                        if code is None:
                            engine.append(msg)
                        else:
                            user.append((code, msg))
                    if engine:
                        count.n += self._handle(
                            self.work_queue, work_handler.handler, engine, context
                        )
                    quick: list[tuple[str, LocalMessage]] = []
                    for code, msg in user:
                        cost = self._cost.get(code)
                        if self._probing(code):
                            # Timed on a thread of its own: a slow first call must not
                            # hold back the other ready steps (nor other calls of it).
                            inflight.add(pool.submit(self._probe, code, msg, context))
                        elif cost is not None and cost < FAST_CALL_MS:
                            quick.append((code, msg))
                        else:
                            inflight.add(
                                pool.submit(
                                    self._handle,
                                    self.work_queue,
                                    work_handler.handler,
                                    [msg],
                                    context,
                                )
                            )
                    if quick:
                        count.n += self._timed(
                            [c for c, _ in quick], [m for _, m in quick], context
                        )
                if inflight:
                    done, inflight = wait(
                        inflight,
                        timeout=0 if received else progress_every_s,
                        return_when=FIRST_COMPLETED,
                    )
                    count.n += sum(f.result() for f in done)
                elif not received:
                    if max_deliveries is not None and count.n >= max_deliveries:
                        break
                    due = [
                        t
                        for t in (
                            self.event_queue.next_visible_at(),
                            self.work_queue.next_visible_at(),
                        )
                        if t is not None
                    ]
                    if not due:
                        if self._keep_waiting(run_id):
                            continue
                        break
                    if not self._wait_for_timers(run_id, min(due)):
                        break
                if on_progress and run_id and time.monotonic() - last_progress > progress_every_s:
                    on_progress(self.describe(run_id))
                    last_progress = time.monotonic()

    def _user_code(self, body: str) -> str | None:
        """The user code a work message calls (a lambda's function, ...), or None for
        engine work. Unreadable: assume user code."""
        try:
            msg = json.loads(body)
            if msg.get("t") != "exec":
                return None
            run_id = msg["run"]
            key = self._run_versions.get(run_id)
            if key is None:
                run = self.store.get_run(run_id)
                key = self._run_versions[run_id] = (run.workflow, run.version)
            spec = self.services.definitions.get(*key).step(str(msg["step"]).split("/", 1)[0])
            kind = getattr(spec, "type", None)
            if kind in ENGINE_ONLY_STEPS:
                return None
            return f"{kind}:{getattr(spec, 'function', None) or spec.id}"
        except Exception:
            return "?"

    def _probing(self, code: str) -> bool:
        """Whether the next call of ``code`` is timed, one call per delivery: its first
        calls (the first one pays for imports), until one is quick, or at once when one
        is clearly slow. Timed on worker threads, so a slow one holds nothing up; calls
        that come while none has ended yet are timed too (the quickest counts)."""
        with self._timing:
            calls = self._probes.get(code, 0)
            cost = self._cost.get(code)
        if cost is not None and (cost < FAST_CALL_MS or cost > SLOW_CALL_MS):
            return False
        return calls < PROBE_CALLS

    def _probe(self, code: str, msg: LocalMessage, context: Any) -> int:
        started = time.perf_counter()
        try:
            return self._handle(self.work_queue, work_handler.handler, [msg], context)
        finally:
            took = (time.perf_counter() - started) * 1000
            with self._timing:  # worker threads time calls of one function at once
                self._probes[code] = self._probes.get(code, 0) + 1
                self._cost[code] = min(took, self._cost.get(code, took))

    def _timed(self, codes: list[str], batch: list[LocalMessage], context: Any) -> int:
        """Deliver on the pump's thread, timing the user code: one that proves quick
        (under FAST_CALL_MS a call) keeps being delivered here in batches, since a thread
        per call would cost more than the call; a slow one gets worker threads."""
        started = time.perf_counter()
        try:
            return self._handle(self.work_queue, work_handler.handler, batch, context)
        finally:
            took = (time.perf_counter() - started) * 1000 / len(batch)
            with self._timing:
                for code in set(codes):
                    old = self._cost.get(code)
                    self._cost[code] = took if old is None else 0.7 * old + 0.3 * took

    def _wait_for_timers(self, run_id: str | None, due: int) -> bool:
        """Nothing is due now; the next timer is at ``due``. Virtual time jumps to the
        next timer of the run we wait for; real time waits for it. False: stop (the run
        is over, and only later timers are left)."""
        if self._jumps(run_id):
            ours = self._ours(run_id, due)
            if ours is not None:
                self._jump_to(ours)
                return True
            # Only other runs' timers are left, taken over from a process that stopped
            # (an approval that waits a day): a jump would end their waits at once.
            # They are waited for in real time, as without virtual time; lost work of
            # our own run is still recovered meanwhile.
            if not self._over(run_id) and self._keep_waiting(run_id):
                return True
        if self._over(run_id):
            return False
        self._idle(due)
        return True

    def _ours(self, run_id: str | None, due: int) -> int | None:
        """The next timer virtual time may jump to (None: none of ours). Every one
        (``due``) while this runtime delivers only what it sent itself: the runs it
        started and what they started. Once it took over other processes' messages, only
        those of the run it waits for (and its child runs), and of the runs holding its
        workflow's slots while it is queued behind them."""
        if run_id is None or not self._adopted:
            return due
        return self._next_of(run_id)

    def _next_of(self, run_id: str) -> int | None:
        """When the next message of ours for the run (or a child run of it, or a run
        holding its workflow's slots while it is queued behind them) is due; None: none."""
        assert isinstance(self.work_queue, SqliteQueue)
        assert isinstance(self.event_queue, SqliteQueue)
        wanted = {self._root(run_id)}
        run = self.store.get_run(run_id)
        if run.status is RunStatus.QUEUED:
            wanted.update(self.store.run_slots().state(run.workflow).holders)
        timers = sorted([*self.event_queue.timers_by_run(), *self.work_queue.timers_by_run()])
        for at, rid in timers:
            if rid is not None and self._root(rid) in wanted:
                return at
        return None

    def _root(self, run_id: str) -> str:
        """The run at the top of ``run_id``'s tree (itself, unless a loop's iteration or
        a subworkflow's run); a run that is gone is its own."""
        root = self._roots.get(run_id)
        if root is None:
            try:
                parent = self.store.get_run(run_id).parent_run
            except RunNotFound:
                parent = None
            root = self._roots[run_id] = run_id if parent is None else self._root(parent)
        return root

    def adopt(self) -> int:
        """Take over what dead processes (and stopped ones) left on the home: their
        messages, and the steps they left running in-process (reclaimed: retried as
        lost). Returns how many of either. ``podium dev`` calls it every second."""
        assert self.owners is not None
        moved = self.owners.adopt()
        moved += len(self._reclaim_left_running())
        self._adopted = self._adopted or moved > 0
        return moved

    def _reclaim_left_running(self) -> list[str]:
        """Reclaim each step still RUNNING in-process under the claim of a process that
        left the home (stopped, or died and was adopted); returns them as ``run/step``.
        Its lease is no measure: stamped by a ``podium run`` whose virtual clock jumped
        a day's sleep, it is a day of real time away (service/abandoned.py)."""
        if self.owners is None or getattr(self, "services", None) is None:
            return []  # the runtime's start: reclaimed once its services are up
        reclaimed: list[str] = []
        for claim in self.owners.abandoned_claims():
            if claim in self._left_to_sweeper:
                continue
            run_id, step, left = claim
            now = self.owners.claim_of(run_id, step)
            if now is None or now[0] != left:
                continue  # claimed since by a live process, or ended: not left behind
            try:
                pid = _pid_of(left)
                if reclaim_left_running(self.services, run_id, step, attempt=now[1], pid=pid):
                    reclaimed.append(f"{run_id}/{step}")
                    self._adopted = True  # another process's work: its timers are not ours
                    continue
            except HomeLocked:
                raise  # the lock passes: the claim is looked at again
            except Exception:  # one step's failure must not hold up the others, every second
                log.exception("reclaiming %s/%s, left running by a stopped process", run_id, step)
            # A waiting step (a sleep, a callback) runs in no process: the sweeper's (as
            # is one whose reclaim failed: it does it once the lease passes).
            if len(self._left_to_sweeper) >= KNOWN_CLAIMS:
                self._left_to_sweeper.clear()
            self._left_to_sweeper.add(claim)
        return reclaimed

    def _idle(self, due: int) -> None:
        """Real time: wait for the next timer (at most half a second), taking over what
        other processes left for this home meanwhile (a podium callback's message)."""
        time.sleep(max(0.0, min(0.5, (due - self.clock.now_ms()) / 1000)))
        if self.owners is not None:
            self.adopt()

    def _over(self, run_id: str | None) -> bool:
        """In real time, the run we wait for has ended and only later timers are left
        (an ended run's check comes a lease, 16 minutes, later), or it waits QUEUED behind
        a blocked queue: stop waiting. Timers stay queued in the home for the next process
        (``podium run``, ``podium dev``)."""
        if run_id is None:
            return False
        run = self.store.get_run(run_id)
        if run.status.terminal or self.held(run_id):
            return True
        # QUEUED behind a strict_sequential block (a run this process ran may have just
        # failed and made it): only `podium unblock` admits it, no timer here will.
        return (
            run.status is RunStatus.QUEUED
            and self.store.run_slots().state(run.workflow).blocked_by is not None
        )

    def _jumps(self, run_id: str | None) -> bool:
        """Whether virtual time may jump to the next timer. Not while the run waits for
        a callback or for signals (a person, an outside system, ``podium signal send``
        from another terminal): with the fast-forward clock of ``podium run`` its
        timeout would come at once. A manual clock (tests) jumps."""
        if isinstance(self.clock, ManualClock):
            return True
        if not isinstance(self.clock, FastForwardClock):
            return False
        return (
            not self._awaiting_callback(run_id)
            and not self._awaiting_signals(run_id)
            and not self.held(run_id)
        )

    def held(self, run_id: str | None) -> bool:
        """Whether the run waits for an operator: it is PAUSED, or a step of it (or of a
        child run below it) is held PAUSED at a breakpoint. Nothing this process delivers
        moves it on (``podium runs resume``, ``podium steps resume`` do, and run it on),
        and a jump of virtual time would only bring its timeout."""
        if run_id is None:
            return False
        try:
            run = self.store.get_run(run_id)
        except RunNotFound:
            return False
        if run.status is RunStatus.PAUSED:
            return True
        return self._awaiting(run_id, callbacks=False, held=True)

    def _awaiting_signals(self, run_id: str | None) -> bool:
        return self._awaiting(run_id, callbacks=False)

    def _awaiting_callback(self, run_id: str | None) -> bool:
        return self._awaiting(run_id, callbacks=True)

    def _awaiting(self, run_id: str | None, *, callbacks: bool, held: bool = False) -> bool:
        """Whether a step of the run, or of a child run below it (a loop's iteration, a
        subworkflow's run), waits for signals (``callbacks``: for a callback or an
        approval; ``held``: PAUSED at a breakpoint). Only the workflows whose definitions
        have such a step (or a loop or subworkflow, whose children may), or with a
        breakpoint set, are read while the pump idles."""
        from podium.service.breakpoints import breakpoints_of
        from podium.service.callbacks import CALLBACK_TYPES

        # The status a step of the run shows while it waits so (a callback's is RUNNING).
        waiting = (
            None if callbacks else StepStatus.PAUSED if held else StepStatus.WAITING_FOR_SIGNALS
        )
        todo = [] if run_id is None else [run_id]
        while todo:
            try:
                run = self.store.get_run(todo.pop())
            except RunNotFound:
                continue
            if run.status.terminal:
                continue
            compiled = self.services.definitions.get(run.workflow, run.version)
            waits, parents = self._may_wait((run.workflow, run.version), compiled, callbacks)
            if held:
                waits = bool(breakpoints_of(self.services, run.workflow))
            if not waits and not parents:
                continue  # most workflows: nothing is read while the pump idles
            for record in self.store.list_steps(run.run_id):
                if record.status is waiting:
                    return True
                if record.status is not StepStatus.RUNNING:
                    continue
                spec = compiled.step(record.step)
                if callbacks and getattr(spec, "runtime_key", spec.type) in CALLBACK_TYPES:
                    return True
                if parents:
                    runtime = self.services.runtime_for(spec)
                    todo += runtime.child_runs(self.services, run, record)
        return False

    def _may_wait(
        self, version: tuple[str, int], compiled: Any, callbacks: bool
    ) -> tuple[bool, bool]:
        """(has steps that wait: for signals, or for callbacks; has steps with child
        runs), per workflow version (a loop body's own definition included)."""
        from podium.service.callbacks import CALLBACK_TYPES

        key = (*version, callbacks)
        known = self._may_wait_cache.get(key)
        if known is None:
            steps = compiled.definition.steps
            kinds = {getattr(s, "runtime_key", s.type) for s in steps}
            if callbacks:
                waits = bool(kinds & CALLBACK_TYPES)
            else:
                waits = any(getattr(s, "wait_for", None) for s in steps)
            known = self._may_wait_cache[key] = (waits, bool(kinds & PARENT_STEP_TYPES))
        return known

    def _keep_waiting(self, run_id: str | None) -> bool:
        """Nothing of ours is queued. In a home shared with other processes, adopt the
        work of dead ones, and wait while another live process may still end our run."""
        if self.owners is None:
            return False
        pause = max(0.0, self._next_look - time.monotonic())
        if pause:
            time.sleep(pause)
        self._next_look = time.monotonic() + 0.1
        if self.adopt():
            return True
        if run_id is None or self._over(run_id):
            return False  # ended, or held for an operator (recovering would time it out)
        if self.owners.others_alive():
            return True
        if self._next_of(run_id) is not None:
            # Sent to us since the pump looked (read after the others left, so what they
            # sent before leaving is seen): a process that admitted our queued run as its
            # own ended, then stopped. Delivered, not recovered by a jump of the clock.
            return True
        if self._awaiting_callback(run_id):
            if not self._told_callback:
                self._told_callback = True
                log.warning(
                    "run %s waits for a callback: podium callback TOKEN --success JSON"
                    " (the token is in podium runs show %s)",
                    run_id,
                    run_id,
                )
            return True  # a callback from another process (podium callback) ends it
        return self._recover(run_id)

    def _recover(self, run_id: str) -> bool:
        """Our run is not over, nothing is queued, and no other process works on this
        home: what is left was lost with a process that died (a step RUNNING under a dead
        worker, a message it never sent). The sweeper finds it once its lease or the
        stale-ready delay has passed, so virtual time jumps there and the sweeper runs,
        as the deployed stack's scheduled sweep would. Real time: nothing to jump over."""
        if not isinstance(self.clock, (ManualClock, FastForwardClock)):
            return False
        if self._recoveries >= MAX_RECOVERIES:
            return False
        self._recoveries += 1
        from podium.core.engine.checks import first_check
        from podium.service.sweep import sweep

        now = self.clock.now_ms()
        # A queued run waits for the runs holding its workflow's slots: a step one of them
        # left RUNNING (its process was stopped mid-step) holds ours up too.
        run = self.store.get_run(run_id)
        holders = (
            sorted(self.store.run_slots().state(run.workflow).holders)
            if run.status is RunStatus.QUEUED
            else []
        )
        leases = [
            s.lease_until
            for rid in (run_id, *holders)
            for s in self.store.list_steps(rid)
            if s.status is StepStatus.RUNNING and s.lease_until is not None
        ]
        target = min(leases) + 1 if leases else now + self.services.stale_ready_ms + 1
        # ... and not before the sweeper's next look at the run (its due-work index).
        check = first_check(self.store.get_run(run_id))
        self._jump_to(max(now, target, now + self.services.stale_ready_ms + 1, check))
        report = sweep(self.services, self.store)
        return bool(report.redriven or report.reclaimed or report.completed)

    def _jump_to(self, ms: int) -> None:
        """Move virtual time on to ``ms``, and say so on the home at once: a process that
        takes over what this one leaves (killed next) moves its times back by as much
        (adapters/sqlite/clock_offsets.py)."""
        self.clock.advance_to(ms)  # type: ignore[union-attr]
        if self.owners is not None:
            self.owners.note_clock()

    def _route_own_events(self) -> int:
        """What the engine published since the last pass, offered to the triggers on
        Podium's bus (``event: {bus: podium}``), as on AWS."""
        take = getattr(self.services.events, "take_unrouted", None)
        return route_own_events(self.services, take()) if take is not None else 0

    def _deliver(self, queue: LocalQueue | SqliteQueue, handler: Handler, context: Any) -> int:
        size = self.work_batch_size if queue is self.work_queue else self.event_batch_size
        batch = queue.receive(size)
        if not batch:
            return 0
        return self._handle(queue, handler, batch, context)

    def _handle(
        self,
        queue: LocalQueue | SqliteQueue,
        handler: Handler,
        batch: list[LocalMessage],
        context: Any,
    ) -> int:
        with self._serial:
            return self._handle_batch(queue, handler, batch, context)

    def _handle_batch(
        self,
        queue: LocalQueue | SqliteQueue,
        handler: Handler,
        batch: list[LocalMessage],
        context: Any,
    ) -> int:
        if self._shuffle is not None:
            self._shuffle.shuffle(batch)
        failed = self._invoke(handler, batch, context)
        done = [msg.receipt for msg in batch if msg.message_id not in failed]
        delete_many = getattr(queue, "delete_many", None)
        if callable(delete_many):
            delete_many(done)  # one write for the batch (SQLite home)
        else:
            for receipt in done:
                queue.delete(receipt)
        if self.deliver_twice:
            self._invoke(handler, batch, context)  # a duplicate delivery of the same batch
        return len(batch)

    @staticmethod
    def _invoke(handler: Handler, batch: list[LocalMessage], context: Any) -> set[str]:
        event = {
            "Records": [
                {
                    "messageId": m.message_id,
                    "receiptHandle": m.receipt,
                    "body": m.body,
                    "attributes": {"ApproximateReceiveCount": str(m.receive_count)},
                    "messageAttributes": {},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": f"arn:aws:sqs:{REGION}:000000000000:local",
                    "awsRegion": REGION,
                }
                for m in batch
            ]
        }
        _delivering.on = True
        try:
            response = handler(event, context)
        except _Unwritable as stop:
            # The batch stays queued and its step RUNNING, for a process to reclaim once
            # the home is fixed; the pump (podium run) stops and says why in a line.
            raise stop.error from None
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # a failed or crashed invocation: the batch stays queued
            return {m.message_id for m in batch}
        finally:
            _delivering.on = False
        return {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}

    def dead_letters(self) -> list[dict[str, Any]]:
        return [*self.work_dlq.bodies(), *self.event_dlq.bodies()]


# Whether this thread is delivering a batch (``_invoke``): _HomePayloads stops it so.
_delivering = threading.local()


class _Unwritable(BaseException):
    """The home's payloads/ could not be written during a delivery. A BaseException,
    raised through the handler as a kill would be: caught as an Exception, the step's
    output lost would count as a lost worker and its function run again (each time
    losing its output again, eleven times); ``_invoke`` gives the pump the error."""

    def __init__(self, error: PayloadsUnwritable) -> None:
        super().__init__(str(error))
        self.error = error


class _HomePayloads(FilePayloads):
    """The home's payloads, which stop a delivery that cannot write them (``_Unwritable``);
    elsewhere (a run's big parameters, as it starts) the error is raised as it is."""

    def put(self, key: str, data: bytes) -> str:
        try:
            return super().put(key, data)
        except PayloadsUnwritable as exc:
            if getattr(_delivering, "on", False):
                raise _Unwritable(exc) from exc
            raise


class _Workers:
    """The threads that run steps' user code for ``_pump_parallel``. Daemon threads, not
    a ThreadPoolExecutor's: those are joined when the pool closes and at the process's
    exit, so a Ctrl-C of ``podium run`` would wait for a step that may run for minutes
    (and record its end). Here the process stops at once; the attempt is left RUNNING,
    and the next process on the home reclaims it (service/abandoned.py)."""

    def __init__(self, n: int) -> None:
        self._todo: queue.SimpleQueue[
            tuple[Future[int], Callable[..., int], tuple[Any, ...]] | None
        ]
        self._todo = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"podium-worker-{i}", daemon=True)
            for i in range(n)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., int], *args: Any) -> Future[int]:
        future: Future[int] = Future()
        self._todo.put((future, fn, args))
        return future

    def _work(self) -> None:
        while (item := self._todo.get()) is not None:
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # the pump's thread reads it (future.result())
                future.set_exception(exc)

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        for _ in self._threads:
            self._todo.put(None)
        if kind is not None and issubclass(
            kind, (KeyboardInterrupt, SystemExit, PayloadsUnwritable)
        ):
            return  # stopping: what is in flight is left to the next process
        for thread in self._threads:
            thread.join()  # a locked home: what is in flight ends before the pump resumes


class _Count:
    """The deliveries of one ``pump``, kept across its waits for a locked home."""

    def __init__(self) -> None:
        self.n = 0


class _LockWait:
    """Waiting out another process's lock on the home (``HomeLocked``: held past the
    busy timeout), as ``podium dev``'s workers do: said in a line when the wait begins
    (no traceback: nothing is wrong), tried again every LOCK_RETRY_S, and given up in a
    line once ``patience_s`` passed with no progress (a shell left in a transaction)."""

    def __init__(self, patience_s: float) -> None:
        self.patience_s = patience_s
        self._since: float | None = None
        self._progress = 0

    def wait(self, exc: HomeLocked, progress: int = 0) -> None:
        now = time.monotonic()
        if self._since is None or progress != self._progress:  # the lock came (again)
            self._since, self._progress = now, progress
            log.warning(
                "%s. Waiting for the lock (at most %s; Ctrl-C stops)",
                exc,
                _minutes(self.patience_s),
            )
        elif now - self._since >= self.patience_s:
            raise HomeLocked(
                f"{exc}; waited {_minutes(self.patience_s)} for the lock, then gave up (what"
                " is queued stays in the home: podium run or podium dev on it carries it on)"
            ) from None
        time.sleep(LOCK_RETRY_S)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} minute{'' if seconds == 60 else 's'}"


def _pid_of(token: str) -> int | None:
    """The pid in an owner's token (``host:pid:nonce``, adapters/sqlite/queue.py)."""
    parts = token.rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and is_ascii_digits(parts[1]) else None
