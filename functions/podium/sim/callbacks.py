"""The callback side of the simulated world: the bus that counts the tokens the engine
publishes, the async invokes the runner receives, and the outside party that calls back.

The engine hands a waiting step's token out twice over (service/runtimes/callback.py):
on the bus (``Podium Callback Token``, every ``wait_for_callback``, ``approval`` and
``lambda`` with ``invocation: async``) and, for an async lambda, in the event of its
``Event`` invoke. ``SimEvents`` and the runner's ``invoke_async`` count both per
attempt key, and note for each one whether it could legitimately be a repeat (the
start's mark missing and the worker that made the earlier one gone): a repeat that
could not is a ``double_start``.

The ``CallbackSender`` plays whoever holds the token: the async lambda's function (it
sees the invoke) or the subscriber of the bus (it sees the token event of a
``wait_for_callback`` or an ``approval``). What it does for an attempt is the step's
*behaviour* (``Shape.callbacks``, by step id), so that the fault-free world and every
faulty one agree on the outcome:

- ``success``, ``fail``: one result, a few seconds after the token came;
- ``late``: a success after the step's deadline (it must end TIMED_OUT);
- ``never``: nothing (the step's timeout ends it);
- ``beats``: heartbeats more often than ``heartbeat_seconds``, then a success after
  more than one interval (the heartbeats keep it alive);
- ``silent``: one heartbeat, then nothing (the heartbeat check ends it TIMED_OUT);
- ``approve``, ``reject``: an approver's decision (``by`` one of its approvers);
- ``any``: one of success, fail, late and never, drawn by the seed (the step is
  loose; the per-attempt oracle judges it, ``invariants._check_callbacks``);
- ``run_deadline``: for a step of a workflow with a ``timeout``: fault-free, a success
  well before the run's deadline; faulty, a success or a failure just before the run's
  deadline, at it or just after it (the step is loose; the per-attempt oracle judges it
  against the earlier of the run's deadline and the step's), and a heartbeat on either
  side of it;
- ``after_run_deadline``: a success just after the deadline its run ends by (for a
  loop's or a subworkflow's child, the earliest of its ancestors' bounds): fault-free
  1 ms after it, racing its timer; it is refused (deadline_passed) and the step ends
  TIMED_OUT or STOPPED;
- ``fail_echo``: ``fail``, and once the step's next attempt hands its token out, the
  failure of the attempt before and a heartbeat for it again (a party still holding an
  old token): a closed attempt refuses both (``callback_stale``).

In a faulty world the seed adds what does not change an outcome: the timing within
the window, a second copy of the result (a client retrying), a conflicting second
result (refused), a stranger's decision of an approval (refused), extra heartbeats,
and a client that retries a request that died of an injected fault (or, now and then,
gives up when its result had been recorded: the engine must still apply it). Every
request goes through the API's service entry point, ``service.callbacks.callback``,
as a process of the world (so crashes, throttles and lost replies hit it too), and
clock jumps never straddle one: a callback is received at its time.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from podium.adapters.events import MemoryEvents
from podium.core.engine.errors import NotFound
from podium.core.ports import Invocation, InvocationResult
from podium.service.runtimes.callback import TOKEN_EVENT, find_result_mark, token_event_id
from podium.sim.faults import INJECTED

if TYPE_CHECKING:
    from podium.sim.harness import Proc, World

BEHAVIOURS = frozenset(
    {
        "success",
        "fail",
        "late",
        "never",
        "beats",
        "silent",
        "approve",
        "reject",
        "any",
        "run_deadline",
        "fail_echo",
        "after_run_deadline",
    }
)
APPROVERS = ("alice", "bob")
RESULT_MS = 5_000  # fault-free: a result this long after the token came
RETRY_MS = 1_000  # a client retries a request that failed
GIVE_UP = 0.3  # a client gives up a failed request whose result was recorded
# ... on any step: the request set a poll of the attempt before recording the result
# (service/callbacks.py), which applies it. With False, only on a step that something
# else looks at soon (a heartbeat check, a deadline within PROMPT_MS): without that
# poll, a recorded result waited for the step's deadline (10 days by default), which
# ``callback_stuck`` flags.
GIVE_UP_ANYWHERE = True
PROMPT_MS = 3_600_000
DUPLICATE = 0.35  # the same result sent again
CONFLICT = 0.35  # a different result sent after the first
STRANGER = 0.4  # someone not among the approvers decides first
EXTRA_BEAT = 0.3  # a heartbeat nobody needed
# A Lambda function lives 15 minutes at most; a simulated process parked across clock
# jumps can outlive that, which no worker does (the engine counts on it).
LAMBDA_MAX_MS = 900_000
# ``run_deadline``: faulty, a result this close to the run's deadline (before or after),
# or at it; fault-free, this long before it.
EDGE_MS = 5_000
EDGE_AT = 0.25  # at the run's deadline itself (in time), racing its timer
EDGE_SUCCESS = 0.6  # a success, else a failure
CALM_MS = 30_000


Key = tuple[str, str, int]  # (run, step path, attempt)


@dataclass
class Publication:
    """One token event or async invoke of an attempt, and whether a repeat was due."""

    what: str  # "token" or "invoke"
    at: int
    proc: Proc | None
    problem: str | None = None  # why this one should not have happened (a repeat)


@dataclass(order=True)
class Request:
    due: int
    seq: int
    key: Key = field(compare=False)
    token: str = field(compare=False)
    body: dict[str, Any] = field(compare=False)
    kind: str = field(compare=False)  # result, duplicate, conflict, heartbeat, stranger
    tries: int = field(default=0, compare=False)
    # Sent once this one is answered (or given up after its result was recorded): a
    # duplicate or a conflicting result comes after the first is decided, never before.
    then: list[tuple[int, dict[str, Any], str]] = field(default_factory=list, compare=False)


@dataclass
class Answer:
    key: Key
    kind: str
    body: dict[str, Any]
    at: int  # when it was answered
    accepted: bool
    detail: str
    began: int = 0  # when its request began (what it did happened in between)
    # The world's call sequence number when it began (``World.seq``: exact where clock
    # times tie), to compare with the writes the harness saw (a later attempt's claim).
    began_seq: int = 0


class SimEvents(MemoryEvents):
    """The bus: kept as MemoryEvents keeps it; a token event is counted per attempt and
    handed to the sender (the subscriber of ``wait_for_callback`` and ``approval``)."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self._world = world

    def publish(self, events: Any) -> None:
        super().publish(events)
        for event in events:
            if event.get("detail-type") != TOKEN_EVENT:
                continue
            detail = event["detail"]
            key = (str(detail["run_id"]), str(detail["step"]), int(detail["attempt"]))
            self._world.callbacks.published(key, "token")
            if detail.get("type") != "lambda":  # an async lambda's function calls back
                self._world.callbacks.sighted(key, str(detail["token"]))


