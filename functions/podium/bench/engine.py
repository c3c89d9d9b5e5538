"""Engine benchmarks W1-W3: wall time on the embedded runtime, AWS requests per step,
dollars per million steps, and engine CPU per step with the in-memory adapters."""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from podium.adapters.clock import ManualClock
from podium.local.runtime import TABLE_NAME, LocalRuntime
from podium.service.triggers import route_own_events

# docs/cost.md: published on-demand prices (us-east-1, arm64 Lambda).
PRICE = {
    "dynamodb_wcu": 0.625 / 1e6,
    "dynamodb_rcu": 0.125 / 1e6,
    "sqs_request": 0.40 / 1e6,
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000133334,
    "eventbridge_event": 1.00 / 1e6,  # PutEvents entries on a custom bus (Podium's)
}
# The advance and work functions' memory (infra/podium_cdk/props.py DEFAULT_MEMORY_MB):
# they run every step's orchestration, so duration is priced at theirs.
LAMBDA_MEMORY_GB = 512 / 1024
# Messages per invocation of the work and advance functions, as a deployment delivers them
# (infra/podium_cdk/props.py: PodiumProps.work_batch_size and advance_batch_size's
# defaults; tests/unit/test_bench_batch_sizes_are_the_deployed_defaults.py keeps them
# equal). The embedded runtime's own default (10 on both queues) would price the work
# function's invocations, receives and deletes at a tenth of a deployment's.
BATCH_SIZES: Mapping[str, int] = MappingProxyType({"work": 1, "events": 10})
STEP_FUNCTIONS_PER_MILLION = 25.0


def machine_load() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where /proc is not there)."""
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def deployed_runtime(**options: Any) -> LocalRuntime:
    """An embedded runtime that delivers each queue in a deployment's batches
    (``BATCH_SIZES``), for counting what a run costs on AWS. A batch holds what is queued
    when it is received, up to its size: AWS's pollers (no batching window) may split a
    burst of advance messages into smaller batches, so the advance function's count is a
    floor."""
    return LocalRuntime(
        work_batch_size=BATCH_SIZES["work"], event_batch_size=BATCH_SIZES["events"], **options
    )


@dataclass
class Requests:
    """What a run cost besides DynamoDB, as AWS would bill it: the advance/work
    functions' invocations (one per queue batch, in ``BATCH_SIZES``), SQS requests
    (sends per 64 KB chunk, one receive and one delete per batch), the status changes
    published on Podium's bus (a PutEvents entry each) and the events function's
    invocations (one per event: the bus's rule hands every event of the account to
    it)."""

    batches: int = 0
    bus_events: int = 0
    send_requests: int = 0

    @property
    def sqs_requests(self) -> int:
        return self.send_requests + 2 * self.batches

    @property
    def lambda_invocations(self) -> int:
        return self.batches + self.bus_events

    def dollars(self, counter: RequestCounter) -> float:
        return (
            counter.write_units * PRICE["dynamodb_wcu"]
            + counter.read_units * PRICE["dynamodb_rcu"]
            + self.sqs_requests * PRICE["sqs_request"]
            + self.lambda_invocations * PRICE["lambda_request"]
            + self.bus_events * PRICE["eventbridge_event"]
        )


def duration_dollars(seconds: float) -> float:
    """Lambda duration of ``seconds`` at the advance/work functions' memory."""
    return seconds * LAMBDA_MEMORY_GB * PRICE["lambda_gb_second"]


def chain(n: int) -> dict[str, Any]:
    return {
        "name": f"w1_chain_{n}",
        "steps": [
            {"id": f"s{i}", "type": "noop", **({"depends_on": [f"s{i - 1}"]} if i else {})}
            for i in range(n)
        ],
    }


def fan(n: int) -> dict[str, Any]:
    return {
        "name": f"w2_fan_{n}",
        "steps": [
            {"id": "root", "type": "noop"},
            *({"id": f"p{i}", "type": "noop", "depends_on": ["root"]} for i in range(n)),
            {"id": "join", "type": "noop", "depends_on": [f"p{i}" for i in range(n)]},
        ],
    }


