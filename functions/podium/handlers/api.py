"""Lambda entry point of the HTTP API (API Gateway HTTP API, payload v2, IAM auth).

Routes:
  POST /workflows                  push a definition (JSON object, or YAML/JSON text)
  GET  /workflows/{name}           the active version (?version=N for another)
  POST /workflows/{name}/runs      start a run: {"params": {...}, "version"?, "run_id"?}
  GET  /workflows/{name}/runs      a workflow's runs, newest first (?limit=N, max 100)
  GET  /runs/{run_id}              a run with its steps and timeline events (and, for a
                                   QUEUED run, why it waits)
  POST /workflows/{name}/unblock   strict_sequential: let the queue move on after a failure
Errors are JSON: {"message": ..., "errors": [{"path", "message"}]} with 400 or 404.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from podium import bootstrap
from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.engine.errors import NotFound
from podium.service.admission import unblock
from podium.service.api_requests import parse_start_run
from podium.service.runs import describe_run, list_runs, start_run
from podium.service.views import event_view, run_view, step_view, workflow_view
from podium.service.workflows import get_workflow, push_workflow

app = APIGatewayHttpResolver()
MAX_LIST = 100


def _json(status: HTTPStatus, body: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, default=str),
    )


def _error(status: HTTPStatus, message: str, issues: tuple[Issue, ...] = ()) -> Response[str]:
    return _json(
        status,
        {"message": message, "errors": [{"path": i.path, "message": i.message} for i in issues]},
    )


@app.exception_handler(DefinitionError)  # type: ignore[untyped-decorator]
def _invalid(exc: DefinitionError) -> Response[str]:
    return _error(HTTPStatus.BAD_REQUEST, "invalid request", exc.issues)


@app.exception_handler(NotFound)  # type: ignore[untyped-decorator]
def _not_found(exc: NotFound) -> Response[str]:
    return _error(HTTPStatus.NOT_FOUND, str(exc))


def _int_query(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = app.current_event.get_query_string_value(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise DefinitionError(
            [Issue(f"query.{name}", f"must be an integer from {low} to {high}, got {raw!r}")]
        )
    return value


def _body() -> Any:
    raw = app.current_event.decoded_body
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            [Issue("body", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]
        ) from None


@app.post("/workflows")
def push() -> Response[str]:
    raw = app.current_event.decoded_body or ""
    content_type = (app.current_event.headers or {}).get("content-type", "")
    source: Any = raw if "yaml" in content_type else _body()
    if source is None:
        raise DefinitionError([Issue("body", "send the workflow definition as the body")])
    wv, created = push_workflow(bootstrap.services(), source, "body")
    status = HTTPStatus.CREATED if created else HTTPStatus.OK
    return _json(status, {"name": wv.name, "version": wv.version, "created": created})


@app.get("/workflows/<name>")
def get_one(name: str) -> Response[str]:
    version = _int_query("version", None, 1, 10**9)
    return _json(HTTPStatus.OK, workflow_view(get_workflow(bootstrap.services(), name, version)))


@app.post("/workflows/<name>/runs")
def start(name: str) -> Response[str]:
    request = parse_start_run(_body())
    run = start_run(
        bootstrap.services(),
        name,
        request.params,
        version=request.version,
        trigger="api",
        run_id=request.run_id,
    )
    return _json(HTTPStatus.ACCEPTED, run_view(run))


@app.get("/workflows/<name>/runs")
def runs_of(name: str) -> Response[str]:
    limit = _int_query("limit", 20, 1, MAX_LIST) or 20
    runs = list_runs(bootstrap.services(), name, limit)
    return _json(HTTPStatus.OK, {"runs": [run_view(r) for r in runs]})


@app.post("/workflows/<name>/unblock")
def unblock_workflow(name: str) -> Response[str]:
    ctx = bootstrap.services()
    get_workflow(ctx, name)  # 404 for an unknown workflow
    admitted = unblock(ctx, name)
    return _json(HTTPStatus.OK, {"workflow": name, "admitted": admitted})


@app.get("/runs/<run_id>")
def get_run(run_id: str) -> Response[str]:
    view = describe_run(bootstrap.services(), run_id)
    return _json(
        HTTPStatus.OK,
        {
            "run": {**run_view(view.run), "waiting": view.waiting},
            "steps": [step_view(s) for s in view.steps],
            "events": [event_view(e) for e in view.events],
        },
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return app.resolve(event, context)
    finally:
        bootstrap.services().metrics.flush()
