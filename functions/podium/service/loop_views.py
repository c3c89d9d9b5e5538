"""A loop step's iterations, a page at a time (the API, ``podium runs show --step``
and the console read the same view; its shape is fixed by DESIGN.md "Loop details").

Iterations are child runs with ids derived from the step and the index, so a page is a
read of ids ``start..start+limit-1``: no index of children to keep. ``failed_only``
skips the others (reading at most ``SCAN_LIMIT`` children per page).
"""

from __future__ import annotations

import json
from typing import Any

from podium.core.engine.breakpoints import held_by, step_of_key
from podium.core.engine.errors import NotFound
from podium.core.engine.identity import child_run_id
from podium.core.engine.loops import body_workflow
from podium.core.engine.outputs import MAX_PARAMS_BYTES, REF_KEY, is_ref
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import Payloads
from podium.service.breakpoints import breakpoints_of
from podium.service.context import Services
from podium.service.pausing import BREAKPOINT
from podium.service.step_paths import loop_home

MAX_PAGE = 500
SCAN_LIMIT = 5_000  # children read for one page of failed_only
# A page stays under Lambda's 6 MB response, however long its rows' errors (each clipped
# to 2 KiB of UTF-8, up to 12 KB as JSON's \u escapes) and values: past this many bytes
# of JSON it ends early, with its ``next``.
PAGE_BYTES = 3_000_000
_FAILED = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.STOPPED})
# A loop value is shown up to this many characters of its JSON text (the console cuts
# its texts at the same length): a page holds up to MAX_PAGE iterations, and each value
# would otherwise be there whole on every page, read every 2 s by a live console.
MAX_VALUE_CHARS = 5_000
CUT_KEY = "$cut"  # marks a value shown cut, as "$payload" marks a stored reference
# Marks an iteration's values stored apart (over 4 KiB: service.loops.stored_iteration),
# beside the reference's own "$payload" and "bytes" (kept: older readers know them).
STORED_KEY = "$stored"
# An iteration's own run shows its values whole up to the bound of a run's params; the
# start of a bigger one, as the console shows a big output's (console_views).
SHOWN_ITERATION_BYTES = MAX_PARAMS_BYTES
PREVIEW_CHARS = 64 * 1024


class BadPageToken(ValueError):
    """A ``next`` token this view did not give."""


def loop_counts(step: StepRecord) -> dict[str, int] | None:
    """A loop step's children by state; None for a step that launched none."""
    ended = step.children_ok + step.children_failed + step.children_stopped
    launched = max(step.children_launched, ended)
    if not launched:
        return None
    return {
        "launched": launched,
        "running": launched - ended,
        "succeeded": step.children_ok,
        "failed": step.children_failed,
        "stopped": step.children_stopped,
    }