def wide(n: int, branches: int = 50) -> dict[str, Any]:
    """n steps: a root, ``branches`` parallel chains, no join (W3)."""
    per = (n - 1) // branches
    steps: list[dict[str, Any]] = [{"id": "root", "type": "noop"}]
    for b in range(branches):
        for i in range(per):
            steps.append(
                {
                    "id": f"c{b}_{i}",
                    "type": "noop",
                    "depends_on": ["root" if i == 0 else f"c{b}_{i - 1}"],
                }
            )
    while len(steps) < n:
        steps.append({"id": f"x{len(steps)}", "type": "noop", "depends_on": ["root"]})
    return {"name": f"w3_wide_{n}", "steps": steps}


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (numbers ~ digits/2 + 1)."""
    total = 0
    for name, value in item.items():
        total += len(name.encode()) + _value_size(value)
    return total


def _value_size(value: dict[str, Any]) -> int:
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return _number_size(v)
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(x.encode()) for x in v)
    if kind == "NS":
        return sum(_number_size(x) for x in v)
    if kind == "L":
        return 3 + sum(_value_size(x) + 1 for x in v)
    if kind == "M":
        return 3 + sum(len(k) + _value_size(x) + 1 for k, x in v.items())
    return len(str(v))


def _number_size(text: str) -> int:
    """One byte per two significant digits started, plus one, plus one when negative
    (leading and trailing zeros are not significant)."""
    mantissa = text.lstrip("+-").lower().partition("e")[0]
    digits = mantissa.replace(".", "").strip("0")
    return -(-len(digits) // 2) + 1 + (1 if text.startswith("-") else 0)


INDEXES = ("gsi1", "gsi2")  # both project ALL (infra/podium_cdk/table.py)


class RequestCounter:
    """Counts AWS requests by operation with botocore event hooks and, when given a
    side client, the exact DynamoDB units: a write is billed per KB of the larger of the
    item's before and after images, a consistent read per 4 KB (eventual: half; a Query
    per 4 KB of the items it read, before any filter or projection, at least one unit;
    each key of a BatchGetItem as a GetItem; a transaction's items twice; each item of
    a BatchWriteItem as a write); and a write that changes an item in a global secondary
    index is billed again per index, once, transaction or not (an item entering or
    leaving it: one write; its index key changing: two)."""

    def __init__(self, side_client: Any = None, table: str = "") -> None:
        self.calls: Counter[str] = Counter()
        self.write_units = 0
        self.read_units = 0.0
        self._side = side_client
        self._table = table
        # (key, item before, transactional)
        self._pending: list[tuple[tuple[str, str], dict[str, Any] | None, bool]] = []
        self.index_write_units = 0
        self._query_consistent = False
        self._query: dict[str, Any] | None = None

    def before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        op = model.name
        self.calls[f"dynamodb.{op}"] += 1
        if op == "PutItem":
            self._start_write(_key(params["Item"]))
        elif op in ("UpdateItem", "DeleteItem"):
            self._start_write(_key(params["Key"]))
        elif op == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                body = next(iter(entry.values()))
                self._start_write(_key(body.get("Item") or body["Key"]), transactional=True)
        elif op == "GetItem":
            self._read(_key(params["Key"]), bool(params.get("ConsistentRead")))
        elif op == "BatchGetItem":
            # Each key is billed as its own GetItem (per 4 KB, at least one unit), found
            # or not.
            for request in params.get("RequestItems", {}).values():
                for key in request.get("Keys", []):
                    self._read(_key(key), bool(request.get("ConsistentRead")))
        elif op == "TransactGetItems":
            for entry in params.get("TransactItems", []):
                self._read(_key(entry["Get"]["Key"]), True, factor=2)  # twice, as writes
        elif op == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                for request in requests:
                    body = request.get("PutRequest") or request["DeleteRequest"]
                    self._start_write(_key(body.get("Item") or body["Key"]))
        elif op == "Query":
            # Billed per 4 KB of the items read (at least one unit), halved when
            # eventually consistent: counted after the call (``after``).
            self._query_consistent = bool(params.get("ConsistentRead"))
            self._query = dict(params)

    def after(self, parsed: Any = None, model: Any = None, **_: Any) -> None:
        if model is not None and model.name == "Query" and isinstance(parsed, dict):
            items = parsed.get("Items", [])
            if self._side and self._query is not None:
                items = self._items_read(self._query)
            size = sum(item_size(i) for i in items)
            units = max(1, -(-size // 4096))
            self.read_units += units if self._query_consistent else units / 2
        for key, before, transactional in self._pending:
            after = self._item(key) if self._side else None
            size = max(item_size(before) if before else 0, item_size(after) if after else 0)
            units = max(1, -(-size // 1024))
            # A transaction bills its table write twice; the change then reaches the
            # indexes as any write's does (one index write per KB per index).
            self.write_units += 2 * units if transactional else units
            if before != after:  # a write that failed its condition changes no index
                index = _index_units(before, after, units)
                self.write_units += index
                self.index_write_units += index
        self._pending.clear()

    def _items_read(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The whole items a Query read: DynamoDB bills those a filter drops and the
        attributes a projection leaves out. The same key condition, start and Limit
        (which counts items read, not returned) on the side client, without the rest."""
        key_expr = params["KeyConditionExpression"]
        replay: dict[str, Any] = {
            k: params[k]
            for k in ("TableName", "IndexName", "KeyConditionExpression", "ExclusiveStartKey")
            if k in params
        }
        for k in ("Limit", "ScanIndexForward"):
            if k in params:
                replay[k] = params[k]
        used = set(re.findall(r"[#:][A-Za-z0-9_]+", key_expr))
        names = {n: v for n, v in params.get("ExpressionAttributeNames", {}).items() if n in used}
        values = {n: v for n, v in params.get("ExpressionAttributeValues", {}).items() if n in used}
        if names:
            replay["ExpressionAttributeNames"] = names
        if values:
            replay["ExpressionAttributeValues"] = values
        items: list[dict[str, Any]] = self._side.query(**replay).get("Items", [])
        return items

    def _read(self, key: tuple[str, str], consistent: bool, factor: int = 1) -> None:
        found = self._item(key) if self._side else None
        size = item_size(found) if found else 0
        units = max(1, -(-size // 4096)) * factor
        self.read_units += units if consistent else units / 2

    def _start_write(self, key: tuple[str, str], transactional: bool = False) -> None:
        before = self._item(key) if self._side else None
        self._pending.append((key, before, transactional))

    def _item(self, key: tuple[str, str]) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._side.get_item(
            TableName=self._table, Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}}
        ).get("Item")
        return item


