"""JSON views of records, shared by the API and the CLI's --json output."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent, WorkflowVersion
from podium.service.api_requests import RequestError, check_run_id
from podium.service.context import Services
from podium.service.loop_views import iteration_section, loop_counts
from podium.service.taken_over import duration_ms, shown_as_ran, where_they_ran


def run_view(run: RunRecord, iteration: dict[str, Any] | None = None) -> dict[str, Any]:
    """``iteration``: a loop iteration's values as ``loop_views.iteration_section`` read
    them (values stored apart read back); else they are shown from the record alone."""
    view = {
        "run_id": run.run_id,
        "workflow": run.workflow,
        "version": run.version,
        "status": run.status.value,
        "params": run.params,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "error": run.error,
        "reason": run.reason,
        "trigger": run.trigger,
        "tags": run.tags,
        "restart_of": run.restart_of,
        # bus: podium triggers in a row that started it (0: none did; MAX_CHAIN at most)
        "chain": run.chain,
    }
    if run.logical_date is not None:  # the date a schedule's or a backfill's run is for
        view["logical_date"] = run.logical_date
    if run.restart_from is not None:  # beginning, a step, or a step inside an iteration
        view["restart_from"] = run.restart_from
    if run.parent_run is not None:  # a child run: a loop's iteration, a subworkflow's run
        view["parent_run"] = run.parent_run
        view["parent_step"] = run.parent_step
        view["parent_index"] = run.parent_index
        view["root"] = run.root
    section = iteration if iteration is not None else iteration_section(run)
    if section is not None:  # a loop's iteration: its index and loop values (or state)
        view["iteration"] = section
    return view


def step_view(step: StepRecord) -> dict[str, Any]:
    """A step as its record says (a step a restart took over: ``with_where_they_ran``)."""
    view = {
        "step": step.step,
        "status": step.status.value,
        "attempts": step.attempt,
        "ready_at": step.ready_at,
        "started_at": step.started_at,
        "ended_at": step.ended_at,
        "duration_ms": duration_ms(step),
        "error": step.error,
        "reason": step.reason,
        "output": step.output,
    }
    children = loop_counts(step)
    if children is not None:  # a loop step: its iterations (child runs) by state
        view["children"] = children
    return view


def event_view(ev: TimelineEvent, *, tracebacks: bool = True) -> dict[str, Any]:
    detail = shown_detail(ev.detail)
    if not tracebacks and isinstance(detail, dict):
        error = detail.get("error_detail")
        if isinstance(error, dict) and "traceback" in error:
            trimmed = {k: v for k, v in error.items() if k != "traceback"}
            detail = {**detail, "error_detail": trimmed}
    return {
        "at": ev.at,
        "kind": ev.kind,
        "step": ev.step,
        "attempt": ev.attempt,
        "detail": detail,
    }


# A run's timeline in GET /runs/{id}: with a page of steps (STEPS_PAGE_BYTES), under
# Lambda's 6 MB response. A run of many steps retried many times has more: its newest
# events come, and the count of the older ones left out.
EVENTS_PAGE_BYTES = 2_000_000


def timeline_page(
    events: Sequence[TimelineEvent], budget: int = EVENTS_PAGE_BYTES
) -> tuple[list[dict[str, Any]], int]:
    """The run's events as ``GET /runs/{id}`` gives them: without tracebacks (an
    attempt's is in its step's detail, ``GET /console/runs/{id}/step?name=STEP``), the
    newest within ``budget`` bytes of JSON (at least one), in time order; and how many
    older ones were left out."""
    views = [event_view(e, tracebacks=False) for e in events]
    size = kept = 0
    for view in reversed(views):
        size += len(json.dumps(view, default=str))
        if kept and size > budget:
            break
        kept += 1
    return views[len(views) - kept :], len(views) - kept


def shown_detail(detail: Any) -> Any:
    """An event's detail as shown: without an action's request fingerprint, which only
    the action's request id answers to (core/engine/request_ids.py)."""
    if isinstance(detail, dict) and "fingerprint" in detail:
        return {k: v for k, v in detail.items() if k != "fingerprint"}
    return detail


def workflow_view(wv: WorkflowVersion) -> dict[str, Any]:
    return {
        "name": wv.name,
        "version": wv.version,
        "active_version": wv.active_version,
        "digest": wv.digest,
        "created_at": wv.created_at,
        "definition": wv.document,
    }


# A run's page of steps stays well under Lambda's 6 MB response (API Gateway takes
# 10 MB): a step's view is up to ~20 KB (an 8 KiB output, its params, an error).
STEPS_PAGE_BYTES = 3_000_000
STEPS_PAGE_LIMIT = 1_000


StepKey = tuple[int, str]  # (rank of its definition step, step id): the display order


class BadStepsToken(ValueError):
    def __init__(
        self, message: str = "not a page token of this run: use the next an earlier page returned"
    ) -> None:
        super().__init__(message)


class OtherListsToken(BadStepsToken):
    """A runs list's token given to another workflow's list: read as a place in this
    one, it skipped the runs newer than the other list's last run, silently."""

    def __init__(self, given: str | None, wanted: str) -> None:
        of = f"workflow {given!r}'s runs" if given else "another list"
        super().__init__(
            f"this page token is of {of}, not of workflow {wanted!r}'s: use the next an"
            f" earlier page of GET /workflows/{wanted}/runs returned, or leave next out to"
            " start from the newest"
        )


_RUNS_MARK = "runs"  # a runs list's token says so: a step page's token is no run key

