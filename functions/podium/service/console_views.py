"""Read-only JSON views for the web console: a run list across workflows, a run page
(summary counts, the DAG with a status per node, one page of step instances with their
attempts) and a step's detail.

They are summaries first: a run of 10,000 steps answers with counts, a grouped graph and
one page of steps, never with every step. ``podium dev`` serves them under
``/api/console/...``; the deployed API would serve the same functions.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.dsl.signals import Since
from podium.core.engine.actions import (
    ACTION_EVENT,
    RunAction,
    allowed_run_actions,
    allowed_step_actions,
    taken_over_from,
)
from podium.core.engine.attempt_history import Attempt, attempts_of
from podium.core.engine.errors import NotFound, WorkflowNotFound
from podium.core.engine.identity import child_run_id
from podium.core.engine.outputs import PAYLOAD_GONE, REF_KEY, is_ref
from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent
from podium.core.engine.status import StepStatus
from podium.core.tags import has_tags
from podium.service.admission import waiting_reason
from podium.service.api_requests import (
    NoSuchStep,
    parse_run_statuses,
    step_choices,
)
from podium.service.context import CompiledWorkflow, Services
from podium.service.detached_runs import follows_parent
from podium.service.loop_views import iteration_section
from podium.service.restart import is_iteration, newest_restart, restart_place, restarted_as
from podium.service.runs import with_callback_tokens
from podium.service.signal_waiters import deadline_of
from podium.service.signal_waits import kept_floor
from podium.service.step_paths import with_home_counts
from podium.service.taken_over import RanIn, shown_as_ran, where_they_ran
from podium.service.views import (
    STEPS_PAGE_BYTES,
    BadStepsToken,
    parse_runs_token,
    run_view,
    runs_token,
    shown_detail,
    step_view,
    timeline_page,
)

NOT_STARTED = "NOT_STARTED"  # a step of the definition with no instance yet
MAX_PAGE = 500
# The run page's head lists the newest operator actions (each with its reason, up to
# 1,000 characters), and how many older ones it left out: read every 2 s by a live
# console, the page stays small however often a run was acted on.
MAX_ACTION_LOG = 20
MAX_RUNS = 200
SCAN_PER_WORKFLOW = 500  # runs read per workflow for the run list (one store page)
# With a filter (status, since, tag) older runs are read too, a page at a time, up to this
# many per request over all workflows listed (at least a page each): an hourly workflow's
# failed run of two months ago is found, and one request stays bounded.
FILTERED_SCAN = 10_000
GROUP_ABOVE = 40  # graphs with more steps than this collapse look-alike siblings
MIN_GROUP = 4  # ... into one node when at least this many share a place in the graph
MAX_GRAPH_NODES = 400  # beyond this (after grouping) the console shows lists only

# The status that speaks for a set of instances (a group node, a foreach parent).
_PRECEDENCE = [
    StepStatus.RUNNING.value,
    StepStatus.RETRY_WAIT.value,
    StepStatus.FAILED.value,
    StepStatus.TIMED_OUT.value,
    StepStatus.STOPPED.value,
    StepStatus.WAITING_FOR_PERMITS.value,
    StepStatus.WAITING_FOR_SIGNALS.value,
    StepStatus.PAUSED.value,
    StepStatus.READY.value,
    StepStatus.PENDING.value,
    StepStatus.FAILED_IGNORED.value,
    StepStatus.SUCCEEDED.value,
    StepStatus.SKIPPED.value,
    NOT_STARTED,
]
# ASCII digits only: \d and str.isdigit() also take "٣" or "²", which int() reads
# differently or not at all (a 500).
# Bounded: int() refuses text of over 4,300 digits (a 500), and no time needs more.
_SINCE = re.compile(r"([0-9]{1,9})([smhd])")
_EPOCH_MS = re.compile(r"[0-9]{1,15}")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


class StepNotFound(NoSuchStep):
    """A 404 at the query parameter that named the step (or graph node), naming those
    the run has, as replay does."""

    def __init__(self, run_id: str, step: str, known: Sequence[str], place: str) -> None:
        super().__init__(f"run {run_id} has no step {step!r}{step_choices(step, known)}", place)


# -- the run list -------------------------------------------------------------------------
def parse_since(raw: str | None, now: int) -> int | None:
    """``24h``, ``7d``, ``30m`` (before now) or epoch milliseconds."""
    if raw is None or raw == "":
        return None
    match = _SINCE.fullmatch(raw.strip())
    if match:
        return now - int(match[1]) * _UNIT_MS[match[2]]
    if _EPOCH_MS.fullmatch(raw.strip()):
        return int(raw)
    raise DefinitionError(
        [
            Issue(
                "query.since",
                f"use a duration like 24h, 7d or 30m, or epoch ms; got {raw[:40]!r}",
            )
        ]
    )


def _statuses(raw: str | None) -> set[str] | None:
    wanted = parse_run_statuses(raw)  # the runs list route's rule (query.status)
    return {s.value for s in wanted} if wanted is not None else None


def parse_tag_filter(raw: str | None) -> dict[str, str] | None:
    """``team=sales`` or ``team=sales,env=prod``: runs carrying every one of them."""
    if not raw:
        return None
    from podium.core.tags import parse_tag_pairs

    try:
        return parse_tag_pairs([p for p in raw.split(",") if p.strip()], "tag") or None
    except ValueError as exc:
        raise DefinitionError([Issue("query.tag", str(exc))]) from None


def _run_row(run: RunRecord) -> dict[str, Any]:
    end = run.ended_at
    start = run.started_at or run.created_at
    return {**run_view(run), "duration_ms": end - start if end is not None else None}


def list_console_runs(
    ctx: Services,
    workflows: Iterable[str],
    *,
    workflow: str | None = None,
    status: str | None = None,
    since: str | None = None,
    tag: str | None = None,
    limit: int = 50,
    page_from: str | None = None,
) -> dict[str, Any]:
    """Runs of every workflow (or one), newest first, filtered by status, start time and
    tags (``tag``: ``k=v[,k2=v2]``); from the run after ``page_from`` (a ``next`` token an
    earlier answer gave: the next page, older runs) when given.

    Without a filter the newest ``SCAN_PER_WORKFLOW`` runs of each workflow are read
    (older than ``page_from``'s run); with one, older pages too (back to ``since``), up to
    ``FILTERED_SCAN`` runs in all. ``truncated_workflows`` names those with older runs
    (after ``since``, when given) left out, so the page says so instead of "no runs
    match"; ``counts`` and ``total`` are of the runs read, ``listable`` of those this
    page may list (its first ``limit``: a larger limit shows no more than ``listable``).
    ``next`` (when more may match)
    leads on to the following page: the rows listed are all the matching runs newer than
    its run, wherever a workflow's read stopped (a run older than where a truncated
    workflow's read stopped waits for the next page, which reads that workflow on)."""
    limit = max(1, min(limit, MAX_RUNS))
    names = sorted(set(workflows))
    if workflow is not None and workflow not in names:
        # 404, as every route naming a workflow, with the store's own hint (a local home
        # says how a workflow gets there): it raises WorkflowNotFound.
        ctx.store.active_version(workflow)
        raise WorkflowNotFound(workflow)
    wanted = _statuses(status)
    now = ctx.now()
    after = parse_since(since, now)
    tags = parse_tag_filter(tag)
    before = parse_page_token(page_from)
    runs: list[RunRecord] = []
    cut: list[str] = []
    horizon: tuple[int, str] | None = None  # the newest place a workflow's read stopped
    listed = [workflow] if workflow else names
    filtered = wanted is not None or after is not None or bool(tags)
    budget = max(SCAN_PER_WORKFLOW, FILTERED_SCAN // max(1, len(listed)))
    each = budget if filtered else SCAN_PER_WORKFLOW
    for name in listed:
        read, more = _newest_runs(ctx, name, each, after, before)
        runs.extend(read)
        if more:
            cut.append(name)
            stop = _key(read[-1])
            horizon = stop if horizon is None else max(horizon, stop)
    if after is not None:
        runs = [r for r in runs if r.created_at >= after]
    if tags:
        runs = [r for r in runs if has_tags(r.tags, tags)]
    counts = Counter(r.status.value for r in runs)
    if wanted is not None:
        runs = [r for r in runs if r.status.value in wanted]
    runs.sort(key=_key, reverse=True)
    # Below the horizon, a truncated workflow's unread runs may come before these: they
    # are listed by the next page, in their place.
    listable = runs if horizon is None else [r for r in runs if _key(r) >= horizon]
    page = listable[:limit]
    view: dict[str, Any] = {
        "workflows": names,
        "counts": dict(counts),
        "total": len(runs),
        # How many of them this page can list: those older than where a truncated
        # workflow's read stopped are counted but wait for ``next`` (a larger limit, the
        # console's "Load more", would show no more of them).
        "listable": len(listable),
        "runs": [_run_row(r) for r in page],
        # The server's clock, which a running run's duration is counted to (the browser's
        # may be minutes off: a duration counted to it was negative), as on the run page.
        "now": now,
    }
    if len(listable) > limit:
        view["next"] = runs_token(_key(page[-1]))
    elif horizon is not None:
        view["next"] = runs_token(horizon)
    if before is not None:  # a later page: the runs listed are older than this one
        view["older_than"] = {"created_at": before[0], "run_id": before[1]}
    if cut:  # counts and runs cover only the newest ``searched_per_workflow`` runs of these
        view.update(truncated=True, truncated_workflows=cut, searched_per_workflow=each)
    return view


def _key(run: RunRecord) -> tuple[int, str]:
    return (run.created_at, run.run_id)


def parse_page_token(token: str | None) -> tuple[int, str] | None:
    """The run a run list's ``next`` token names (query.next refused when it names none:
    a forged or cut token is a 400, never a store error). parse_runs_token checks the
    run's id and time (one DynamoDB's index can compare: views.MAX_CREATED_AT)."""
    if token is None or token == "":
        return None
    said = "not a page token of this list: use the next an earlier page returned"
    try:
        return parse_runs_token(token)
    except BadStepsToken:
        raise DefinitionError([Issue("query.next", said)]) from None


def _newest_runs(
    ctx: Services,
    workflow: str,
    most: int,
    after: int | None,
    start: tuple[int, str] | None = None,
) -> tuple[list[RunRecord], bool]:
    """A workflow's newest runs (older than ``start``, when given), a store page at a
    time, until ``most`` or one created before ``after``; and whether older ones (after
    ``after``) were left out."""
    runs: list[RunRecord] = []
    before = start
    while len(runs) < most:
        wanted = min(SCAN_PER_WORKFLOW, most - len(runs))
        page = ctx.store.list_runs(workflow, wanted, before=before)
        runs += page
        if len(page) < wanted:
            return runs, False  # every run read
        if after is not None and page[-1].created_at < after:
            return runs, False  # older pages are all before ``since``
        before = (page[-1].created_at, page[-1].run_id)
    older = ctx.store.list_runs(workflow, 1, before=before)
    return runs, bool(older) and (after is None or older[0].created_at >= after)


# -- attempts and their segments ------------------------------------------------------------
def _segments(step: StepRecord, attempts: list[Attempt], now: int) -> list[dict[str, Any]]:
    """Queued (ready to started), running (started to ended), backoff (a failed attempt's
    end to its retry's due time) and waiting (for permits, signals, a resume).

    A backoff ends at its due time at the latest, or earlier where it was cut short: at
    the next attempt's start ("retry now"), at the step's end (stopped, skipped while it
    waited), or now (still waiting): a 1 h delay cut after a minute was drawn for the
    whole hour, past the attempt that ended it and the end of the run."""
    out: list[dict[str, Any]] = []

    def add(kind: str, start: int | None, end: int | None, attempt: int | None) -> None:
        if start is None or end is None or end < start:
            return
        out.append({"kind": kind, "start": start, "end": end, "attempt": attempt})

    ready = step.ready_at
    for i, a in enumerate(attempts):
        add("queued", ready, a.started_at, a.attempt)
        add("running", a.started_at, a.ended_at if a.ended_at is not None else now, a.attempt)
        ready = None
        if a.delay_seconds is not None and a.ended_at is not None:
            nxt = attempts[i + 1].started_at if i + 1 < len(attempts) else None
            ended = step.ended_at if step.status.terminal else None
            cut = [t for t in (nxt, ended, now) if t is not None and t >= a.ended_at]
            end = min([a.ended_at + a.delay_seconds * 1000, *cut])
            add("backoff", a.ended_at, end, a.attempt)
            ready = end
    if not attempts or step.status is StepStatus.RETRY_WAIT:
        waiting = step.status in (
            StepStatus.WAITING_FOR_PERMITS,
            StepStatus.WAITING_FOR_SIGNALS,
            StepStatus.PAUSED,
        )
        if step.status is StepStatus.READY or waiting:
            add("waiting" if waiting else "queued", ready, now, None)
    return out


# A step's detail stays under Lambda's 6 MB response (API Gateway's limit is 10 MB) with
# its output and params (shown up to SHOWN_VALUE_BYTES each) and a page of iterations
# (loop_views.PAGE_BYTES): its events, and its attempts' tracebacks, each have a budget of
# JSON bytes, the newest first.
STEP_EVENTS_BYTES = 1_000_000
TRACEBACKS_BYTES = 2_000_000


def _attempt_views(attempts: list[Attempt]) -> tuple[list[dict[str, Any]], int]:
    """Every attempt, the newest ones with their tracebacks within TRACEBACKS_BYTES (the
    last one's always: it is the error the step shows); and how many older ones' were
    left out (their ``traceback`` is null)."""
    views = [_attempt_view(a) for a in attempts]
    size = omitted = 0
    for newer, view in enumerate(reversed(views)):
        if view["traceback"] is None:
            continue
        size += len(json.dumps(view["traceback"]))
        if newer and size > TRACEBACKS_BYTES:
            view["traceback"] = None
            omitted += 1
    return views, omitted


def _attempt_view(a: Attempt) -> dict[str, Any]:
    """An attempt in a step's detail (a page of steps lists its number and outcome only)."""
    return {
        "attempt": a.attempt,
        "status": a.status,
        "started_at": a.started_at,
        "ended_at": a.ended_at,
        "error": a.error,
        "error_type": (a.error_detail or {}).get("type"),
        "delay_seconds": a.delay_seconds,
        "traceback": (a.error_detail or {}).get("traceback"),
    }


# -- the graph --------------------------------------------------------------------------------
def _root(path: str) -> str:
    return path.split("/", 1)[0]


def _speaker(counts: Counter[str]) -> str:
    for status in _PRECEDENCE:
        if counts.get(status):
            return status
    return NOT_STARTED


def _node_of(compiled: CompiledWorkflow) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each definition step's node id, and each node's member steps (definition order).

    Large graphs fold siblings with the same type, predecessors and successors (a fan-out's
    branches) into one group node, so the picture stays legible at any size."""
    steps = compiled.definition.steps
    preds, succs = compiled.graph.predecessors, compiled.graph.successors
    node_of = {s.id: s.id for s in steps}
    if len(steps) > GROUP_ABOVE:
        families: dict[tuple[Any, ...], list[str]] = {}
        for s in steps:
            key = (s.type, tuple(sorted(preds[s.id])), tuple(sorted(succs[s.id])))
            families.setdefault(key, []).append(s.id)
        for ids in families.values():
            if len(ids) >= MIN_GROUP:
                for sid in ids:
                    node_of[sid] = f"group:{ids[0]}"
    members: dict[str, list[str]] = {}
    for s in steps:
        members.setdefault(node_of[s.id], []).append(s.id)
    return node_of, members


def _graph(compiled: CompiledWorkflow, by_root: dict[str, Counter[str]]) -> dict[str, Any]:
    node_of, members = _node_of(compiled)
    if len(members) > MAX_GRAPH_NODES:
        return {"nodes": [], "edges": [], "too_large": True, "node_count": len(members)}
    by_id = compiled.by_id
    nodes = []
    for node, ids in members.items():
        counts: Counter[str] = Counter()
        for sid in ids:
            counts.update(by_root.get(sid) or Counter({NOT_STARTED: 1}))
        group = node.startswith("group:")
        nodes.append(
            {
                "id": node,
                "label": f"{ids[0]} … {ids[-1]}" if group else node,
                "type": by_id[ids[0]].type,
                "group": group,
                "size": len(ids),
                "status": _speaker(counts),
                "counts": dict(counts),
            }
        )
    conditional = {
        (node_of[e.step], node_of[step.id])
        for step in compiled.definition.steps
        for e in step.edges
        if e.when is not None and e.step in node_of
    }
    edges = sorted(
        {
            (node_of[p], node_of[s])
            for s, ps in compiled.graph.predecessors.items()
            for p in ps
            if node_of[p] != node_of[s]
        }
    )
    # [from, to, conditional]: an edge with a ``when:`` is drawn dashed.
    return {
        "nodes": nodes,
        "edges": [[a, b, (a, b) in conditional] for a, b in edges],
        "too_large": False,
    }


# -- the run page -----------------------------------------------------------------------------
def _step_row(
    step: StepRecord,
    compiled: CompiledWorkflow,
    events: list[TimelineEvent],
    now: int,
    placeholder: bool = False,
    ran: dict[str, RanIn] | None = None,
) -> dict[str, Any]:
    """``ran``: where the steps a restart took over ran (``where_they_ran``)."""
    attempts = attempts_of(step, events)
    model = compiled.by_id.get(_root(step.step))
    # Taken over, it started and ended at the restart's write (0 ms): shown with the
    # duration it ran for, in the run it ran in (as GET /runs/{id} shows it).
    view = shown_as_ran(step_view(step), (ran or {}).get(step.step))
    # A page of steps shows no output (up to 8 KiB a row, on every 2 s refresh): the
    # step's detail has it, a big one read back (step_detail).
    del view["output"]
    view["error_type"] = getattr(step, "error_type", None)
    if placeholder:
        view["status"] = NOT_STARTED
    return {
        **view,
        "type": model.type if model is not None else None,
        # Each attempt's outcome, which colours its bar: their errors and tracebacks are
        # in the step's detail (a step retried 99 times with 2 KiB errors made a page of
        # 50 steps over Lambda's 6 MB response).
        "attempt_list": [{"attempt": a.attempt, "status": a.status} for a in attempts],
        "segments": _segments(step, attempts, now),
    }


def _shown_status(step: StepRecord, missing: set[str]) -> str:
    return NOT_STARTED if step.step in missing else step.status.value


def _placeholder(step_id: str, run_id: str) -> StepRecord:
    return StepRecord(run_id=run_id, step=step_id, status=StepStatus.PENDING)


def run_page(
    ctx: Services,
    run_id: str,
    *,
    offset: int = 0,
    limit: int = 100,
    status: str | None = None,
    node: str | None = None,
    search: str | None = None,
) -> dict[str, Any]:
    """A run's summary (counts by status, the DAG) and one page of its step instances."""
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    run = ctx.store.get_run(run_id)
    compiled = ctx.definitions.get(run.workflow, run.version)
    now = ctx.now()
    events = ctx.store.list_events(run_id)
    # No output in a page of steps (_step_row): a callback's token is in the step's detail.
    records = ctx.store.list_steps(run_id)
    order = {s.id: i for i, s in enumerate(compiled.definition.steps)}
    records.sort(key=lambda s: (order.get(_root(s.step), len(order)), s.step))

    by_root: dict[str, Counter[str]] = {}
    for rec in records:
        by_root.setdefault(_root(rec.step), Counter())[rec.status.value] += 1
    counts: Counter[str] = Counter(rec.status.value for rec in records)
    missing = [s.id for s in compiled.definition.steps if s.id not in by_root]
    if missing:
        counts[NOT_STARTED] = len(missing)

    missing_set = set(missing)
    rows = sorted(
        [*records, *(_placeholder(sid, run_id) for sid in missing)],
        key=lambda s: (order.get(_root(s.step), len(order)), s.step),
    )
    if node:
        _, members = _node_of(compiled)
        if node not in members:
            raise StepNotFound(run_id, node, list(members), "query.node")
        wanted_roots = set(members[node])
        rows = [r for r in rows if _root(r.step) in wanted_roots]
    if status:
        known = sorted({s.value for s in StepStatus} | {NOT_STARTED})
        status = status.strip().upper()  # any case, as the run lists take theirs
        if status not in known:  # a typo showed an empty page, as if no step matched
            raise DefinitionError(
                [Issue("query.status", f"unknown step status {status!r}; one of {known}")]
            )
        rows = [r for r in rows if _shown_status(r, missing_set) == status]
    if search:
        needle = search.lower()
        rows = [r for r in rows if needle in r.step.lower()]

    by_step: dict[str, list[TimelineEvent]] = {}
    for ev in events:
        if ev.step is not None:
            by_step.setdefault(ev.step, []).append(ev)
    if offset >= len(rows) > 0:
        # Past the last step (a link to a later page of a list that has shrunk since, as a
        # live run's steps leave a status): the last page that has steps, not an empty one.
        offset = (len(rows) - 1) // limit * limit
    page = rows[offset : offset + limit]
    ran = where_they_ran(ctx, page)
    starts = [r.ready_at or r.started_at for r in records if (r.ready_at or r.started_at)]
    ends = [r.ended_at for r in records if r.ended_at is not None]
    window_start = min([run.started_at or run.created_at, *[s for s in starts if s]])
    window_end = max([run.ended_at, *ends]) if run.ended_at is not None else max([now, *ends])
    restarted = _restarted_as(ctx, run)
    # As service/actions.py asks it: a child pauses with its parent unless detached
    # (wait: false); an iteration and a waited-for subworkflow's run restart through it.
    follows = follows_parent(ctx, run)
    items = _rows_within_budget(
        _step_row(
            with_home_counts(ctx, run_id, r, compiled),
            compiled,
            by_step.get(r.step, []),
            now,
            r.step in missing_set,
            ran,
        )
        for r in page
    )
    actions_done = [e for e in events if e.kind == ACTION_EVENT]
    shown_actions = actions_done[-MAX_ACTION_LOG:]
    return {
        "run": {**_run_row(_shown_params(ctx, run)), "waiting": waiting_reason(ctx, run)},
        "related": {**_family(ctx, run), "restarted_as": restarted},
        # What an operator may do now (core's matrix) and what operators did.
        "actions": sorted(
            a.value
            for a in allowed_run_actions(
                run.status,
                child=follows,
                iteration=is_iteration(run) or (follows and restart_place(ctx, run) is not None),
                restarted=restarted is not None,
            )
        ),
        "action_log": [
            {"at": e.at, "step": e.step, **shown_detail(e.detail)} for e in shown_actions
        ],
        # The older actions left out (``podium runs show RUN`` lists them).
        "action_log_omitted": len(actions_done) - len(shown_actions),
        "terminal": run.status.terminal,
        "now": now,
        "window": {"start": window_start, "end": window_end},
        "total": len(records),
        "defined": len(compiled.definition.steps),
        "counts": dict(counts),
        "graph": _graph(compiled, by_root),
        "steps": {
            "offset": offset,  # the one used: maybe not the one asked for (above)
            "limit": limit,
            "total": len(rows),
            "items": items,
            # Where the next page starts (None: this is the last): before offset + limit
            # when the page ended early, at STEPS_PAGE_BYTES.
            "next_offset": offset + len(items) if offset + len(items) < len(rows) else None,
        },
    }


def _rows_within_budget(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a page of steps within STEPS_PAGE_BYTES of JSON (at least one), as
    GET /runs/{id} pages its steps: the page, with the run's head, stays under Lambda's
    6 MB response however many attempts and long errors its steps have."""
    out: list[dict[str, Any]] = []
    size = 0
    for row in rows:
        size += len(json.dumps(row, default=str))
        if out and size > STEPS_PAGE_BYTES:
            break
        out.append(row)
    return out


def _restarted_as(ctx: Services, run: RunRecord) -> dict[str, Any] | None:
    """The run that restarts this one, if any (service/restart.py)."""
    new = restarted_as(ctx, run)
    return None if new is None else {"run_id": new.run_id, "status": new.status.value}


def _family(ctx: Services, run: RunRecord) -> dict[str, Any]:
    """A child run's parent (the run and step it belongs to) and root (the top run, whose
    workflow is a real one: a loop body's ``wf/step`` is listed nowhere)."""
    if run.parent_run is None:
        return {"parent": None, "root": None}
    root_id = run.root or run.parent_run
    found = ctx.store.get_runs([run.parent_run, root_id])
    parent, root = found.get(run.parent_run), found.get(root_id)
    return {
        "parent": {
            "run_id": run.parent_run,
            "workflow": parent.workflow if parent is not None else None,
            "status": parent.status.value if parent is not None else None,
            "step": run.parent_step,
            "index": run.parent_index,
            "iteration": is_iteration(run),
        },
        "root": {"run_id": root_id, "workflow": root.workflow if root is not None else None},
    }


LogReader = Callable[[str, str], Iterable[Any]]  # (run, step) -> entries
MAX_LOG_CHARS = 64 * 1024  # per stream of one attempt, in the console's answer


def _logs_view(entries: Iterable[Any]) -> list[dict[str, Any]]:
    """What the step printed, per attempt and stream (stdout, stderr); a traceback is
    shown with its attempt's error already."""
    out = []
    for e in entries:
        if e.stream not in ("stdout", "stderr") or not e.text:
            continue
        text = e.text
        if len(text) > MAX_LOG_CHARS:
            text = f"[{len(text) - MAX_LOG_CHARS} characters cut] ..." + text[-MAX_LOG_CHARS:]
        out.append({"attempt": e.attempt, "stream": e.stream, "at": e.at, "text": text})
    return out


# A value stored by reference is read back to be shown up to this size; a bigger one
# keeps its reference, with its first characters (the payload's whole text is a file or
# an S3 object an operator can fetch).
SHOWN_VALUE_BYTES = 1024 * 1024
PREVIEW_CHARS = 64 * 1024


def _shown_params(ctx: Services, run: RunRecord) -> RunRecord:
    """The run with its params as a page shows them: big ones, stored once as a payload
    (service/runs.py), read back (a preview past SHOWN_VALUE_BYTES), as ``GET /runs/{id}``
    shows them, not as their reference."""
    if not is_ref(run.params):
        return run
    return replace(run, params=_shown_value(ctx, run.params))


def _shown_value(ctx: Services, stored: Any) -> Any:
    if not is_ref(stored) or ctx.payloads is None:
        return stored
    try:
        raw = ctx.payloads.get(stored[REF_KEY])
    except NotFound:  # PayloadNotFound
        return {**stored, "missing": PAYLOAD_GONE}
    if len(raw) <= SHOWN_VALUE_BYTES:
        return json.loads(raw)
    text = raw[:PREVIEW_CHARS].decode("utf-8", errors="replace")
    return {**stored, "preview": text, "cut": True}


# A waiting step's detail looks for a signal matching each entry among this many of its
# name's newest (the engine's check looks further: service/signal_waits.py): read on
# every refresh of a live console, only for the step open in it.
SIGNALS_LOOKED = 200


def _signal_wait(
    ctx: Services, run: RunRecord, model: Any, record: StepRecord, placeholder: bool
) -> dict[str, Any] | None:
    """A step with ``wait_for``: each signal it waits for, and whether one matching has
    arrived (``arrived``: True, with the one matched; False: none matches; None: not
    known: the step has not begun to wait, or no match is among the newest
    SIGNALS_LOOKED, ``looked``). Released, the step keeps the signals it matched (its
    ``signals``); waiting, the stored signals are looked through as its check does,
    heads only (no payload read). None for a step that waits for no signal."""
    waits = list(getattr(model, "wait_for", None) or []) if model is not None else []
    if not waits or model.id != record.step:
        return None
    matched = _shown_value(ctx, record.signals) if record.signals is not None else None
    waiting = not placeholder and record.status is StepStatus.WAITING_FOR_SIGNALS
    kept: dict[str, int] | None = None  # signal_waits.kept_floor's, taken when needed
    entries = []
    for wait in waits:
        entry: dict[str, Any] = {
            "signal": wait.signal,
            "match": wait.model_dump(mode="json")["match"],
            "since": wait.since.value,
            "arrived": None,
        }
        got = matched.get(wait.signal) if isinstance(matched, dict) else None
        if isinstance(got, dict):
            entry.update(arrived=True, signal_id=got.get("signal_id"), sent_at=got.get("sent_at"))
            entry["params"] = got.get("params")
        elif waiting and ctx.signals is not None:
            since = record.waiting_since if wait.since is Since.STEP_START else None
            if since is not None:
                # A restart's step counts the signal it was released with in the run
                # restarted as its check does: kept on the step as its wait began (no
                # read; one per view for a wait begun before it was kept).
                if kept is None:
                    kept = kept_floor(ctx, run, record)
                since = min(since, kept.get(wait.signal, since))
            page = ctx.signals.find_heads(
                wait.signal,
                wait.conditions,
                now=ctx.now(),
                since=since,
                size=SIGNALS_LOOKED if wait.conditions else 1,
            )
            if page.heads:
                head = page.heads[0].signal  # the newest: the one a check takes
                entry.update(arrived=True, signal_id=head.signal_id, sent_at=head.sent_at)
                entry["params"] = dict(head.params)
            elif page.next is None:
                entry["arrived"] = False
            else:
                entry["looked"] = SIGNALS_LOOKED
        entries.append(entry)
    return {
        "waiting": waiting,
        "waiting_since": record.waiting_since if waiting else None,
        "deadline": deadline_of(ctx, run, record) if waiting else None,
        "entries": entries,
    }


_CALLBACK_SHOWN = ("token", "type", "payload", "message", "approvers")


def _callback(step: StepRecord, events: list[TimelineEvent]) -> dict[str, Any] | None:
    """What a step waiting for a callback was published with (its token, the rendered
    payload or message, an approval's approvers), from its ``callback_token`` event:
    shown while the step waits, as its output says (``with_callback_tokens``)."""
    waiting = step.status is StepStatus.RUNNING and isinstance(step.output, dict)
    if not waiting or "callback_token" not in step.output:
        return None
    for e in events:
        if e.kind == "callback_token" and e.attempt == step.attempt and e.detail:
            return {k: e.detail[k] for k in _CALLBACK_SHOWN if k in e.detail}
    return None


def step_detail(
    ctx: Services,
    run_id: str,
    step: str,
    logs: LogReader | None = None,
    *,
    iterations_from: str | None = None,
    failed_only: bool = False,
) -> dict[str, Any]:
    """One step instance: its record, every attempt (the newest with their tracebacks,
    within TRACEBACKS_BYTES), its definition, its events (the newest within
    STEP_EVENTS_BYTES, without tracebacks) and, when the runtime keeps them, its logs; a
    loop step's iterations (a page of up to 500, from ``iterations_from``, maybe the
    failed ones only) for the console's grid; a subworkflow step's child runs
    (``children``), for links down to them."""
    run = ctx.store.get_run(run_id)
    compiled = ctx.definitions.get(run.workflow, run.version)
    model = compiled.by_id.get(_root(step))
    record = ctx.store.get_step(run_id, step)
    placeholder = record is None
    if record is None:
        if model is None or step != model.id:
            raise StepNotFound(
                run_id, step, [s.id for s in compiled.definition.steps], "query.name"
            )
        record = _placeholder(step, run_id)
    events = [e for e in ctx.store.list_events(run_id) if e.step == step]
    record = with_home_counts(ctx, run_id, with_callback_tokens([record], events)[0], compiled)
    row = _step_row(record, compiled, events, ctx.now(), placeholder, where_they_ran(ctx, [record]))
    # As its last attempt rendered them; a big value (stored by reference) read back.
    row["params"] = _shown_value(ctx, getattr(record, "params", None))
    row["output"] = _shown_value(ctx, record.output)
    attempts, tracebacks_omitted = _attempt_views(attempts_of(record, events))
    definition = model.model_dump(mode="json", exclude_defaults=True) if model is not None else None
    page = None
    if model is not None and model.type in ("foreach", "while"):  # not a subworkflow
        from podium.service.loop_views import MAX_PAGE, BadPageToken, iterations

        try:
            page = iterations(
                ctx,
                run_id,
                step,
                token=iterations_from,
                limit=MAX_PAGE,
                failed_only=failed_only,
            )
        except BadPageToken as exc:
            raise DefinitionError([Issue("query.next", str(exc))]) from None
    children = None
    if model is not None and model.type == "subworkflow" and model.id == step:
        children = _subworkflow_children(ctx, run_id, record)
    # Tracebacks are in the attempts only: the events of a step retried 99 times, each
    # with its traceback again, were megabytes over Lambda's 6 MB response.
    shown_events, events_omitted = timeline_page(events, STEP_EVENTS_BYTES)
    return {
        # An iteration's step shows the iteration's values whole (one read when they
        # were stored apart), as its steps read them.
        "run": run_view(_shown_params(ctx, run), iteration_section(run, ctx.payloads)),
        "step": row,
        "definition": definition,
        "attempts": attempts,
        "events": shown_events,
        "logs": _logs_view(logs(run_id, step)) if logs is not None else None,
        "iterations": page,
        "children": children,
        "callback": _callback(record, events),
        # A step with wait_for: the signals it waits for, which arrived, which not yet.
        "signals": _signal_wait(ctx, run, model, record, placeholder),
        "restart": _restart_from_step(ctx, run, step),
        "actions": sorted(
            a.value
            for a in allowed_step_actions(
                run.status,
                None if placeholder else record.status,
                model.type if model is not None and model.id == step else None,
            )
        ),
        # Said only when some were left out, as GET /runs/{id} says events_omitted.
        **({"events_omitted": events_omitted} if events_omitted else {}),
        **({"tracebacks_omitted": tracebacks_omitted} if tracebacks_omitted else {}),
    }


def _restart_from_step(ctx: Services, run: RunRecord, step: str) -> dict[str, Any] | None:
    """How a step of an ended run runs again: a restart from it (it and everything below
    it run again), as a step action's refusal names it (service/actions.py): ``run_id``,
    the run restarted, and ``from``, the path from it. A step of a loop's iteration, or
    of a waited-for subworkflow's run, restarts the first run up its parents a restart
    takes from a path into it (``per_day/3/load``); a run restarted already, its newest
    restart. None while the run goes on (step actions act on it), or while that run
    has not ended."""
    if not run.status.terminal:
        return None
    try:
        place = restart_place(ctx, run)
        top, path = (run.run_id, step) if place is None else (place.top, f"{place.path}/{step}")
        newest = newest_restart(ctx, top)
        target = run if newest == run.run_id else ctx.store.get_run(newest)
    except NotFound:  # a parent gone (pruned, expired) on the way up
        return None
    if RunAction.RESTART not in allowed_run_actions(target.status):
        return None
    return {"run_id": target.run_id, "from": path}


def _subworkflow_children(ctx: Services, run_id: str, record: StepRecord) -> list[dict[str, Any]]:
    """The runs a subworkflow step started: one per attempt (a retry runs the workflow
    again), ``RUN.step.N`` for attempt N+1 (service/runtimes/subworkflow.py); an attempt
    that failed before launching one (bad params, too deep) has none, so each is read.
    A step a restart took over started them in the run it came from (followed back
    through restarts of restarts, while that run's step is still there)."""
    seen = {run_id}
    while (origin := taken_over_from(record.reason)) is not None and origin not in seen:
        seen.add(origin)
        there = ctx.store.get_step(origin, record.step)
        if there is None:  # pruned, or expired: its children cannot be named
            return []
        run_id, record = origin, there
    ids = [child_run_id(run_id, record.step, n) for n in range(record.attempt)]
    found = ctx.store.get_runs(ids) if ids else {}
    return [
        {
            "run_id": cid,
            "attempt": n + 1,
            "workflow": found[cid].workflow,
            "status": found[cid].status.value,
        }
        for n, cid in enumerate(ids)
        if cid in found
    ]
