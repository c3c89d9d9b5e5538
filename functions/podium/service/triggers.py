"""Triggers: runs started by a schedule, an S3 upload, an EventBridge event or signals.

- cron and rate: one recurring schedule per trigger of the workflow's active version
  (``sync_triggers``, run on every push: created, updated, deleted). At each time it puts
  ``{"t": "fire"}`` on the event queue with the scheduled time; ``on_fire`` starts the
  run, and with ``catchup`` the times missed since the last one fired.
- s3 and event: the events function offers every event to ``route_trigger_event``.
- signal: every stored signal goes through ``on_signal`` (Maestro's signal triggers,
  service/signal_triggers.py).

Routing reads no list of workflows: the routing index (core/engine/trigger_index.py,
kept by the TriggerStates port) gives, in one read, the workflows whose triggers could
take an event or a signal; only those candidates' active versions are read and matched.

Every trigger starts the active version, and at most one run per (trigger, scheduled
time or event id or set of signals): the run id is derived from them
(``schedule.trigger_run_id``), so a duplicated event finds the run it started: its time
part is the event's own ``time``, never the time it is handled. A rate
trigger's "time" is the period a firing falls in (core/engine/backfill.py: its
schedule's own times are not the ones a backfill computes). Whether
a trigger is on is kept outside the versions (``TriggerStates``): ``podium triggers
enable|disable`` needs no new version.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue, did_you_mean
from podium.core.dsl.models import WorkflowDefinition
from podium.core.dsl.triggers import Catchup, Trigger
from podium.core.engine.actions import RestartFrom
from podium.core.engine.backfill import first_run_id, rate_anchor
from podium.core.engine.callbacks import TOKEN_EVENT
from podium.core.engine.errors import NotFound, RunConflict, RunNotFound
from podium.core.engine.event_patterns import is_folder_marker, matches, s3_object_created
from podium.core.engine.records import RunRecord
from podium.core.engine.schedule import (
    Cron,
    iso,
    last_cron_times,
    logical_date,
    parse_iso,
    parse_rate,
    rate_expression,
    trigger_run_id,
)
from podium.core.engine.trigger_events import (
    Link,
    event_time,
    missed_slots,
    podium_link,
    rate_firing,
)
from podium.core.engine.trigger_index import (
    RouteIndexFull,
    build_index,
    candidates,
    definition_routes,
    event_routes,
    plan_prune,
)
from podium.core.expr import ExpressionError
from podium.core.ports import EVENT_SOURCE as PODIUM_SOURCE
from podium.core.ports import SCHEDULED_TIME, ScheduleSpec, TriggerState, TriggerStates
from podium.service import messages
from podium.service.context import Services
from podium.service.run_events import RUN_STATUS_CHANGE
from podium.service.step_events import STEP_STATUS_CHANGE

log = logging.getLogger("podium.triggers")


def schedule_prefix(workflow: str) -> str:
    """Names are at most 64 characters of [0-9a-zA-Z-_.]: digests of the names."""
    return "tr-" + hashlib.sha256(workflow.encode()).hexdigest()[:20] + "-"


def schedule_name(workflow: str, trigger: str) -> str:
    return schedule_prefix(workflow) + hashlib.sha256(trigger.encode()).hexdigest()[:20]


def _active(ctx: Services, workflow: str) -> WorkflowDefinition:
    return ctx.definitions.get(workflow, ctx.store.active_version(workflow)).definition


def _states(ctx: Services) -> TriggerStates:
    return ctx.store.trigger_states()


# schedules ----------------------------------------------------------------------------
def schedule_spec(
    workflow: str, trigger_id: str, trigger: Trigger, state: TriggerState, since: int = 0
) -> ScheduleSpec:
    """The trigger's schedule. ``since``: when its times began (its expression and time
    zone took effect; 0: not known), carried by every firing (``sf``): catch-up counts
    no time before it, which the schedule never had."""
    message: dict[str, Any] = {"t": "fire", "wf": workflow, "tr": trigger_id, "at": SCHEDULED_TIME}
    if since:
        message["sf"] = since
    flexible = -(-trigger.jitter_seconds // 60)
    name = schedule_name(workflow, trigger_id)
    if trigger.cron is not None:
        cron = Cron.parse(trigger.cron)
        return ScheduleSpec(
            name,
            cron.scheduler_expression(),
            trigger.timezone,
            message,
            flexible,
            cron=trigger.cron,
        )
    assert trigger.rate is not None
    minutes = parse_rate(trigger.rate)
    return ScheduleSpec(
        name,
        rate_expression(minutes),
        "UTC",
        message,
        flexible,
        start_ms=rate_anchor(state.since),  # fired in process at the slots a backfill runs
        rate_minutes=minutes,
    )


@dataclass
class SyncReport:
    created: list[str]
    updated: list[str]
    deleted: list[str]


def sync_triggers(ctx: Services, workflow: str) -> SyncReport:
    """Make the schedules match the active version's enabled cron and rate triggers
    (idempotent: run on every push, activation and enable/disable).

    Two syncs may race (``disable`` and ``enable`` at once): the one that read the
    older states may apply them last (delete a schedule the other just kept). So after
    applying, the states are read again, and while they differ from the ones applied
    the sync is redone: the last sync to finish applies states at least as new as
    every change made before it ended."""
    report = SyncReport([], [], [])
    applied = _apply_schedules(ctx, workflow, report)
    for _ in range(_SYNC_ROUNDS - 1):
        if _enabled_states(ctx, workflow) == applied:
            break
        applied = _apply_schedules(ctx, workflow, report)
    return report


# How many times a sync applies the states when they keep changing under it (each
# round is a state read and a schedule read per trigger; a race settles in one more).
_SYNC_ROUNDS = 3


def _enabled_states(ctx: Services, workflow: str) -> dict[str, tuple[bool, int]]:
    return {tid: (st.enabled, st.since) for tid, st in _states(ctx).states(workflow).items()}


def _apply_schedules(
    ctx: Services, workflow: str, report: SyncReport
) -> dict[str, tuple[bool, int]]:
    """One pass of ``sync_triggers``: returns the states it applied."""
    assert ctx.schedules is not None
    defn = _active(ctx, workflow)
    states = _states(ctx)
    now = ctx.now()
    made = {
        tid: states.ensure(workflow, tid, t.enabled, now) for tid, t in defn.trigger_map.items()
    }
    # One read of every state, applied and returned as one snapshot (the redo compares it).
    seen = {**made, **states.states(workflow)}
    desired: dict[str, ScheduleSpec] = {}
    for tid, trigger in defn.trigger_map.items():
        state = seen[tid]
        if trigger.scheduled and state.enabled:
            spec = schedule_spec(workflow, tid, trigger, state)
            desired[spec.name] = spec
    # Every trigger the workflow ever had has a state: its schedule may exist. Looking
    # them up by name needs no ListSchedules (an action IAM cannot scope to a group).
    for tid in sorted(seen):
        name = schedule_name(workflow, tid)
        old = ctx.schedules.get(name)
        wanted = _since_kept(desired.get(name), old, seen[tid], now)
        if wanted is not None:
            rule, since = _rule_of(wanted), int(wanted.message.get("sf") or 0)
            if (seen[tid].rule, seen[tid].rule_since) != (rule, since):
                states.set_rule(workflow, tid, rule, since)
        elif seen[tid].rule and not _still_scheduled(defn, tid):
            # Removed from the workflow, or its id now another kind (an s3 trigger): made
            # a schedule again later, it starts afresh (a disabled trigger keeps its rule:
            # enabled again, it catches up the times it missed).
            states.set_rule(workflow, tid, "", now)
        if wanted is None:
            if old is not None:
                ctx.schedules.delete(name)
                report.deleted.append(name)
        elif old is None:
            ctx.schedules.put(wanted)
            report.created.append(name)
        elif not wanted.same_as(old):
            ctx.schedules.put(wanted)
            report.updated.append(name)
    return {tid: (st.enabled, st.since) for tid, st in seen.items()}


def _still_scheduled(defn: WorkflowDefinition, tid: str) -> bool:
    """Whether the workflow still has ``tid`` as a cron or rate trigger (on or off)."""
    trigger = defn.trigger_map.get(tid)
    return trigger is not None and trigger.scheduled


def _rule_of(spec: ScheduleSpec) -> str:
    """What a schedule's times follow: its expression in its time zone."""
    return f"{spec.expression} {spec.timezone}"


