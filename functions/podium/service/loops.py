"""Loop steps' child runs (DESIGN.md "Run lifecycle and child runs").

A foreach iteration is a child run with a deterministic id, created by a conditional
put (a replay creates nothing twice), skipping run-strategy admission. When a child
ends, ``lifecycle.run_ended`` calls ``child_ended``: it sends the parent step a ``done``
message and leaves the child unsettled; the parent's handler settles the child and
counts it (``StateStore.count_child``: exactly once, because the launch opened each
index before creating its child), then the step's runtime decides (core.engine.loops)
whether to launch more or to finish. A crash anywhere leaves the message (redelivered),
the unsettled child (the sweeper runs its ``run_ended`` again) or a settled child not
counted yet (the loop's poll counts it: ``poll_children``), so
nothing is lost and nothing counts twice.

An iteration that succeeds owing nothing else (core.engine.plans.ends_settled: the
common case) is ended and settled at once instead (``StateStore.end_counted_child``),
counted with the other ends of its Lambda batch, and its message only wakes the loop
up (service/wakeups.py). If that count or wake-up is lost, the parent run's sweeper
check polls its running loop steps (service/sweep.py): the poll counts what is settled
and uncounted, and a loop's pass is idempotent.

Iterations are created out of the sweeper's index (``RunRecord.watched``): the loop's
poll (``poll_children``), its end (``close_loop``), a pause or a breakpoint hold puts
them in.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from podium.core.engine.checks import first_check
from podium.core.engine.errors import NotFound, RunConflict, RunNotFound
from podium.core.engine.identity import MAX_DEPTH, child_run_id
from podium.core.engine.loops import (
    Counts,
    LoopError,
    Space,
    body_workflow,
    outcome_of,
)
from podium.core.engine.outputs import (
    INLINE_PARAMS_BYTES,
    MAX_OUTPUT_BYTES,
    is_ref,
    iteration_key,
    ref_of,
)
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import RunStatus
from podium.core.engine.step_error import step_timeout_error
from podium.core.engine.text_fields import utf8_json
from podium.core.expr import ExpressionError
from podium.core.expr.json_values import to_json_value
from podium.service import messages
from podium.service.bindings import MissingPayload, bindings_for, iteration_of, resolve_output
from podium.service.context import Services
from podium.service.deadlines import step_deadline
from podium.service.instant_iterations import (
    count_and_wake,
    ended_child,
    instant_launch,
    take_back_steps,
    write_ended,
)
from podium.service.lifecycle import kept_by, stop_run
from podium.service.missed_pause import launches_paused, pause_launched, paused_meanwhile
from podium.service.reuse import restarted_child
from podium.service.runtimes.base import Attempt, Failed

log = logging.getLogger("podium.loops")

# A bigger iteration space is stored once in Payloads: the loop step's item is written
# at every child's end (billed per KB of the whole item), so it must stay small.
INLINE_SPACE_BYTES = 512


def space_of(ctx: Services, run: RunRecord, record: StepRecord, spec: Any) -> Space:
    """The foreach's iterations: cached, or as stored at its first launch, or rendered
    from ``over`` (the same inputs give the same values). Raises LoopError or
    ExpressionError when they cannot be built.

    Rendered values are made JSON at once (core.expr.json_values): an iteration reads
    its values back from its stored child run, so every iteration, on every store, sees
    what was stored (a timestamp as its RFC 3339 string), never a live ``datetime`` on
    the memory store and ``str()`` of it on the others. NaN fails the step here."""
    key = (run.run_id, record.step)
    hit = ctx.spaces.get(key)
    if hit is not None:
        return hit
    if record.loop is not None:
        stored = record.loop
        if "ref" in stored:
            assert ctx.payloads is not None
            try:
                stored = json.loads(ctx.payloads.get(stored["ref"]))
            except NotFound as exc:  # expired, deleted: the step fails naming it
                raise MissingPayload(f"the iterations of {record.step!r}: {exc}") from None
        space = Space.from_json(stored)
    else:
        compiled = ctx.definitions.get(run.workflow, run.version)
        template = compiled.expressions.iterables[record.step]
        over = template.render(bindings_for(ctx, run, template.steps_read))
        space = Space.of(to_json_value(over, "over"), spec.mode.value)
    ctx.spaces.put(key, space)
    return space


def stored_space(ctx: Services, run: RunRecord, step: str, space: Space) -> dict[str, Any]:
    """What the step item keeps: the space itself when small, else its reference."""
    data = space.as_json()
    # JSON (space_of reads it back), measured and stored in UTF-8: its real size.
    text = utf8_json(data, allow_nan=False)
    if len(text) <= INLINE_SPACE_BYTES:
        return data
    assert ctx.payloads is not None
    ref = ctx.payloads.put(f"{run.run_id}/{step}/loop.json", text)
    return {"ref": ref}


def counts_of(record: StepRecord, total: int) -> Counts:
    ended = record.children_ok + record.children_failed + record.children_stopped
    return Counts(
        total,
        # The mark is raised after its children are created: ended ones were launched.
        max(record.children_launched, ended),
        record.children_ok,
        record.children_failed,
        record.children_stopped,
    )


def iteration_values(space: Space, index: int, parent: dict[str, Any] | None) -> dict[str, Any]:
    values: dict[str, Any] = {"index": index, **space.at(index)}
    if parent is not None:
        values["parent"] = parent  # the enclosing loop's iteration
    return values


def stored_iteration(ctx: Services, child_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """An iteration's values stay on its child run's item when small; big ones (a loop
    value or a while state built from a big output) are written once to Payloads, before
    the child exists, and the item keeps the reference (bindings.iteration_of reads it).
    The child run item is read on every step of its iteration, billed per KB, and stops
    at DynamoDB's 400 KB. The values are stored as JSON (core.expr.json_values), the same
    on every store; raises LoopError for one with no JSON form (NaN)."""
    try:
        values = to_json_value(values, "iteration")
    except ExpressionError as exc:  # space_of and the while's state convert first
        raise LoopError(exc.message) from None
    data = utf8_json(values, allow_nan=False)  # measured and stored in UTF-8
    if len(data) <= INLINE_PARAMS_BYTES:
        return values
    assert ctx.payloads is not None
    return ref_of(ctx.payloads.put(iteration_key(child_id), data), len(data))


def launch(
    ctx: Services,
    run: RunRecord,
    step: str,
    iterations: Space | Callable[[int], dict[str, Any]],
    first: int,
    last: int,
    loop: dict[str, Any] | None = None,
    trigger: str = "foreach",
    *,
    deadline: int | None = None,
) -> None:
    """Create children ``first..last-1`` (conditional puts: one that exists is left as
    it is) and start them with batched messages; then raise the step's launched mark.
    ``iterations`` gives each child's ``iteration`` (a foreach's space, or a while's
    index and state)."""
    if run.depth + 1 > MAX_DEPTH:
        raise LoopError(
            f"loops and subworkflows nest more than {MAX_DEPTH} levels deep (this run is"
            f" at depth {run.depth})"
        )
    name = body_workflow(run.workflow, step)
    body = ctx.definitions.get(name, run.version)
    roots = list(body.graph.roots)
    # A start only creates the roots' messages (advance.start_roots): when that is all
    # it would do (no run timeout to arm, no root waiting for a permit), the loop sends
    # the roots' work itself, batched, and their claims create them: one message and
    # one read fewer per iteration.
    direct = body.definition.timeout is None and not any(body.needs_permit(r) for r in roots)
    now = ctx.now()
    # Opened before they exist: each is then counted once when it ends (StateStore).
    ctx.store.open_children(run.run_id, step, first, last)
    if ctx.store.children_closed(run.run_id, step):
        # The loop is ending (another pass failed it fast, stopped it or timed it out):
        # it creates nothing more. A loop that closes after this read lists the indexes
        # opened above and fences those not created yet (close_loop).
        return
    starts: list[dict[str, Any]] = []
    works: list[dict[str, Any]] = []
    made: list[str] = []
    found_running: list[str] = []  # by an earlier pass, read running (launches_paused)
    # Launched while its parent is paused: they wait too, and start on the resume.
    paused = launches_paused(run)
    parent = iteration_of(ctx, run)
    # Iterations of a body that ends as it starts are written ended (instant_iterations).
    at_once = instant_launch(
        ctx, name, body, foreach=isinstance(iterations, Space), paused=paused, deadline=deadline
    )
    if at_once is not None and launches_paused(ctx.store.get_run(run.run_id)):
        # A pause landed since the run was read (the launch above is in its walk): the
        # queues' way, whose children it pauses before they start (missed_pause.py).
        at_once = None
    for index in range(first, last):
        child_id = child_run_id(run.run_id, step, index)
        values = (
            iteration_values(iterations, index, parent)
            if isinstance(iterations, Space)
            else iterations(index)
        )
        # A restarted run's iterations restart the old ones (service/restart.py), a
        # while's only while they start with the old ones' state (service/reuse.py).
        restarted = restarted_child(ctx, run, step, index, child_id, body, values)
        child = _child_of(
            run,
            step,
            index,
            now,
            status=RunStatus.PAUSED if paused else RunStatus.RUNNING,
            started_at=now,
            sinks_total=len(body.graph.sinks),
            trigger=trigger,
            restart_of=restarted,
            # Out of the sweeper's index (two index writes fewer) until its loop's poll
            # finds it outlived its first check (poll_children); a paused one in it.
            watched=paused,
            iteration=stored_iteration(ctx, child_id, values),
            ancestor_deadline=deadline,  # its parent's bounds it too (children_deadline)
        )
        if at_once is not None and restarted is None and at_once.takes(index):
            found = write_ended(ctx, at_once, ended_child(child, now))
            if found is None:
                continue
            # An earlier pass's child, not ended (created the queues' way, then cut
            # short before its start): started again, as the queues' way starts one.
            made.append(child_id)
            starts.append(messages.encode(messages.Start(child_id)))
            continue
        try:
            ctx.store.create_run(child)
        except RunConflict as conflict:
            # Created by an earlier pass that may have died before starting it: start
            # it again (a start is idempotent); an ended one (or an ending loop's fence,
            # close_loop) is left alone.
            if conflict.current is not None and conflict.current.status.terminal:
                continue
            if paused:
                current = conflict.current
                if current is not None and current.status is RunStatus.RUNNING:
                    found_running.append(child_id)  # paused below, before it starts
                continue
        made.append(child_id)
        if child.status is RunStatus.PAUSED:
            continue  # started on resume (release_held)
        if direct and restarted is None:
            works += (messages.encode(messages.Exec(child_id, r, 1, create=True)) for r in roots)
        else:  # restarted: its roots may be reused
            starts.append(messages.encode(messages.Start(child.run_id)))
    # The mark before the messages: it brings back a pause that raced this launch
    # (service/missed_pause.py), whose children must not start. A crash between the two
    # leaves children that never started: the loop's poll watches them once they
    # outlive their first check, and the sweeper starts them (poll_children).
    if at_once is not None:  # counted before the mark: a pass that reads it sees them
        count_and_wake(ctx, run.run_id, step, at_once)
    held = ctx.store.mark_launched(run.run_id, step, last, loop)
    missed = paused_meanwhile(ctx, run, held, first_launch=first == 0)
    ctx.metrics.count("LoopChildrenLaunched", last - first)
    if found_running:
        # Created RUNNING by a pass that read the run running and died before it could
        # see the pause: paused now, before they start.
        pause_launched(ctx, found_running, run.reason or "paused")
    if missed is not None:
        pause_launched(ctx, made, missed)  # their roots start on resume (release_held)
        return
    if starts:
        ctx.event_queue.send_many(starts)
    if works:
        ctx.work_queue.send_many(works)


def catch_up_mark(ctx: Services, run: RunRecord, record: StepRecord) -> None:
    """Raise the launched mark to the children counted as ended when it lags them: the
    iterations written already ended are counted before it rises (on the memory and
    SQLite stores, by their creation: instant_iterations), so a pass cut short in
    between leaves it low. A pass and a stop look first; nothing is written otherwise."""
    ended = record.children_ok + record.children_failed + record.children_stopped
    if record.children_launched < ended:
        ctx.store.mark_launched(run.run_id, record.step, ended)


def stop_children(
    ctx: Services,
    run: RunRecord,
    record: StepRecord,
    reason: str,
    *,
    deadline: int | None = None,
) -> int:
    """Stop the loop's children still running (fail_fast, or the step itself stopped or
    timed out); each ends STOPPED and is counted like any other. Returns how many. The
    loop ends without waiting for their counts: they are watched first (a crash that
    cuts short a stop or its follow-ups leaves them to the sweeper). A child keeps a
    callback result accepted by the deadline that ended the loop: its run's, or the
    step's own (``deadline``, once passed)."""
    stopped = 0
    catch_up_mark(ctx, run, record)
    by = kept_by(ctx, run, deadline)
    for child in close_loop(ctx, run, record.step):
        if stop_run(ctx, child.run_id, reason, results_by=by) is not None:
            stopped += 1
    return stopped


