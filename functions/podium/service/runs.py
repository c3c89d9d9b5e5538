"""Use cases: start a run, read a run with its steps and timeline."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.dsl.models import Strategy, WorkflowDefinition
from podium.core.dsl.params import check_evaluated, check_validations, resolve_params
from podium.core.engine.errors import NotFound, RunConflict, RunIdConflict
from podium.core.engine.outputs import (
    INLINE_PARAMS_BYTES,
    MAX_PARAMS_BYTES,
    PAYLOAD_GONE,
    params_key,
    ref_of,
)
from podium.core.engine.permits import QueuePlace
from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent
from podium.core.engine.request_ids import RunIdReused, differing, fingerprint
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import Permits
from podium.core.tags import MAX_TAGS, check_tags
from podium.service import messages
from podium.service.admission import (
    PLACE_READ,
    QUEUE_PAGE,
    SHOWN_HOLDERS,
    admit_next,
    admit_run,
    waiting_reason,
)
from podium.service.bindings import run_binding, run_params
from podium.service.context import Services
from podium.service.lifecycle import run_ended, supersede
from podium.service.step_paths import with_home_counts


def start_run(
    ctx: Services,
    workflow: str,
    params: Mapping[str, Any] | None = None,
    *,
    version: int | None = None,
    trigger: str = "api",
    run_id: str | None = None,
    logical_date: str | None = None,
    restart_of: str | None = None,
    tags: Mapping[str, str] | None = None,
    restart_from: str | None = None,
    chain: int = 0,
    before_create: Callable[[], None] | None = None,
    request_id: str | None = None,
) -> RunRecord:
    """Create the run under its workflow's run strategy (queued, started or discarded);
    once it holds a slot, the advance handler starts its roots.

    ``chain``: a run a ``bus: podium`` trigger starts, its place down a chain of them
    (RunRecord.chain).

    The run carries its workflow's ``tags`` and the ``tags`` given here (which win).

    ``run_id`` makes a start idempotent for callers that retry (the API passes a client
    token); a second start with the same id returns the first run, and one that asks
    for something else under it (other params, version or tags) raises RunIdReused.

    ``before_create``: writes that must precede the run (a restart's taken-over steps,
    which its start finds), made once its params, tags and validations passed: a start
    refused for them leaves nothing behind under its id."""
    active = ctx.store.active_version(workflow) if version is None else None
    number = version if version is not None else active
    assert number is not None
    compiled = ctx.definitions.get(workflow, number)  # raises WorkflowNotFound if absent
    literal = resolve_params(compiled.definition, params or {})
    given = check_tags(tags)
    merged = {**compiled.definition.tags, **given}
    if len(merged) > MAX_TAGS:
        raise DefinitionError(
            [Issue("tags", f"the run would carry {len(merged)} tags; at most {MAX_TAGS}")]
        )
    now = ctx.now()
    run = RunRecord(
        run_id=run_id or ctx.ids.new_id(),
        workflow=workflow,
        version=number,
        status=RunStatus.RUNNING,
        params=literal,
        created_at=now,
        started_at=now,
        sinks_total=len(compiled.graph.sinks),
        trigger=trigger,
        logical_date=logical_date,
        restart_of=restart_of,
        restart_from=restart_from,
        tags=merged,
        chain=chain,
        request_id=request_id,
    )
    evaluated = compiled.expressions.evaluate_params(literal, run_binding(run))
    run = replace(run, params=check_evaluated(compiled.definition, evaluated))
    check_validations(compiled.definition, run.params)
    run = with_stored_params(ctx, run)
    if before_create is not None:
        before_create()
    # The run strategy is the active version's (as admit_next and the docs have it),
    # whatever version the run runs: a restart keeps its old run's.
    rules = compiled if active is not None else _active_compiled(ctx, workflow)
    try:
        admitted = admit_run(ctx, run, rules.definition)
    except RunConflict as conflict:
        # The same start again (a retried request, or a write whose reply was lost):
        # answer with the stored run, and redo what the first attempt may have died
        # before doing (both are idempotent).
        current = conflict.current or ctx.store.get_run(run.run_id)
        if current.workflow != workflow:
            raise RunIdConflict(run.run_id, current, workflow) from None
        differ = _start_differs(ctx, current, params, version, tags)
        if differ:
            raise RunIdReused(run.run_id, current, workflow, differ) from None
        if current.status is RunStatus.RUNNING:
            ctx.event_queue.send(messages.encode(messages.Start(current.run_id)))
        elif current.status is RunStatus.QUEUED:
            _admit_queued(ctx, rules.definition, workflow)
        else:
            run_ended(ctx, current)  # ended, but maybe not settled: redo its follow-ups
        return ctx.store.get_run(current.run_id)
    if admitted.status is RunStatus.QUEUED and rules.definition.strategy is Strategy.LAST_ONLY:
        # admit_run leaves last_only's admission to after its supersede pass
        _admit_queued(ctx, rules.definition, workflow)
        return ctx.store.get_run(admitted.run_id)
    return admitted


def _active_compiled(ctx: Services, workflow: str) -> Any:
    """The active version's compiled workflow: its run strategy is the one that applies."""
    return ctx.definitions.get(workflow, ctx.store.active_version(workflow))


