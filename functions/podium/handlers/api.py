"""Lambda entry point of the HTTP API (API Gateway HTTP API, payload v2, IAM auth).

Routes:
  POST /workflows                  push a definition (JSON object, or YAML/JSON text;
                                   content-encoding: gzip accepted)
  GET  /workflows/{name}           the active version (?version=N for another)
  POST /workflows/{name}/runs      start a run: {"params": {...}, "version"?, "run_id"?}
  GET  /workflows/{name}/runs      a workflow's runs, newest first (?limit=N, max 100;
                                   ?status=FAILED[,TIMED_OUT]; ?next=TOKEN pages on)
  GET  /runs/{run_id}              a run with its timeline events, a page of its steps
                                   (?limit, next) and, for a QUEUED run, why it waits
  POST /workflows/{name}/unblock   strict_sequential: let the queue move on after a failure
                                   (no body)
  POST /callbacks/{token}          a waiting step's result or heartbeat: {"success": ...},
                                   {"fail": "message"} or {"heartbeat": true} (+ by, comment)
  GET  /workflows                  every workflow with its active version
  GET  /workflows/{name}/versions  its versions, newest first (?limit=N, max 100)
  POST /workflows/{name}/activate  make a version active: {"version": N}
  POST /workflows/{name}/rollback  activate the version below the active one (no body)
                                   (POST /workflows?activate=false pushes without activating)
  GET  /workflows/{name}/breakpoints  the steps with a breakpoint
  POST /workflows/{name}/breakpoints  {"action": "set", "step"[, "iteration"]} or
                                      {"action": "clear"[, "step"[, "iteration"]]}
  GET  /runs/{run_id}/replay       an attempt's event and recorded outcome (?step, attempt)
  GET  /runs/{run_id}/logs         what an attempt of a lambda step printed (?step, attempt)
                                   (replay, logs and iterations take ?step=LOOP/INDEX/STEP
                                   or SUBWORKFLOW_STEP/STEP too: the step in that child run)
  POST /runs/{run_id}/actions      stop, kill, pause, resume or restart a run
                                   (podium.service.action_requests; docs/operations.md)
  POST /runs/{run_id}/steps/actions  skip, retry now, stop or resume one step
  GET  /workflows/{name}/triggers  its triggers: kind, rule, enabled, last fired,
                                   backfills paused
  POST /workflows/{name}/triggers/{trigger}/enable   (or /disable): no new version
                                   (no body)
  POST /workflows/{name}/backfill  {"from", "to", "trigger"?, "reprocess"?,
                                   "max_active"?, "backwards"?, "dry_run"?}: one run per
                                   scheduled time of the range (a summary back)
  POST /workflows/{name}/backfill/cancel  {"trigger"?}: the trigger's backfills asked
                                   for until now start no more runs
  POST /signals                    send a signal: {"name", "params"?, "payload"?,
                                   "request_id"?, "ttl_days"?}; 201 when stored, 200
                                   when it was already (same request id, or name+params);
                                   "failed" lists the signal triggers that could not
                                   start their run for it ({workflow, trigger, error})

The web console's read-only JSON views (podium.service.console_views; ``podium dev``
serves the same under /api/console/...):
  GET  /runs/{run_id}/iterations   a loop step's iterations, a page at a time
                                   (?step=ID[&next=TOKEN&limit=N&failed_only=true])
  GET  /console/workflows          every workflow, by name
  GET  /console/runs               runs across workflows (?workflow, status, since, tag,
                                   limit, next: the page token an answer gave)
  GET  /console/runs/{run_id}      a run page: counts, the DAG, one page of steps
                                   (?offset, limit, status, node, q)
  GET  /console/runs/{run_id}/step one step's detail (?name=STEP)

The console itself (podium.service.console_files), deployed without an authorizer since
it carries no data; the page signs its calls to the views above in the browser:
  GET  /console/app                the page (index.html)
  GET  /console/app/<asset>        app.js, app.css and the vendored libraries, by name

Errors are JSON: {"code": ..., "message": ..., "errors": [{"path", "message"}],
"request_id": ...} with 400, 404, 405 (a served path, another method: Allow names
its methods), 409, 413 or 415. Nothing a caller sends gives a 500:
a 500 ("internal_error") means a bug or an outage, and is logged with the request id.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import uuid
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from podium import bootstrap
from podium.adapters.sqlite.db import HomeError
from podium.core.dsl.errors import DefinitionError, DefinitionTooLarge, Issue
from podium.core.dsl.load import parse_document
from podium.core.engine.actions import ActionRefused, BadStepPath
from podium.core.engine.errors import NotFound, RunIdConflict, VersionConflict, WorkflowNotFound
from podium.core.engine.request_ids import RequestIdReused
from podium.core.errors import TryAgainLater
from podium.service import breakpoints, console_files, console_views, versions
from podium.service.action_requests import parse_run_action, parse_step_action
from podium.service.actions import Actor, run_action, step_action
from podium.service.admission import unblock
from podium.service.api_requests import (
    NoSuchStep,
    RequestError,
    bounded_int,
    check_run_id,
    check_workflow_name,
    decode_body,
    parse_activate,
    parse_breakpoint,
    parse_json_body,
    parse_rollback,
    parse_run_statuses,
    parse_start_run,
    parse_trigger_switch,
    parse_unblock,
    step_choices,
)
from podium.service.backfill import backfill_request, parse_cancel
from podium.service.backfill import cancel as cancel_backfill
from podium.service.backfill import parse_request as parse_backfill
from podium.service.backfill import pause as pause_backfill
from podium.service.callbacks import CallbackRefused, callback, parse_callback
from podium.service.loop_views import (
    MAX_PAGE,
    BadPageToken,
    NotALoop,
    iteration_section,
    iterations,
)
from podium.service.replay import UnknownStep, replay_input
from podium.service.runs import describe_run, list_runs, start_run
from podium.service.signals import request_from_json, send_and_answer
from podium.service.step_logs import attempt_logs
from podium.service.step_paths import run_of_step_path
from podium.service.triggers import list_triggers, set_enabled
from podium.service.views import (
    STEPS_PAGE_LIMIT,
    BadStepsToken,
    OtherListsToken,
    parse_runs_token,
    parse_steps_token,
    run_steps_page,
    run_view,
    runs_token,
    timeline_page,
    workflow_view,
)
from podium.service.workflows import get_workflow, push_definition

log = logging.getLogger("podium.api")

app = APIGatewayHttpResolver()
MAX_LIST = 100


def _json(status: HTTPStatus, body: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, default=str),
    )


def _request_id() -> str:
    try:
        rid = app.current_event.request_context.request_id
    except Exception:  # no event (called outside a request) or a malformed one
        rid = None
    if not rid:
        context = getattr(app, "lambda_context", None)
        rid = getattr(context, "aws_request_id", None)
    return str(rid) if rid else uuid.uuid4().hex


def _error(
    status: HTTPStatus,
    code: str,
    message: str,
    issues: tuple[Issue, ...] = (),
    **extra: Any,
) -> Response[str]:
    return _json(
        status,
        {
            "code": code,
            "message": message,
            "errors": [{"path": i.path, "message": i.message} for i in issues],
            **extra,
            "request_id": _request_id(),
        },
    )


@app.exception_handler(DefinitionTooLarge)  # type: ignore[untyped-decorator]
def _too_large(exc: DefinitionTooLarge) -> Response[str]:
    return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "definition_too_large", str(exc), exc.issues)


@app.exception_handler(DefinitionError)  # type: ignore[untyped-decorator]
def _invalid(exc: DefinitionError) -> Response[str]:
    # Each entry of "errors" names its place and the fix (the CLI prints them).
    return _error(HTTPStatus.BAD_REQUEST, "invalid_request", "invalid request", exc.issues)


@app.exception_handler(RequestError)  # type: ignore[untyped-decorator]
def _bad_request(exc: RequestError) -> Response[str]:
    return _error(exc.status, exc.code, str(exc), (Issue(exc.path, exc.message),))


@app.exception_handler(TryAgainLater)  # type: ignore[untyped-decorator]
def _try_again_later(exc: TryAgainLater) -> Response[str]:
    # Only a local home raises it (podium dev: another process holds its write lock).
    wait = exc.retry_after_seconds
    message = f"{exc}; nothing is wrong with the request: retry in {wait}s"
    response = _error(HTTPStatus.SERVICE_UNAVAILABLE, exc.code, message, retry_after_seconds=wait)
    response.headers["Retry-After"] = str(wait)
    return response


@app.exception_handler(HomeError)  # type: ignore[untyped-decorator]
def _home_unusable(exc: HomeError) -> Response[str]:
    # Only podium dev's local home raises it (deployed, no handler reaches one). Locked:
    # it passes (503, Retry-After). Full, damaged, read-only, newer: the operator's to
    # fix, and the message names the file and how: said, not a 500 and a traceback.
    if isinstance(exc, TryAgainLater):
        busy: Response[str] = _try_again_later(exc)
        return busy
    log.warning("the home cannot serve request %s: %s", _request_id(), exc)
    return _error(HTTPStatus.SERVICE_UNAVAILABLE, exc.code, str(exc))


# How a workflow gets behind this API, whichever store is there (a deployed stack's, or
# the local home of podium dev, whose own hint is its local CLI's "podium run FILE":
# through the API that runs nothing here). The store says what it lacks; the API, the
# surface, says the API's way.
PUSH_TO_THIS_API = (
    "push it first (podium push FILE, to this API: the same --endpoint URL, or --stack NAME"
    " for a deployed stack)"
)


@app.exception_handler(NotFound)  # type: ignore[untyped-decorator]
def _not_found(exc: NotFound) -> Response[str]:
    message = str(exc)
    if isinstance(exc, WorkflowNotFound) and exc.version is None:
        message = f"workflow '{exc.name}' not found; {PUSH_TO_THIS_API}"
    # An unknown step is named at the place of the request that named it.
    issues = (Issue(exc.place, message),) if isinstance(exc, NoSuchStep) else ()
    return _error(HTTPStatus.NOT_FOUND, "not_found", message, issues)


@app.exception_handler(NotFoundError)  # type: ignore[untyped-decorator]
def _no_route(exc: NotFoundError) -> Response[str]:
    event = app.current_event
    allowed = _methods_of(event.path)
    if allowed and event.http_method.upper() not in allowed:
        # The path is served, not with this method: 405 and what it takes (RFC 9110).
        response = _error(
            HTTPStatus.METHOD_NOT_ALLOWED,
            "method_not_allowed",
            f"{event.http_method} is not allowed on {event.path}; use"
            f" {' or '.join(allowed)} (the routes are listed in docs/architecture.md)",
        )
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return _error(
        HTTPStatus.NOT_FOUND,
        "no_route",
        f"no route {event.http_method} {event.path}; the routes are listed in docs/architecture.md",
    )


def _methods_of(path: str) -> list[str]:
    """The methods the routes matching ``path`` take (none: no route has the path)."""
    routes = [*getattr(app, "_static_routes", []), *getattr(app, "_dynamic_routes", [])]
    return sorted({route.method for route in routes if route.rule.match(path)})


@app.exception_handler(RunIdConflict)  # type: ignore[untyped-decorator]
def _run_id_conflict(exc: RunIdConflict) -> Response[str]:
    run = exc.current
    differs = list(getattr(exc, "fields", []))  # RunIdReused: the body fields that differ
    return _error(
        HTTPStatus.CONFLICT,
        "run_id_conflict",
        exc.message,
        (Issue("body.run_id", exc.message),),
        run=run_view(run) if run is not None else None,
        **({"differs": differs} if differs else {}),
    )


@app.exception_handler(RequestIdReused)  # type: ignore[untyped-decorator]
def _request_id_reused(exc: RequestIdReused) -> Response[str]:
    # 409 naming the fields whose values differ from the first request's.
    first = f"differs from the first request with {exc.key} {exc.request_id}"
    issues = (
        Issue(f"body.{exc.key}", exc.message),
        *(Issue(f"body.{f}", first) for f in exc.fields),
    )
    return _error(
        HTTPStatus.CONFLICT, "request_id_conflict", exc.message, issues, differs=exc.fields
    )


@app.exception_handler(ActionRefused)  # type: ignore[untyped-decorator]
def _action_refused(exc: ActionRefused) -> Response[str]:
    # 409 naming the status the target is in and what is allowed from it.
    return _error(
        HTTPStatus.CONFLICT,
        "action_refused",
        exc.message,
        action=exc.action,
        current=exc.status,
        allowed=exc.allowed,
    )


@app.exception_handler(versions.NothingToRollBack)  # type: ignore[untyped-decorator]
def _nothing_to_roll_back(exc: versions.NothingToRollBack) -> Response[str]:
    return _error(HTTPStatus.CONFLICT, "nothing_to_roll_back", str(exc))


@app.exception_handler(BadStepPath)  # type: ignore[untyped-decorator]
def _bad_step_path(exc: BadStepPath) -> Response[str]:
    issue = Issue("body.step", str(exc))
    return _error(HTTPStatus.BAD_REQUEST, "invalid_request", str(exc), (issue,))


@app.exception_handler(VersionConflict)  # type: ignore[untyped-decorator]
def _version_conflict(exc: VersionConflict) -> Response[str]:
    return _error(HTTPStatus.CONFLICT, "conflict", str(exc))


@app.exception_handler(CallbackRefused)  # type: ignore[untyped-decorator]
def _callback_refused(exc: CallbackRefused) -> Response[str]:
    return _error(exc.status, exc.code, exc.message)


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _internal(exc: Exception) -> Response[str]:
    request_id = _request_id()
    log.exception("internal error (request %s)", request_id)
    return _json(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        {
            "code": "internal_error",
            "message": f"internal error; report request id {request_id} to the operators",
            "errors": [],
            "request_id": request_id,
        },
    )


def _int_query(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = app.current_event.get_query_string_value(name)
    if raw is None:
        return default
    return bounded_int(name, raw, low, high)


def _header(name: str) -> str | None:
    headers = app.current_event.headers or {}
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return None


def _text() -> str | None:
    event = app.current_event
    return decode_body(event.body, bool(event.is_base64_encoded), _header("content-encoding"))


def _body() -> Any:
    """The JSON body of a route that takes an object, None when none was sent. A body of
    ``null`` is JSON but no object: refused as ``[]`` or ``42`` are (it was read as no
    body, and started a run with the default params)."""
    text = _text()
    body = parse_json_body(text)
    if body is None and text is not None and text.removeprefix("\ufeff").strip():
        raise DefinitionError(
            [Issue("body", "must be a JSON object, not null: send {} (or no body) for none")]
        )
    return body


@app.post("/workflows")
def push() -> Response[str]:
    text = _text()
    if text is None or not text.strip():
        raise DefinitionError([Issue("body", "send the workflow definition as the body")])
    # Media types are case-insensitive (RFC 9110 8.3.1): Application/YAML is YAML.
    content_type = (_header("content-type") or "").lower()
    # {} goes on to validation, which names what it lacks (name, steps).
    source: Any = text if "yaml" in content_type else _definition_json(text)
    if not isinstance(source, (str, dict)):
        raise DefinitionError(
            [Issue("body", "the definition must be a JSON object with 'name' and 'steps'")]
        )
    activate = _bool_query("activate", default=True)
    pushed = push_definition(bootstrap.services(), source, "body", activate=activate)
    wv = pushed.version
    status = HTTPStatus.CREATED if pushed.created else HTTPStatus.OK
    body: dict[str, Any] = {"name": wv.name, "version": wv.version, "created": pushed.created}
    body["active_version"] = wv.active_version
    if pushed.reactivated is not None:  # identical to the latest version: active again
        body.update(reactivated=True, previous=pushed.reactivated)
    return _json(status, body)


def _definition_json(text: str) -> Any:
    """The body as JSON; refused as such, and said to be YAML sent with another content
    type when it reads as a YAML definition (a mapping)."""
    try:
        return parse_json_body(text)
    except RequestError as exc:
        if exc.code != "invalid_json" or text.lstrip().startswith(("{", "[")):
            raise  # JSON gone wrong, not YAML: its own message says where
        try:
            parse_document(text, "body")
        except DefinitionError:
            raise exc from None
        message = f"{exc.message}; it reads as YAML: send content-type: application/yaml"
        raise RequestError(exc.status, exc.code, exc.path, message) from None


@app.get("/workflows")
def workflows() -> Response[str]:
    listed = bootstrap.services().store.list_workflows()
    return _json(
        HTTPStatus.OK,
        {"workflows": [{"name": name, "active_version": active} for name, active in listed]},
    )


@app.get("/workflows/<name>/versions")
def versions_of(name: str) -> Response[str]:
    check_workflow_name(name)
    limit = _int_query("limit", versions.MAX_VERSIONS, 1, versions.MAX_VERSIONS)
    listed = versions.list_versions(bootstrap.services(), name, limit or versions.MAX_VERSIONS)
    return _json(
        HTTPStatus.OK,
        {
            "name": name,
            "active_version": listed[0].active_version if listed else None,
            "versions": [
                {
                    "version": v.version,
                    "created_at": v.created_at,
                    "digest": v.digest,
                    "active": v.version == v.active_version,
                    "steps": len(v.document.get("steps", [])),
                }
                for v in listed
            ],
        },
    )


@app.post("/workflows/<name>/activate")
def activate_version(name: str) -> Response[str]:
    check_workflow_name(name)
    request = parse_activate(_body())
    done = versions.activate(bootstrap.services(), name, request.version)
    return _json(HTTPStatus.OK, done.as_json())


@app.get("/workflows/<name>/breakpoints")
def breakpoints_of(name: str) -> Response[str]:
    check_workflow_name(name)
    steps = breakpoints.list_breakpoints(bootstrap.services(), name)  # 404 if unknown
    return _json(HTTPStatus.OK, {"workflow": name, "steps": steps})


@app.post("/workflows/<name>/breakpoints")
def change_breakpoints(name: str) -> Response[str]:
    """{"action": "set", "step": S[, "iteration": N]} or {"action": "clear"[, "step": S[,
    "iteration": N]]} (N: one iteration of the loop whose body S is in, S = LOOP/STEP)."""
    check_workflow_name(name)
    request = parse_breakpoint(_body())  # an unknown field is refused, not ignored
    action, step, iteration = request.action, request.step, request.iteration
    ctx = bootstrap.services()
    try:
        if action == "set":
            if step is None:
                raise DefinitionError([Issue("step", "name the step to break at")])
            change = breakpoints.set_breakpoint(ctx, name, step, iteration)
        else:
            change = breakpoints.clear_breakpoints(ctx, name, step, iteration)
    except DefinitionError as exc:  # the service names its arguments (step, iteration)
        raise _in_body(exc) from None
    return _json(HTTPStatus.OK, change.as_json())


_TEMPLATE_DEFAULT = re.compile(r"params\.[^.]+\.default$")


def _in_query(exc: DefinitionError) -> DefinitionError:
    """A service's issues, named as the request's query parameters (``step`` ->
    ``query.step``)."""
    return DefinitionError(
        [
            Issue(i.path if i.path.startswith("query.") else f"query.{i.path}", i.message)
            for i in exc.issues
        ]
    )


def _in_body(exc: DefinitionError) -> DefinitionError:
    """A service's issues, named as the request's body fields (``to`` -> ``body.to``,
    ``params.day`` -> ``body.params.day``). A param's template default that failed
    (``params.day.default``) is the definition's, not the body's: left as it is."""
    return DefinitionError(
        [
            Issue(i.path, i.message)
            if i.path == "body" or i.path.startswith("body.") or _TEMPLATE_DEFAULT.match(i.path)
            else Issue(f"body.{i.path}" if i.path else "body", i.message)
            for i in exc.issues
        ]
    )


@app.post("/workflows/<name>/rollback")
def rollback_version(name: str) -> Response[str]:
    check_workflow_name(name)
    parse_rollback(_body())
    done = versions.rollback(bootstrap.services(), name)
    return _json(HTTPStatus.OK, done.as_json())


@app.get("/workflows/<name>")
def get_one(name: str) -> Response[str]:
    check_workflow_name(name)
    version = _int_query("version", None, 1, 10**9)
    return _json(HTTPStatus.OK, workflow_view(get_workflow(bootstrap.services(), name, version)))


@app.post("/workflows/<name>/runs")
def start(name: str) -> Response[str]:
    check_workflow_name(name)
    request = parse_start_run(_body())
    try:
        run = start_run(
            bootstrap.services(),
            name,
            request.given_params,
            version=request.version,
            trigger="api",
            run_id=request.run_id,
            tags=request.given_tags,
        )
    except DefinitionError as exc:  # the service names the fields (params.day, tags)
        raise _in_body(exc) from None
    return _json(HTTPStatus.ACCEPTED, run_view(run))


@app.get("/workflows/<name>/runs")
def runs_of(name: str) -> Response[str]:
    check_workflow_name(name)
    limit = _int_query("limit", 20, 1, MAX_LIST) or 20
    token = _str_query("next")
    try:  # the last run returned: (created_at, run_id), newest first, of this workflow
        before = parse_runs_token(token, name) if token is not None else None
    except OtherListsToken as exc:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, "invalid_request", "query.next", str(exc)
        ) from None
    except BadStepsToken:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_request",
            "query.next",
            "not a page token of this list: use the next an earlier page returned",
        ) from None
    statuses = parse_run_statuses(_str_query("status"))  # 400 naming the valid ones
    ctx = bootstrap.services()
    ctx.store.active_version(name)  # 404 for an unknown workflow, as the other routes
    page = list_runs(ctx, name, limit, before=before, statuses=statuses)
    body: dict[str, Any] = {"runs": [run_view(r) for r in page.runs]}
    if page.next is not None:  # maybe more: the next page starts after the last run read
        body["next"] = runs_token(page.next, name)  # names the list: refused by another
    return _json(HTTPStatus.OK, body)


@app.post("/workflows/<name>/unblock")
def unblock_workflow(name: str) -> Response[str]:
    check_workflow_name(name)
    parse_unblock(_body())  # no body (or {}): one sent is refused, not ignored
    ctx = bootstrap.services()
    get_workflow(ctx, name)  # 404 for an unknown workflow
    # What the answer says was forgiven (None: nothing blocked the queue), read before
    # the unblock clears it: `podium unblock` says "was not blocked" from it.
    blocked_by = ctx.store.run_slots().state(name).blocked_by
    admitted = unblock(ctx, name)
    return _json(HTTPStatus.OK, {"workflow": name, "blocked_by": blocked_by, "admitted": admitted})


@app.get("/workflows/<name>/triggers")
def triggers_of(name: str) -> Response[str]:
    check_workflow_name(name)
    return _json(HTTPStatus.OK, {"triggers": list_triggers(bootstrap.services(), name)})


def _switch(name: str, trigger: str, enabled: bool) -> Response[str]:
    check_workflow_name(name)
    parse_trigger_switch(_body(), enabled)  # the route says which: a body is refused
    state = set_enabled(bootstrap.services(), name, trigger, enabled)
    return _json(HTTPStatus.OK, {"workflow": name, "trigger": trigger, "enabled": state.enabled})


@app.post("/workflows/<name>/triggers/<trigger>/enable")
def enable_trigger(name: str, trigger: str) -> Response[str]:
    return _switch(name, trigger, True)


@app.post("/workflows/<name>/triggers/<trigger>/disable")
def disable_trigger(name: str, trigger: str) -> Response[str]:
    return _switch(name, trigger, False)


@app.post("/workflows/<name>/backfill")
def backfill_range(name: str) -> Response[str]:
    check_workflow_name(name)
    request = parse_backfill(_body())
    try:
        summary = backfill_request(bootstrap.services(), name, request)
    except DefinitionError as exc:  # the plan names its fields (from, to, trigger)
        raise _in_body(exc) from None
    return _json(HTTPStatus.OK if request.dry_run else HTTPStatus.ACCEPTED, summary)


@app.post("/workflows/<name>/backfill/cancel")
def cancel_backfills(name: str) -> Response[str]:
    check_workflow_name(name)
    request = parse_cancel(_body())
    try:
        answer = cancel_backfill(bootstrap.services(), name, request.trigger, _caller())
    except DefinitionError as exc:  # the trigger named, or the one to name
        raise _in_body(exc) from None
    return _json(HTTPStatus.OK, answer)


@app.post("/workflows/<name>/backfill/pause")
def pause_backfills(name: str) -> Response[str]:
    return _pause_backfills(name, True)


@app.post("/workflows/<name>/backfill/resume")
def resume_backfills(name: str) -> Response[str]:
    return _pause_backfills(name, False)


def _pause_backfills(name: str, paused: bool) -> Response[str]:
    check_workflow_name(name)
    request = parse_cancel(_body())  # the same body: which trigger (when several)
    try:
        answer = pause_backfill(bootstrap.services(), name, request.trigger, paused)
    except DefinitionError as exc:  # the trigger named, or the one to name
        raise _in_body(exc) from None
    return _json(HTTPStatus.OK, answer)


@app.post("/signals")
def post_signal() -> Response[str]:
    # The answer lists the signal triggers that could not start their run for it
    # (``failed``: workflow, trigger, error), as their states record them.
    sent = send_and_answer(bootstrap.services(), request_from_json(_body()))
    status = HTTPStatus.CREATED if sent.created else HTTPStatus.OK
    return _json(status, sent.as_json())


@app.post("/callbacks/<token>")
def post_callback(token: str) -> Response[str]:
    # The caller's IAM identity goes along: an approval whose approvers are IAM ARNs
    # checks it, not the name the body gives.
    request = dataclasses.replace(parse_callback(_body()), caller=_caller())
    return _json(HTTPStatus.ACCEPTED, callback(bootstrap.services(), token, request))


def _caller() -> str:
    """Who acts: the caller's IAM identity (the API is IAM-authorized)."""
    try:
        iam = app.current_event.request_context.authorizer.iam
        who = iam.user_arn or iam.caller_id or iam.access_key
    except Exception:  # no authorizer context (called outside API Gateway)
        who = None
    return str(who) if who else "unknown caller"