def _since_kept(
    wanted: ScheduleSpec | None, old: ScheduleSpec | None, state: TriggerState, now: int
) -> ScheduleSpec | None:
    """The schedule with the time its times began: the old one's while its expression
    and time zone stay (0 for one made before it was kept: catch-up as before); with no
    schedule (deleted while the trigger was off; podium dev's, made again at each
    start), the one the trigger's state kept for the same rule; else now (a cron moved
    from 6:00 to 7:00 never had 7:00 before the change)."""
    if wanted is None:
        return None
    rule = _rule_of(wanted)
    if old is not None and _rule_of(old) == rule:
        since = int(old.message.get("sf") or 0)
    elif old is None and state.rule == rule and state.rule_since is not None:
        since = state.rule_since
    else:
        since = now
    message = {k: v for k, v in wanted.message.items() if k != "sf"}
    if since:
        message["sf"] = since
    return replace(wanted, message=message)


class TriggerNotFound(NotFound):
    """A trigger the active version of its workflow does not have (404)."""

    def __init__(self, workflow: str, trigger_id: str, known: list[str]) -> None:
        self.workflow, self.trigger_id = workflow, trigger_id
        super().__init__(
            f"workflow '{workflow}' has no trigger '{trigger_id[:100]}'"
            f"{did_you_mean(trigger_id, known)} in its active version; its triggers:"
            f" {', '.join(known) or 'none'} (podium triggers list {workflow};"
            f" GET /workflows/{workflow}/triggers)"
        )