def invoke_async(world: World, invocation: Invocation) -> InvocationResult:
    """The runner's ``Event`` invoke: counted per attempt; the function calls back."""
    run_id, step, attempt = invocation.idempotency_key.rsplit("/", 2)
    key = (run_id, step, int(attempt))
    world.callbacks.published(key, "invoke")
    world.callbacks.sighted(key, str(invocation.payload["callback_token"]))
    return InvocationResult(True)


class CallbackSender:
    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = random.Random(world.seed * 15_485_863 + 11)  # its own stream
        self.pending: list[Request] = []
        self._seq = itertools.count()
        self.seen: set[Key] = set()
        self.publications: dict[tuple[Key, str], list[Publication]] = {}
        self.answers: list[Answer] = []
        self.chosen: dict[Key, str] = {}  # the behaviour each attempt got
        self.active = 0  # callback requests in flight (a clock jump waits for them)
        self.sent: Counter[str] = Counter()
        self.gave_up = 0
        # ``fail_echo``: (run, step) -> the last attempt's key, token and result, sent
        # again once the next attempt's token comes
        self._echoes: dict[tuple[str, str], tuple[Key, str, dict[str, Any]]] = {}

    # ------------------------------------------------------------ what the engine did

    def published(self, key: Key, what: str) -> None:
        """A token event or an async invoke of ``key``: a repeat is legitimate only when
        the start left no mark and the worker of the one before is gone (it died, or a
        worker's lease has passed since it began: no Lambda lives that long)."""
        world = self.world
        proc = world.sched.current()
        now = world.clock.now_ms()
        seen = self.publications.setdefault((key, what), [])
        problem = None
        if proc is not None and now - proc.started_ms > LAMBDA_MAX_MS:
            pass  # a worker parked past any Lambda's life (a sim artifact): not judged
        elif seen:
            before = seen[-1].proc
            if self._marked(key):
                problem = "the start had completed (its token is in the timeline)"
            elif before is not None and before.error is None:
                alive = not before.done
                if not alive:
                    problem = "the worker that made the one before finished cleanly"
                elif now - before.started_ms < world.ctx.lease_ms:
                    problem = "the worker that made the one before is still at it"
        seen.append(Publication(what, now, proc, problem))

    def _marked(self, key: Key) -> bool:
        run_id, step, attempt = key
        store = self.world.inner_store
        try:
            record = store.get_step(run_id, step)
        except NotFound:
            return False
        if record is None or record.started_at is None or record.attempt != attempt:
            return False
        wanted = token_event_id(step, attempt)
        return any(
            e.event_id == wanted and e.at >= record.started_at for e in store.list_events(run_id)
        )

    # ------------------------------------------------------------ what the party does

    def behaviour_of(self, step_path: str) -> str | None:
        return self.world.shape.callbacks.get(step_path.rsplit("/", 1)[-1])

    def sighted(self, key: Key, token: str) -> None:
        """The party learns the token (the first time only: a repeated token event or
        invoke is the same attempt, which it already answers)."""
        if key in self.seen:
            return
        self.seen.add(key)
        behaviour = self.behaviour_of(key[1])
        if behaviour is None:
            return
        spec = _step_spec(self.world.shape.workflows, key[1].rsplit("/", 1)[-1])
        timeout_ms = int(float(spec.get("timeout") or 0) * 1000)
        beat_ms = int(spec.get("heartbeat_seconds") or 0) * 1000
        faulty = self.world.faults_on
        rng = self.rng
        if behaviour == "any":
            behaviour = rng.choice(("success", "fail", "late", "never")) if faulty else "success"
        self.chosen[key] = behaviour
        now = self.world.clock.now_ms()
        step = key[1].rsplit("/", 1)[-1]
        ok: dict[str, Any] = {"success": {"cb": step, "attempt": key[2]}}
        bad: dict[str, Any] = {"fail": f"{step} failed by its callback (attempt {key[2]})"}
        if behaviour in ("approve", "reject"):
            by = rng.choice(APPROVERS) if faulty else APPROVERS[0]
            ok = {"success": True, "by": by, "comment": "looks good"}
            bad = {"fail": "not today", "by": by}
            if faulty and rng.random() < STRANGER:
                stranger = {"success": True, "by": "mallory"}
                self._plan(now + rng.randrange(0, RESULT_MS), key, token, stranger, "stranger")
        first: dict[str, Any] | None
        other: dict[str, Any]
        at = now + (rng.randrange(1_000, 30_000) if faulty else RESULT_MS)
        if behaviour == "fail_echo":
            # The attempt before (closed: failed, retried) hears again from its party:
            # its failure and a heartbeat, while this one waits. Both refused.
            before = self._echoes.get((key[0], key[1]))
            if before is not None:
                old_key, old_token, old_result = before
                soon = rng.randrange(0, 1_000) if faulty else 1_000
                self._plan(now + soon, old_key, old_token, {"heartbeat": True}, "heartbeat")
                self._plan(now + soon, old_key, old_token, old_result, "echo")
            self._echoes[(key[0], key[1])] = (key, token, bad)
            behaviour = "fail"
        if behaviour in ("success", "approve"):
            first, other = ok, bad
        elif behaviour in ("fail", "reject"):
            first, other = bad, ok
        elif behaviour == "late":
            first, other = ok, bad
            at = now + timeout_ms + (rng.randrange(5_000, 120_000) if faulty else 30_000)
        elif behaviour == "beats":
            first, other = ok, bad
            gap = int(beat_ms * (rng.uniform(0.2, 0.45) if faulty else 0.4))
            beats = 3
            for i in range(1, beats + 1):
                self._plan(now + i * gap, key, token, {"heartbeat": True}, "heartbeat")
            at = now + (beats + 1) * gap
        elif behaviour == "run_deadline":
            first, other = ok, bad
            ends = self._run_deadline(key[0], step)
            at = ends - CALM_MS
            if faulty:
                if rng.random() >= EDGE_SUCCESS:
                    first, other = bad, ok
                offset = rng.randrange(1, EDGE_MS) * rng.choice((-1, 1))
                at = ends + (0 if rng.random() < EDGE_AT else offset)
                beat = ends + rng.randrange(-EDGE_MS, EDGE_MS)
                self._plan(max(now, beat), key, token, {"heartbeat": True}, "heartbeat")
                what = "success" if first is ok else "fail"
                self.chosen[key] = f"run_deadline: {what} at {at - ends:+d} ms"
            at = max(now, at)
        elif behaviour == "after_run_deadline":
            # Just after the deadline its run ends by (a loop's or subworkflow's child:
            # the earliest of its ancestors' bounds): fault-free 1 ms after, racing the
            # deadline's timer (the request comes first); faulty, up to EDGE_MS after.
            first, other = ok, bad
            ends = self._run_deadline(key[0], step)
            at = max(now, ends + (rng.randrange(1, EDGE_MS) if faulty else 1))
        elif behaviour == "silent":
            first, other = None, ok
            self._plan(now + beat_ms // 3, key, token, {"heartbeat": True}, "heartbeat")
        else:  # never
            first, other = None, ok
        if faulty and rng.random() < EXTRA_BEAT:
            self._plan(now + rng.randrange(0, 10_000), key, token, {"heartbeat": True}, "heartbeat")
        if first is None:
            return
        then: list[tuple[int, dict[str, Any], str]] = []
        if faulty and rng.random() < DUPLICATE:
            then.append((self._soon(), first, "duplicate"))
        if faulty and rng.random() < CONFLICT:
            if behaviour in ("success", "beats", "late") and rng.random() < 0.5:
                other = {"success": {"cb": step, "attempt": key[2], "other": True}}
            then.append((self._soon(), other, "conflict"))
        self._plan(at, key, token, first, "result", then)

    def _run_deadline(self, run_id: str, step_id: str) -> int:
        """When the run of ``step_id`` ends by a deadline: its own, or an ancestor's (a
        loop iteration, a subworkflow's run), read from the world's own store."""
        ends = deadline_over(self.world, self.world.inner_store.get_run(run_id))
        assert ends is not None, f"{step_id} (run_deadline) is in no run with a timeout"
        return ends

    def _plan(
        self,
        due: int,
        key: Key,
        token: str,
        body: dict[str, Any],
        kind: str,
        then: list[tuple[int, dict[str, Any], str]] | None = None,
    ) -> None:
        request = Request(due, next(self._seq), key, token, body, kind, then=then or [])
        heapq.heappush(self.pending, request)

    def _soon(self) -> int:
        """A follow-up's delay: at once (racing the first result's done message), in
        a moment, or seconds later (after the attempt closed)."""
        return self.rng.choice((0, self.rng.randrange(1, 500), self.rng.randrange(500, 20_000)))

    def _follow_up(self, request: Request) -> None:
        now = self.world.clock.now_ms()
        for delay, body, kind in request.then:
            self._plan(now + delay, request.key, request.token, body, kind)
        request.then = []

    # ------------------------------------------------------------ the world's clock

    def next_due(self) -> int | None:
        return self.pending[0].due if self.pending else None

    def is_due(self, now: int) -> bool:
        return bool(self.pending) and self.pending[0].due <= now

    def clamp_jump(self, now: int, jump: int) -> int:
        """A clock jump stops at the next callback (the party calls back on its own
        clock, whatever the engine is doing), and waits for one in flight (an API call
        does not take minutes)."""
        if self.active:
            return 0
        nxt = self.next_due()
        return jump if nxt is None else min(jump, max(0, nxt - now))

    def send_next(self) -> None:
        request = heapq.heappop(self.pending)
        self.send(request)

    def send(self, request: Request) -> None:
        from podium.service.callbacks import CallbackRefused, callback, parse_callback

        world = self.world
        request_began = [0, 0]
        self.sent[request.kind] += 1
        request.tries += 1

        def call() -> None:
            self.active += 1
            request_began[0], request_began[1] = world.clock.now_ms(), world.seq
            try:
                parsed = parse_callback(request.body)
                try:
                    answer = callback(world.ctx, request.token, parsed)
                except CallbackRefused as exc:
                    detail = f"{exc.status.value} {exc.code}: {exc.message}"
                    self._answer(request, False, detail, *request_began)
                    return
                self._answer(request, True, json.dumps(answer, sort_keys=True), *request_began)
            finally:
                self.active -= 1

        def done(proc: Proc) -> None:
            if proc.error is None or not isinstance(proc.error, INJECTED):
                return  # answered, or a handler error (the world counts it)
            if (
                request.kind != "heartbeat"
                and self._may_give_up(request.key)
                and self._recorded(request.key)
                and world.faults_on
                and self.rng.random() < GIVE_UP
            ):
                world.log(f"CALLBACK client gives up {request.kind} {request.key}")
                self.gave_up += 1
                self._follow_up(request)
                return
            request.due = world.clock.now_ms() + RETRY_MS
            heapq.heappush(self.pending, request)

        label = f"api<callback {request.kind} {request.key[1]}#{request.key[2]}>"
        world.spawn("api", label, call, done)

    def _answer(
        self, request: Request, accepted: bool, detail: str, began: int, began_seq: int
    ) -> None:
        now = self.world.clock.now_ms()
        self._follow_up(request)
        self.world.log(f"CALLBACK {request.kind} {request.body} -> {detail}")
        answer = Answer(
            request.key, request.kind, request.body, now, accepted, detail, began, began_seq
        )
        self.answers.append(answer)

    def stats(self) -> Counter[str]:
        """Which paths the world took (a test checks that a bulk run takes them all)."""
        out: Counter[str] = Counter({f"sent {k}": n for k, n in self.sent.items()})
        for a in self.answers:
            if a.accepted:
                again = " again" if '"repeated"' in a.detail else ""
                out[f"{a.kind} accepted{again}"] += 1
            elif "already has its result" in a.detail:
                out[f"{a.kind} refused: another result came first"] += 1
            else:
                out[f"{a.kind} refused: {a.detail.split(':')[0]}"] += 1
        for (_, what), pubs in self.publications.items():
            out[f"{what} repeated"] += len(pubs) - 1
        out["gave up"] += self.gave_up
        return +out

    def _may_give_up(self, key: Key) -> bool:
        if GIVE_UP_ANYWHERE:
            return True
        spec = _step_spec(self.world.shape.workflows, key[1].rsplit("/", 1)[-1])
        timeout = spec.get("timeout")
        return bool(spec.get("heartbeat_seconds")) or (
            timeout is not None and float(timeout) * 1000 <= PROMPT_MS
        )

    def _recorded(self, key: Key) -> bool:
        run_id, step, attempt = key
        events = self.world.inner_store.list_events(run_id)
        return find_result_mark(events, step, attempt, None) is not None


def _find(workflows: Any, step_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The workflow that defines step ``step_id`` (in its loop bodies too), and the
    step's definition."""
    for wf in workflows:
        todo = list(wf["steps"])
        while todo:
            spec = todo.pop()
            if spec.get("id") == step_id:
                return dict(wf), dict(spec)
            todo += spec.get("steps", [])
    raise KeyError(step_id)


def _step_spec(workflows: Any, step_id: str) -> dict[str, Any]:
    """The definition of step ``step_id`` (looked for in loop bodies too)."""
    return _find(workflows, step_id)[1]


def deadline_over(world: World, run: Any) -> int | None:
    """The earliest deadline over the run and its ancestors, each its workflow's
    ``timeout`` (in the shape) from its start, and the ``timeout`` of each loop or
    waiting subworkflow step that started a child run, from that step's start: a child
    run ends when such a deadline stops it, and keeps a result received by then
    (lifecycle.results_by)."""
    timeouts = {w["name"]: w.get("timeout") for w in world.shape.workflows}
    found: int | None = None

    def earliest(deadline: int) -> None:
        nonlocal found
        found = deadline if found is None else min(found, deadline)

    while True:
        timeout = timeouts.get(run.workflow)
        if timeout is not None:
            started = run.started_at if run.started_at is not None else run.created_at
            earliest(started + int(float(timeout) * 1000))
        if run.parent_run is None:
            return found
        spec = _step_spec(world.shape.workflows, run.parent_step)
        bounds = spec.get("type") != "subworkflow" or spec.get("wait", True)
        if spec.get("timeout") is not None and bounds:
            step = world.inner_store.get_step(run.parent_run, run.parent_step)
            if step is not None and step.started_at is not None:
                earliest(step.started_at + int(float(spec["timeout"]) * 1000))
        run = world.inner_store.get_run(run.parent_run)
