"""Real threads racing against one moto server (ThreadedMotoServer): the setting in which
run strategies and slots must hold without any lock but DynamoDB's conditions."""

from __future__ import annotations

import itertools
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from podium import bootstrap
from podium.adapters.clock import SystemClock, UlidGenerator
from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.queues import LocalQueue
from podium.adapters.runners import LocalFunctionRunner, RoutingRunner
from podium.adapters.table_schema import create_table
from podium.core.engine.records import RunRecord
from podium.handlers import advance, work
from podium.service.context import Services
from podium.service.runtimes.registry import RUNTIMES


class AtomicMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer whose requests each apply atomically.

    DynamoDB applies every request (a conditional write, a transaction) atomically. moto's
    threaded server does not: its transactions back up the whole table and restore it on
    a failed condition, undoing writes that other threads made meanwhile. A lock around
    each request restores the guarantee the engine relies on, while the clients still
    race freely on the order of their requests."""

    def _server_entry(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def atomic(environ: Any, start_response: Any) -> Any:
            with lock:
                return list(app(environ, start_response))

        self._server = make_server(
            self._ip_address, self._port, atomic, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


_TABLES = itertools.count()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def racing_services() -> Iterator[tuple[Services, str]]:
    port = _free_port()
    server = AtomicMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        db = _client(endpoint)
        # moto's backend is process-wide: one table per test, under a name no later test
        # takes (a port is free again once its server stopped, and may come back).
        table = f"race-{port}-{next(_TABLES)}"
        create_table(db, table)
        clock = SystemClock()
        ctx = Services(
            runtimes=RUNTIMES,
            store=DynamoStateStore(db, table),
            # Short visibility: a handler call that failed (moto's server is not fully
            # thread-safe and sometimes answers 500 to racing requests) is redelivered soon.
            work_queue=LocalQueue("work", clock, visibility_timeout_seconds=2, max_receives=50),
            event_queue=LocalQueue("events", clock, visibility_timeout_seconds=2, max_receives=50),
            runner=RoutingRunner(LocalFunctionRunner(), None),
            clock=clock,
            ids=UlidGenerator(clock),
        )
        bootstrap.install(ctx)
        yield ctx, endpoint
    finally:
        bootstrap.install(None)
        server.stop()


def _client(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 10}, max_pool_connections=64),
    )


def race(n: int, fn: Any) -> list[Any]:
    """Run ``fn(i)`` in n threads released at the same moment; results by i."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def body(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def pump_concurrently(
    ctx: Services, done: Any, workers: int = 4, deadline_s: float = 180.0
) -> None:
    """Deliver both queues to the real handlers from several threads until ``done()``."""
    import time

    queues = [(ctx.event_queue, advance.handler), (ctx.work_queue, work.handler)]
    stop = threading.Event()
    end = time.monotonic() + deadline_s

    def worker() -> None:
        while not stop.is_set() and time.monotonic() < end:
            moved = False
            for queue, handler in queues:
                assert isinstance(queue, LocalQueue)
                batch = queue.receive(5)
                if not batch:
                    continue
                moved = True
                event = {
                    "Records": [
                        {
                            "messageId": m.message_id,
                            "receiptHandle": m.receipt,
                            "body": m.body,
                            "attributes": {},
                            "messageAttributes": {},
                            "md5OfBody": "",
                            "eventSource": "aws:sqs",
                            "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:q",
                            "awsRegion": "us-east-1",
                        }
                        for m in batch
                    ]
                }
                try:
                    failed = {
                        f["itemIdentifier"] for f in handler(event, None)["batchItemFailures"]
                    }
                except Exception:
                    failed = {m.message_id for m in batch}
                for m in batch:
                    if m.message_id not in failed:
                        queue.delete(m.receipt)
            if not moved:
                stop.wait(0.05)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    while time.monotonic() < end and not done():
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()


class Monitor:
    """Samples a reading of one item (read atomically) from its own thread while the
    race runs, and keeps the highest value seen. Times recorded by the engine are read
    before each write, so they cannot prove an instant; one item's state can."""

    def __init__(self, read: Any, every_s: float = 0.005) -> None:
        self.peak = 0
        self.samples = 0
        self._read, self._every = read, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, int(self._read()))
            self.samples += 1
            self._stop.wait(self._every)

    def __enter__(self) -> Monitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def max_overlap(runs: list[RunRecord]) -> int:
    """The most runs active at one moment, from their recorded start and end times."""
    return max_overlap_of([(r.started_at, r.ended_at) for r in runs])


def max_overlap_of(intervals: list[tuple[int | None, int | None]]) -> int:
    """The most intervals open at one moment (an end before a start at the same time)."""
    events: list[tuple[int, int]] = []
    for start, end in intervals:
        if start is None:
            continue
        events.append((start, 1))
        events.append((end if end is not None else 2**62, -1))
    events.sort(key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
    active = peak = 0
    for _, delta in events:
        active += delta
        peak = max(peak, active)
    return peak


def dumps(runs: list[RunRecord]) -> str:
    return json.dumps([(r.run_id[-6:], r.status.value, r.started_at, r.ended_at) for r in runs])