def _index_units(before: dict[str, Any] | None, after: dict[str, Any] | None, units: int) -> int:
    total = 0
    for index in INDEXES:
        keys = (f"{index}pk", f"{index}sk")
        was = tuple(before.get(k) for k in keys) if before else (None, None)
        now = tuple(after.get(k) for k in keys) if after else (None, None)
        in_before, in_after = was[0] is not None, now[0] is not None
        if in_before and in_after:
            total += units if was == now else 2 * units  # a moved key: delete + put
        elif in_before or in_after:
            total += units
    return total


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]


@contextmanager
def counting(
    rt: LocalRuntime, exact_units: bool = True
) -> Iterator[tuple[RequestCounter, Requests]]:
    """Count what ``rt`` asks of AWS while the block runs (it starts runs and pumps):
    DynamoDB requests and units (exact with ``exact_units``: a side client reads each
    item's before and after), queue sends, Lambda batches and the events on Podium's bus.

    The embedded runtime offers what the engine published to the ``bus: podium``
    triggers in batches (``LocalRuntime._route_own_events``); on AWS each event is one
    invocation of the events function, which reads the routing index for that event
    alone. Here each is routed alone too, so its reads are counted as AWS bills them."""
    from podium import bootstrap

    side = bootstrap.aws_clients("us-east-1", embedded=True)["dynamodb"] if exact_units else None
    counter = RequestCounter(side, TABLE_NAME)
    requests = Requests()
    hooks = rt.dynamodb.meta.events
    hooks.register("before-parameter-build.dynamodb", counter.before)
    hooks.register("after-call.dynamodb", counter.after)
    sent = rt.work_queue.send_requests + rt.event_queue.send_requests
    invoke = rt._invoke

    def invoking(handler: Any, batch: Any, context: Any) -> set[str]:
        requests.batches += 1  # one Lambda invocation of a batch
        return invoke(handler, batch, context)

    def routing() -> int:
        take = getattr(rt.services.events, "take_unrouted", None)
        events = take() if take is not None else []
        requests.bus_events += len(events)
        return sum(route_own_events(rt.services, [event]) for event in events)

    patched = ("_invoke", "_route_own_events")
    own = {name: vars(rt)[name] for name in patched if name in vars(rt)}
    rt._invoke = invoking  # type: ignore[method-assign]
    rt._route_own_events = routing  # type: ignore[method-assign]
    try:
        yield counter, requests
        routing()  # what the last pass published (the run's end)
    finally:
        for name in patched:  # as they were (the class's, or the instance's own)
            if name in own:
                setattr(rt, name, own[name])
            else:
                delattr(rt, name)
        hooks.unregister("before-parameter-build.dynamodb", counter.before)
        hooks.unregister("after-call.dynamodb", counter.after)
        requests.send_requests = rt.work_queue.send_requests + rt.event_queue.send_requests - sent