def set_enabled(ctx: Services, workflow: str, trigger_id: str, enabled: bool) -> TriggerState:
    """``podium triggers enable|disable``: no new version; schedules follow."""
    defn = _active(ctx, workflow)
    if trigger_id not in defn.trigger_map:
        raise TriggerNotFound(workflow, trigger_id, list(defn.trigger_map))
    state: TriggerState = _states(ctx).set_enabled(workflow, trigger_id, enabled, ctx.now())
    sync_triggers(ctx, workflow)
    return state


def list_triggers(ctx: Services, workflow: str) -> list[dict[str, Any]]:
    defn = _active(ctx, workflow)
    states = _states(ctx).states(workflow)
    started = _last_started(ctx, workflow, defn)
    out = []
    for tid, trigger in defn.trigger_map.items():
        state = states.get(tid)
        fired = state.fired_at if state and trigger.scheduled else started.get(tid)
        out.append(
            {
                "id": tid,
                "kind": trigger.kind,
                "enabled": state.enabled if state else trigger.enabled,
                "since": state.since if state else None,
                "last_fired": iso(fired) if fired else None,
                "last_failure": (
                    {"at": iso(state.failed_at), "error": state.error}
                    if state and state.failed_at is not None
                    else None
                ),
                "rule": _rule(trigger),
                # podium backfill WF --pause: its backfills start no run until resumed
                "backfills_paused": bool(state and state.backfills_paused),
            }
        )
    return out


# How far back `triggers list` looks for the last run a signal, s3 or event trigger started.
LAST_STARTED_LOOKBACK = 200


def _last_started(ctx: Services, workflow: str, defn: WorkflowDefinition) -> dict[str, int]:
    """When each signal, s3 or event trigger last started a run: the newest of the
    workflow's newest runs it started. Read here, when listed, rather than written at
    each firing: routing an event writes no trigger state (a schedule's "last fired" is
    its catch-up watermark, written anyway)."""
    labels = {_label(t, tr): t for t, tr in defn.trigger_map.items() if not tr.scheduled}
    if not labels:
        return {}
    found: dict[str, int] = {}
    for run in ctx.store.list_runs(workflow, limit=LAST_STARTED_LOOKBACK):
        tid = labels.get(run.trigger or "")
        if tid is not None and tid not in found:
            found[tid] = run.created_at
    return found


def _rule(trigger: Trigger) -> str:
    if trigger.cron is not None:
        return f"{trigger.cron} ({trigger.timezone})"
    if trigger.rate is not None:
        return f"every {trigger.rate}"
    if trigger.s3 is not None:
        return f"s3://{trigger.s3.bucket}/{trigger.s3.prefix}*{trigger.s3.suffix}"
    if trigger.event is not None:
        return f"event on {trigger.event.bus}"
    assert trigger.signal is not None
    return "signals " + ", ".join(trigger.signal.names)


# firing -------------------------------------------------------------------------------
def start_triggered(
    ctx: Services,
    workflow: str,
    trigger_id: str,
    trigger: Trigger,
    event: Mapping[str, Any],
    *,
    key: str,
    at: int,
    logical: str | None = None,
    run_id: str | None = None,
    label: str | None = None,
    restart_of: str | None = None,
    strict: bool = False,
    chain: int = 0,
) -> RunRecord | None:
    """Start the run of one firing (at most one per key, or per ``run_id``); None when
    it cannot start: its params do not render or validate, the definition's problem,
    which a retry would not fix. Then the failure is logged, counted (TriggerFailed) and
    kept on the trigger's state, where `podium triggers list` shows it. ``strict``
    (``podium run --event``, ``fire_trigger``): raised as well, as a DefinitionError
    naming the trigger's params, since the caller asked for this very firing.
    ``chain``: the run's place down a chain of ``bus: podium`` triggers (RunRecord.chain)."""
    compiled = ctx.definitions.get(workflow, ctx.store.active_version(workflow))
    template = compiled.expressions.trigger_params.get(trigger_id)
    run_id = run_id or trigger_run_id(workflow, trigger_id, key, at)
    try:
        params = template.render({"event": event}) if template is not None else {}
        return _start(
            ctx,
            workflow,
            params,
            run_id,
            label or _label(trigger_id, trigger),
            logical,
            restart_of,
            chain,
        )
    except (ExpressionError, DefinitionError) as exc:
        # A firing delivered again after a new version made its params fail started its
        # run with the version before: that run, no failure. Looked up only here, on the
        # failure's path: a first delivery that starts its run reads nothing more.
        existing = _existing_run(ctx, run_id)
        if existing is not None:
            return existing
        issues = _params_issues(trigger_id, exc)
        # Kept as the push and --event name it (triggers.<id>.params.rows), not as the
        # run's params (params.rows): `podium triggers list` shows where to fix it.
        record_failure(ctx, workflow, trigger_id, str(DefinitionError(issues)))
        if strict:
            raise DefinitionError(issues) from None
        return None


