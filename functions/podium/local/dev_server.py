"""``podium dev``: the HTTP API, the web console and the workers on localhost.

One process serves, on 127.0.0.1:

* the HTTP API: every request that is not the console's is turned into the API Gateway
  HTTP API (payload v2) event the deployed api function receives, and answered by
  ``podium.handlers.api.handler`` itself, so the routes and JSON are the deployed ones;
* the console's JSON views under ``/api/console/...`` (``podium.service.console_views``);
* the console's static files (``/`` and ``/static/...``);
* a worker thread that pumps the local runtime's queues, so started runs progress.

The api function's resolver keeps the current request in module state, so API calls
take turns on a lock. The worker pumps on its own thread, concurrently with requests:
the SQLite home and the memory store are safe across threads. moto is not, so on moto
requests, views and pump batches all take turns on one lock.
"""

from __future__ import annotations

import base64
import inspect
import json
import logging
import mimetypes
import os
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from podium.adapters.sqlite.db import HomeError, HomeLocked, waiting_at_most
from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.engine.errors import NotFound
from podium.local.home_busy import REQUEST_WAIT_MS, RETRY_AFTER_S, busy_body, busy_headers
from podium.local.http_requests import (
    REFUSAL_CODES,
    BodyRefused,
    answered_as,
    query_parameters,
    read_body,
)
from podium.local.runtime import LocalRuntime
from podium.local.same_origin import refusal
from podium.service.api_requests import (
    NoSuchStep,
    RequestError,
    bounded_int,
    check_run_id,
    check_workflow_name,
)
from podium.service.console_files import SECURITY_HEADERS

STATIC_DIR = Path(__file__).resolve().parent.parent / "console" / "static"
DEFAULT_PORT = 8321
KEPT_EVENTS = 10_000  # what the engine published, kept in memory once routed
ADOPT_EVERY_S = 1.0  # messages other processes left on the home are taken over this soon
SWEEP_EVERY_S = 60.0  # as the deployed stack's scheduled sweeper
ACCOUNT = "000000000000"
CONSOLE_PREFIX = "/api/console/"
# A connection that sends nothing for this long is closed (a stalled client held a
# thread, and its socket, for good).
REQUEST_TIMEOUT_S = 60.0
log = logging.getLogger("podium.dev")
_INTERNAL = b'{"message": "Internal Server Error"}'
_JSON = {"content-type": "application/json"}
# The console's files carry the deployed page's headers (service/console_files.py): a
# Content-Security-Policy that runs scripts from this origin only (no inline script, no
# event-handler attribute, no javascript: URL, no eval), no framing, no MIME sniffing.
# The page signs nothing here, but its buttons act on runs: a script injected into it
# could too. The same policy as the stack's page, so the browser tests, which drive this
# server, test the deployed one (they wait with locator assertions, which need no eval).
STATIC_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}