def time_out(ctx: Services, attempt: Attempt, record: StepRecord) -> Failed:
    """A loop's pass handled past the step's own ``timeout`` (its timer late): the loop
    times out as its timer would time it out (its children stopped, each keeping a
    callback result accepted by the deadline), whatever the children's counts say (one
    that ended past the deadline timed out by it)."""
    stop_children(ctx, attempt.run, record, "stopped: timed out", deadline=step_deadline(attempt))
    return Failed(step_timeout_error(float(attempt.spec.timeout)))


def uncounted_child_ids(ctx: Services, run: RunRecord, step: str) -> list[str]:
    """The loop's children not counted yet (running, or opened and not created): the
    ones a pause of its run pauses too."""
    return [child_run_id(run.run_id, step, i) for i in ctx.store.running_children(run.run_id, step)]


def close_loop(ctx: Services, run: RunRecord, step: str) -> list[RunRecord]:
    """The loop ends: no poll of it will come again, so hand its uncounted children to
    the sweeper. Marks the step closed first (``StateStore.close_children``), then lists
    the indexes opened and not counted: a child that exists is watched (due at its first
    check); an index opened by a launch racing this end and not created yet is fenced
    with a STOPPED child, so that launch's conditional put creates nothing. A launch
    reads the mark after it opens (``launch``): it either finds it and creates nothing,
    or opened before this listing. Returns the children still running."""
    now = ctx.now()
    ctx.store.close_children(run.run_id, step)
    running: list[RunRecord] = []
    settled: dict[str, list[int]] = {}
    for index, child in _uncounted(ctx, run, step).items():
        if child is None:
            child = _fence(ctx, run, step, index, now)
            if child is None:  # the fence: a STOPPED iteration, counted as one
                settled.setdefault(outcome_of(RunStatus.STOPPED), []).append(index)
                continue
        if child.settled:
            # Ended and settled, not counted (a fence, or one a crash left so): counted
            # here, or the ended loop showed it running for good.
            settled.setdefault(outcome_of(child.status), []).append(index)
            continue
        if not child.watched:
            ctx.store.watch_run(child.run_id, max(now, first_check(child)))
        if not child.status.terminal:
            running.append(child)
    for outcome, indexes in settled.items():
        ctx.store.count_children(run.run_id, step, indexes, outcome)
    return running


