"""Signal triggers (Maestro's): a trigger naming signals starts a run once it has one
unused signal of every name (sharing the values of ``join_keys``, matching ``match``,
``condition`` holding), each consumed once per trigger. Every stored signal is offered
here (``on_signal``); the candidates come from the routing index, and a run is started
as any trigger's (service/triggers.py ``start_triggered``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.triggers import Trigger
from podium.core.engine.errors import NotFound
from podium.core.engine.records import RunRecord
from podium.core.engine.schedule import (
    trigger_run_id,
)
from podium.core.engine.signals import (
    RECOVER_WINDOW_MS,
    ConsumedMark,
    Op,
    ParamMatch,
    Signal,
    SignalHead,
    condition_reads_payload,
    consumption,
    instance_key,
    legacy_mark_covers,
    mark_keys,
    may_recover,
    parse_match,
    set_key,
    set_members,
)
from podium.core.engine.trigger_index import (
    signal_route,
)
from podium.core.expr import ExpressionError, compile_expression
from podium.core.expr.shown import type_label
from podium.service.context import Services
from podium.service.triggers import (
    event_triggers,
    record_failure,
    start_triggered,
    trigger_state,
)

log = logging.getLogger("podium.triggers")

CONSUMED_TTL_MS = 90 * 86_400_000


@dataclass(frozen=True, slots=True)
class TriggerFailure:
    """A signal trigger that could not start its run for a signal, as its state records
    it (``podium triggers list``): its params did not render or validate, its condition
    could not be evaluated, or the partners were past what one arrival looks through."""

    workflow: str
    trigger: str
    error: str

    def as_json(self) -> dict[str, str]:
        return {"workflow": self.workflow, "trigger": self.trigger, "error": self.error}


@dataclass(slots=True)
class Offered:
    """What the signal triggers made of a signal: the runs they started (or found
    started) and the failures they recorded. ``unfinished``: a trigger raised on it (an
    outage: its set, if joined, waits for its run); offering the signal again (a
    re-send, the same request id) retries it."""

    runs: list[str] = field(default_factory=list)
    failed: list[TriggerFailure] = field(default_factory=list)
    unfinished: bool = False


class _SetNotStarted(Exception):
    """A set joined (its signals marked used by the trigger) whose run's start raised
    (``cause``): said so on the trigger's state, and ``cause`` is what the sender sees."""

    def __init__(self, key: str, cause: Exception) -> None:
        super().__init__(key)
        self.key = key
        self.cause = cause


@dataclass(frozen=True, slots=True)
class _Tried:
    """What one trigger made of a signal, or one try of it: its run (started, or found
    started), or none; the failures it recorded on the trigger's state, for the
    sender's answer; and ``lost``: another set consumed a partner this try had read (the
    partners left are read again)."""

    run: RunRecord | None = None
    failed: tuple[TriggerFailure, ...] = ()
    lost: bool = False

    def after(self, earlier: tuple[TriggerFailure, ...]) -> _Tried:
        """This outcome, with the failures recorded before it in the same delivery."""
        return _Tried(self.run, earlier + self.failed, self.lost) if earlier else self


_NOTHING = _Tried()