def _existing_run(ctx: Services, run_id: str) -> RunRecord | None:
    try:
        return ctx.store.get_run(run_id)
    except RunNotFound:
        return None


def _label(trigger_id: str, trigger: Trigger) -> str:
    """What the runs a trigger starts carry as their ``trigger`` (and their status
    changes as ``detail.trigger``)."""
    return f"{trigger.kind}:{trigger_id}"


def record_failure(ctx: Services, workflow: str, trigger_id: str, error: str) -> None:
    log.warning("trigger %s of %s did not start a run: %s", trigger_id, workflow, error)
    ctx.metrics.count("TriggerFailed")
    _states(ctx).record_failure(workflow, trigger_id, error, ctx.now())


def _params_issues(trigger_id: str, exc: ExpressionError | DefinitionError) -> list[Issue]:
    """A failed firing's error, at the trigger's params: ``params.rows`` (a param that
    did not validate) becomes ``triggers.<id>.params.rows``, the entry that set it."""
    where = f"triggers.{trigger_id}"
    if isinstance(exc, ExpressionError):
        return [Issue(f"{where}.params", str(exc))]
    return [
        Issue(f"{where}.{i.path}", i.message)
        if i.path == "params" or i.path.startswith(("params.", "params["))
        else Issue(f"{where}.params", str(i))
        for i in exc.issues
    ]


def _start(
    ctx: Services,
    workflow: str,
    params: dict[str, Any],
    run_id: str,
    label: str,
    logical: str | None,
    restart_of: str | None,
    chain: int,
) -> RunRecord:
    from podium.service.runs import start_run

    try:
        return start_run(
            ctx,
            workflow,
            params,
            trigger=label,
            run_id=run_id,
            logical_date=logical,
            restart_of=restart_of,
            # A backfill's rerun runs in full: from the beginning, its loops' iterations
            # too (from incomplete they would take the old run's over).
            restart_from=None if restart_of is None else RestartFrom.BEGINNING.value,
            chain=chain,
        )
    except RunConflict:
        return ctx.store.get_run(run_id)  # the same firing again: its run


def on_fire(ctx: Services, msg: messages.Fire) -> list[RunRecord]:
    """A scheduled time of a cron or rate trigger (and, with catchup, the times missed
    since the last one fired)."""
    try:
        defn = _active(ctx, msg.workflow)
        at = parse_iso(msg.at)
    except (NotFound, ValueError) as exc:
        log.warning("fire %s dropped: %s", msg, exc)
        return []
    trigger = defn.trigger_map.get(msg.trigger)
    state = _states(ctx).states(msg.workflow).get(msg.trigger)
    if trigger is None or not trigger.scheduled or state is None or not state.enabled:
        # A schedule of an older version or a disabled trigger (its deletion raced).
        log.info("fire %s: no such enabled trigger in the active version", msg)
        return []
    # The later floor: a firing the previous rule sent and handled after a push changed
    # it (queued meanwhile, a late delivery, a redrive) carries that rule's ``since``,
    # before which the current rule's times were never scheduled.
    floor = max(msg.since, state.rule_since or 0)
    times = [*missed_times(trigger, state, at, since=floor), at]
    runs = []
    for t in times:
        run = on_fire_once(ctx, msg.workflow, msg.trigger, trigger, t, since=state.since)
        if run is not None:
            runs.append(run)
    _states(ctx).mark_fired(msg.workflow, msg.trigger, at)
    return runs


def missed_times(trigger: Trigger, state: TriggerState, at: int, *, since: int = 0) -> list[int]:
    """``catchup``: the scheduled times between the last one fired and ``at``, none
    before ``since`` (when the schedule's expression took effect: a time before it was
    another schedule's, which fired or was missed under it)."""
    if trigger.catchup is Catchup.NONE or state.fired_at is None or state.fired_at >= at:
        return []
    # Only the times kept are computed (the newest one, or max_catchup of them), from
    # ``at`` back: a per-minute cron off for a year misses half a million.
    keep = 1 if trigger.catchup is Catchup.LATEST else trigger.max_catchup
    if trigger.cron is not None:
        cron = Cron.parse(trigger.cron)
        times = last_cron_times(cron, trigger.timezone, state.fired_at, at - 1, keep)
    else:
        assert trigger.rate is not None
        times = missed_slots(parse_rate(trigger.rate), state.since, state.fired_at, at, keep)
    return [t for t in times if t >= since]