def _start_differs(
    ctx: Services,
    current: RunRecord,
    params: Mapping[str, Any] | None,
    version: int | None,
    tags: Mapping[str, str] | None,
) -> list[str]:
    """The body fields in which a start under an existing ``run_id`` differs from the
    start that created that run (core/engine/request_ids.py), read off the run itself:
    its version, its params and its tags. A field the request leaves out is not compared
    (a retry that sends only the run_id gets the run), and params are resolved by the
    run's own version (a version activated since changes no default of a true retry)."""
    kept: dict[str, Any] = {}
    sent: dict[str, Any] = {}
    if version is not None:
        kept["version"], sent["version"] = current.version, version
    defn = ctx.definitions.get(current.workflow, current.version).definition
    if params is not None:
        try:
            literal: dict[str, Any] | None = resolve_params(defn, params)
        except DefinitionError:  # they fit the version started now, not the run's
            literal = None
        stored = run_params(ctx, current)
        kept["params"] = {k: stored.get(k) for k in literal} if literal is not None else stored
        sent["params"] = literal
    if tags is not None:
        kept["tags"], sent["tags"] = current.tags, {**defn.tags, **check_tags(tags)}
    return differing(fingerprint(kept), fingerprint(sent))


def with_stored_params(ctx: Services, run: RunRecord) -> RunRecord:
    """Params over a few KB are written once to Payloads (before the run item, so the
    reference never dangles) and the run item keeps the reference: the run item is read
    on every step and billed per KB. Up to 1 MiB; beyond, pass a reference to the data.

    Measured and stored as UTF-8 JSON, as the caller wrote it: Python's ASCII-escaped
    JSON (json.dumps' default) counts a CJK character as 6 bytes and an emoji as 12, so
    700 KB of Japanese text was refused as 1.4 MB. A lone surrogate (valid in JSON, with
    no UTF-8 form) stays its ``\\uXXXX`` escape, which reads back as it was."""
    text = json.dumps(run.params, separators=(",", ":"), default=str, ensure_ascii=False)
    data = text.encode("utf-8", "backslashreplace")
    if len(data) <= INLINE_PARAMS_BYTES:
        return run
    if len(data) > MAX_PARAMS_BYTES:
        raise DefinitionError(
            [
                Issue(
                    "params",
                    f"params are {len(data):,} bytes, over the limit of {MAX_PARAMS_BYTES:,};"
                    " pass a reference (an S3 key) instead of the data",
                )
            ]
        )
    assert ctx.payloads is not None
    ref = ctx.payloads.put(params_key(run.run_id, data), data)
    return replace(run, params=ref_of(ref, len(data)))


def _admit_queued(ctx: Services, defn: WorkflowDefinition, workflow: str) -> None:
    """last_only first discards or stops every run but the newest, then admits."""
    if defn.strategy is Strategy.LAST_ONLY:
        supersede(ctx, workflow)
    admit_next(ctx, workflow)


@dataclass(frozen=True)
class RunView:
    run: RunRecord
    steps: list[StepRecord]
    events: list[TimelineEvent]
    step_order: list[str]  # definition order, for display
    waiting: str | None = None  # why a QUEUED run has not started


def describe_run(ctx: Services, run_id: str) -> RunView:
    run = ctx.store.get_run(run_id)
    steps = ctx.store.list_steps(run_id)
    events = ctx.store.list_events(run_id)
    compiled = ctx.definitions.get(run.workflow, run.version)
    order = [s.id for s in compiled.definition.steps]
    rank = {sid: i for i, sid in enumerate(order)}
    steps.sort(key=lambda s: (rank.get(s.step.split("/", 1)[0], len(rank)), s.step))
    steps = [with_home_counts(ctx, run_id, s, compiled) for s in _with_places_in_queue(ctx, steps)]
    steps = with_callback_tokens(steps, events)
    run = replace(run, params=_shown_params(ctx, run))
    return RunView(run, steps, events, order, waiting_reason(ctx, run))


def _shown_params(ctx: Services, run: RunRecord) -> dict[str, Any]:
    """A run's params, read back when stored by reference; when that payload is gone,
    the reference marked ``missing`` (as the console shows it): the run is still shown,
    its status and steps, not answered as a run that does not exist."""
    try:
        return run_params(ctx, run)
    except NotFound:  # bindings.MissingPayload
        return {**run.params, "missing": PAYLOAD_GONE}


