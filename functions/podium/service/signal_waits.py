"""A step's ``wait_for``: it waits (WAITING_FOR_SIGNALS) until every entry matches a
stored signal, then becomes READY with the matched signals on its item and is claimed
as any step is.

Order of writes, so no wake-up is lost: a waiting step registers as a waiter of each
name *before* it looks for signals, and a sender stores its signal *before* it reads the
waiters (service/signals.py); whichever comes second sees the other. A wake-up message
(``{"t": "signals"}``) makes the step look again; the sweeper looks at every waiting
step on each pass (the fallback when a wake-up is lost), and a timer at the wait's
deadline (the step's ``timeout``, 10 days by default, counted from when the wait began)
ends it TIMED_OUT. A look past the deadline (that timer, a wake-up handled late, the
sweeper's) first looks once for a match among the signals sent by then: one stored in
time releases the step however late its wake-up. Signals are matched, not consumed: one
signal may release any number of steps (Maestro's signal dependencies).

A check looks again only at signals it has not seen. A signal's params never change
and an expired one stays expired, so a check that began at ``t`` and found no match for
an entry settles every signal stored by then; the next check of that entry reads only
signals sent from ``t - LATE_SIGNAL_MS`` on, which holds every signal stored after ``t``
(one is stored at most that long after its ``sent_at``). The time of a miss is kept on
the waiter (Signals ``note_miss``).

A check reads heads (no payload), newest first, and the payload of the signal it takes
only; it looks through _MAX_LOOKED heads of a name at most, as a signal trigger's join
does (service/signal_triggers.py). Stopping there is said on the run's timeline (a
``signal_wait_cut`` item, once per wait and name) and counts as a miss: the older
signals are not looked at again, the newer ones always are.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podium.core.dsl.models import DEFAULT_WAIT_TIMEOUT_SECONDS
from podium.core.dsl.signals import SignalWait, Since
from podium.core.engine.errors import RunNotFound, StepConflict
from podium.core.engine.identity import MAX_DEPTH
from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent
from podium.core.engine.signals import ParamMatch, Signal, Waiter, signals_key
from podium.core.engine.status import StepStatus
from podium.core.engine.step_error import StepError, timeout_error
from podium.service import messages
from podium.service.attempt_records import stored
from podium.service.bindings import MissingPayload, resolve_output
from podium.service.context import Services
from podium.service.signal_waiters import deadline_of
from podium.service.signal_waiters import forget as _forget
from podium.service.step_events import publish_step
from podium.service.step_paths import iteration_run

log = logging.getLogger("podium.signals")

_WAITING = frozenset({StepStatus.WAITING_FOR_SIGNALS})
# Where a step without its signals enters the wait: READY (decided ready, its first
# attempt), or RETRY_WAIT (an operator retried it after its wait timed out).
_ENTERS_WAIT = frozenset({StepStatus.READY, StepStatus.RETRY_WAIT})
# A waiter outlives the wait's deadline a little: the deadline's own check removes it.
_WAITER_SLACK_MS = 3_600_000
# How long after its ``sent_at`` (the sender's clock) a signal may become readable: a
# sender computes it, then stores the signal within the same Lambda invocation (15
# minutes at most, the SDK's retries of the write included), or locally under SQLite's
# 30 s busy timeout; clocks apart by far less than a second. The margin is the rest.
LATE_SIGNAL_MS = 20 * 60_000
# A miss is kept only when it moves the last one on by this much: a waiting step is
# checked on every wake-up and every minute by the sweeper, and a write per check
# would cost more than the reads it saves. The reads stay within the newest
# LATE_SIGNAL_MS + this of signals.
_MISS_STEP_MS = 10 * 60_000
# How a check looks for a signal matching an entry: the newest head when the entry has
# no condition (it is the one), else pages of _FIRST_PAGE heads, then twice as many each
# time up to _PAGE, newest first, until one matches; _MAX_LOOKED heads at most (what a
# join looks through: a name's backlog of signals that do not match cannot make every
# check read them all; on DynamoDB a full page of small heads is about 45 read units).
_FIRST_PAGE = 16
_PAGE = 1_000
_MAX_LOOKED = 10_000


def waits_for_signals(ctx: Services, run: RunRecord, step: str) -> bool:
    spec = ctx.definitions.get(run.workflow, run.version).step(step)
    return bool(spec.wait_for)


def hold_for_signals(ctx: Services, run: RunRecord, msg: messages.Exec) -> bool:
    """The signal gate in front of a first attempt's claim: True when the message is
    taken here (the step waits, or was released and its claim message re-sent). A step
    retried after its wait timed out (attempt 0 again, no signals) waits afresh: a new
    ``waiting_since``, so a new deadline, and signals sent since count as at first."""
    if msg.attempt != 1 or not waits_for_signals(ctx, run, msg.step):
        return False
    now = ctx.now()
    record: StepRecord | None
    if msg.create:
        record = StepRecord(
            run.run_id,
            msg.step,
            StepStatus.WAITING_FOR_SIGNALS,
            ready_at=now,
            waiting_since=now,
            kept_signals=_kept_at_start(ctx, run, msg.step, None),
        )
        try:
            ctx.store.create_step(record)
        except StepConflict as conflict:
            record = conflict.current
    else:
        record = ctx.store.get_step(run.run_id, msg.step)
        if (
            record is not None
            and record.status in _ENTERS_WAIT
            and record.attempt == 0
            and record.signals is None
        ):
            try:
                record = ctx.store.transition_step(
                    run.run_id,
                    msg.step,
                    expected=frozenset({record.status}),
                    attempt=0,
                    to=StepStatus.WAITING_FOR_SIGNALS,
                    changes={
                        "waiting_since": now,
                        "kept_signals": _kept_at_start(ctx, run, msg.step, record),
                        **_cleared(record.status),
                    },
                )
            except StepConflict as conflict:
                record = conflict.current
    if record is None or record.status is not StepStatus.WAITING_FOR_SIGNALS:
        return False  # released already (or ended): the claim goes on as usual
    # Published by every call that finds the step waiting, not only the one that began
    # the wait: that one may have died between its write and its publish, and its
    # redelivery finds the wait begun. At least once (docs/events.md): a duplicate claim
    # message publishes it again.
    publish_step(ctx, run, msg.step, StepStatus.WAITING_FOR_SIGNALS)
    begin_wait(ctx, run, record)
    check(ctx, run, record, registered_now=True)
    return True


def _kept_at_start(
    ctx: Services, run: RunRecord, step: str, record: StepRecord | None
) -> dict[str, int] | None:
    """The step's ``kept_signals`` as its wait begins (written with the wait's start):
    ``released_with``'s, read here once per wait and never by a check. None for a step
    with no ``since: step_start`` entry (nothing counts it). A wait retried after its
    timeout keeps what its first wait read (``record``'s): the run it redoes is the
    same, and its step there has ended."""
    spec = ctx.definitions.get(run.workflow, run.version).step(step)
    names = {wait.signal for wait in spec.wait_for if wait.since is Since.STEP_START}
    if not names:
        return None
    if record is not None and record.kept_signals is not None:
        return record.kept_signals
    # Only the entries that count it: the item stays small.
    return {n: at for n, at in released_with(ctx, run, step).items() if n in names}


def kept_floor(ctx: Services, run: RunRecord, record: StepRecord) -> dict[str, int]:
    """When the signals a waiting step's ``since: step_start`` entries also count were
    sent, by name: what its wait recorded as it began (``kept_signals``), no read. A
    step that began to wait before that was recorded (a record written by an earlier
    release, an upgrade mid-wait) reads it as every check did then (``released_with``)."""
    if record.kept_signals is not None:
        return record.kept_signals
    return released_with(ctx, run, record.step)


def released_with(ctx: Services, run: RunRecord, step: str) -> dict[str, int]:
    """When the signals that released ``step`` in the run ``run`` restarts were sent, by
    name (empty when it is no restart, or its step was not released there).

    A restart redoes the run it restarts (the same params, the same logical date): a
    ``since: step_start`` entry counts the signal its step was released with there, and
    newer ones, not only those sent once the restarted step began to wait; else the
    restarted step waited (10 days by default) for a signal nobody sends again, where
    a retry in place runs with its signals and Maestro's restart matches the stored one
    again. Read once as the wait begins, for a step with such an entry, and kept on it
    (``kept_signals``: a loop iteration reads its parent run here, ``_redone``, and a
    restart the old step and its signals' payload; a check would read them again on
    every wake-up); a step taken over there keeps the signals it was released with
    (service/reuse.py), so a restart of a restart finds them too."""
    redone = _redone(ctx, run)
    if redone is None:
        return {}
    old = ctx.store.get_step(redone, step)
    if old is None or old.signals is None:
        return {}
    try:
        matched = resolve_output(ctx, old.signals, "signal")
    except MissingPayload:
        return {}  # pruned with its run: the restarted step waits afresh
    if not isinstance(matched, dict):
        return {}
    return {
        name: int(seen["sent_at"])
        for name, seen in matched.items()
        if isinstance(seen, dict) and isinstance(seen.get("sent_at"), int)
    }


def _redone(ctx: Services, run: RunRecord, depth: int = 0) -> str | None:
    """The run ``run`` redoes: its ``restart_of``; for a loop iteration that reruns in
    full (a restart from the beginning or from its loop: no ``restart_of``), the same
    iteration of the run its parent redoes (one read per level, only for such a run)."""
    if run.restart_of is not None:
        return run.restart_of
    if run.parent_run is None or run.parent_step is None or run.parent_index is None:
        return None
    if depth >= MAX_DEPTH:
        return None
    try:
        parent = ctx.store.get_run(run.parent_run)
    except RunNotFound:
        return None
    if not ctx.definitions.get(parent.workflow, parent.version).is_loop(run.parent_step):
        return None  # a subworkflow's child: its step's restart decides (restart_of)
    old_parent = _redone(ctx, parent, depth + 1)
    if old_parent is None:
        return None
    old = iteration_run(ctx, old_parent, run.parent_step, run.parent_index)
    return old.run_id if old is not None else None


def _cleared(status: StepStatus) -> dict[str, Any]:
    """A retried wait drops what its timeout wrote (the timeline keeps it)."""
    if status is StepStatus.RETRY_WAIT:
        return {"ended_at": None, "error": None, "error_type": None, "due_at": None}
    return {}


def begin_wait(ctx: Services, run: RunRecord, record: StepRecord) -> None:
    """Register as a waiter of every name, and arm the deadline (both idempotent)."""
    assert ctx.signals is not None
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    deadline = deadline_of(ctx, run, record)
    me = Waiter(run.run_id, record.step)
    for wait in spec.wait_for:
        ctx.signals.add_waiter(wait.signal, me, deadline + _WAITER_SLACK_MS)
    if spec.timeout is not None:
        # The 10-day default needs no timer of its own: every sweep checks the deadline.
        ctx.at(messages.SignalCheck(run.run_id, record.step), deadline, queue="events")


def check(
    ctx: Services,
    run: RunRecord,
    record: StepRecord,
    *,
    registered_now: bool = False,
    until: int | None = None,
) -> bool:
    """Look for a signal matching each entry; when all are there, release the step
    (WAITING_FOR_SIGNALS -> READY, one conditional write) and send its claim. True when
    this call released it. ``registered_now``: its waiters were just written, so they
    keep no miss yet (not read). ``until``: the wait's deadline, passed: only signals
    sent by then count (live then), and no miss is kept (the wait ends either way).

    A ``since: step_start`` entry of a restart also counts, from when it was sent, the
    signal its step was released with in the run restarted (``kept_floor``: kept on the
    step as its wait began): on every check, not only the first, looked at only once an
    entry found nothing from the wait's start (a match there is the newest anyway)."""
    assert ctx.signals is not None
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    now = ctx.now()
    me = Waiter(run.run_id, record.step)
    matched: dict[str, Any] = {}
    kept: Mapping[str, int] | None = None
    for wait in spec.wait_for:
        since = record.waiting_since if wait.since is Since.STEP_START else None
        look = _look(ctx, wait, me, since, now=now, until=until, registered_now=registered_now)
        if look.signal is None and not look.cut and since is not None:
            if kept is None:
                kept = kept_floor(ctx, run, record)
            older = kept.get(wait.signal)
            if older is not None and older < since:
                look = _look(
                    ctx, wait, me, older, now=now, until=until, registered_now=registered_now
                )
        signal = look.signal
        if signal is None:
            if look.cut:
                _said_cut(ctx, run, record, wait.signal, now)
            if look.note_miss:
                ctx.signals.note_miss(wait.signal, me, now)
            return False
        matched[wait.signal] = {
            "params": signal.params,
            "payload": signal.payload,
            "signal_id": signal.signal_id,
            "sent_at": signal.sent_at,
        }
    try:
        ctx.store.transition_step(
            run.run_id,
            record.step,
            expected=_WAITING,
            attempt=record.attempt,
            to=StepStatus.READY,
            changes={
                # by reference when big: a signal's payload may be 64 KB, a step may
                # wait for 20
                "signals": stored(ctx, signals_key(run.run_id, record.step), matched, default=str),
                "ready_at": now,
                "waiting_since": None,
            },
        )
    except StepConflict:
        return False  # released (or stopped) by another check meanwhile
    _forget(ctx, run, record.step)
    if spec.timeout is not None:  # the deadline timer is not needed any more
        deadline = deadline_of(ctx, run, record)
        since = record.waiting_since
        ctx.cancel_at(messages.SignalCheck(run.run_id, record.step), deadline, set_ms=since)
    ctx.work_queue.send(messages.encode(messages.Exec(run.run_id, record.step, 1)))
    return True


@dataclass(frozen=True, slots=True)
class _Look:
    signal: Signal | None  # the newest match
    cut: bool  # stopped at _MAX_LOOKED heads without one
    note_miss: bool  # none: keep the check's time as the waiter's last miss


def _look(
    ctx: Services,
    wait: SignalWait,
    me: Waiter,
    since: int | None,
    *,
    now: int,
    until: int | None,
    registered_now: bool,
) -> _Look:
    """One entry's look, from ``since`` (None: any time) on, or from the waiter's last
    miss when that is later (the signals stored by then were looked at)."""
    assert ctx.signals is not None
    # A kept miss helps only when it is more than LATE_SIGNAL_MS past ``since``. A look
    # past the deadline uses one (what it settled stays settled) but keeps none: the
    # wait ends either way.
    useful = since is None or now - since > LATE_SIGNAL_MS
    missed = ctx.signals.last_miss(wait.signal, me) if useful and not registered_now else None
    floor = since
    if missed is not None:
        floor = max(since or 0, missed - LATE_SIGNAL_MS)
    signal, cut = _newest_match(
        ctx, wait.signal, wait.conditions, now=now, since=floor, until=until
    )
    note = (
        signal is None
        and until is None
        and useful
        and (missed is None or now - missed >= _MISS_STEP_MS)
    )
    return _Look(signal, cut, note)


def _newest_match(
    ctx: Services,
    name: str,
    conditions: tuple[ParamMatch, ...],
    *,
    now: int,
    since: int | None,
    until: int | None = None,
) -> tuple[Signal | None, bool]:
    """The newest unexpired signal of ``name`` sent at or after ``since`` (and at or
    before ``until``, unexpired then) matching every condition, whole (its payload
    read), and whether the look stopped at _MAX_LOOKED heads with older ones unread
    (then None)."""
    signals = ctx.signals
    assert signals is not None
    # A page holds the signals older than ``before``: one sent at ``until`` is older
    # than (until + 1, ""), whatever its id.
    before: tuple[int, str] | None = None if until is None else (until + 1, "")
    if until is not None:
        now = min(now, until)
    looked, size = 0, _FIRST_PAGE if conditions else 1
    while True:
        size = min(size, _MAX_LOOKED - looked)
        page = signals.find_heads(name, conditions, now=now, since=since, before=before, size=size)
        looked += size
        for head in page.heads:  # newest first
            whole = signals.whole([head])
            if whole:  # else its id holds a newer signal now: that one is read on
                return whole[0], False
        if page.next is None:
            return None, False
        if looked >= _MAX_LOOKED:
            return None, True
        before, size = page.next, min(max(2 * size, _FIRST_PAGE), _PAGE)


def _said_cut(ctx: Services, run: RunRecord, record: StepRecord, name: str, now: int) -> None:
    """A check stopped at _MAX_LOOKED heads of ``name`` without a match: said on the
    run's timeline, once per wait and name (keyed by when the wait began)."""
    error = (
        f"no signal {name} matching the wait among the newest {_MAX_LOOKED:,} (a check"
        " looks no further back: an older match is not found); narrow the wait (match on"
        " more params, or since: step_start), or send the signal anew (a new request id):"
        " the newest signals are always looked at"
    )
    at = record.waiting_since if record.waiting_since is not None else now
    _, created = ctx.store.put_event_once(
        TimelineEvent(
            run.run_id,
            at,
            f"signal_wait_cut-{record.step}-{name}",
            "signal_wait_cut",
            step=record.step,
            attempt=record.attempt,
            detail={"signal": name, "looked": _MAX_LOOKED, "error": error, "at": now},
        )
    )
    if created:  # counted with its item: a busy name cuts every later check again
        ctx.metrics.count("SignalWaitsCut")
        log.warning("%s/%s: %s", run.run_id, record.step, error)


def on_signal_check(ctx: Services, msg: messages.SignalCheck) -> None:
    """A wake-up or the wait's deadline: look again, or time the wait out. A run that
    is gone (pruned, or expired by its retention, while a waiter or a deadline timer of
    its stayed) has nothing left to wait: the message is dropped, not dead-lettered."""
    try:
        run = ctx.store.get_run(msg.run)
    except RunNotFound:
        log.warning("signal check of %s/%s dropped: the run is gone", msg.run, msg.step)
        return
    record = ctx.store.get_step(msg.run, msg.step)
    if record is not None and timed_out_wait(record):
        # The deadline's check again (redelivered: the one that timed it out may have
        # died right after its write), or a wake-up sent just before: the follow-ups of
        # the timeout are redone, each once (time_out's order says why).
        timed_out(ctx, run, record, first=False)
        return
    if record is None or record.status is not StepStatus.WAITING_FOR_SIGNALS:
        if record is not None and run.status.terminal:
            _forget(ctx, run, msg.step)
        return
    if run.status.terminal:
        from podium.service.lifecycle import in_ended_run

        in_ended_run(ctx, run, msg.step)
        _forget(ctx, run, msg.step)
        return
    recheck(ctx, run, record)


def recheck(ctx: Services, run: RunRecord, record: StepRecord) -> None:
    """The sweeper's pass and every wake-up: look again, or, past the deadline, end the
    wait (``past_deadline``)."""
    if ctx.now() >= deadline_of(ctx, run, record):
        past_deadline(ctx, run, record)
        return
    check(ctx, run, record)


def past_deadline(ctx: Services, run: RunRecord, record: StepRecord) -> None:
    """The wait's deadline has passed: a matching signal sent by then still releases
    the step (one check, bounded as any: a wake-up handled after the deadline, or lost
    and the sweeper's look, the deadline's own check, came later), else the step times
    out. A signal sent after the deadline does not count."""
    if not check(ctx, run, record, until=deadline_of(ctx, run, record)):
        time_out(ctx, run, record)


def time_out(ctx: Services, run: RunRecord, record: StepRecord) -> None:
    """No matching signal before the deadline: the step ends TIMED_OUT (a failed edge
    downstream; retries do not apply to a wait) and its follow-ups run (``timed_out``)."""
    error = _timeout_error(ctx, run, record.step)
    now = ctx.now()
    try:
        ended = ctx.store.transition_step(
            run.run_id,
            record.step,
            expected=_WAITING,
            attempt=record.attempt,
            to=StepStatus.TIMED_OUT,
            changes={
                "ended_at": now,
                "error": error.summary(),
                "error_type": error.type,
                "waiting_since": None,
            },
        )
    except StepConflict:
        return
    timed_out(ctx, run, ended, first=True)


def timed_out_wait(record: StepRecord) -> bool:
    """Whether the step ended TIMED_OUT by its wait's deadline (``time_out``): a wait
    is attempt 0 (no attempt started), and only a wait or an attempt times out."""
    return record.status is StepStatus.TIMED_OUT and record.attempt == 0


def timed_out(ctx: Services, run: RunRecord, record: StepRecord, *, first: bool) -> None:
    """The follow-ups of a wait's timeout (``record``: the step as it ended TIMED_OUT),
    each idempotent: its waiters forgotten, its TIMED_OUT event published, the
    timeline's ``failed`` item written (at the step's ``ended_at``: the same item
    whenever it is written), and the step's follow-ups in its run (``replay_terminal``).

    ``first``: right after the timeout's write, else a redo (a redelivered check found
    the step TIMED_OUT: the call that ended it may have died anywhere after its write).
    The event is published before the item is written, so a redo that writes the item
    (none was) publishes it again (at least once: docs/events.md), and one that finds
    it knows the event went out."""
    from podium.service.attempts import replay_terminal

    error = _timeout_error(ctx, run, record.step)
    summary = error.summary()
    at = record.ended_at if record.ended_at is not None else ctx.now()
    _forget(ctx, run, record.step)
    if first:
        publish_step(ctx, run, record.step, StepStatus.TIMED_OUT, error=summary, at=at)
    _, created = ctx.store.put_event_once(
        TimelineEvent(
            run.run_id,
            at,
            f"failed-{record.step}-0",
            "failed",
            step=record.step,
            attempt=0,
            detail={"error": summary, "error_detail": error.as_json()},
        )
    )
    if created and not first:
        publish_step(ctx, run, record.step, StepStatus.TIMED_OUT, error=summary, at=at)
    replay_terminal(ctx, run, record.step, StepStatus.TIMED_OUT, summary, ended_at=at)


def _timeout_error(ctx: Services, run: RunRecord, step: str) -> StepError:
    """The error of ``step``'s wait timing out (the same for every redo of it)."""
    spec = ctx.definitions.get(run.workflow, run.version).step(step)
    timeout = spec.timeout if spec.timeout is not None else DEFAULT_WAIT_TIMEOUT_SECONDS
    missing = ", ".join(w.signal for w in spec.wait_for)
    return timeout_error(
        f"no matching signal ({missing}) within the step's timeout of {float(timeout):g} s"
    )