@app.post("/runs/<run_id>/actions")
def act_on_run(run_id: str) -> Response[str]:
    check_run_id(run_id)
    request = parse_run_action(_body())
    actor = Actor(_caller(), request.reason, request.request_id)
    try:
        result = run_action(
            bootstrap.services(), run_id, request.action, actor, request.restart_request()
        )
    except DefinitionError as exc:  # a restart's params, as a start's: body.params.<p>
        raise _in_body(exc) from None
    return _json(HTTPStatus.OK, result.as_json())


@app.post("/runs/<run_id>/steps/actions")
def act_on_step(run_id: str) -> Response[str]:
    check_run_id(run_id)
    request = parse_step_action(_body())
    actor = Actor(_caller(), request.reason, request.request_id)
    result = step_action(bootstrap.services(), run_id, request.step, request.action, actor)
    return _json(HTTPStatus.OK, result.as_json())


@app.get("/runs/<run_id>")
def get_run(run_id: str) -> Response[str]:
    """The run, its timeline and a page of its steps (?limit=N&next=TOKEN: a run of
    thousands of steps does not fit one Lambda response); ``next`` when more follow."""
    check_run_id(run_id)
    limit = _int_query("limit", STEPS_PAGE_LIMIT, 1, STEPS_PAGE_LIMIT) or STEPS_PAGE_LIMIT
    token = _str_query("next")
    try:  # the last step returned (a key, so a step created meanwhile shifts nothing)
        after = parse_steps_token(token) if token is not None else None
    except BadStepsToken as exc:
        raise _bad_steps_token(exc) from None
    ctx = bootstrap.services()
    view = describe_run(ctx, run_id)
    try:  # A step a restart took over: the duration it ran for where it ran (not 0 ms).
        steps, more = run_steps_page(ctx, view.steps, view.step_order, after, limit)
    except BadStepsToken as exc:  # a token of another workflow's run's steps
        raise _bad_steps_token(exc) from None
    # A loop iteration's own values, read back when stored apart (one read, only then).
    iteration = iteration_section(view.run, ctx.payloads)
    body: dict[str, Any] = {
        "run": {**run_view(view.run, iteration), "waiting": view.waiting},
        "steps": steps,
        "steps_total": len(view.steps),
    }
    body["events"], omitted = timeline_page(view.events)
    if omitted:
        body["events_omitted"] = omitted  # older ones, past EVENTS_PAGE_BYTES
    if more is not None:
        body["next"] = more
    return _json(HTTPStatus.OK, body)