def with_callback_tokens(steps: list[StepRecord], events: list[TimelineEvent]) -> list[StepRecord]:
    """A step waiting for a callback shows its token as its output until the callback's
    result replaces it (``output.callback_token``): the token is kept on the timeline, so
    showing it costs no write."""
    tokens = {
        (e.step, e.attempt): e.detail.get("token")
        for e in events
        if e.kind == "callback_token" and e.detail
    }
    return [
        replace(s, output={"callback_token": tokens[(s.step, s.attempt)]})
        if s.status is StepStatus.RUNNING and (s.step, s.attempt) in tokens
        else s
        for s in steps
    ]


def _with_places_in_queue(ctx: Services, steps: list[StepRecord]) -> list[StepRecord]:
    """Each step waiting for a permit: say where it stands in its key's queue and who
    holds the key's permits. One read of each key's queue serves the run's steps that
    wait on it: pages of ``QUEUE_PAGE`` places until they are all found, but at most
    ``PLACE_READ`` (a run's page is polled by the console): past them a step is "behind
    5,000+" of the key's waiters (their count kept with the key's permits)."""
    waiting: dict[str, dict[tuple[str, str], int]] = {}
    for s in steps:
        if s.status is StepStatus.WAITING_FOR_PERMITS and s.waiting_key is not None:
            waiting.setdefault(s.waiting_key, {})[(s.run_id, s.step)] = 0
    said: dict[tuple[str, str], str] = {}
    for key, mine in waiting.items():
        permits = ctx.store.permits()
        state = permits.state(key)
        read, more = _find_places(permits, key, mine)
        for me, position in mine.items():
            if position:
                where = f"position {position:,} of {max(state.waiting, position):,}"
            elif more:
                where = f"behind {read:,}+ of {max(state.waiting, read):,} waiting"
            else:
                where = "queued"  # it left the queue as this read it (woken, or ended)
            said[me] = f"{where}{_held_by(state.holders)}"
    return [
        replace(s, reason=f"{s.reason}; {said[(s.run_id, s.step)]}")
        if (s.run_id, s.step) in said
        else s
        for s in steps
    ]


def _find_places(permits: Permits, key: str, mine: dict[tuple[str, str], int]) -> tuple[int, bool]:
    """Fill in ``mine``'s positions (1: first in line) from ``key``'s queue, read a page
    at a time until every one is found or ``PLACE_READ`` places were read. Returns how
    many were read, and whether more may follow (a step not found may be further)."""
    read = 0
    after: QueuePlace | None = None
    while not all(mine.values()):
        want = min(QUEUE_PAGE, PLACE_READ - read)
        if want <= 0:
            return read, True
        page = permits.places(key, want, after=after)
        for i, place in enumerate(page):
            if mine.get((place.run_id, place.step)) == 0:
                mine[(place.run_id, place.step)] = read + i + 1
        read += len(page)
        if len(page) < want:
            break  # the whole queue was read
        after = page[-1]
    return read, False


def _held_by(holders: Mapping[str, int]) -> str:
    if not holders:
        return ""
    names = sorted(holders)
    more = len(names) - SHOWN_HOLDERS
    tail = f" and {more:,} more" if more > 0 else ""
    return f"; held by {', '.join(names[:SHOWN_HOLDERS])}{tail}"


RunKey = tuple[int, str]  # (created_at, run_id): where a page of runs ends
FILTERED_SCAN = 1_000
"""Runs read at most for one page of a filtered list (``status``): a page can hold
fewer runs than asked for, and its ``next`` goes on from the last run read."""
_STORE_PAGE = 100


@dataclass(frozen=True)
class RunsPage:
    runs: list[RunRecord]
    next: RunKey | None  # the last run read, when older ones may follow


def _key(run: RunRecord) -> RunKey:
    return (run.created_at, run.run_id)


def list_runs(
    ctx: Services,
    workflow: str,
    limit: int = 20,
    before: RunKey | None = None,
    statuses: frozenset[RunStatus] | None = None,
) -> RunsPage:
    """Newest first; ``before`` (the last run of a page: created_at, run_id) pages on.
    With ``statuses``, only runs in one of them: the store is read a page at a time
    until ``limit`` match or ``FILTERED_SCAN`` runs were read, and ``next`` says where
    to go on (a page with fewer runs, even none, may still have a next)."""
    if not statuses:
        # One more read than listed: a full page says ``next`` only when an older run
        # exists (a list of exactly ``limit`` runs offered a next page of none).
        runs = ctx.store.list_runs(workflow, limit + 1, before=before)
        page = runs[:limit]
        return RunsPage(page, _key(page[-1]) if len(runs) > limit else None)
    found: list[RunRecord] = []
    read = 0
    while read < FILTERED_SCAN:
        wanted = min(_STORE_PAGE, FILTERED_SCAN - read)
        page = ctx.store.list_runs(workflow, wanted, before=before)
        read += len(page)
        for run in page:
            if run.status in statuses:
                found.append(run)
                if len(found) == limit:
                    return RunsPage(found, _key(run))
        if len(page) < wanted:
            return RunsPage(found, None)  # every older run was read
        before = _key(page[-1])
    return RunsPage(found, before)
