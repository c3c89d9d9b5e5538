"""docs/deploy.md, "Cost of an idle deployment", priced the sweeper as 43,200
invocations a month "plus one empty `gsi2` query ... each". A pass of the deployed
sweep handler on an idle stack makes more: one Query per ``gsi2`` partition key
(``ACTIVE#0`` .. ``ACTIVE#7``) and one of the key runs were indexed under before the
shards (``ACTIVE``), docs/architecture.md "Indexes". The row now says nine."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium import bootstrap
from podium.adapters.table_schema import create_table

DEPLOY_DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
WORDS = {"one": 1, "two": 2, "three": 3, "nine": 9}


@pytest.fixture
def idle_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(ddb, "podium-state")
        sqs = boto3.client("sqs", region_name="us-east-1")
        env = {
            "AWS_REGION": "us-east-1",
            "PODIUM_TABLE_NAME": "podium-state",
            "PODIUM_WORK_QUEUE_URL": sqs.create_queue(QueueName="work")["QueueUrl"],
            "PODIUM_EVENT_QUEUE_URL": sqs.create_queue(QueueName="event")["QueueUrl"],
            "PODIUM_RUN_RETENTION_DAYS": "90",
        }
        yield env
    bootstrap.install(None)


def _documented_queries() -> int:
    text = DEPLOY_DOC.read_text()
    line = next(row for row in text.splitlines() if row.startswith("| Sweeper:"))
    found = re.search(r"plus (\w+) empty `gsi2` quer", line)
    assert found, line
    said = found.group(1)
    return int(said) if said.isdigit() else WORDS[said]


def test_an_idle_sweep_pass_makes_the_queries_the_cost_table_prices(
    idle_stack: dict[str, str],
) -> None:
    """An operator sizing an idle stack's DynamoDB reads from docs/deploy.md counted
    one Query per sweeper tick; each tick makes nine (43,200 a month become 388,800).
    The cost row says what a pass reads."""
    services = bootstrap.from_environment(idle_stack)
    bootstrap.install(services)
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client: Any = services.store._db  # type: ignore[attr-defined]
    client = getattr(client, "_client", client)  # the TTL wrapper's own client
    client.meta.events.register("before-call.dynamodb", count)

    from podium.handlers import sweep

    report = sweep.handler({}, None)
    assert report["runs_checked"] == 0  # idle: nothing is due
    assert calls["Query"] == _documented_queries(), (
        f"an idle sweep pass made {calls['Query']} Query calls ({dict(calls)});"
        f" docs/deploy.md prices {_documented_queries()}"
    )
