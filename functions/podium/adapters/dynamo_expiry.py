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
module about how long state is kept. Only ``R#`` items are stamped, and the items of a
run's own max_parallel_steps permit key (``K#run:<run_id>``, core/engine/retention.py
``own_permit_key``): a key no other run uses, deleted at the run's end
(``Permits.forget``), but made again by a late claim (a worker that read the run as
RUNNING) or left by a crash, it would else stay for good. Workflows, trigger states,
breakpoints and shared permit keys stay, and slots, permits and queue items are deleted
when done (signals carry their own TTL).

A run that waits longer than the retention (a signal that comes after 100 days, a paused
run) would lose its first steps and timeline while it still runs: the sweeper, at each
check of an unended run, asks ``renew_run_partition`` to stamp them again once the run
is older than half the retention, and then at most once every half retention (a small
``#KEPT`` item in the run's partition says when it last did). Younger runs cost nothing:
none of their items can expire within half the retention.

A run's renewal also renews its own permit key's items (one more Query): a step that
holds a permit of it for longer than the retention (a callback waited on for months)
must not lose its count.

A run's renewal also renews the partitions of the children it still needs (the
iterations of a loop that has not ended: it reads their outputs when it ends;
core/engine/retention.py ``children_kept_with``), found from its own step items, listed
anyway: a loop step's launched mark names its children. At most ``CHILDREN_PER_CALL``
of them per call: a round over more goes on at the run's next checks, from the place
``#KEPT`` keeps (``cs``, ``ci``), and ``#KEPT.at`` is written once the round is done.
A round renews what would expire within three quarters of the retention, so what it
passed over is still there at the next round, half a retention later, however long a
round takes within the last quarter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from podium.adapters.dynamo_permits import key_pk
from podium.core.engine.retention import OWN_PERMIT_KEY, own_permit_key
from podium.core.ports import Clock

TTL_ATTRIBUTE = "expires_at"  # the table's TimeToLiveSpecification (infra/podium_cdk/table.py)
RUN_PARTITION = "R#"
OWN_PERMIT_PARTITION = key_pk(OWN_PERMIT_KEY)  # ``K#run:<run_id>``: expires as a run's items
_NAME = "#podium_expires"
_VALUE = ":podium_expires"
_DAY_MS = 86_400_000
KEPT_SK = "#KEPT"  # in a run's partition: when its items were last stamped again (``at``)
# Child partitions a call renews at most (one check of their run): some 100 Queries and
# the updates of what expires, a few seconds of a sweep pass. A loop of 100,000
# iterations is gone over in 1,000 checks, a few days (its run is checked every few
# minutes while the loop runs).
CHILDREN_PER_CALL = 100
# The SET keyword, not a placeholder such as ``:set`` or ``#set``.
_SET = re.compile(r"(?<![\w:#])SET\s", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ChildPartitions:
    """The partitions a run partition's renewal renews with it (the children its run
    still needs): ``attributes`` to list of its items besides their key and stamp, and
    ``of``, which names from those items each child's place and partition key, in
    increasing place order (a round cut short resumes after a place)."""

    attributes: tuple[str, ...]
    of: Callable[[list[dict[str, Any]]], Iterable[tuple[tuple[str, int], str]]]


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

    def renew_run_partition(
        self,
        table: str,
        pk: str,
        created_at_ms: int,
        children: ChildPartitions | None = None,
    ) -> int:
        """Stamp again the items of the run partition ``pk`` (a run created at
        ``created_at_ms``) that would expire within three quarters of the retention, those
        of its own permit key, and those of the ``children`` it names, and return how
        many. Nothing for a run
        younger than half the retention, or renewed within it. An item gone meanwhile is
        not brought back; one that never had a stamp (written before the stack had a
        retention) is left without. A round over many children is spread over calls
        (``CHILDREN_PER_CALL``)."""
        now = self._clock.now_ms()
        half = self._after_ms // 2
        if now - created_at_ms < half:
            return 0  # every item of it was written since: none expires before now + half
        kept_key = {"pk": {"S": pk}, "sk": {"S": KEPT_SK}}
        kept = self._client.get_item(TableName=table, Key=kept_key, ConsistentRead=True)
        mark = kept.get("Item", {})
        at = mark.get("at", {}).get("N")
        after: tuple[str, int] | None = None  # the last child a round cut short renewed
        if "cs" in mark and "ci" in mark:
            after = (mark["cs"]["S"], int(mark["ci"]["N"]))
        elif at is not None and int(at) > now - half:
            return 0
        began = int(mark["rs"]["N"]) if after is not None and "rs" in mark else now
        soon = (now + self._after_ms * 3 // 4) // 1000
        attributes = children.attributes if children is not None else ()
        items = list(self._partition(table, pk, *attributes))
        renewed = self._renew(table, items, soon)
        if pk.startswith(RUN_PARTITION):
            own = key_pk(own_permit_key(pk[len(RUN_PARTITION) :]))
            renewed += self._renew(table, self._partition(table, own), soon)
        left = CHILDREN_PER_CALL
        for place, child_pk in children.of(items) if children is not None else ():
            if after is not None and place <= after:
                continue
            if left == 0:  # the rest at the run's next check
                cursor = {"cs": {"S": after[0]}, "ci": {"N": str(after[1])}} if after else {}
                self.put_item(TableName=table, Item={**kept_key, **cursor, "rs": {"N": str(began)}})
                return renewed
            renewed += self._renew(table, self._partition(table, child_pk), soon)
            after = place
            left -= 1
        self.put_item(TableName=table, Item={**kept_key, "at": {"N": str(began)}})
        return renewed

    def _renew(self, table: str, items: Iterable[dict[str, Any]], soon: int) -> int:
        """Stamp again the ``items`` (listed by ``_partition``) whose stamp is before
        ``soon`` (epoch s); how many."""
        renewed = 0
        for item in items:
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
        return renewed

    def _partition(self, table: str, pk: str, *attributes: str) -> Iterator[dict[str, Any]]:
        """Every item of the partition, by key and stamp only, and ``attributes`` (paged)."""
        names = {"#pk": "pk", "#sk": "sk", _NAME: TTL_ATTRIBUTE}
        names.update({f"#a{n}": name for n, name in enumerate(attributes)})
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "#pk = :pk",
            "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
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
    return isinstance(pk, str) and pk.startswith((RUN_PARTITION, OWN_PERMIT_PARTITION))