def poll_children(ctx: Services, run: RunRecord, step: str) -> None:
    """The loop's poll (its run's sweeper check, every few minutes while it runs): count
    the children a crash left settled and uncounted (between DynamoDB's settle and its
    count), and watch the ones that outlived their first check (a long iteration, a
    start or an end whose follow-ups a crash cut short) so the sweeper looks at them.
    The common iteration is counted long before and never pays its two index writes."""
    now = ctx.now()
    settled: dict[str, list[int]] = {}
    for index, child in _uncounted(ctx, run, step).items():
        # Not found: opened, not created (a launch that died: the next pass creates it).
        if child is None:
            continue
        if child.settled:
            settled.setdefault(outcome_of(child.status), []).append(index)
        elif not child.watched and first_check(child) <= now:
            ctx.store.watch_run(child.run_id, now)
    for outcome, indexes in settled.items():
        ctx.store.count_children(run.run_id, step, indexes, outcome)


def _uncounted(ctx: Services, run: RunRecord, step: str) -> dict[int, RunRecord | None]:
    """The loop's children not counted yet, by index (at most its concurrency, however
    many it launched), read in one batch; None where an index was opened and its child
    not created."""
    indexes = ctx.store.running_children(run.run_id, step)
    ids = {child_run_id(run.run_id, step, i): i for i in indexes}
    found = ctx.store.get_runs(list(ids))
    return {index: found.get(child_id) for child_id, index in ids.items()}