def shown_value(value: Any, key: str) -> Any:
    """``value`` as it is when its JSON text is at most MAX_VALUE_CHARS, else a marker
    holding the text's first MAX_VALUE_CHARS characters: ``{"$cut": why, "chars": n,
    "preview": text}``."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except RecursionError:  # nested past Python's limit: no text to show a part of
        return {CUT_KEY: "nested too deep to show", "chars": None, "preview": ""}
    if len(text) <= MAX_VALUE_CHARS:
        return value
    return {
        CUT_KEY: (
            f"{len(text):,} characters of JSON, cut to the first {MAX_VALUE_CHARS:,}: the"
            f" iteration's steps read it whole as iteration.{key}"
        ),
        "chars": len(text),
        "preview": text[:MAX_VALUE_CHARS],
    }


def stored_apart(run: RunRecord, where: str) -> dict[str, Any]:
    """The marker of a child run's values stored apart: ``{"$stored": their size and
    ``where`` they are, "$payload": ref, "bytes": n}``."""
    stored = run.iteration or {}
    size = stored.get("bytes")
    what = f"{size:,} bytes of JSON" if isinstance(size, int) else "values"
    return {STORED_KEY: f"{what}, stored apart{where}", **stored}


def _own_values(values: dict[str, Any]) -> dict[str, Any]:
    # ``index`` is the view's own field; ``parent`` (an enclosing loop's values) is its
    # parent run's iteration, shown there.
    return {k: v for k, v in values.items() if k not in ("index", "parent")}


def iteration_error(run: RunRecord) -> str | None:
    """What went wrong in an iteration's run: its error, or, for a STOPPED one, why it
    stopped. A stopped run has no error of its own: why it stopped (its loop failed
    fast, an operator stopped it with a reason, a fence) is what its loop must say."""
    if run.error is None and run.status is RunStatus.STOPPED:
        return run.reason
    return run.error


def iteration_view(run: RunRecord, held_at: str | None = None) -> dict[str, Any]:
    """``held_at``: the step of the iteration a breakpoint holds (``held_at_breakpoints``):
    its run goes on RUNNING while it waits for a person to resume that step."""
    # Values stored apart are not read for a page: a read per iteration (up to MAX_PAGE,
    # every 2 s in a live console) would show at most each value's first 5,000
    # characters. A marker says where they are shown whole: the iteration's own run.
    if is_ref(run.iteration):
        values = stored_apart(run, f": podium runs show {run.run_id}")
    else:
        values = {k: shown_value(v, k) for k, v in _own_values(run.iteration or {}).items()}
    return {
        "index": run.parent_index,
        "values": values,
        "status": run.status.value,
        "run_id": run.run_id,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "duration_ms": (
            run.ended_at - run.started_at
            if run.ended_at is not None and run.started_at is not None
            else None
        ),
        "error": iteration_error(run),
        "held_at": held_at,
    }


def held_at_breakpoints(ctx: Services, children: list[RunRecord]) -> dict[str, str]:
    """The iterations among ``children`` that a breakpoint holds (run id -> the step held
    PAUSED there, reason BREAKPOINT): read only where a breakpoint of the loop's body can
    hold one (no read at all for a body without breakpoints, the common case), one batch
    of step reads for those. A breakpoint in a loop nested in the body holds that inner
    loop's iteration: the outer one is shown running."""
    wanted: list[tuple[str, str]] = []
    for child in children:
        if child.status.terminal:
            continue
        keys = breakpoints_of(ctx, child.workflow)  # cached a second per process
        steps = {step_of_key(k) for k in keys}
        wanted += [(child.run_id, s) for s in sorted(steps) if held_by(keys, s, child.parent_index)]
    if not wanted:
        return {}
    held: dict[str, str] = {}
    for (run_id, step), record in sorted(ctx.store.get_steps(wanted).items()):
        if record.status is StepStatus.PAUSED and record.reason == BREAKPOINT:
            held.setdefault(run_id, step)
    return held


def iteration_section(run: RunRecord, payloads: Payloads | None = None) -> dict[str, Any] | None:
    """A loop iteration's run's own values, whole (its loop params, a while's
    ``state``): ``{"index", "values"}``; None for a run that is no iteration. Values
    stored apart are read from ``payloads`` (one read) and shown up to
    SHOWN_ITERATION_BYTES, a bigger one as a ``$cut`` marker with their start; without
    ``payloads`` (a view of the record alone), as the ``$stored`` marker."""
    if run.iteration is None:
        return None
    values: dict[str, Any]
    if not is_ref(run.iteration):
        values = _own_values(run.iteration)
    elif payloads is None:
        values = stored_apart(run, f" at {run.iteration[REF_KEY]}")
    else:
        values = _read_values(run, payloads)
    return {"index": run.parent_index, "values": values}


def _read_values(run: RunRecord, payloads: Payloads) -> dict[str, Any]:
    stored = run.iteration or {}
    try:
        raw = payloads.get(stored[REF_KEY])
    except NotFound:  # PayloadNotFound: expired, or deleted with its run
        return stored_apart(run, f" at {stored[REF_KEY]}, now gone (expired, or deleted)")
    if len(raw) <= SHOWN_ITERATION_BYTES:
        return _own_values(json.loads(raw))
    return {
        CUT_KEY: (
            f"{len(raw):,} bytes of JSON, over the {SHOWN_ITERATION_BYTES:,} shown: the first"
            f" {PREVIEW_CHARS:,} characters; the whole is at {stored[REF_KEY]}"
        ),
        "chars": None,  # of the whole text: not decoded to count them
        "bytes": len(raw),
        "preview": raw[:PREVIEW_CHARS].decode("utf-8", errors="replace"),
    }


_LOOP_TYPES = frozenset({"foreach", "while"})