def _bad_steps_token(exc: BadStepsToken) -> RequestError:
    return RequestError(HTTPStatus.BAD_REQUEST, "invalid_request", "query.next", str(exc))


def _str_query(name: str) -> str | None:
    raw = app.current_event.get_query_string_value(name)
    if raw is not None and len(raw) > 1024:
        raise DefinitionError([Issue(f"query.{name}", "must be at most 1024 characters")])
    return raw or None


def _bool_query(name: str, *, default: bool = False) -> bool:
    """``?name=true`` or ``false`` (any case; absent or empty: ``default``); anything
    else is refused, not read as false."""
    raw = (_str_query(name) or str(default)).lower()
    if raw not in ("true", "false"):
        raise RequestError(
            HTTPStatus.BAD_REQUEST, "invalid_request", f"query.{name}", "use true or false"
        )
    return raw == "true"


@app.get("/runs/<run_id>/logs")
def get_logs(run_id: str) -> Response[str]:
    """What an attempt of a lambda step printed (?step=ID[&attempt=N]): its function's
    CloudWatch lines for that invocation."""
    check_run_id(run_id)
    step = _str_query("step")
    if not step:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_request",
            "query.step",
            "name the step: GET /runs/{run_id}/logs?step=ID[&attempt=N]",
        )
    attempt = _int_query("attempt", None, 1, 10_000)
    run_id, step = _in_its_run(run_id, step)
    ctx = bootstrap.services()
    return _json(HTTPStatus.OK, attempt_logs(ctx, run_id, step, attempt))


