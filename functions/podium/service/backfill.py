"""Backfill: one run per scheduled time of a cron or rate trigger in a date range, with
its logical date (``podium backfill``, ``POST /workflows/{name}/backfill``).

Runs start through ``start_run``, so the workflow's run strategy holds (with
``parallel: 3`` never more than 3 run at once; the rest wait QUEUED). ``max_active``
caps the backfill itself: a driver message (``{"t": "backfill"}``) starts the next
runs as earlier ones end. Ids are deterministic (core/engine/backfill.py): running the
same backfill twice starts nothing new. ``cancel`` stops the drivers of a trigger's
backfills asked for until then (a mark on the trigger's state, read by each driver):
they start no more runs; their runs still QUEUED are stopped, the running ones left to
run (stop them as any run). A start racing a cancel (it read the mark before the cancel
wrote it) reads the mark again after it and stops what it queued. ``pause`` holds those
drivers (another mark on the same state) until ``resume``: they start no run meanwhile,
and a backfill asked for during the pause waits behind it. A driver whose trigger is
gone from the active version, or is no longer a cron or rate trigger, stops.

One chain of driver messages per backfill: SQS delivers a message at least once, and a
copy that re-sent itself would be a second chain, each copied again in turn. The
trigger's state holds each live driver's tick (``backfill_drivers``); a message carries
the tick it expects, a copy whose tick has moved on drops itself, and a tick moves the
tick on with one conditional write after it sent the next message (``_next_tick``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.dsl.triggers import Trigger
from podium.core.engine.actions import ActionRefused
from podium.core.engine.backfill import (
    MAX_BACKFILL_RUNS,
    Action,
    ChainWalk,
    Reprocess,
    decide,
    driver_id,
    first_run_id,
    is_live_driver,
    is_run_of,
    next_run_id,
    rate_anchor,
)
from podium.core.engine.errors import RunNotFound
from podium.core.engine.records import RunRecord
from podium.core.engine.schedule import (
    Cron,
    cron_times,
    iso,
    load_zone,
    logical_date,
    parse_iso,
    parse_rate,
    rate_times,
)
from podium.core.engine.status import RunStatus
from podium.core.ports import TriggerState
from podium.service import messages
from podium.service.api_requests import body_fields
from podium.service.context import Services

if TYPE_CHECKING:
    from podium.service.actions import Actor

log = logging.getLogger("podium.backfill")
DRIVER_INTERVAL_MS = 30_000
BACKFILL_TRIGGER = "backfill"  # a backfill's runs' ``trigger`` (run.trigger)


@dataclass(frozen=True)
class Entry:
    at: int
    logical_date: str
    action: Action
    reason: str
    run_id: str  # the run to start, or the latest existing one when skipped
    restart_of: str | None = None  # a rerun: the run it follows
    active: bool = False  # skipped, its run not ended: it counts against max_active

    def as_json(self) -> dict[str, Any]:
        return {
            "time": iso(self.at),
            "logical_date": self.logical_date,
            "action": self.action.value,
            "reason": self.reason,
            "run_id": self.run_id,
            "restart_of": self.restart_of,
        }


@dataclass
class Backfill:
    workflow: str
    trigger: str
    entries: list[Entry]
    started: list[str] = field(default_factory=list)
    queued: int = 0  # left to the driver (max_active)
    reason: str | None = None  # why the plan is empty, or shorter than the range

    def summary(self) -> dict[str, Any]:
        count = {a.value: sum(1 for e in self.entries if e.action is a) for a in Action}
        return {
            "workflow": self.workflow,
            "trigger": self.trigger,
            "times": len(self.entries),
            "to_start": count["start"],
            "to_rerun": count["rerun"],
            "skipped": count["skip"],
            "started": self.started,
            "waiting_for_max_active": self.queued,
            "reason": self.reason,
            "entries": [e.as_json() for e in self.entries],
        }


def _schedule_trigger(ctx: Services, workflow: str, trigger_id: str | None) -> tuple[str, Trigger]:
    defn = ctx.definitions.get(workflow, ctx.store.active_version(workflow)).definition
    scheduled = {tid: t for tid, t in defn.trigger_map.items() if t.scheduled}
    if trigger_id is not None:
        if trigger_id not in scheduled:
            raise DefinitionError(
                [
                    Issue(
                        "trigger",
                        f"{workflow!r} has no cron or rate trigger {trigger_id!r}; its"
                        f" schedules: {', '.join(scheduled) or 'none'}",
                    )
                ]
            )
        return trigger_id, scheduled[trigger_id]
    if len(scheduled) != 1:
        raise DefinitionError(
            [
                Issue(
                    "trigger",
                    f"{workflow!r} has {len(scheduled)} cron/rate triggers"
                    + (
                        f" ({', '.join(scheduled)}): name one in trigger (podium backfill"
                        " --trigger)"
                        if scheduled
                        else ": a backfill follows a schedule; add a cron or rate trigger"
                    ),
                )
            ]
        )
    return next(iter(scheduled.items()))


def _bound(text: str, tz: str, *, end: bool) -> int:
    """A date (the whole day, in the trigger's time zone) or an ISO time, as epoch ms,
    from 1970 to 2200 (Python's dates stop at years 1 and 9999, and a run's times are
    epoch milliseconds)."""
    where = "to" if end else "from"
    day, at = _date_or_time(text)
    if day is not None:
        if not _FIRST_DAY <= day <= _LAST_DAY:
            raise DefinitionError([Issue(where, _out_of_range(text))])
        local = datetime.combine(day + timedelta(days=1) if end else day, time(), load_zone(tz))
        return int(local.timestamp() * 1000) - (1 if end else 0)
    if at is None:
        raise DefinitionError([Issue(where, f"{text!r} is not a date (2026-01-31) or an ISO time")])
    if not _FIRST_MS <= at <= _LAST_MS:
        raise DefinitionError([Issue(where, _out_of_range(text))])
    return at


def _date_or_time(text: str) -> tuple[date | None, int | None]:
    try:
        return date.fromisoformat(text), None
    except ValueError:
        pass
    try:
        return None, parse_iso(text)
    except (ValueError, OverflowError):
        return None, None


_FIRST_DAY, _LAST_DAY = date(1970, 1, 2), date(2200, 12, 31)
_FIRST_MS = int(datetime.combine(_FIRST_DAY, time(), UTC).timestamp() * 1000)
_LAST_MS = int(datetime.combine(_LAST_DAY, time(), UTC).timestamp() * 1000)


def _out_of_range(text: str) -> str:
    return f"{text!r} is out of range: backfill dates from 1970-01-02 to 2200-12-31"


def plan(
    ctx: Services,
    workflow: str,
    start: str,
    end: str,
    *,
    trigger: str | None = None,
    reprocess: Reprocess = Reprocess.NONE,
    backwards: bool = False,
    dry_run: bool = False,
) -> Backfill:
    """The backfill's plan. ``dry_run``: nothing is written (a rate trigger with no state
    yet is read as made now, what ``ensure`` would make it)."""
    tid, spec = _schedule_trigger(ctx, workflow, trigger)
    tz = spec.timezone if spec.cron is not None else "UTC"
    after, until = _bound(start, tz, end=False) - 1, _bound(end, tz, end=True)
    if until <= after:
        raise DefinitionError([Issue("to", f"{end!r} is before {start!r}")])
    # Only the times that have come (Airflow's rule): a run started for a time still to
    # come would run before its data exists, and its id is the one that time's firing
    # gives, so the firing would then start nothing.
    now = ctx.now()
    if after >= now:
        raise DefinitionError(
            [
                Issue(
                    "from",
                    f"{start!r} is in the future: a backfill runs scheduled times that have"
                    " come; the schedule starts the others when they come",
                )
            ]
        )
    reason: str | None = None
    capped = until > now
    if capped:
        until = now
        reason = (
            f"the range reaches past now ({iso(now)}): the times still to come are left"
            " to the schedule"
        )
    if spec.cron is not None:
        times = cron_times(Cron.parse(spec.cron), tz, after, until, limit=MAX_BACKFILL_RUNS + 1)
    else:
        assert spec.rate is not None
        states = ctx.store.trigger_states()
        if dry_run:  # read only: a state still missing is read as ``ensure`` would make it
            state = states.get_state(workflow, tid) or TriggerState(spec.enabled, now)
        else:
            state = states.ensure(workflow, tid, spec.enabled, now)
        # The trigger's slots: a schedule's firing is the run of the slot it falls in
        # (triggers.on_fire_once), so a slot it fired is found here by its id.
        anchor = rate_anchor(state.since)
        times = rate_times(parse_rate(spec.rate), anchor, after, until, limit=MAX_BACKFILL_RUNS + 1)
        before = _before_rate_trigger(tid, anchor, after, until)
        # Cut at both ends: both said (the summary's reason is why the plan is shorter).
        reason = "; ".join(r for r in (before, reason) if r) or None
    if not times and (reason is None or capped):
        reason = (
            f"no scheduled time of trigger {tid!r} ({spec.cron or spec.rate}) falls between"
            f" {start} and {iso(now) + ' (now)' if capped else end}; widen the range"
        )
    if len(times) > MAX_BACKFILL_RUNS:
        raise DefinitionError(
            [
                Issue(
                    "from",
                    f"the range has more than {MAX_BACKFILL_RUNS:,} scheduled times (the"
                    " limit of one backfill); backfill it in parts",
                )
            ]
        )
    if backwards:
        times.reverse()
    latest = _latest_runs(ctx, workflow, tid, times)
    entries = [_entry(workflow, tid, at, latest[at], tz, reprocess) for at in times]
    return Backfill(workflow, tid, entries, reason=reason)


def _before_rate_trigger(tid: str, anchor: int, after: int, until: int) -> str | None:
    """A rate trigger's times start when it was created (its ``since``): a range reaching
    before that is said so, not answered with an empty plan and no word why."""
    if after + 1 >= anchor:
        return None
    since = iso(anchor)
    if until < anchor:
        return (
            f"the range ends before rate trigger {tid!r} existed: it was created at"
            f" {since} and has no scheduled time before that; backfill from {since} on"
            " (a cron trigger's times go back any distance)"
        )
    return (
        f"the range starts before rate trigger {tid!r} existed: its times start at {since},"
        " when it was created"
    )


def _latest_runs(
    ctx: Services, workflow: str, tid: str, times: list[int]
) -> dict[int, RunRecord | None]:
    """Each time's latest run, along its chain of run ids (core ``ChainWalk``, which reads
    past runs pruned from the middle of a chain): the windows of all times are read in one
    batched read per round, and most chains end in the first round."""
    walks = {at: ChainWalk.start(workflow, tid, at) for at in times}
    runs: dict[str, RunRecord] = {}
    todo = list(times)
    while todo:
        found = ctx.store.get_runs([i for at in todo for i in walks[at].window()])
        runs.update(found)
        for at in todo:
            walks[at] = walks[at].after(found.keys())
        todo = [at for at in todo if not walks[at].done]
    return {at: runs[w.latest] if w.latest is not None else None for at, w in walks.items()}


def _entry(
    workflow: str, tid: str, at: int, latest: RunRecord | None, tz: str, reprocess: Reprocess
) -> Entry:
    decision = decide(latest.status if latest else None, reprocess)
    day = logical_date(at, tz)
    if decision.action is Action.SKIP:
        assert latest is not None
        active = not latest.status.terminal
        return Entry(at, day, decision.action, decision.reason, latest.run_id, active=active)
    if latest is None:
        return Entry(at, day, decision.action, decision.reason, first_run_id(workflow, tid, at))
    run_id = next_run_id(workflow, tid, at, latest.run_id)
    return Entry(at, day, decision.action, decision.reason, run_id, latest.run_id)


def execute(
    ctx: Services,
    backfill: Backfill,
    *,
    max_active: int | None = None,
    cancels: int = 0,
    paused: bool = False,
) -> Backfill:
    """Start the planned runs (all at once: the run strategy queues them), or the first
    ``max_active`` and a driver for the rest (``cancels``: the count of the trigger's
    backfill cancels when it was asked for: one more stops the driver; ``paused``: the
    trigger's backfills are paused, so the driver gets them all)."""
    todo = [e for e in backfill.entries if e.action is not Action.SKIP]
    # The range's runs still active are the backfill's too (an earlier call's, the same
    # backfill sent again): they hold places of max_active, or a repeat would start the
    # times the first call's driver holds back, beside its runs.
    active = [e.run_id for e in backfill.entries if e.active]
    room = len(todo) if max_active is None else max(0, max_active - len(active))
    if paused:
        assert max_active is not None  # refused before the plan ran (backfill_request)
        room = 0
    now_batch = todo[:room]
    for entry in now_batch:
        run = _start(ctx, backfill.workflow, backfill.trigger, entry)
        if run is not None:
            backfill.started.append(run.run_id)
    rest = todo[len(now_batch) :]
    backfill.queued = len(rest)
    if rest:
        assert max_active is not None
        did = driver_id(backfill.workflow, backfill.trigger, [e.run_id for e in rest])
        driver = messages.BackfillDriver(
            backfill.workflow,
            backfill.trigger,
            [[e.at, e.run_id, e.restart_of, e.logical_date] for e in rest],
            active + backfill.started,
            max_active,
            cancels=cancels,
            driver=did,
            tick=_start_driver(ctx, backfill.workflow, backfill.trigger, did),
        )
        ctx.at(driver, ctx.now() + DRIVER_INTERVAL_MS, queue="events")
    return backfill


def _start_driver(ctx: Services, workflow: str, tid: str, did: str) -> int:
    """Make ``did`` the backfill's live driver: the tick its first message carries (one
    write; the trigger's state made first when it has none, one more)."""
    states = ctx.store.trigger_states()
    tick = states.start_backfill_driver(workflow, tid, did)
    if tick is None:
        trigger = _schedule_of(ctx, workflow, tid)
        states.ensure(workflow, tid, trigger is None or trigger.enabled, ctx.now())
        tick = states.start_backfill_driver(workflow, tid, did)
        assert tick is not None  # the state was just made (states are never removed)
    return tick


def _next_tick(ctx: Services, msg: messages.BackfillDriver, seen: int) -> None:
    """Send the driver's next message (``msg`` at the next tick), then move the tick on
    from the one read (``seen``) to that message's: one conditional write. In that
    order a crash between the two leaves the tick one behind the message sent, which is
    live all the same (core ``is_live_driver``), as is a redelivery of this message;
    the first of them to tick moves the tick past the other, which drops itself. (A
    write made first would leave, after such a crash, a tick that no message sent
    holds: the backfill would stop for good.) A copy of this message that took the
    tick meanwhile sent its own next message: the one sent here is a second copy of
    that tick, which drops itself."""
    assert msg.driver is not None
    nxt = msg.tick + 1
    ctx.at(replace(msg, tick=nxt), ctx.now() + DRIVER_INTERVAL_MS, queue="events")
    states = ctx.store.trigger_states()
    if not states.advance_backfill_driver(msg.workflow, msg.trigger, msg.driver, seen, nxt):
        log.debug(
            "backfill of %s (%s): another copy of driver %s took tick %d",
            msg.workflow,
            msg.trigger,
            msg.driver,
            msg.tick,
        )


def _end_driver(ctx: Services, msg: messages.BackfillDriver, seen: int) -> None:
    """Forget the driver (it starts nothing more): its late copies drop themselves, and
    the trigger's state keeps no tick of a driver gone (an adopted one that made no
    tick has none to forget)."""
    if msg.driver is not None and seen:
        states = ctx.store.trigger_states()
        states.end_backfill_driver(msg.workflow, msg.trigger, msg.driver, seen)


def _start(ctx: Services, workflow: str, tid: str, entry: Entry) -> RunRecord | None:
    from podium.service.triggers import start_triggered

    trigger = _schedule_of(ctx, workflow, tid)
    if trigger is None:
        log.warning("backfill of %s: trigger %s is no cron or rate trigger now", workflow, tid)
        return None
    event = {
        "kind": "backfill",
        "trigger": tid,
        "time": iso(entry.at),
        "logical_date": entry.logical_date,
    }
    return start_triggered(
        ctx,
        workflow,
        tid,
        trigger,
        event,
        key="",
        at=entry.at,
        logical=entry.logical_date,
        run_id=entry.run_id,
        label=BACKFILL_TRIGGER,
        restart_of=entry.restart_of,
    )


def on_driver(ctx: Services, msg: messages.BackfillDriver) -> None:
    """Start the next runs while fewer than ``max_active`` of the backfill's are active.
    A copy of the message whose tick has moved on (another copy took it, or the driver
    ended) drops itself: one chain per backfill. A backfill cancelled since it was
    asked for starts nothing more, and a paused one nothing until it is resumed (one
    read per tick; a paused driver ticks on, one message per ``DRIVER_INTERVAL_MS``).
    Each tick that sends a next message writes once (its tick moved on). A cancel that
    lands while it starts runs is read again after them: the runs it queued meanwhile
    are stopped, as the cancel's own sweep, which came before them, would have."""
    did = msg.driver
    if did is None:
        # Sent before drivers had ids: adopted as the driver of its runs, at tick 0 (no
        # tick kept): the first of its copies to tick makes the tick, the rest drop.
        did = driver_id(msg.workflow, msg.trigger, [str(entry[1]) for entry in msg.todo])
        msg = replace(msg, driver=did, tick=0)
    state = ctx.store.trigger_states().get_state(msg.workflow, msg.trigger)
    seen = state.backfill_drivers.get(did, 0) if state is not None else 0
    if not is_live_driver(seen, msg.tick):
        log.debug(
            "backfill of %s (%s): a copy of driver %s at tick %d dropped (its tick moved on)",
            msg.workflow,
            msg.trigger,
            msg.driver,
            msg.tick,
        )
        return
    if _cancelled(state, msg.cancels):
        # An earlier delivery of this message may have queued runs after the cancel's
        # sweep and died before its second read: the ones it could have started (at most
        # ``max_active``, from the head of its list) are stopped if still QUEUED.
        actor = _cancel_actor(CANCELLER, msg.trigger)
        heads = [str(entry[1]) for entry in msg.todo[: msg.max_active]]
        stopped = [r for r in heads if _stop_queued(ctx, msg.workflow, msg.trigger, r, actor)]
        log.info(
            "backfill of %s (%s) cancelled: %d time(s) not started, %d stopped QUEUED",
            msg.workflow,
            msg.trigger,
            len(msg.todo) - len(stopped),
            len(stopped),
        )
        _end_driver(ctx, msg, seen)
        return
    trigger = _schedule_of(ctx, msg.workflow, msg.trigger)
    # Before the pause: a paused driver of a trigger removed, or turned into an s3 or
    # event trigger (same id), would tick on, and neither resume nor cancel (which take
    # cron and rate triggers only) could reach it.
    if trigger is None:
        log.warning(
            "backfill of %s stopped: trigger %s is gone or no cron or rate trigger now",
            msg.workflow,
            msg.trigger,
        )
        _end_driver(ctx, msg, seen)
        return
    tz = trigger.timezone if trigger.cron is not None else "UTC"
    if state is None:  # an adopted driver's first tick is written on the trigger's state
        ctx.store.trigger_states().ensure(msg.workflow, msg.trigger, trigger.enabled, ctx.now())
    if state is not None and state.backfills_paused:
        _next_tick(ctx, msg, seen)
        return
    active = []
    for run_id in msg.active:
        try:
            if not ctx.store.get_run(run_id).status.terminal:
                active.append(run_id)
        except RunNotFound:
            continue
    todo = list(msg.todo)
    started: list[str] = []
    while todo and len(active) < msg.max_active:
        at, run_id, restart_of, *planned = todo.pop(0)
        entry = Entry(
            int(at),
            # The date the plan gave it (the trigger's zone may have changed since); a
            # driver message sent before the date was carried works it out again.
            str(planned[0]) if planned else logical_date(int(at), tz),
            Action.START,
            "",
            str(run_id),
            None if restart_of is None else str(restart_of),
        )
        run = _start(ctx, msg.workflow, msg.trigger, entry)
        if run is not None:
            active.append(run.run_id)
            started.append(run.run_id)
    if started and _stop_if_cancelled(ctx, msg.workflow, msg.trigger, msg.cancels, started):
        _end_driver(ctx, msg, seen)
        return
    if todo:
        _next_tick(ctx, replace(msg, todo=todo, active=active), seen)
    else:
        _end_driver(ctx, msg, seen)


def _schedule_of(ctx: Services, workflow: str, trigger_id: str) -> Trigger | None:
    """The active version's trigger ``trigger_id`` while it is a cron or rate trigger:
    None once it is gone, or is another kind under the same id (its params would be
    rendered from a backfill's event)."""
    defn = ctx.definitions.get(workflow, ctx.store.active_version(workflow)).definition
    trigger = defn.trigger_map.get(trigger_id)
    return trigger if trigger is not None and trigger.scheduled else None


def _cancelled(state: TriggerState | None, cancels: int) -> bool:
    """A cancel came since the backfill read ``cancels`` (the count it was asked with)."""
    return state is not None and state.backfill_cancels > cancels


def _stop_if_cancelled(
    ctx: Services, workflow: str, tid: str, cancels: int, started: list[str]
) -> bool:
    """A cancel that landed after the cancel count was read and before the ``started``
    runs were queued swept the QUEUED runs before them: read the count again and stop
    those still QUEUED, as the cancel does (one read; a read per run when cancelled)."""
    if not _cancelled(ctx.store.trigger_states().get_state(workflow, tid), cancels):
        return False
    actor = _cancel_actor(CANCELLER, tid)
    stopped = [r for r in started if _stop_queued(ctx, workflow, tid, r, actor)]
    log.info(
        "backfill of %s (%s) cancelled while it started runs: %d stopped QUEUED",
        workflow,
        tid,
        len(stopped),
    )
    return True


CANCELLER = "podium"  # who stops a run a racing cancel would have stopped


def _cancel_actor(by: str, tid: str) -> Actor:
    from podium.service.actions import Actor

    return Actor(by, f"backfill of {tid} cancelled")


def _stop_queued(ctx: Services, workflow: str, tid: str, run_id: str, actor: Actor) -> bool:
    """Stop a run of ``tid``'s backfills that is still QUEUED (never started: nothing of
    it is lost); False for any other run, or one admitted meanwhile (left to run)."""
    from podium.core.engine.actions import RunAction
    from podium.service.actions import run_action

    try:
        run = ctx.store.get_run(run_id)
    except RunNotFound:
        return False
    ours = is_run_of(workflow, tid, run.run_id, run.restart_of)
    if run.status is not RunStatus.QUEUED or run.trigger != BACKFILL_TRIGGER or not ours:
        return False  # a run of the schedule, of another trigger, of anything else
    try:
        run_action(ctx, run.run_id, RunAction.STOP, actor)
    except ActionRefused:
        return False  # admitted meanwhile: running, left alone
    return True


class BackfillRequest(BaseModel):
    """``POST /workflows/{name}/backfill``'s body: ``from`` and ``to`` as documented (and
    as the CLI sends them); any other field, ``start`` and ``end`` among them, is refused
    naming the fields (it was taken as ``from``/``to``, a second spelling of each)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Annotated[str, Field(alias="from", min_length=1, max_length=40)]
    end: Annotated[str, Field(alias="to", min_length=1, max_length=40)]
    trigger: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    reprocess: Reprocess = Reprocess.NONE
    # strict: "yes", 1 and "1" are not true, nor "3" a number (pydantic's lax mode)
    max_active: Annotated[int, Field(ge=1, le=1000, strict=True)] | None = None
    backwards: Annotated[bool, Field(strict=True)] = False
    dry_run: Annotated[bool, Field(strict=True)] = False


class CancelRequest(BaseModel):
    """``POST /workflows/{name}/backfill/cancel``'s body: which trigger (when several)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trigger: Annotated[str, Field(min_length=1, max_length=40)] | None = None


def parse_cancel(body: Any) -> CancelRequest:
    from pydantic import ValidationError

    from podium.core.dsl.errors import request_issues

    try:
        return CancelRequest.model_validate(body if body is not None else {})
    except ValidationError as exc:
        raise DefinitionError(
            request_issues(exc.errors(), fields=body_fields(CancelRequest))
        ) from None


def parse_request(body: Any) -> BackfillRequest:
    from pydantic import ValidationError

    from podium.core.dsl.errors import request_issues

    try:
        return BackfillRequest.model_validate(body if body is not None else {})
    except ValidationError as exc:
        issues = request_issues(exc.errors(), fields=body_fields(BackfillRequest))
    raise DefinitionError([_RANGE_NAMES.get(i.path, i) for i in issues])


# Other tools' names for the range, refused with the one fix.
_RANGE_NAMES = {
    f"body.{name}": Issue(
        f"body.{name}",
        f"unknown field '{name}'; the range is sent as 'from' and 'to':"
        ' {"from": "2026-03-01", "to": "2026-03-31"}',
    )
    for name in ("start", "end")
}


def backfill_request(ctx: Services, workflow: str, request: BackfillRequest) -> dict[str, Any]:
    """Plan, and unless a dry run, start: the summary the API and the CLI print."""
    planned = plan(
        ctx,
        workflow,
        request.start,
        request.end,
        trigger=request.trigger,
        reprocess=request.reprocess,
        backwards=request.backwards,
        dry_run=request.dry_run,
    )
    state = ctx.store.trigger_states().get_state(workflow, planned.trigger)
    paused = state is not None and state.backfills_paused
    if paused and request.max_active is None and not request.dry_run:
        raise DefinitionError(
            [
                Issue(
                    "max_active",
                    f"the backfills of {planned.trigger!r} are paused: give max_active to"
                    " start this one behind the pause (it starts when they are resumed), or"
                    f" resume them first (podium backfill {workflow} --resume)",
                )
            ]
        )
    if not request.dry_run:
        # The count of cancels before its first run: a cancel from here on stops it
        # (its driver at its first tick; the runs queued here, read again after them).
        seen = state.backfill_cancels if state is not None else 0
        execute(ctx, planned, max_active=request.max_active, cancels=seen, paused=paused)
        if planned.started:
            _stop_if_cancelled(ctx, workflow, planned.trigger, seen, planned.started)
    return {**planned.summary(), "dry_run": request.dry_run, "paused": paused}


def pause(ctx: Services, workflow: str, trigger_id: str | None, paused: bool) -> dict[str, Any]:
    """Pause (``paused``) or resume the backfills of a workflow's cron or rate trigger
    (the only one, or the one named): their drivers start no run while paused (they
    look again every ``DRIVER_INTERVAL_MS``) and start their next runs at their first
    tick after the resume; a backfill asked for during the pause with ``max_active``
    waits behind it (one without is refused: it would start every run at once). The runs
    started go on (pause them as any run); so do those a backfill without
    ``max_active`` started, which the run strategy holds, not a driver. A cancel ends
    the pause. One or two writes (the state made if missing, the mark)."""
    tid, spec = _schedule_trigger(ctx, workflow, trigger_id)
    states = ctx.store.trigger_states()
    states.ensure(workflow, tid, spec.enabled, ctx.now())
    states.pause_backfills(workflow, tid, paused)
    return {
        "workflow": workflow,
        "trigger": tid,
        "paused": paused,
        ("paused_at" if paused else "resumed_at"): iso(ctx.now()),
    }


def cancel(ctx: Services, workflow: str, trigger_id: str | None, by: str) -> dict[str, Any]:
    """Cancel the backfills of a workflow's cron or rate trigger (the only one, or the
    one named) asked for until now: their drivers start no more runs (at their next
    tick, within ``DRIVER_INTERVAL_MS``), and their runs still QUEUED by the run strategy
    (never started: nothing of them is lost) are stopped, as an operator ``by`` stops a
    run. The runs running are left alone, as Airflow leaves a cancelled backfill's
    running runs: stop them as any run. A backfill asked for after the cancel runs. Two
    writes (the state made if missing, the count), and one read per queued run of the
    workflow: the whole queue, page after page (a backfill made in parts queues more
    than one page); a start racing the cancel stops its own runs (``on_driver``)."""
    tid, spec = _schedule_trigger(ctx, workflow, trigger_id)
    now = ctx.now()
    states = ctx.store.trigger_states()
    states.ensure(workflow, tid, spec.enabled, now)
    states.cancel_backfills(workflow, tid)
    stopped: list[str] = []
    actor = _cancel_actor(by, tid)
    slots = ctx.store.run_slots()
    page = slots.queued(workflow, MAX_BACKFILL_RUNS)
    while page:
        stopped += [e.run_id for e in page if _stop_queued(ctx, workflow, tid, e.run_id, actor)]
        page = slots.queued(workflow, MAX_BACKFILL_RUNS, after=page[-1])
    return {
        "workflow": workflow,
        "trigger": tid,
        "cancelled_at": iso(now),
        "stopped_queued": stopped,
    }