class NotALoop(ValueError):
    """Iterations asked of a step that has none."""


def _start_of(token: str | None) -> int:
    if token is None or token == "":
        return 0
    # ASCII digits only: str.isdigit() takes "²" (int() then raises) and "٣" (read 3).
    if not (token.isascii() and token.isdigit()) or len(token) > 7:
        raise BadPageToken(f"{token[:40]!r} is not a page token of this list")
    return int(token)


def has_iterations(ctx: Services, run_id: str, step: str) -> bool:
    """Whether the run's step is a loop (foreach, while), whose iterations are listed
    (an empty loop's too). A subworkflow step carries children counts but no iterations."""
    run = ctx.store.get_run(run_id)
    spec = ctx.definitions.get(run.workflow, run.version).by_id.get(step)
    return spec is not None and spec.type in _LOOP_TYPES


def iterations(
    ctx: Services,
    run_id: str,
    step: str,
    *,
    token: str | None = None,
    limit: int = 100,
    failed_only: bool = False,
) -> dict[str, Any] | None:
    """``{"step", "type", "status", "counts", "iterations": [...], "next"}`` (the loop
    step's type and status: an ended loop without iterations says why); None when the
    run has no
    such step (yet). A page holds up to ``limit`` iterations, fewer when they are over
    PAGE_BYTES of JSON. Raises RunNotFound, BadPageToken."""
    run = ctx.store.get_run(run_id)  # RunNotFound for an unknown run
    record = ctx.store.get_step(run_id, step)
    if record is None:
        return None
    spec = ctx.definitions.get(run.workflow, run.version).by_id.get(step)
    if spec is not None and spec.type not in _LOOP_TYPES:
        raise NotALoop(
            f"step {step!r} of run {run_id} is a {spec.type} step, not a foreach or while:"
            " it has no iterations"
        )
    # A loop step a restart took over ran its iterations in the run it came from: they,
    # and their counts, are there.
    home, record = loop_home(ctx, run_id, record)
    assert record is not None
    counts = loop_counts(record)
    end = counts["launched"] if counts else 0
    held = _held_iterations(ctx, run, home, step, end) if counts and counts["running"] else {}
    start = _start_of(token)
    limit = max(1, min(limit, MAX_PAGE))
    page: list[dict[str, Any]] = []
    size = 0
    full = False  # past PAGE_BYTES
    index = start
    while not full and index < min(end, start + SCAN_LIMIT) and len(page) < limit:
        # A batch of ids at a time (one BatchGetItem per 100 on DynamoDB); an id not
        # found was launched but not created yet (a crash in between).
        chunk = range(index, min(end, start + SCAN_LIMIT, index + max(limit, 100)))
        ids = [child_run_id(home, step, i) for i in chunk]
        found = ctx.store.get_runs(ids)
        for i, child_id in zip(chunk, ids, strict=True):
            index = i + 1
            child = found.get(child_id)
            if child is None or (failed_only and child.status not in _FAILED):
                continue
            view = iteration_view(child, held.get(child_id))
            size += len(json.dumps(view, default=str))
            if page and size > PAGE_BYTES:
                index, full = i, True  # this one opens the next page
                break
            page.append(view)
            if len(page) == limit:
                break
    return {
        "step": step,
        "type": spec.type if spec is not None else None,
        "status": record.status.value,
        "counts": counts,
        "iterations": page,
        "next": str(index) if index < end else None,
        # Of all its iterations (the first SCAN_LIMIT), not of this page's: those whose
        # run waits for a person to resume a step held at its breakpoint.
        "held": len(held),
    }


def _held_iterations(
    ctx: Services, run: RunRecord, home: str, step: str, end: int
) -> dict[str, str]:
    """The loop's iterations held at a breakpoint (``held_at_breakpoints``), among its
    first SCAN_LIMIT: none read while its body has no breakpoint."""
    if not breakpoints_of(ctx, body_workflow(run.workflow, step)):
        return {}
    held: dict[str, str] = {}
    for first in range(0, min(end, SCAN_LIMIT), 100):
        ids = [child_run_id(home, step, i) for i in range(first, min(end, SCAN_LIMIT, first + 100))]
        held.update(held_at_breakpoints(ctx, list(ctx.store.get_runs(ids).values())))
    return held
