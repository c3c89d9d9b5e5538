"""Runs expire: every write to a run's partition stamps the table's TTL attribute.

A run's items (``R#<run_id>``: the run, its steps, loop count shards, sink counters and
timeline) carry ``expires_at`` (epoch seconds), set to the write's time plus
``run_retention_days`` on every put and update, so each item lives that long after its
last write and DynamoDB deletes it afterwards, free of charge (usually within a few
days of the time). The run item is written last (its end, then its settling), so a run
leaves the listing after its steps; payloads are kept a month longer
(``payload_expiration_days``), so a run read just before it goes still finds its
outputs.

Stamping here, on the client every DynamoDB adapter of the store shares, rather than at
each write site means no write can forget it: the adapters stay about state, and this
module about how long state is kept. Only ``R#`` items are stamped: workflows, trigger
states and breakpoints stay, and slots, permits and queue items are deleted when done
(signals carry their own TTL).

A run that waits longer than the retention (a signal that comes after 100 days, a paused
run) would lose its first steps and timeline while it still runs: the sweeper, at each
check of an unended run, asks ``renew_run_partition`` to stamp them again once the run
is older than half the retention, and then at most once every half retention (a small
``#KEPT`` item in the run's partition says when it last did). Younger runs cost nothing:
none of their items can expire within half the retention.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from podium.core.ports import Clock

TTL_ATTRIBUTE = "expires_at"  # the table's TimeToLiveSpecification (infra/podium_cdk/table.py)
RUN_PARTITION = "R#"
_NAME = "#podium_expires"
_VALUE = ":podium_expires"
_DAY_MS = 86_400_000
KEPT_SK = "#KEPT"  # in a run's partition: when its items were last stamped again (``at``)
# The SET keyword, not a placeholder such as ``:set`` or ``#set``.
_SET = re.compile(r"(?<![\w:#])SET\s", re.IGNORECASE)


class ExpiringRunItems:
    """A DynamoDB client whose writes to run partitions expire ``after_days`` later.

    Reads, deletes and everything else go to the wrapped client unchanged.
    """

    def __init__(self, client: Any, *, after_days: int, clock: Clock) -> None:
        if after_days < 1:
            raise ValueError("run items must be kept at least a day")
        self._client = client
        self._after_ms = after_days * _DAY_MS
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _expires_at(self) -> dict[str, str]:
        return {"N": str((self._clock.now_ms() + self._after_ms) // 1000)}

    def renew_run_partition(self, table: str, pk: str, created_at_ms: int) -> int:
        """Stamp again the items of the run partition ``pk`` (a run created at
        ``created_at_ms``) that would expire within half the retention, and return how
        many. Nothing for a run younger than that, or renewed within it. An item gone
        meanwhile is not brought back; one that never had a stamp (written before the
        stack had a retention) is left without."""
        now = self._clock.now_ms()
        half = self._after_ms // 2
        if now - created_at_ms < half:
            return 0  # every item of it was written since: none expires before now + half
        kept_key = {"pk": {"S": pk}, "sk": {"S": KEPT_SK}}
        kept = self._client.get_item(TableName=table, Key=kept_key, ConsistentRead=True)
        at = kept.get("Item", {}).get("at", {}).get("N")
        if at is not None and int(at) > now - half:
            return 0
        soon = (now + half) // 1000
        renewed = 0
        for item in self._partition(table, pk):
            stamp = item.get(TTL_ATTRIBUTE, {}).get("N")
            if stamp is None or int(stamp) >= soon or item["sk"]["S"] == KEPT_SK:
                continue
            try:
                self._client.update_item(
                    TableName=table,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression=f"SET {_NAME} = {_VALUE}",
                    ConditionExpression="attribute_exists(#pk)",
                    ExpressionAttributeNames={_NAME: TTL_ATTRIBUTE, "#pk": "pk"},
                    ExpressionAttributeValues={_VALUE: self._expires_at()},
                )
                renewed += 1
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise  # else deleted meanwhile: left gone
        self.put_item(TableName=table, Item={**kept_key, "at": {"N": str(now)}})
        return renewed

    def _partition(self, table: str, pk: str) -> Iterator[dict[str, Any]]:
        """Every item of the partition, by key and stamp only (paged)."""
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "#pk = :pk",
            "ProjectionExpression": f"#pk, #sk, {_NAME}",
            "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk", _NAME: TTL_ATTRIBUTE},
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def put_item(self, **request: Any) -> Any:
        return self._client.put_item(**self._stamped_put(request))

    def update_item(self, **request: Any) -> Any:
        return self._client.update_item(**self._stamped_update(request))

    def transact_write_items(self, **request: Any) -> Any:
        items = []
        for entry in request["TransactItems"]:
            if "Put" in entry:
                entry = {**entry, "Put": self._stamped_put(entry["Put"])}
            elif "Update" in entry:
                entry = {**entry, "Update": self._stamped_update(entry["Update"])}
            items.append(entry)
        return self._client.transact_write_items(**{**request, "TransactItems": items})

    def batch_write_item(self, **request: Any) -> Any:
        tables = {}
        for table, writes in request["RequestItems"].items():
            tables[table] = [
                {"PutRequest": self._stamped_put(w["PutRequest"])} if "PutRequest" in w else w
                for w in writes
            ]
        return self._client.batch_write_item(**{**request, "RequestItems": tables})

    def _stamped_put(self, put: dict[str, Any]) -> dict[str, Any]:
        item = put["Item"]
        if not _in_run(item):
            return put
        return {**put, "Item": {**item, TTL_ATTRIBUTE: self._expires_at()}}

    def _stamped_update(self, update: dict[str, Any]) -> dict[str, Any]:
        if not _in_run(update["Key"]):
            return update
        expression = update["UpdateExpression"]
        assignment = f"{_NAME} = {_VALUE}"
        match = _SET.search(expression)
        if match is None:
            expression = f"SET {assignment} {expression}"
        else:  # one SET clause per expression: the stamp joins it
            cut = match.end()
            expression = f"{expression[:cut]}{assignment}, {expression[cut:]}"
        return {
            **update,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": {
                **update.get("ExpressionAttributeNames", {}),
                _NAME: TTL_ATTRIBUTE,
            },
            "ExpressionAttributeValues": {
                **update.get("ExpressionAttributeValues", {}),
                _VALUE: self._expires_at(),
            },
        }


def _in_run(key: dict[str, Any]) -> bool:
    pk = key.get("pk", {}).get("S", "")
    return isinstance(pk, str) and pk.startswith(RUN_PARTITION)