# A runs token names a run, created (ms) before the year 2286: DynamoDB's runs index
# keys a run by its 13-digit time (dynamo_codec.runs_index_sk) compared as a string, so
# a longer one sorted before every run there and its page was empty, silently.
MAX_CREATED_AT = 10**13 - 1


def runs_token(key: tuple[int, str], scope: str | None = None) -> str:
    """The ``next`` token of a runs list: the last run returned (created_at, run_id),
    and ``scope``, the list it pages (a workflow's name), when the list has one."""
    parts: list[object] = [_RUNS_MARK, *key]
    if scope is not None:
        parts.append(scope)
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_runs_token(token: str, scope: str | None = None) -> tuple[int, str]:
    """The run a runs list's ``next`` token names (BadStepsToken when it names none,
    a step page's token included). With ``scope``, the token must be of that list
    (OtherListsToken otherwise): a place in another workflow's list is no place here."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        mark, created_at, run_id, *rest = json.loads(raw)
    except (ValueError, TypeError):  # bad base64, bad JSON, not a list of 3 or 4
        raise BadStepsToken() from None
    if mark != _RUNS_MARK or type(created_at) is not int:
        raise BadStepsToken()
    if not 0 <= created_at <= MAX_CREATED_AT or not _is_run_id(run_id):
        raise BadStepsToken()
    if len(rest) > 1 or not all(isinstance(r, str) and r for r in rest):
        raise BadStepsToken()
    given = rest[0] if rest else None
    # A token without a workflow (the console's cross-workflow list, the local CLI's,
    # and every runs token made before tokens named theirs) still pages any list.
    if scope is not None and given is not None and given != scope:
        raise OtherListsToken(given, scope)
    return created_at, run_id


def _is_run_id(run_id: object) -> bool:
    """A run's id as a run can have one (api_requests.check_run_id): any other string,
    a lone surrogate's above all, reached the store's query (SQLite could not bind it:
    a 500, a crash of the local CLI)."""
    if not isinstance(run_id, str):
        return False
    try:
        check_run_id(run_id)
    except RequestError:
        return False
    return True


def step_key(step: str, rank: Mapping[str, int]) -> StepKey:
    """Where a step instance (``load``, ``per/3/load``) sorts: by its definition step's
    place, then by id (describe_run's order)."""
    return (rank.get(step.split("/", 1)[0], len(rank)), step)


def steps_token(key: StepKey) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_steps_token(token: str) -> StepKey:
    """The key a ``next`` token names (BadStepsToken when it names none)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        rank, step = json.loads(raw)
    except (ValueError, TypeError):  # bad base64, bad JSON, not a pair
        raise BadStepsToken() from None
    if type(rank) is not int or rank < 0 or not isinstance(step, str) or not step:
        raise BadStepsToken()
    return rank, step


def page_of_steps(
    views: list[dict[str, Any]],
    order: Sequence[str],
    after: StepKey | None = None,
    limit: int = STEPS_PAGE_LIMIT,
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` step views (in display order, ``order`` being the definition's
    steps) after the key ``after`` within STEPS_PAGE_BYTES (at least one), and the next
    page's token (None: the last page).

    The token is the last returned step's key, not a position: in a running run a step
    created between two reads, before the position, shifted the list (a step was read
    twice). By key, every step that existed at the first read is read once; one created
    since comes if it sorts after the token (a read from the start has it)."""
    rank = {sid: i for i, sid in enumerate(order)}
    keyed = sorted(((step_key(v["step"], rank), v) for v in views), key=lambda kv: kv[0])
    if after is not None and not _of_these_steps(after, rank, {k for k, _ in keyed}):
        raise BadStepsToken()
    rest = [(k, v) for k, v in keyed if after is None or k > after]
    page: list[dict[str, Any]] = []
    size = 0
    for _key, view in rest[:limit]:
        size += len(json.dumps(view, default=str))
        if page and size > STEPS_PAGE_BYTES:
            break
        page.append(view)
    more = len(page) < len(rest)
    return page, (steps_token(rest[len(page) - 1][0]) if more else None)


def _of_these_steps(after: StepKey, rank: Mapping[str, int], keys: set[StepKey]) -> bool:
    """Whether a steps token names a place in these steps: its step's definition step is
    at its rank in this run's definition (or it is one of the run's steps). A token of
    another workflow's run was read as a place here: this run's steps before it were
    never listed, silently."""
    return rank.get(after[1].split("/", 1)[0]) == after[0] or after in keys


def run_steps_page(
    ctx: Services,
    records: Sequence[StepRecord],
    order: Sequence[str],
    after: StepKey | None = None,
    limit: int = STEPS_PAGE_LIMIT,
) -> tuple[list[dict[str, Any]], str | None]:
    """``page_of_steps`` of a run's step records (GET /runs/{id}), a step a restart took
    over shown with the duration it ran for in the run it ran in, and that run
    (taken_over.shown_as_ran, as the console shows it), not the 0 ms of the restart's
    write: read for the steps of the page only (none when none was taken over)."""
    views, more = page_of_steps([step_view(s) for s in records], order, after, limit)
    return with_where_they_ran(ctx, records, views), more


def with_where_they_ran(
    ctx: Services, records: Iterable[StepRecord], views: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``views`` (of steps among ``records``), those of steps a restart took over with
    the duration they ran for where they ran (taken_over.shown_as_ran)."""
    shown = {v["step"] for v in views}
    ran = where_they_ran(ctx, (r for r in records if r.step in shown))
    return [shown_as_ran(v, ran.get(v["step"])) for v in views]