def _in_its_run(run_id: str, step: str) -> tuple[str, str]:
    """``?step=``: a step of the run, or a path to one in an iteration or a subworkflow's
    run (``each/3/load``, ``call/load``, as the CLI and the step actions take it): the
    run that holds the step and its id. A malformed path is a 400 at ``query.step``, a
    part the run has not a 404 there naming it and what exists."""
    try:
        return run_of_step_path(
            bootstrap.services(),
            run_id,
            step,
            lambda message: RequestError(HTTPStatus.NOT_FOUND, "not_found", "query.step", message),
        )
    except BadStepPath as exc:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, "invalid_request", "query.step", str(exc)
        ) from None


@app.get("/runs/<run_id>/iterations")
def get_iterations(run_id: str) -> Response[str]:
    """A loop step's iterations (child runs), by index, a page at a time."""
    check_run_id(run_id)
    step = _str_query("step")
    if not step:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_request",
            "query.step",
            "name the loop step: GET /runs/{run_id}/iterations?step=ID[&next=TOKEN]",
        )
    limit = _int_query("limit", 100, 1, MAX_PAGE) or 100
    failed_only = _bool_query("failed_only")
    run_id, step = _in_its_run(run_id, step)  # a loop inside an iteration: outer/2/inner
    try:
        page = iterations(
            bootstrap.services(),
            run_id,
            step,
            token=_str_query("next"),
            limit=limit,
            failed_only=failed_only,
        )
    except BadPageToken as exc:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, "invalid_request", "query.next", str(exc)
        ) from None
    except NotALoop as exc:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, "invalid_request", "query.step", str(exc)
        ) from None
    if page is None:
        raise RequestError(
            HTTPStatus.NOT_FOUND, "not_found", "query.step", _no_step_yet(run_id, step)
        )
    return _json(HTTPStatus.OK, page)