def api_event(
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes,
    *,
    account: str = ACCOUNT,
    access_key: str = "local",
    user: str | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API (payload v2) event for a request, as the IAM-authorized
    route sends it to the api function."""
    path, _, query = target.partition("?")
    params = query_parameters(query)
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    lower = {k.lower(): v for k, v in headers.items()}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": urllib.parse.unquote(path),
        "rawQueryString": query,
        # v2 joins repeated query parameters and headers with commas, names lowercased.
        "queryStringParameters": params or None,
        "headers": lower,
        "requestContext": {
            "accountId": account,
            "apiId": "local",
            "authorizer": {
                "iam": {
                    "accessKey": access_key,
                    "accountId": account,
                    # Who acts on runs from the local console: the local user.
                    **({"userArn": user} if user else {}),
                }
            },
            "http": {
                "method": method,
                "path": urllib.parse.unquote(path),
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lower.get("user-agent", ""),
            },
            # Each request its own, as API Gateway gives it: an error's request id, and
            # the log line of a 500, name that request.
            "requestId": local_request_id(),
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": text or None,
        "isBase64Encoded": encoded,
    }


def local_request_id() -> str:
    return f"local-{uuid.uuid4().hex[:12]}"


def console_view_parts(path: str) -> list[str] | None:
    """The parts of a console view's path (``/api/console/runs/ID/step``: runs, ID,
    step), None when no view has the path: the deployed routes' shapes, so a trailing
    slash or an empty part is no view here either (it was, and 404 deployed)."""
    parts = [urllib.parse.unquote(p) for p in path[len(CONSOLE_PREFIX) :].split("/")]
    if parts in (["workflows"], ["runs"]):
        return parts
    if len(parts) in (2, 3) and parts[0] == "runs" and parts[1] and parts[2:] in ([], ["step"]):
        return parts
    return None


def workflow_names(store: Any) -> list[str]:
    """Every workflow the store holds. Uses the store's ``list_workflows`` when it has one;
    otherwise reads what the local stores keep (a dict, or the DynamoDB head items)."""
    lister = getattr(store, "list_workflows", None)
    if callable(lister):
        listed: set[str] = set()
        for item in lister():  # names, (name, active version) pairs, or records
            if isinstance(item, str):
                listed.add(item)
            elif isinstance(item, tuple):
                listed.add(str(item[0]))
            else:
                listed.add(str(item.name))
        return sorted(listed)
    versions = getattr(store, "_versions", None)
    if isinstance(versions, dict):
        return sorted(versions)
    client, table = getattr(store, "_db", None), getattr(store, "_table", None)
    if client is not None and table:
        from podium.adapters import dynamo_codec as c

        names: set[str] = set()
        kwargs: dict[str, Any] = {
            "TableName": table,
            "FilterExpression": "sk = :head AND begins_with(pk, :w)",
            "ExpressionAttributeValues": {
                ":head": {"S": c.HEAD_SK},
                ":w": {"S": c.workflow_pk("")},
            },
            "ProjectionExpression": "pk",
        }
        while True:
            page = client.scan(**kwargs)
            names.update(i["pk"]["S"][len(c.workflow_pk("")) :] for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(names)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return []


# After a home error (payloads/ cannot be written), how long a worker waits before it
# delivers again: the operator fixes the home meanwhile.
HOME_ERROR_WAIT_S = 5.0


class DevServer:
    """The API, the console and a pumping worker over one started ``LocalRuntime``."""

    def __init__(
        self,
        runtime: LocalRuntime,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        static_dir: Path = STATIC_DIR,
        idle_wait_s: float = 0.05,
    ) -> None:
        self.runtime = runtime
        from podium.adapters.events import MemoryEvents

        events = getattr(getattr(runtime, "services", None), "events", None)
        if isinstance(events, MemoryEvents):  # dev runs for days: keep the newest only
            events.keep = KEPT_EVENTS
        self.static_dir = static_dir.resolve()
        self.idle_wait_s = idle_wait_s
        self.api_lock = threading.Lock()
        # moto is not thread-safe; the SQLite home and the memory store are.
        moto = getattr(runtime, "store_kind", "moto") == "moto"
        self.store_lock: AbstractContextManager[Any] = threading.RLock() if moto else nullcontext()
        self.failures: list[BaseException] = []
        # ``pump`` on the calling thread only (the runtime may have a pool of its own).
        pump_args = inspect.signature(runtime.pump).parameters
        self._one_thread: dict[str, Any] = {"workers": 1} if "workers" in pump_args else {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._housekeeping_lock = threading.Lock()
        self._next_adopt = 0.0
        self._next_sweep = time.monotonic() + SWEEP_EVERY_S  # the runtime's start adopted
        self.host = host
        self.httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self.httpd.daemon_threads = True
        self._serve = threading.Thread(
            target=self.httpd.serve_forever, name="podium-dev-http", daemon=True
        )
        # Each worker delivers one batch at a time, so a long step holds up only its own
        # thread; with the runtime's pool size of workers, ready steps run in parallel.
        self._workers = [
            threading.Thread(target=self._pump_loop, name=f"podium-dev-worker-{i}", daemon=True)
            for i in range(self._worker_count())
        ]

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # lifecycle -----------------------------------------------------------------------
    def start(self) -> DevServer:
        self._serve.start()
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._serve.join(timeout=5)
        for worker in self._workers:
            worker.join(timeout=5)

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def request_stop(self) -> None:
        """Make ``serve_forever`` return (from a signal handler, say)."""
        self._stop.set()
        self._wake.set()

    def serve_forever(self) -> None:
        """Block until interrupted (Ctrl-C) or ``request_stop``, then stop."""
        self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # the worker ----------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def _next_due(self) -> int | bool | None:
        """When the next message becomes visible (ms), None when none is queued, or True
        when the runtime's queues cannot tell (then the pump is simply tried)."""
        due: list[int] = []
        for name in ("event_queue", "work_queue"):
            queue = getattr(self.runtime, name, None)
            probe = getattr(queue, "next_visible_at", None)
            if not callable(probe):
                return True
            at = probe()
            if at is not None:
                due.append(at)
        return min(due) if due else None

    def _housekeeping(self) -> None:
        """What the deployed stack does besides its queues, each when due, by whichever
        worker comes first: take over the messages other processes left on the home (a
        ``podium callback``, ``signal send`` or ``runs stop`` from another terminal: dev's
        own queues do not see them) and the steps a process that stopped or died left
        running in-process (``LocalRuntime.adopt``), offer what the engine published to
        the triggers on Podium's bus, and sweep (a waiting step left RUNNING by a process
        that stopped, a message that was lost) as the scheduled sweeper does."""
        if not self._housekeeping_lock.acquire(blocking=False):
            return
        try:
            now = time.monotonic()
            with self.store_lock:
                owners = getattr(self.runtime, "owners", None)
                if owners is not None and now >= self._next_adopt:
                    self._next_adopt = now + ADOPT_EVERY_S
                    # The runtime's adopt also reclaims the steps a process that left
                    # the home left running in-process: their leases may be a `podium
                    # run`'s virtual time, a day ahead of dev's sweep.
                    adopt = getattr(self.runtime, "adopt", owners.adopt)
                    if adopt():
                        self._wake.set()
                route = getattr(self.runtime, "_route_own_events", None)
                if callable(route) and route():
                    self._wake.set()
                if now >= self._next_sweep:
                    self._next_sweep = now + SWEEP_EVERY_S
                    from podium.service.sweep import sweep

                    sweep(self.runtime.services, self.runtime.store)
        finally:
            self._housekeeping_lock.release()

    def _pump_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._housekeeping()
            except HomeLocked as exc:  # another process writes: not a failure, it passes
                self._waiting_for_the_home(exc)
                continue
            except HomeError as exc:  # damaged, full: a line, not a traceback each loop
                self._home_unusable(exc)
                continue
            except Exception as exc:  # keep serving; the failure is logged and kept
                self.failures.append(exc)
                log.exception("the dev server's housekeeping failed")
            due = self._next_due()
            if due is None:
                self._wake.wait(self.idle_wait_s * 4)
                self._wake.clear()
                continue
            if due is not True:
                wait_ms = int(due) - self.runtime.clock.now_ms()
                if wait_ms > 0 and not self._is_virtual():
                    self._wake.wait(min(wait_ms / 1000, 0.25))
                    self._wake.clear()
                    continue
            try:
                with self.store_lock:
                    moved = self._deliver_once()
            except HomeLocked as exc:
                self._waiting_for_the_home(exc)
                continue
            except HomeError as exc:  # the home's own (payloads/ unwritable): said in a line
                self._home_unusable(exc)
                moved = 0
            except Exception as exc:  # keep serving; the failure is logged and kept
                self.failures.append(exc)
                log.exception("the worker's pump failed")
                moved = 0
            if not moved:
                self._wake.wait(self.idle_wait_s)
                self._wake.clear()

    def _home_unusable(self, exc: HomeError) -> None:
        """A worker found the home unusable (damaged, full, payloads/ unwritable): say so
        in a line and wait before trying again (not a hot loop of the same error)."""
        self.failures.append(exc)
        log.error("%s; podium dev goes on once it is fixed", exc)
        self._wake.wait(HOME_ERROR_WAIT_S)
        self._wake.clear()

    def _waiting_for_the_home(self, exc: HomeLocked) -> None:
        """A worker found the home locked by another process (past the busy timeout): say
        so and try again later; requests meanwhile are answered 503 (home_busy.py)."""
        log.warning("%s; the worker tries again in %ss", exc, RETRY_AFTER_S)
        self._stop.wait(RETRY_AFTER_S)

    def _deliver_once(self) -> int:
        """One batch from each queue on this thread, without waiting. (``pump`` waits in
        place for the next due message when another worker took the visible one; that
        could be a retry an hour away.)"""
        deliver = getattr(self.runtime, "_deliver", None)
        if not callable(deliver):
            return int(self.runtime.pump(max_deliveries=1, **self._one_thread))
        from podium.handlers import advance, work

        return int(
            deliver(self.runtime.event_queue, advance.handler, _CONTEXT)
            + deliver(self.runtime.work_queue, work.handler, _CONTEXT)
        )

    def _worker_count(self) -> int:
        if not isinstance(self.store_lock, nullcontext):
            return 1  # moto: one at a time anyway
        workers = getattr(self.runtime, "workers", 1)
        return workers if isinstance(workers, int) and workers > 1 else 1

    def _is_virtual(self) -> bool:
        return callable(getattr(self.runtime.clock, "advance_to", None))

    # requests --------------------------------------------------------------------------
    def call_api(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        from podium import bootstrap
        from podium.handlers import api

        event = api_event(method, target, headers, body, user=bootstrap.local_user())
        try:
            with self.api_lock, self.store_lock:
                response = api.handler(event, None)
        except Exception as exc:  # as a Lambda failure reaches API Gateway
            self.failures.append(exc)
            log.exception("the api handler failed")
            return (
                500,
                {"content-type": "application/json"},
                b'{"message": "Internal Server Error"}',
            )
        if method != "GET":
            self.wake()
        raw = response.get("body") or ""
        payload = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
        return int(response["statusCode"]), dict(response.get("headers") or {}), payload

    def console_view(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        from podium.service import console_views as views

        ctx = self.runtime.services
        parts = console_view_parts(path) or []
        try:
            for name, value in query.items():  # as the deployed API (handlers/api.py)
                if len(value) > 1024:
                    raise DefinitionError(
                        [Issue(f"query.{name}", "must be at most 1024 characters")]
                    )
            with self.store_lock:
                if parts == ["workflows"]:
                    return 200, {"workflows": workflow_names(self.runtime.store)}
                if parts == ["runs"]:
                    if query.get("workflow"):  # as the deployed API checks them
                        check_workflow_name(query["workflow"], "query.workflow")
                    return 200, views.list_console_runs(
                        ctx,
                        workflow_names(self.runtime.store),
                        workflow=query.get("workflow") or None,
                        status=query.get("status") or None,
                        since=query.get("since") or None,
                        tag=query.get("tag") or None,
                        limit=_int(query, "limit", 50, 1, views.MAX_RUNS),
                        page_from=query.get("next") or None,
                    )
                if len(parts) == 2 and parts[0] == "runs":
                    check_run_id(parts[1])
                    return 200, views.run_page(
                        ctx,
                        parts[1],
                        offset=_int(query, "offset", 0, 0, 10**9),
                        limit=_int(query, "limit", 100, 1, views.MAX_PAGE),
                        status=query.get("status") or None,
                        node=query.get("node") or None,
                        search=query.get("q") or None,
                    )
                if len(parts) == 3 and parts[0] == "runs" and parts[2] == "step":
                    check_run_id(parts[1])
                    if not query.get("name"):
                        raise DefinitionError([Issue("query.name", "name the step: ?name=STEP")])
                    return 200, views.step_detail(
                        ctx,
                        parts[1],
                        query["name"],
                        logs=self._log_reader(),
                        iterations_from=query.get("next") or None,
                        failed_only=_bool(query, "failed_only"),
                    )
        except DefinitionError as exc:
            issues = [{"path": i.path, "message": i.message} for i in exc.issues]
            return 400, _error_body("invalid_request", "invalid request", issues)
        except RequestError as exc:
            error = {"path": exc.path, "message": exc.message}
            return int(exc.status), _error_body(exc.code, str(exc), [error])
        except NoSuchStep as exc:  # named at the query parameter that named it
            issue = {"path": exc.place, "message": str(exc)}
            return 404, _error_body("not_found", str(exc), [issue])
        except NotFound as exc:
            return 404, _error_body("not_found", str(exc))
        except HomeLocked as exc:  # another process writes: the answer says to retry
            return 503, busy_body(exc)
        except HomeError as exc:  # full, damaged, read-only: said as the API says it
            log.warning("the home cannot serve a console view: %s", exc)
            return 503, _error_body(exc.code, str(exc))
        except Exception as exc:
            self.failures.append(exc)
            log.exception("a console view failed")
            return 500, _error_body("internal_error", "Internal Server Error")
        return 404, _error_body(
            "no_route", f"no route GET {path}; the routes are listed in docs/architecture.md"
        )

    def _log_reader(self) -> Callable[[str, str], list[Any]] | None:
        """The runtime's captured step output (the home keeps it), when it has any."""
        logs = getattr(self.runtime, "logs", None)
        read = getattr(logs, "read", None)
        if not callable(read):
            return None
        return lambda run_id, step: list(read(run_id, step))

    def static_file(self, path: str) -> tuple[int, str, bytes]:
        name = "index.html" if path in ("/", "/index.html") else path[len("/static/") :]
        name = urllib.parse.unquote(name)
        if "\x00" in name:
            return 404, "text/plain; charset=utf-8", b"not found"
        target = (self.static_dir / name).resolve()
        if not target.is_relative_to(self.static_dir) or not target.is_file():
            return 404, "text/plain; charset=utf-8", b"not found"
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind.endswith("javascript"):
            kind += "; charset=utf-8"
        return 200, kind, target.read_bytes()


class _LambdaContext:
    """What the handlers read of a Lambda context."""

    function_name = "podium-dev"
    aws_request_id = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


_CONTEXT = _LambdaContext()


def _error_body(code: str, message: str, errors: list[dict[str, str]] | None = None) -> Any:
    """An error as the deployed API words it (handlers/api.py ``_error``): its code, its
    message, the places, and a request id (the local server's own)."""
    return {
        "code": code,
        "message": message,
        "errors": errors or [],
        "request_id": local_request_id(),
    }


def _int(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    """As the deployed API reads it (handlers/api.py): absent is ``default``; anything
    but an integer from ``low`` to ``high`` is refused, not clamped."""
    raw = query.get(name)
    return default if raw is None else bounded_int(name, raw, low, high)


def _bool(query: dict[str, str], name: str) -> bool:
    """``true`` or ``false`` (any case; absent or empty: false), as the deployed API reads
    it (handlers/api.py ``_bool_query``): anything else is refused, not read as false."""
    raw = (query.get(name) or "false").lower()
    if raw not in ("true", "false"):
        raise DefinitionError([Issue(f"query.{name}", "use true or false")])
    return raw == "true"


def _handler_for(server: DevServer) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "podium-dev"
        protocol_version = "HTTP/1.1"
        timeout = REQUEST_TIMEOUT_S  # per socket operation (socketserver sets it)

        def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _error(self, status: int, message: str) -> None:
            self.close_connection = True  # a body it did not read may follow
            payload = json.dumps(_error_body(REFUSAL_CODES.get(status, "invalid_request"), message))
            self._send(status, {"content-type": "application/json"}, payload.encode())

        def _serve(self) -> None:
            refused = refusal(
                self.command, dict(self.headers.items()), port=server.port, bound=server.host
            )
            if refused is not None:
                self._error(403, refused)
                return
            try:  # Content-Length or chunked, as API Gateway reads them
                body = read_body(self.headers, self.rfile)
            except BodyRefused as exc:
                self._error(int(exc.status), exc.message)
                return
            except TimeoutError:  # the body stopped coming
                self._error(408, f"the body did not come within {self.timeout:g}s; send it whole")
                return
            path, _, query = self.path.partition("?")
            if self.command in ("GET", "HEAD") and (
                path in ("/", "/index.html") or path.startswith("/static/")
            ):
                status, kind, payload = server.static_file(path)
                self._send(status, {**STATIC_HEADERS, "Content-Type": kind}, payload)
                return
            # A console view, as the deployed API routes /console/...: another method is
            # 405 naming GET, a path no view has 404 (through the api function).
            method = answered_as(self.command)  # HEAD as GET, without the body
            if path.startswith(CONSOLE_PREFIX) and console_view_parts(path) is not None:
                if method != "GET":
                    refused = _error_body(
                        "method_not_allowed",
                        f"{self.command} is not allowed on {path}; use GET",
                    )
                    headers = {"content-type": "application/json", "Allow": "GET"}
                    self._send(405, headers, json.dumps(refused).encode())
                    return
                # As the deployed API reads them: a blank value kept, repeated ones joined.
                status, data = server.console_view(path, query_parameters(query))
                payload = json.dumps(data, default=str).encode()
                # The home locked by another process: 503 and when to retry (the body says
                # so); a 503 of a home that cannot serve (full, damaged) has no retry time.
                busy = isinstance(data, dict) and "retry_after_seconds" in data
                sent = busy_headers() if busy else {"content-type": "application/json"}
                self._send(status, {**sent, "X-Content-Type-Options": "nosniff"}, payload)
                return
            status, headers, payload = server.call_api(
                method, self.path, dict(self.headers.items()), body
            )
            self._send(status, headers, payload)

        def _serve_soon(self) -> None:
            # A home locked by another process is answered 503 in seconds (home_busy.py):
            # this thread waits REQUEST_WAIT_MS for its lock, the workers 30 s.
            with waiting_at_most(REQUEST_WAIT_MS):
                self._serve()

        # Every method the deployed API's $default route takes goes to the api function
        # (OPTIONS was a 501 HTML page of http.server's).
        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve_soon

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return Handler


def open_runtime(home: Path | None, *, backend: str | None = None) -> LocalRuntime:
    """The runtime ``podium dev`` serves: the SQLite home when the runtime has one, else
    the in-process memory store (state then lasts as long as the process)."""
    accepted = inspect.signature(LocalRuntime).parameters
    kwargs: dict[str, Any] = {"virtual_time": False}
    if "workers" in accepted and backend != "moto":  # ready steps run on a pool of threads
        kwargs["workers"] = max(4, os.cpu_count() or 1)
        kwargs["batch_size"] = 1  # a message per worker at a time: a fan-out spreads out
    if backend:
        kwargs["store"] = backend
    if "home" in accepted and backend in (None, "sqlite"):
        kwargs["store"] = "sqlite"
        if home is not None:
            kwargs["home"] = home
    elif backend is None:
        kwargs["store"] = "memory"
    return LocalRuntime(**kwargs)


def wait_until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll ``predicate`` until it holds or the time is up (for tests and scripts)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