def _child_of(run: RunRecord, step: str, index: int, now: int, **fields: Any) -> RunRecord:
    """The child ``index`` of the loop step ``step``: its identity (a deterministic id,
    its parent, root and depth), what it inherits from its parent run, and ``fields``."""
    return RunRecord(
        run_id=child_run_id(run.run_id, step, index),
        workflow=body_workflow(run.workflow, step),
        version=run.version,
        params=run.params,
        created_at=now,
        root=run.root or run.run_id,
        parent_run=run.run_id,
        parent_step=step,
        parent_index=index,
        depth=run.depth + 1,
        chain=run.chain,  # for the subworkflows inside it (trigger_events.MAX_CHAIN)
        logical_date=run.logical_date,
        tags=run.tags,
        **fields,
    )


def _fence(ctx: Services, run: RunRecord, step: str, index: int, now: int) -> RunRecord | None:
    """Create the child ``index`` of an ending loop already STOPPED (settled: out of every
    index), or return the one a racing launch created first."""
    kind = ctx.definitions.get(run.workflow, run.version).by_id[step].type
    fence = _child_of(
        run,
        step,
        index,
        now,
        status=RunStatus.STOPPED,
        ended_at=now,
        sinks_total=0,
        trigger=kind,
        reason="not started: its loop ended",
        watched=False,
        iteration={"index": index},
    )
    try:
        ctx.store.create_run(fence)
    except RunConflict as conflict:
        return conflict.current
    take_back_steps(ctx, run, step, fence.run_id)
    return None