def on_signal(
    ctx: Services, signal: Signal, *, raises: bool = False, created: bool = False
) -> Offered:
    """Maestro's signal triggers: a trigger naming this signal starts a run once it has
    one unconsumed signal of every name (sharing the values of ``join_keys``), sent
    after the trigger began; each signal is consumed once per trigger. ``created``: the
    send that offers it stored it (in the current layout), so no mark of its id alone
    (made before marks named instances) can be its, and that key is not read.

    A trigger that cannot start its run (its params, its condition: a definition's
    problem no retry fixes) records it on its state and the failure is returned, for a
    sender that waits for an answer to be told (``Offered.failed``). A trigger that
    fails (raises: an outage) is logged and its failure kept on its state, and the
    other triggers still get the signal; the first such failure is raised afterwards
    to a sender that ``raises`` (service/signals.py RETRIED: it sends the signal again),
    else said by ``Offered.unfinished`` (an emit, re-sent later: raised, it would hold
    or wedge the emitting step's completion). Either way the signal is offered again:
    its set, if the failing trigger joined one (marked used before its run starts),
    starts its run then (``_start_consumed``), and no later signal would."""
    offered = Offered()
    first: Exception | None = None
    for workflow, tid, trigger in event_triggers(ctx, [signal_route(signal.name)]):
        source = trigger.signal
        if source is None or signal.name not in source.names:
            continue
        try:
            tried = _try_signal_trigger(ctx, workflow, tid, trigger, signal, created)
        except Exception as exc:  # one trigger's failure is its own
            # Raised at once, it would keep the triggers after this one from seeing the
            # signal.
            cause = exc.cause if isinstance(exc, _SetNotStarted) else exc
            first = first or cause
            log.exception("signal trigger %s of %s failed on %s", tid, workflow, signal.name)
            record_failure(ctx, workflow, tid, _raised(signal, exc))
            continue
        offered.failed.extend(tried.failed)
        if tried.run is not None:
            offered.runs.append(tried.run.run_id)
    if first is not None:
        if raises:
            # After every trigger had its turn: the sender's retry (the same request
            # id; Lambda's retry of a bus event) is what retries the failed trigger.
            raise first
        offered.unfinished = True
    return offered


def _raised(signal: Signal, exc: Exception) -> str:
    """A trigger's failure on ``signal`` that raised, as its state records it: before
    any set was joined (the signal stays unused for the trigger), or after, the set
    joined (marked used) waiting for its run."""
    by_itself = "an emit sends its signal again by itself, Lambda retries a bus event"
    if isinstance(exc, _SetNotStarted):
        cause = exc.cause
        return (
            f"signal {signal.name} ({signal.signal_id}) joined the set {exc.key} (marked"
            f" used), whose run did not start: {type(cause).__name__}:"
            f" {_printable(str(cause))}; the run starts when a signal of the set is sent"
            f" again (the same request id) within {RECOVER_WINDOW_MS // 3_600_000} hours"
            f" of the join ({by_itself})"
        )
    return (
        f"signal {signal.name} ({signal.signal_id}) not joined: {type(exc).__name__}:"
        f" {_printable(str(exc))}; send it again (the same request id) to retry"
        f" ({by_itself})"
    )


def _failed(ctx: Services, workflow: str, tid: str, error: str) -> TriggerFailure:
    """Recorded on the trigger's state, and returned for the answer to the sender."""
    record_failure(ctx, workflow, tid, error)
    return TriggerFailure(workflow, tid, error)


def _try_signal_trigger(
    ctx: Services,
    workflow: str,
    tid: str,
    trigger: Trigger,
    signal: Signal,
    created: bool,
) -> _Tried:
    assert ctx.signals is not None and trigger.signal is not None
    source = trigger.signal
    state = trigger_state(ctx, workflow, tid, trigger)
    if not state.enabled or signal.sent_at < state.since:
        return _NOTHING  # only signals sent once the trigger exists count
    # Turned off and on again: only the signals sent since it was on again count, as a
    # disabled s3 or event trigger drops what comes meanwhile (``since`` stays: a rate
    # trigger's slots hang on it). One sent before is still looked up as used: its set's
    # run is started again (_join), as a re-send may ask.
    counts_from = max(state.since, state.enabled_at or 0)
    consumer = f"{workflow}/{tid}"
    own = parse_match(source.match.get(signal.name, {}))
    if not all(_holds(signal, c) for c in own):
        return _NOTHING
    failed: tuple[TriggerFailure, ...] = ()  # by the tries that lost a race, each kept
    for _ in range(_JOIN_ATTEMPTS):
        joined = _join(ctx, workflow, tid, trigger, signal, counts_from, consumer, created)
        if not joined.lost:
            return joined.after(failed)
        failed += joined.failed
    # Lost every time: a burst of arrivals racing for the same partners. Each winner
    # started its run; this signal stays unused for the next arrival.
    return _Tried(failed=failed)