def _no_step_yet(run_id: str, step: str) -> str:
    """Why a run has no record of ``step``: not started yet, or not one of its steps
    (then the ones it has are named: a 404 names what exists)."""
    ctx = bootstrap.services()
    run = ctx.store.get_run(run_id)
    compiled = ctx.definitions.get(run.workflow, run.version)
    if step in compiled.graph.predecessors:
        return f"run {run_id} has no step {step!r} yet: it has not started"
    known = [s.id for s in compiled.definition.steps]
    return f"run {run_id} has no step {step!r}{step_choices(step, known)}"


@app.get("/runs/<run_id>/replay")
def get_replay(run_id: str) -> Response[str]:
    """The event an attempt of a lambda step got, and its recorded outcome
    (?step=ID[&attempt=N]): podium runs replay runs it again locally."""
    check_run_id(run_id)
    step = _str_query("step")
    if not step:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_request",
            "query.step",
            "name the step: GET /runs/{run_id}/replay?step=ID[&attempt=N]",
        )
    attempt = _int_query("attempt", None, 1, 10_000)
    run_id, step = _in_its_run(run_id, step)
    try:
        replay = replay_input(bootstrap.services(), run_id, step, attempt)
    except DefinitionError as exc:  # the service names its arguments (step, attempt)
        raise _in_query(exc) from None
    except UnknownStep as exc:  # 404 at the query's step, as iterations answer it
        raise RequestError(HTTPStatus.NOT_FOUND, "not_found", "query.step", str(exc)) from None
    return _json(HTTPStatus.OK, replay.as_json())