def count_ended_child(ctx: Services, msg: messages.Done) -> bool:
    """Count the child a ``child`` event names on its parent step, once; True when it
    was counted now. Settles the child whatever state the parent is in."""
    # Ids are derived from the parent step and the index: the event names its child.
    child_id = str(msg.event.get("run", ""))
    index = msg.event.get("index")
    try:
        status = RunStatus(str(msg.event.get("status")))
    except ValueError:
        status = None
    if not isinstance(index, int) or child_id != child_run_id(msg.run, msg.step, index):
        log.warning(
            "child event for %r does not name a child of %s/%s", child_id, msg.run, msg.step
        )
        return False
    if status is None or not status.terminal:
        log.warning("child event for %s with status %r dropped", child_id, msg.event.get("status"))
        return False
    try:
        return ctx.store.count_child(msg.run, msg.step, index, outcome_of(status))
    except RunConflict:  # not ended (cannot happen: only run_ended sends it)
        return False
    except RunNotFound:
        return False


class OutputTooLarge(Exception):
    """A loop's output, gathered from its iterations' outputs, is over MAX_OUTPUT_BYTES."""


def child_outputs(
    ctx: Services, run: RunRecord, step: str, total: int, inner: list[str]
) -> dict[str, list[Any]]:
    """Index-aligned outputs of the inner steps named: one entry per iteration, null
    where it has none (an iteration not run, a step skipped). Read in batches
    (``get_steps``: 100 items a request on DynamoDB), not one request per iteration.

    Bounded as any step's output is (MAX_OUTPUT_BYTES as JSON): their size is counted as
    they are gathered, a big one's from its reference before it is read, so a loop whose
    iterations' outputs add up past it raises OutputTooLarge, not the memory of the
    function that ends it. Raises MissingPayload for one whose payload is gone."""
    out: dict[str, list[Any]] = {sid: [None] * total for sid in inner}
    if not inner:
        return out
    size = len(inner) * total * len("null,")
    chunk = 1_000  # keys per store call: bounded memory however big the loop
    keys = [(child_run_id(run.run_id, step, index), sid) for index in range(total) for sid in inner]
    where = {key: (i // len(inner), key[1]) for i, key in enumerate(keys)}
    for start in range(0, len(keys), chunk):
        for key, record in ctx.store.get_steps(keys[start : start + chunk]).items():
            if record.output is None:
                continue
            size += _stored_bytes(record.output) - len("null")
            if size > MAX_OUTPUT_BYTES:
                raise OutputTooLarge(
                    f"the outputs of its iterations are over {MAX_OUTPUT_BYTES:,} bytes as"
                    " JSON, the limit of a step's output: have each iteration write its large"
                    " results to S3 and return the key"
                )
            index, sid = where[key]
            name = f"iteration {index}: steps.{sid}.output"
            out[sid][index] = resolve_output(ctx, record.output, name)
    return out


def _stored_bytes(output: Any) -> int:
    """An output's size as JSON in UTF-8: a reference says it (``bytes``, written with
    it by attempt_records.stored); an inline one is small (up to INLINE_OUTPUT_BYTES)."""
    if is_ref(output):
        size = output["bytes"]
        return size if isinstance(size, int) else 0
    return len(utf8_json(output, default=str))