def _lacks(signal: Signal, lacking: Sequence[str], tid: str) -> str:
    keys = ", ".join(lacking)
    return (
        f"signal {signal.name} ({signal.signal_id}) not joined: it lacks join"
        f" key{'s' if len(lacking) > 1 else ''} {keys}; a signal of each name"
        f" must carry every join key (triggers.{tid}.signal.join_keys)"
    )


def _printable(text: str) -> str:
    """``text`` as the trigger's state can store it: a character with no UTF-8 form (a
    lone surrogate from the failing data) escaped, else the write would fail too."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# How many times an arrival tries to join after another set took one of its partners
# between reading them and consuming them: it reads the partners left and tries again.
_JOIN_ATTEMPTS = 3


def _join(
    ctx: Services,
    workflow: str,
    tid: str,
    trigger: Trigger,
    signal: Signal,
    since: int,
    consumer: str,
    created: bool,
) -> _Tried:
    """One attempt to join ``signal`` into a set: its run, none, or ``lost``. ``since``:
    only signals sent since count (this one too, unless it was used already)."""
    assert ctx.signals is not None and trigger.signal is not None
    source = trigger.signal
    used_for = _used(ctx, consumer, signal, id_marks=not created)
    if used_for is not None:
        # Used already: by a set whose run may not have started (a crash between the
        # consume and the start). Starting it again is idempotent (its id is the set's).
        return _start_consumed(ctx, workflow, tid, trigger, used_for)
    if signal.sent_at < since:
        return _NOTHING  # sent while the trigger was off
    lacking = [k for k in source.join_keys if k not in signal.params]
    if lacking:
        # It can join no set, ever: said on the trigger and to the sender, who would
        # else wait for a run that never starts (no read: its params are at hand).
        return _Tried(failed=(_failed(ctx, workflow, tid, _lacks(signal, lacking, tid)),))
    keys = [ParamMatch(k, Op.EQ, signal.params[k]) for k in source.join_keys]
    now = ctx.now()
    others = [n for n in source.names if n != signal.name]
    pools = [
        _Pool(
            _Partners(
                ctx,
                consumer,
                name,
                [*parse_match(source.match.get(name, {})), *keys],
                now,
                since,
            )
        )
        for name in others
    ]
    wholes = _Wholes(ctx)
    found = _first_set(ctx, workflow, tid, signal, others, pools, source.condition, wholes)
    condition_failed = (found.failed,) if found.failed is not None else ()
    group = found.group
    if group is None:
        cut = [pool.partners.name for pool in pools if pool.partners.cut]
        if cut:
            # Unused partners may be older than what one arrival looks through: said on
            # the trigger (`podium triggers list`), as nothing else would show it.
            cut_failed = _failed(
                ctx,
                workflow,
                tid,
                f"signal {signal.name} ({signal.signal_id}) not joined: no set among the"
                f" newest {_MAX_LOOKED:,} signals of {', '.join(cut)} (one arrival looks no"
                " further); narrow the trigger with join_keys or match, or send an older"
                " signal again (the same request id) to join it",
            )
            return _Tried(failed=(*condition_failed, cut_failed))
        return _Tried(failed=condition_failed)
    # Instances, not ids: a signal id comes back once its signal has expired (the same
    # name and params, or request id, sent again), and that later signal is a new one.
    key = set_key(list(group.values()))
    ids = sorted(instance_key(s) for s in group.values())
    # The mark outlives every signal of the set: gone before one of them, it would leave
    # that signal, still live, unused again, to join a second set (a second run).
    expires = max(now + CONSUMED_TTL_MS, *(s.expires_at for s in group.values()))
    if not ctx.signals.consume(consumer, ids, key, expires, made_at=now):
        # Another set took one of these signals meanwhile (a racing arrival): this set
        # is void. The caller reads the partners left and tries again.
        return _Tried(failed=condition_failed, lost=True)
    return _start_set(ctx, workflow, tid, trigger, group, key).after(condition_failed)


# How a join looks for the partners of each other name: pages of their heads (no
# payload), newest first, the newest _FIRST_PAGE (where an unused one usually is), then
# _PAGE older ones at a time, as far as it goes, until it has a set. It looks at
# _MAX_LOOKED heads of a name at most: a backlog of used (or unmatched) signals cannot
# make one arrival read without end. Per attempt (at most _JOIN_ATTEMPTS) and other
# name, one arrival reads at most _MAX_LOOKED heads (11 Queries; on DynamoDB about 45
# read units a full page), the marks of the matching ones, _MARKS_CHUNK a call, and the
# payloads of the sets it tries: the one it starts when there is no ``condition``, or
# one that reads no payload.
_FIRST_PAGE = 50
_PAGE = 1_000
_MAX_LOOKED = 10_000
# A page's candidates have their marks read oldest first, 1 then doubling up to this
# many a call (one key each, one BatchGetItem of 100; two for a head written before
# marks named instances, two calls): a page's oldest is often the unused one, and a
# page of used ones costs a few calls, not one each.
_MARKS_CHUNK = 100


# How many sets of partners a join whose ``condition`` fails tries before it gives up
# until the next arrival (each costs an evaluation, and the payloads of its partners not
# read for an earlier set; the partners' heads and marks are capped above).
_MAX_SETS = 1_000


class _Partners:
    """The heads of the signals of ``name`` matching ``conditions`` that ``consumer``
    has not used, oldest first (first in, first joined) within each page of the newest,
    page after page, read only as far as the caller goes. ``cut`` once it stopped at
    _MAX_LOOKED with older signals left unread."""

    def __init__(
        self,
        ctx: Services,
        consumer: str,
        name: str,
        conditions: list[ParamMatch],
        now: int,
        since: int,
    ) -> None:
        self._ctx = ctx
        self._consumer = consumer
        self.name = name
        self._conditions = conditions
        self._now = now
        self._since = since
        self.cut = False

    def __iter__(self) -> Iterator[SignalHead]:
        signals = self._ctx.signals
        assert signals is not None
        before: tuple[int, str] | None = None
        looked, size = 0, _FIRST_PAGE
        while True:
            size = min(size, _MAX_LOOKED - looked)
            page = signals.find_heads(
                self.name,
                self._conditions,
                now=self._now,
                since=self._since,
                before=before,
                size=size,
            )
            looked += size
            heads, chunk = page.heads[::-1], 1  # oldest first
            while heads:
                part, heads = heads[:chunk], heads[chunk:]
                chunk = min(2 * chunk, _MARKS_CHUNK)
                # A head in the current layout asks for its instance's mark alone; one
                # written before marks named instances also for an old mark of its id.
                marks = signals.marks(
                    self._consumer,
                    [k for h in part for k in mark_keys(h.signal, id_marks=h.id_marks)],
                )
                for h in part:
                    if consumption(h.signal, marks, id_marks=h.id_marks) is None:
                        yield h
            if page.next is None:
                return  # no more to look at
            if looked >= _MAX_LOOKED:
                self.cut = True
                log.info("signal join: stopped after %d heads of %s", looked, self.name)
                return
            before, size = page.next, _PAGE


class _Pool:
    """One name's partners, read from the store once and kept: a join tries each with
    every partner of the other names."""

    def __init__(self, partners: _Partners) -> None:
        self.partners = partners
        self._source = iter(partners)
        self._read: list[SignalHead] = []
        self._done = False

    def __iter__(self) -> Iterator[SignalHead]:
        i = 0
        while True:
            if i == len(self._read):
                if self._done:
                    return
                nxt = next(self._source, None)
                if nxt is None:
                    self._done = True
                    return
                self._read.append(nxt)
            yield self._read[i]
            i += 1


def _combinations(pools: list[_Pool]) -> Iterator[tuple[SignalHead, ...]]:
    """One partner of each pool, oldest first (the first pool's varies slowest)."""
    if not pools:
        yield ()
        return
    for first in pools[0]:
        for rest in _combinations(pools[1:]):
            yield (first, *rest)


class _Wholes:
    """The whole signals (with payloads) of the partners a join tries, each read once
    and only when a set it is in is tried: the set that starts the run, and those a
    ``condition`` (which may read payloads) refused before it."""

    def __init__(self, ctx: Services) -> None:
        self._ctx = ctx
        self._read: dict[str, Signal | None] = {}

    def of(self, heads: Sequence[SignalHead]) -> list[Signal] | None:
        """Their whole signals, in order; None when one is gone (its id was sent again
        since: the head is of a signal no longer stored)."""
        assert self._ctx.signals is not None
        missing = [h for h in heads if instance_key(h.signal) not in self._read]
        if missing:
            got = {instance_key(s): s for s in self._ctx.signals.whole(missing)}
            for h in missing:
                self._read[instance_key(h.signal)] = got.get(instance_key(h.signal))
        out = [self._read[instance_key(h.signal)] for h in heads]
        return None if any(s is None for s in out) else [s for s in out if s is not None]


@dataclass(frozen=True, slots=True)
class _Found:
    """The set a signal joins (None: no set), and the failure of the trigger's
    ``condition`` on the way (recorded on its state once per try)."""

    group: dict[str, Signal] | None
    failed: TriggerFailure | None = None


def _first_set(
    ctx: Services,
    workflow: str,
    tid: str,
    signal: Signal,
    others: list[str],
    pools: list[_Pool],
    condition: str | None,
    wholes: _Wholes,
) -> _Found:
    """The set ``signal`` joins, its signals whole (read through ``wholes``): the first
    combination of partners, oldest first, whose ``condition`` holds, so that a signal
    the condition refuses blocks no later one (with no condition, the oldest partners).
    No set when a name has no partner, or none of the first ``_MAX_SETS`` combinations
    holds. A condition that fails to evaluate is the trigger's failure (recorded as a
    params failure is, and returned with the set); its set is passed over. Payloads are
    read for the sets tried only, and when the condition reads no payload (only params
    and ids: core/engine/signals.py ``condition_reads_payload``) for the set it starts
    only: the condition is evaluated on the heads."""
    if any(next(iter(pool), None) is None for pool in pools):
        return _Found(None)  # a name without a partner: no set (and no more reads)
    compiled = None
    on_heads = False  # the condition is evaluated on the partners' heads
    if condition is not None:
        try:
            compiled = compile_expression(condition)
        except ExpressionError as exc:
            return _Found(
                None, _failed(ctx, workflow, tid, f"triggers.{tid}.signal.condition: {exc}")
            )
        on_heads = not condition_reads_payload(condition, compiled.references)
    failed: TriggerFailure | None = None
    for tried, partners in enumerate(_combinations(pools)):
        if tried == _MAX_SETS:
            log.info("signal trigger %s of %s: no set of %d holds", tid, workflow, _MAX_SETS)
            return _Found(None, failed)
        if compiled is not None:
            if on_heads:
                tried_on = [h.signal for h in partners]
            else:
                found = wholes.of(partners)
                if found is None:
                    continue  # a partner expired and its id was sent again: not that one
                tried_on = found
            group = {signal.name: signal, **dict(zip(others, tried_on, strict=True))}
            try:
                held = compiled.evaluate({"event": _signal_event(tid, group)})
                if not isinstance(held, bool):
                    # As an edge's `when`: anything but true or false (a payload's 1, a
                    # null) is the condition's mistake, said, not a set passed over
                    # silently (the trigger would never fire, and nothing would say why).
                    raise ExpressionError(f"must be true or false, got {type_label(held)}")
            except ExpressionError as exc:
                if failed is None:  # once per arrival: a store write each
                    failed = _failed(ctx, workflow, tid, f"triggers.{tid}.signal.condition: {exc}")
                continue
            if not held:
                continue
        found = wholes.of(partners)  # read already unless the condition held on heads
        if found is None:
            continue  # a partner expired and its id was sent again: not that one
        return _Found({signal.name: signal, **dict(zip(others, found, strict=True))}, failed)
    return _Found(None, failed)


def _signal_event(tid: str, group: Mapping[str, Signal]) -> dict[str, Any]:
    return {
        "kind": "signal",
        "trigger": tid,
        "signals": {
            n: {"params": s.params, "payload": s.payload, "signal_id": s.signal_id}
            for n, s in group.items()
        },
    }


def _start_set(
    ctx: Services,
    workflow: str,
    tid: str,
    trigger: Trigger,
    group: Mapping[str, Signal],
    key: str,
) -> _Tried:
    """The set's run, started (or found); none when its params do not render or
    validate: recorded on the trigger by start_triggered, and returned for the answer."""
    at = max(s.sent_at for s in group.values())
    event = _signal_event(tid, group)
    try:
        # strict: the failure (recorded on the trigger's state either way) is raised
        # too, so that the sender's answer names it.
        run = start_triggered(ctx, workflow, tid, trigger, event, key=key, at=at, strict=True)
    except DefinitionError as exc:
        return _Tried(failed=(TriggerFailure(workflow, tid, str(exc)),))
    except Exception as exc:  # an outage: the set stays joined, waiting for its run
        raise _SetNotStarted(key, exc) from exc
    return _Tried(run)


def _used(ctx: Services, consumer: str, signal: Signal, *, id_marks: bool) -> ConsumedMark | None:
    """The mark of the set ``consumer`` used this signal instance for, else None (one
    read of its instance's mark and, with ``id_marks``, of an old mark of its id)."""
    assert ctx.signals is not None
    keys = mark_keys(signal, id_marks=id_marks)
    return consumption(signal, ctx.signals.marks(consumer, keys), id_marks=id_marks)


def _start_consumed(
    ctx: Services,
    workflow: str,
    tid: str,
    trigger: Trigger,
    mark: ConsumedMark,
) -> _Tried:
    """The run of a set consumed before (its key lists its signal instances): started
    again, which finds the run when it exists. Nothing when a signal of it has expired,
    or another signal has its id now; and only the run that exists once the consume is
    older than RECOVER_WINDOW_MS: a missing run then is one retention deleted, not a
    start that failed, and must not run the set a second time."""
    assert ctx.signals is not None
    key = mark.group
    if not key:
        return _NOTHING  # consumed before sets were recorded
    now = ctx.now()
    group: dict[str, Signal] = {}
    for sid, sent_at in set_members(key):
        found = ctx.signals.get(sid, now=now)
        if found is None:
            return _NOTHING
        if sent_at is None:  # a set recorded by ids only: the instance its mark covers
            if not legacy_mark_covers(found, mark):
                return _NOTHING
        elif found.sent_at != sent_at:
            return _NOTHING  # that signal expired; this one is a new signal of the same id
        group[found.name] = found
    if not may_recover(mark, now):
        at = max(s.sent_at for s in group.values())
        try:
            return _Tried(ctx.store.get_run(trigger_run_id(workflow, tid, key, at)))
        except NotFound:
            log.info(
                "signal trigger %s of %s: the set %s was consumed long ago and its run is"
                " gone (retention); not started again",
                tid,
                workflow,
                key,
            )
            return _NOTHING
    return _start_set(ctx, workflow, tid, trigger, group, key)


def _holds(signal: Signal, condition: ParamMatch) -> bool:
    from podium.core.engine.signals import compare

    return compare(signal.params.get(condition.param), condition.op, condition.value)