# events -------------------------------------------------------------------------------
def _candidates(ctx: Services, keys: Collection[str]) -> list[str]:
    """The workflows the routing index holds under ``keys`` (one store read). A store
    from before the index is indexed once, here, from every workflow's active version."""
    states = _states(ctx)
    found = states.get_routes(keys)
    if found is None:
        found = build_routes(ctx)
    return candidates(found, keys)


def build_routes(ctx: Services) -> dict[str, frozenset[str]]:
    """Index every workflow's active version (a store whose workflows were pushed before
    the index existed; idempotent) and mark the index built. Pushes and activations add
    their own routes before the version becomes active, so one made meanwhile is in."""
    definitions = {}
    for workflow, version in ctx.store.list_workflows():
        try:
            definitions[workflow] = ctx.definitions.get(workflow, version).definition
        except NotFound:
            continue
    index = build_index(definitions)
    states = _states(ctx)
    for workflow, defn in definitions.items():
        keys = definition_routes(defn)
        if keys:
            states.add_routes(workflow, keys)
    states.mark_routes_built()
    return index


def add_routes(ctx: Services, workflow: str, definition: WorkflowDefinition) -> None:
    """Before ``definition`` becomes the active one: its triggers' routes, so that an
    event arriving once it is active finds it. Raises DefinitionError when a key holds
    as many workflows as it can."""
    keys = definition_routes(definition)
    if not keys:
        return
    try:
        _states(ctx).add_routes(workflow, keys)
    except RouteIndexFull as exc:
        raise DefinitionError([Issue("triggers", str(exc))]) from None


@contextmanager
def activating(
    ctx: Services,
    workflow: str,
    definition: WorkflowDefinition,
    previous: WorkflowDefinition | None,
) -> Iterator[None]:
    """Around making ``definition`` the active version of ``workflow`` in place of
    ``previous`` (push, activate, rollback; None: it had none): the body makes it active.

    Before: marks this activation in flight, then adds its routes (a prune meanwhile
    keeps every key: core/engine/trigger_index.py has the race analysis). After: unmarks
    it, and takes the workflow off the keys ``previous`` had and the active version
    lacks (``prune_routes``). A body that raises unmarks it and prunes nothing."""
    keys = definition_routes(definition)
    states = _states(ctx)
    token = ctx.ids.new_id() if keys else None  # no key added: nothing to keep
    if token is not None:
        states.begin_activation(workflow, token, ctx.now())
    try:
        add_routes(ctx, workflow, definition)
        yield
    finally:
        kept = token is None or states.end_activation(workflow, token)
    if not kept:
        # A prune took this activation (slower than the grace) for a crashed one: the
        # keys it added may be gone while its version is active. Added again, now.
        log.warning("activation of %s outlived its mark: its routes are added again", workflow)
        add_routes(ctx, workflow, definition)
    stale = definition_routes(previous) - keys if previous is not None else frozenset()
    if stale:
        prune_routes(ctx, workflow, stale)


def prune_routes(ctx: Services, workflow: str, stale: Collection[str]) -> None:
    """Take ``workflow`` off the keys of ``stale`` its active version has no trigger
    under, safely against activations racing it (``plan_prune``). Best effort: a
    refused, skipped or failed prune leaves extra candidates, which cost an event under
    those keys one read of the workflow's active version and start nothing; so an error
    here is logged, not raised (the version is active: the push or activation went
    through)."""
    states = _states(ctx)
    try:
        for _ in range(_PRUNE_ROUNDS):
            seen = states.route_activations(workflow)  # r1: before the active version
            try:
                active = definition_routes(_active(ctx, workflow))  # r2
            except NotFound:
                return
            plan = plan_prune(stale, active, seen, ctx.now())
            if plan is None:
                return
            if states.remove_routes(workflow, plan.remove, seen.generation, plan.expired):
                return  # r3, on condition the generation is still r1's
    except Exception:  # harmless to leave (see above): logged and counted
        log.warning("trigger routes of %s not pruned", workflow, exc_info=True)
        ctx.metrics.count("TriggerRoutesNotPruned")


# Prunes refused by a generation that moved, tried again (each round reads anew; an
# activation that keeps racing leaves the keys, extra candidates).
_PRUNE_ROUNDS = 3


# Candidates up to which each one's active version is read on its own (a small GetItem
# each); past it, one listing of every workflow's head (a Query page holds hundreds)
# costs less: many workflows triggered by one source (every Glue job's state change).
MAX_SINGLE_READS = 8


