"""The ``table-throttles`` alarm missed throttling of the table's indexes.

CloudWatch reports DynamoDB's ``ReadThrottleEvents`` and ``WriteThrottleEvents`` per
table *and* per global secondary index, and the ``TableName`` dimension alone "returns
the WriteThrottleEvents for the table, but not for any global secondary indexes" (AWS
DynamoDB metrics reference). A write whose ``gsi1``/``gsi2`` update is throttled fails as
a whole (a throttled index throttles the table: tests/integration/
test_active_index_shards.py), yet it counts only under the index's dimension. Podium's
hot-index cases are exactly the ones its runbook names: many runs of one workflow
starting at once (one ``gsi1`` partition, ``W#<name>``) and the sweeper's index
``gsi2``. The alarm read only the ``TableName`` metrics, so it stayed OK while those
writes failed."""

from __future__ import annotations

import re
from typing import Any

from infra_support import Synth

from podium_cdk.table import INDEX_NAMES


def _table_alarm(synth: Synth) -> dict[str, Any]:
    (alarm,) = [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == "podium-table-throttles"
    ]
    return alarm


def _metrics(alarm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The alarm's metrics by their id in its expression."""
    found = {}
    for query in alarm.get("Metrics", []):
        stat = query.get("MetricStat")
        if stat:
            found[query["Id"]] = stat["Metric"]
    if "MetricName" in alarm:  # a single-metric alarm
        found["m"] = alarm
    return found


def _watches_index(metrics: list[dict[str, Any]], index: str) -> bool:
    for metric in metrics:
        if metric.get("Namespace") != "AWS/DynamoDB":
            continue
        dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
        if metric["MetricName"] == "ThrottledRequests":
            return True  # counts a request once any of its events (an index's too) is throttled
        if (
            metric["MetricName"] in ("ReadThrottleEvents", "WriteThrottleEvents")
            and dims.get("GlobalSecondaryIndexName") == index
        ):
            return True
    return False


def test_table_throttle_alarm_watches_the_indexes_throttles(default: Synth) -> None:
    """A user whose runs of one workflow started in a burst saw their writes throttled
    (messages retried, API 500s) while ``podium-table-throttles`` stayed OK: it read the
    table's own throttle events only. It now reads each index's as well."""
    metrics = list(_metrics(_table_alarm(default)).values())
    unwatched = [index for index in INDEX_NAMES if not _watches_index(metrics, index)]
    seen = sorted(
        f"{m['MetricName']}[{','.join(d['Name'] for d in m.get('Dimensions', []))}]"
        for m in metrics
    )
    assert not unwatched, (
        f"podium-table-throttles watches no throttling of index(es) {unwatched};"
        f" it reads only {seen}"
    )


def test_a_series_without_data_does_not_blank_the_sum(default: Synth) -> None:
    """An index never throttled has no data point; a plain ``a + b`` over it is no
    value at all, so the alarm would miss the throttling of the table itself. Every
    term of the sum is ``FILL(x, 0)``."""
    alarm = _table_alarm(default)
    ids = set(_metrics(alarm))
    (expression,) = [q["Expression"] for q in alarm["Metrics"] if "Expression" in q]
    filled = set(re.findall(r"FILL\((\w+), *0\)", expression))
    assert filled == ids, f"{expression!r} leaves {sorted(ids - filled)} unfilled"