@app.get("/console/workflows")
def console_workflows() -> Response[str]:
    names = [name for name, _ in bootstrap.services().store.list_workflows()]
    return _json(HTTPStatus.OK, {"workflows": names})


@app.get("/console/runs")
def console_runs() -> Response[str]:
    ctx = bootstrap.services()
    workflow = _str_query("workflow")
    if workflow is not None:
        check_workflow_name(workflow, "query.workflow")
    view = console_views.list_console_runs(
        ctx,
        [name for name, _ in ctx.store.list_workflows()],
        workflow=workflow,
        status=_str_query("status"),
        since=_str_query("since"),
        tag=_str_query("tag"),
        limit=_int_query("limit", 50, 1, console_views.MAX_RUNS) or 50,
        page_from=_str_query("next"),
    )
    return _json(HTTPStatus.OK, view)


@app.get("/console/runs/<run_id>")
def console_run(run_id: str) -> Response[str]:
    check_run_id(run_id)
    view = console_views.run_page(
        bootstrap.services(),
        run_id,
        offset=_int_query("offset", 0, 0, 10**9) or 0,
        limit=_int_query("limit", 100, 1, console_views.MAX_PAGE) or 100,
        status=_str_query("status"),
        node=_str_query("node"),
        search=_str_query("q"),
    )
    return _json(HTTPStatus.OK, view)