def event_triggers(ctx: Services, keys: Collection[str]) -> Iterator[tuple[str, str, Trigger]]:
    """The triggers of the active versions of the workflows indexed under ``keys``: one
    read of the index, then the candidates' active versions."""
    names = _candidates(ctx, keys)
    listed = dict(ctx.store.list_workflows()) if len(names) > MAX_SINGLE_READS else None
    for workflow in names:
        try:
            if listed is None:
                defn = _active(ctx, workflow)
            elif workflow in listed:
                defn = ctx.definitions.get(workflow, listed[workflow]).definition
            else:
                # Not in the (eventually consistent) listing yet: pushed a moment ago.
                defn = _active(ctx, workflow)
        except NotFound:
            continue  # indexed, since gone
        for tid, trigger in defn.trigger_map.items():
            yield workflow, tid, trigger


def trigger_state(ctx: Services, workflow: str, tid: str, trigger: Trigger) -> TriggerState:
    """The trigger's state: one consistent read, and a write only when it has none yet
    (``ensure``: its ``since`` is set once, by the first of racing writers)."""
    states = _states(ctx)
    return states.get_state(workflow, tid) or states.ensure(
        workflow, tid, trigger.enabled, ctx.now()
    )


def _takes(trigger: Trigger, event: Mapping[str, Any]) -> bool:
    """Whether an s3 or event trigger's pattern takes ``event`` (an s3 trigger takes no
    folder marker: core/engine/event_patterns.py ``s3_object_created``)."""
    if trigger.s3 is not None:
        s3 = trigger.s3
        return s3_object_created(s3.bucket, s3.prefix, s3.suffix, event)
    assert trigger.event is not None
    return matches(trigger.event.pattern, event)


def route_trigger_event(
    ctx: Services, event: Mapping[str, Any], *, bus: str = "default"
) -> dict[str, Any] | None:
    """Start a run for every enabled s3/event trigger whose pattern matches ``event``
    put on ``bus`` (S3's notifications come on the default bus; an event trigger names
    its bus, default unless it says otherwise)."""
    started: list[str] = []
    failed: list[str] = []
    at = _event_time(event)
    for workflow, tid, trigger in event_triggers(ctx, event_routes(event, bus)):
        on_bus = trigger.event.bus if trigger.event is not None else "default"
        if on_bus != bus or (trigger.s3 is None and trigger.event is None):
            continue
        try:
            hit = _takes(trigger, event)
        except Exception as exc:  # a pure function of stored data: no outage gets here
            # A pattern stored before a check that now refuses it: that trigger's
            # failure, never the event's (a raise here would fail every workflow's).
            record_failure(ctx, workflow, tid, f"its pattern cannot be matched: {exc!r}")
            failed.append(f"{workflow}/{tid}")
            continue
        if not hit:
            continue
        state = trigger_state(ctx, workflow, tid, trigger)
        if not state.enabled:
            continue
        link = _link(event, workflow, tid, trigger) if bus == PODIUM_BUS else None
        if link is not None and link.refused is not None:
            record_failure(ctx, workflow, tid, link.refused)
            failed.append(f"{workflow}/{tid}")
            continue
        key, when = _firing(event, link, at)
        run = start_triggered(
            ctx,
            workflow,
            tid,
            trigger,
            dict(event),
            key=key,
            at=when,
            # One link further down the chain of the run whose status change this is.
            chain=0 if link is None else link.chain,
        )
        if run is not None:
            started.append(run.run_id)
        else:
            failed.append(f"{workflow}/{tid}")
    if not started and not failed:
        return None
    if at == NO_TIME and not is_own_status_change(event):
        log.warning(
            "event %s has no ISO 8601 time (EventBridge sets one): its runs' ids take"
            " none, so a redelivery still finds them",
            _event_key(event),
        )
    # A trigger that matched and could not start its run is no "no trigger matches":
    # its failure is on its state (podium triggers list) and counted (TriggerFailed).
    return {"matched": len(started) + len(failed), "runs": started, "failed": failed}


PODIUM_BUS = "podium"


def route_own_events(ctx: Services, events: list[dict[str, Any]]) -> int:
    """The embedded runtime's stand-in for Podium's bus: the events the engine itself
    published (run and step status changes), offered to the triggers that name
    ``bus: podium``, as the events function does with them on AWS. Each is given an id
    and a time as EventBridge would; one listing of the triggers per batch, none when
    no trigger names the bus. Returns how many events were offered."""
    if not events:
        return 0
    keys = {k for event in events for k in event_routes(event, PODIUM_BUS)}
    if not _candidates(ctx, keys):  # one read of the index: no trigger names the bus
        return 0
    now = ctx.now()
    for event in events:
        delivered = {"id": ctx.ids.new_id(), "time": iso(now), **event}
        route_trigger_event(ctx, delivered, bus=PODIUM_BUS)
    return len(events)