def _run_once(defn: dict[str, Any], exact_units: bool) -> dict[str, Any]:
    with deployed_runtime(clock=ManualClock()) as rt:
        rt.push(defn)
        with counting(rt, exact_units) as (counter, requests):
            t0 = time.perf_counter()
            run = rt.start_run(defn["name"])
            rt.pump()
            wall = time.perf_counter() - t0
        view = rt.describe(run.run_id)
    assert view.run.status.value == "SUCCEEDED", view.run
    return {"wall": wall, "steps": len(view.steps), "counter": counter, "requests": requests}


def measure_embedded(defn: dict[str, Any]) -> dict[str, Any]:
    """One run for the clock, one for exact DynamoDB units (the side client's reads
    would slow the clock's run)."""
    timed = _run_once(defn, exact_units=False)
    costed = _run_once(defn, exact_units=True)
    steps, wall = timed["steps"], timed["wall"]
    counter: RequestCounter = costed["counter"]
    requests: Requests = costed["requests"]
    per_step = {
        "dynamodb_write_units": counter.write_units / steps,
        "dynamodb_read_units": counter.read_units / steps,
        "sqs_requests": requests.sqs_requests / steps,
        "lambda_invocations": requests.lambda_invocations / steps,
        "eventbridge_events": requests.bus_events / steps,
    }
    dollars = requests.dollars(counter) / steps * 1e6
    # Duration: the timed run's wall time per step taken as Lambda time. An estimate, not
    # AWS's: it moves with the machine's load and with moto's cost per call, where AWS
    # bills each DynamoDB request's network round trip instead.
    duration = duration_dollars(wall / steps) * 1e6
    return {
        "workflow": defn["name"],
        "steps": steps,
        "wall_seconds": round(wall, 3),
        "steps_per_second": round(steps / wall, 1),
        "ms_per_step": round(wall * 1000 / steps, 3),
        "sqs_send_requests": requests.send_requests,
        "lambda_batches": requests.batches,
        "bus_events": requests.bus_events,
        "requests_by_kind": dict(counter.calls),
        "per_step": {k: round(v, 3) for k, v in per_step.items()},
        "dollars_per_million_steps_requests": round(dollars, 3),
        "lambda_gb_seconds_dollars_per_million_steps_at_embedded_speed": round(duration, 3),
        "dollars_per_million_steps_with_duration_at_embedded_speed": round(dollars + duration, 3),
    }


def engine_cpu(defn: dict[str, Any]) -> float:
    """Microseconds of CPU per step in Podium's own code (memory store and queues)."""
    with LocalRuntime(clock=ManualClock(), store="memory") as rt:
        rt.push(defn)
        t0 = time.process_time()
        run = rt.start_run(defn["name"])
        rt.pump()
        cpu = time.process_time() - t0
        view = rt.describe(run.run_id)
    return cpu / len(view.steps) * 1e6


def run_engine_bench(quick: bool = False) -> dict[str, Any]:
    started, before = now_iso(), machine_load()
    sizes = {"W1": chain(100), "W2": fan(500), "W3": wide(1_000 if quick else 10_000)}
    embedded = {name: measure_embedded(defn) for name, defn in sizes.items()}
    cpu = {
        str(n): round(engine_cpu(wide(n, branches=max(1, min(50, n // 20)))), 1)
        for n in (100, 1_000, 10_000)
    }
    ratio = cpu["10000"] / cpu["100"] if cpu["100"] else math.nan
    return {
        "measured_at": started,
        "loadavg_before": before,
        "loadavg_after": machine_load(),
        "batch_sizes": dict(BATCH_SIZES),
        "embedded": embedded,
        "engine_cpu_us_per_step": cpu,
        "engine_cpu_flatness_10000_over_100": round(ratio, 2),
        "step_functions_dollars_per_million": STEP_FUNCTIONS_PER_MILLION,
    }