@app.get("/console/runs/<run_id>/step")
def console_step(run_id: str) -> Response[str]:
    check_run_id(run_id)
    name = _str_query("name")
    if name is None:
        raise DefinitionError([Issue("query.name", "name the step: ?name=STEP")])
    # No logs here: reading CloudWatch is slow and billed, so the console asks for a
    # lambda step's logs on request (GET /runs/{id}/logs).
    view = console_views.step_detail(
        bootstrap.services(),
        run_id,
        name,
        iterations_from=_str_query("next"),
        failed_only=_bool_query("failed_only"),
    )
    return _json(HTTPStatus.OK, view)


def _file(file: console_files.File) -> Response[str]:
    return Response(
        status_code=HTTPStatus.OK.value,
        content_type=file.content_type,
        body=file.body,
        headers={**console_files.SECURITY_HEADERS, "Cache-Control": file.cache_control},
        compress=True,  # gzip when the browser accepts it
    )


@app.get(console_files.PAGE_PATH)
def console_app() -> Response[str]:
    return _file(console_files.console_page(bootstrap.aws_region()))


def _asset_route(name: str) -> None:
    def console_asset() -> Response[str]:
        file = console_files.asset(name)
        if file is None:  # not reached: only the allow-list has routes
            raise NotFoundError()
        return _file(file)

    console_asset.__name__ = "console_asset_" + "".join(c if c.isalnum() else "_" for c in name)
    app.get(f"{console_files.PAGE_PATH}/{name}")(console_asset)


for _name in console_files.ASSETS:  # one route per file of the allow-list
    _asset_route(_name)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return app.resolve(event, context)
    except Exception:  # a malformed event, or a failure outside any route
        request_id = getattr(context, "aws_request_id", None) or uuid.uuid4().hex
        log.exception("internal error outside a route (request %s)", request_id)
        return {
            "statusCode": HTTPStatus.INTERNAL_SERVER_ERROR.value,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": json.dumps(
                {
                    "code": "internal_error",
                    "message": f"internal error; report request id {request_id} to the operators",
                    "errors": [],
                    "request_id": request_id,
                }
            ),
            "isBase64Encoded": False,
        }
    finally:
        # Only wiring that was built: when building it is what failed (an unset variable,
        # a client that cannot be made), building it again here would raise again and
        # throw away the 500 answered above.
        wiring = bootstrap.built()
        if wiring is not None:
            wiring.metrics.flush()