# The time part of the run id of an event that says no time: EventBridge sets one on
# every event; a hand-made event given to the events function may have none, or one
# that does not read. The id is then the event's alone (not the time it was handled,
# which a redelivery would change, starting a second run); runs are listed by creation.
NO_TIME = 0


def _event_time(event: Mapping[str, Any]) -> int:
    own = _own_status_change(event)
    if own is not None:  # published again later: the time of the change, not of the event
        for field in ("at", "ended_at", "started_at", "created_at"):
            if isinstance(own.get(field), int):
                return int(own[field])
    at = event_time(event)
    return NO_TIME if at is None else at


def _with_time(event: Mapping[str, Any], now: int) -> Mapping[str, Any]:
    """A hand-made event (``podium run --event``, ``fire_trigger``) enters here as an
    event enters EventBridge: a missing ``time`` is set, once, to now (the run's id and
    ``${event.time}`` take it), and one that does not read as a time is refused, naming
    the field and the format (the bus would take it as none)."""
    if "time" not in event:
        return {**event, "time": iso(now)}
    if event_time(event) is None and not is_own_status_change(event):
        raise DefinitionError(
            [
                Issue(
                    "event.time",
                    f"{event['time']!r} is not a time: give an ISO 8601 time"
                    " (2026-01-15T12:00:00Z), as EventBridge sets it, or leave 'time' out"
                    " to take now",
                )
            ]
        )
    return event


def _link(event: Mapping[str, Any], workflow: str, tid: str, trigger: Trigger) -> Link | None:
    """The link of the chain a ``bus: podium`` trigger makes from ``event`` (Podium's
    own status change, core/engine/trigger_events.py), None for any other event."""
    own = _own_status_change(event)
    if own is None:
        return None
    return podium_link(own, workflow, tid, _label(tid, trigger))


def _firing(event: Mapping[str, Any], link: Link | None, at: int) -> tuple[str, int]:
    """The (key, time) a firing's run id is derived from: the event's, or, for a link
    that starts one run per changed run, that run's (so its next change finds it)."""
    if link is not None and link.per_run is not None:
        return link.per_run
    return _event_key(event), at


def is_own_status_change(event: Mapping[str, Any]) -> bool:
    """A run or step status change Podium published (docs/events.md)."""
    return _own_status_change(event) is not None


# What Podium publishes of its runs: each carries its run's ``trigger`` and ``chain``, so
# a ``bus: podium`` trigger on any of them is a link of a chain (a trigger on callback
# tokens whose workflow waits for a callback would start runs without end otherwise).
_OWN_EVENTS = (RUN_STATUS_CHANGE, STEP_STATUS_CHANGE, TOKEN_EVENT)


