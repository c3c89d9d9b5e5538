"""The bench prices the work function's Lambda invocations (and their SQS receives and
deletes) at the batch size a deployment uses, not at the embedded runtime's."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import pytest

from podium.adapters import queues
from podium.bench import engine


def _deployed_batch_size(field: str) -> int:
    """``PodiumProps.<field>``'s default, read from its source (importing the CDK
    construct would start node)."""
    props = (Path(__file__).parents[2] / "infra" / "podium_cdk" / "props.py").read_text()
    found = re.search(rf"^\s*{field}: int = (\d+)", props, re.M)
    assert found, f"PodiumProps.{field} not found"
    return int(found.group(1))


def _count_sends(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    sent: dict[str, int] = {}
    put = queues.LocalQueue._put

    def counting_put(self: queues.LocalQueue, body: str, delay_seconds: int) -> None:
        sent[self.name] = sent.get(self.name, 0) + 1
        put(self, body, delay_seconds)

    monkeypatch.setattr(queues.LocalQueue, "_put", counting_put)
    return sent


def test_fan_out_steps_are_one_work_invocation_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """What was wrong: ``scripts/bench`` and docs/benchmarks.md priced W2 (a 500-wide
    fan-out) at 0.11 Lambda invocations and 0.317 SQS requests per step ($2.366 per
    million steps), because the embedded runtime handed the work queue's messages to the
    work handler ten at a time; a deployment's work function takes them one per
    invocation (``PodiumProps.work_batch_size`` = 1), which makes W2 about 1.0
    invocations and 2.1 SQS requests per step ($3.26 per million).
    Expected: the counted invocations are at least the work messages divided by the
    deployed work batch size."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    sent = _count_sends(monkeypatch)
    result: dict[str, Any] = engine.measure_embedded(engine.fan(20))
    # measure_embedded runs the workflow twice (timed, then costed): half the messages
    work_messages = sent.get("work", 0) // 2
    assert work_messages >= 20  # the fan-out steps are reached through the work queue
    at_least = math.ceil(work_messages / _deployed_batch_size("work_batch_size"))
    assert result["lambda_batches"] >= at_least, (
        f"{result['lambda_batches']} Lambda batches counted for {work_messages} work "
        f"messages; a deployment invokes the work function at least {at_least} times"
    )


def test_loop_iterations_are_priced_at_the_deployed_work_batch_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What was wrong: docs/benchmarks.md and docs/cost.md priced W4 at 0.219 Lambda
    invocations, 0.627 SQS requests and 4.5 write units per step ($3.431 per million);
    the loop's per-batch savings (one count update and one wake-up per Lambda batch of
    ten ending iterations) came from the embedded runtime's batches of ten on the work
    queue. Delivered one message per invocation, as a deployment's work function is
    (``work_batch_size`` = 1), the same 200-at-20 sample costs 2.0 invocations, 5.5 SQS
    requests, 6.0 write and 5.5 read units per step: $7.05 per million, twice the figure.
    The figures did not say which batch sizes they assumed either.
    Expected: the loop cost sample counts at least one work invocation per work
    message, and records the batch sizes it assumed (the deployed defaults)."""
    from podium.bench import loops

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    sent = _count_sends(monkeypatch)
    result = loops.costs(loops.foreach(30, 10))
    work_messages = sent.get("work", 0)
    invocations = round(result["per_step"]["lambda_invocations"] * result["steps"])
    at_least = math.ceil(work_messages / _deployed_batch_size("work_batch_size"))
    assert invocations >= at_least, (
        f"{invocations} Lambda invocations counted for {work_messages} work messages; "
        f"a deployment invokes the work function at least {at_least} times"
    )
    assert result.get("batch_sizes") == {
        "work": _deployed_batch_size("work_batch_size"),
        "events": _deployed_batch_size("advance_batch_size"),
    }