def _own_status_change(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The detail of a run or step status change, or a callback token, Podium
    published, else None."""
    detail = event.get("detail")
    if (
        event.get("source") == PODIUM_SOURCE
        and event.get("detail-type") in _OWN_EVENTS
        and isinstance(detail, Mapping)
    ):
        return detail
    return None


def start_from_event(
    ctx: Services, workflow: str, event: Mapping[str, Any], trigger_id: str | None = None
) -> RunRecord:
    """Start a run as a trigger would for ``event`` (``podium run --event FILE``,
    ``podium.testing.fire_trigger``): an S3 or EventBridge event goes to the s3/event
    trigger it matches (or ``trigger_id``); ``{"time": ISO}`` fires a cron or rate
    trigger at that time. Raises DefinitionError naming the triggers when none fits, or
    naming the trigger's params, with why, when the one that fits could not start it.

    A Podium status change given to a ``bus: podium`` trigger is a link of a chain, as
    on the bus: its run's chain is ``detail.chain`` + 1, and it is refused (a
    DefinitionError at ``event.detail.chain``, naming the chain and the limit) past
    ``MAX_CHAIN``, or when the change is of a run the trigger started itself."""
    defn = _active(ctx, workflow)
    candidates = (
        {trigger_id: defn.trigger_map[trigger_id]}
        if trigger_id in defn.trigger_map
        else defn.trigger_map
    )
    if trigger_id is not None and trigger_id not in defn.trigger_map:
        raise DefinitionError(
            [
                Issue(
                    "trigger",
                    f"{workflow!r} has no trigger {trigger_id!r}; its triggers:"
                    f" {', '.join(defn.trigger_map) or 'none'}",
                )
            ]
        )
    for tid, trigger in candidates.items():
        if trigger.scheduled and "time" in event and "source" not in event:
            try:
                at = parse_iso(str(event["time"]))
            except ValueError:
                raise DefinitionError(
                    [Issue("event.time", f"{event['time']!r} is not an ISO 8601 time")]
                ) from None
            fired = on_fire_once(ctx, workflow, tid, trigger, at, strict=True)
            assert fired is not None  # strict: a firing that cannot start raised
            return fired
        if (trigger.s3 is not None or trigger.event is not None) and _takes(trigger, event):
            link = _podium_link(event, workflow, tid, trigger)
            if link is not None and link.refused is not None:
                # As the bus would refuse it: kept on the trigger's state, and raised.
                record_failure(ctx, workflow, tid, link.refused)
                raise DefinitionError([Issue(link.where, link.refused)])
            delivered = _with_time(event, ctx.now())
            key, at = _firing(delivered, link, _event_time(delivered))
            run = start_triggered(
                ctx,
                workflow,
                tid,
                trigger,
                dict(delivered),
                key=key,
                at=at,
                strict=True,
                chain=0 if link is None else link.chain,
            )
            assert run is not None  # strict: a firing that cannot start raised
            return run
    described = ", ".join(f"{t} ({tr.kind})" for t, tr in defn.trigger_map.items()) or "none"
    if is_folder_marker(event):
        described += (
            "; this event's object is a folder marker (an empty key ending in '/'),"
            " which starts no run"
        )
    raise DefinitionError(
        [
            Issue(
                "event",
                f"no trigger of {workflow!r} matches this event; its triggers: {described}."
                " An s3 trigger takes S3's 'Object Created' EventBridge event; a cron or"
                ' rate trigger takes {"time": "2026-01-01T06:00:00Z"}',
            )
        ]
    )


def on_fire_once(
    ctx: Services,
    workflow: str,
    tid: str,
    trigger: Trigger,
    at: int,
    *,
    since: int | None = None,
    strict: bool = False,
) -> RunRecord | None:
    """One scheduled time of a cron or rate trigger, as its schedule would fire it.
    A cron time is its own run's key; a rate firing is the run of its slot (from the
    trigger's ``since``, read when not given): the id a backfill gives that slot, as
    Scheduler's rate times are not the slots (core/engine/backfill.py)."""
    tz = trigger.timezone if trigger.cron is not None else "UTC"
    slot = at
    if trigger.rate is not None:
        if since is None:
            since = _states(ctx).ensure(workflow, tid, trigger.enabled, ctx.now()).since
        slot = rate_firing(parse_rate(trigger.rate), since, at)
    # The slot's time and date, not the firing's: the run (its id is the slot's) is the
    # one a backfill of that slot would start, and says the same.
    logical = logical_date(slot, tz)
    event = {"kind": "schedule", "trigger": tid, "time": iso(slot), "logical_date": logical}
    return start_triggered(
        ctx,
        workflow,
        tid,
        trigger,
        event,
        key=str(at),
        at=at,
        logical=logical,
        run_id=first_run_id(workflow, tid, slot),
        strict=strict,
    )


def event_run_id(ctx: Services, workflow: str, event: Mapping[str, Any]) -> str:
    """The id of the run ``start_from_event`` starts for an S3 or EventBridge event."""
    defn = _active(ctx, workflow)
    for tid, trigger in defn.trigger_map.items():
        if trigger.s3 is None and trigger.event is None:
            continue
        if _takes(trigger, event):
            link = _podium_link(event, workflow, tid, trigger)
            delivered = _with_time(event, ctx.now())
            key, at = _firing(delivered, link, _event_time(delivered))
            return trigger_run_id(workflow, tid, key, at)
    raise DefinitionError([Issue("event", f"no trigger of {workflow!r} matches the event")])


def _podium_link(
    event: Mapping[str, Any], workflow: str, tid: str, trigger: Trigger
) -> Link | None:
    """``_link`` for a trigger on Podium's bus (the one the event would come on)."""
    if trigger.event is None or trigger.event.bus != PODIUM_BUS:
        return None
    return _link(event, workflow, tid, trigger)


_CHANGE_FIELDS = ("run_id", "step", "attempt", "status")


def _event_key(event: Mapping[str, Any]) -> str:
    """A delivery's identity: EventBridge's event id (the same on a redelivery). A
    status change Podium published is named by what it says (run, step, attempt,
    status) instead: ``run_ended`` is redone until its run settles, so the same change
    may be published again, under a new event id, and must start no second run. A run's
    change is named by its time (``detail.at``) too: a run paused, resumed and paused
    again says PAUSED twice, two changes (its end and its start say theirs each time).
    A step's ``at`` is not: a step change published again carries the time it is sent."""
    detail = _own_status_change(event)
    if detail is not None:
        said = [event["detail-type"], *(detail.get(k) for k in _CHANGE_FIELDS)]
        if event["detail-type"] == RUN_STATUS_CHANGE and detail.get("at") is not None:
            said.append(detail["at"])
        return "podium-" + hashlib.sha256(json.dumps(said, default=str).encode()).hexdigest()[:32]
    return str(event.get("id") or hashlib.sha256(repr(sorted(event.items())).encode()).hexdigest())
