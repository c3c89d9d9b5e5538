"""How the DynamoDB store counts a run's finished sinks (the steps no step depends on:
the run ends when all of them have).

Each count is one conditional update that adds the sink's index (its place among the
workflow's sinks, ``Graph.sink_index``) to a number set and the counter beside it, so a
replay counts nothing twice and needs no transaction. A number costs 2-4 bytes of item
size, and every count rewrites (and is billed for) the whole item, so one item holds at
most ``SHARD`` sinks:

- a run with up to ``SHARD`` sinks counts them on ``#SINKS`` (one item, exact counts);
- a run with more counts sink ``i`` on ``#SINKS#<i // SHARD>``, as its offset in that
  shard, ``i % SHARD`` (0-255: 2 bytes a number, where the absolute index takes up to 4
  and 256 of those pass 1 KB from index ~10,000 on). The count that fills a shard, or a
  replay that finds its shard full, sums every shard with one consistent Query (100,000
  sinks: 391 items, about 100 read units, once a shard); any other count returns its
  shard's count, which is below the run's total, and that is all its caller needs to
  know (the run is not done yet).

Nothing is derived from the shards, so nothing can be left stale by a crash between two
writes: an operator's uncount changes one shard, and the run-end fence (``reopened``,
service/retry_failed.py) orders it against a worker that summed before it.

The counter written before these sets marked each sink with an attribute ``k:<step>``
on ``#SINKS`` (about 84 bytes a sink with the longest ids: some 5,000 sinks reached the
400 KB item limit, and the run could never end). For a run with up to ``SHARD`` sinks
that marker still counts as counted, so a run in flight across the upgrade counts
nothing twice. A bigger run in flight then counts afresh on its shards; its sinks
counted before the upgrade are counted again by the sweeper's check of a stale run
(later, never twice).

The release before the offsets kept absolute indexes on the shards too. Both read right:
on shard ``s`` > 0 an absolute index is at least ``s * SHARD`` and an offset below
``SHARD`` (on shard 0 they are the same number), so a count or uncount checks both forms
and ``count_many`` reads each number as what it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from podium.adapters import dynamo_codec as c
from podium.adapters.dynamo_conditions import error_code

SHARD = 256
"""Sinks counted on one item: 256 offsets (0-255) stay under 1 KB (one write unit a
count)."""

QueryPrefix = Callable[[str, str], list[c.Item]]


_SHARD_PREFIX = f"{c.SINKS_SK}#"  # "#SINKS#": a Query for it leaves "#SINKS" out


def _shard_sk(shard: int) -> str:
    return f"{_SHARD_PREFIX}{shard}"


def _indexes(item: Mapping[str, Any]) -> set[int]:
    return {int(n) for n in item.get("ks", {}).get("NS", [])}


def _shard_of(item: Mapping[str, Any]) -> int:
    return int(item["sk"]["S"][len(_SHARD_PREFIX) :])


def _n(item: Mapping[str, Any] | None) -> int:
    return int(item["n"]["N"]) if item and "n" in item else 0


class DynamoSinkCounts:
    def __init__(
        self, client: Any, table_name: str, query_prefix: QueryPrefix, *, shard: int = SHARD
    ) -> None:
        self._db = client
        self._table = table_name
        self._query_prefix = query_prefix  # consistent, all pages
        # Fixed for a table's life (an in-flight run must find its items where it left
        # them); only the simulation sets it, small, to reach every multi-item path.
        self._shard = shard

    def count(self, run_id: str, step: str, index: int, sinks: int) -> int:
        if sinks <= self._shard:
            return self._add(run_id, c.SINKS_SK, step, index)
        shard, offset = divmod(index, self._shard)
        n = self._add(run_id, _shard_sk(shard), None, offset, earlier=index)
        if n < min(self._shard, sinks - shard * self._shard):
            return n  # its shard's count: below the run's total, as the run is not done
        return self.counted(run_id, sinks)

    def count_many(self, run_id: str, steps: Mapping[str, int], sinks: int) -> int:
        """Count every sink in ``steps`` (name -> index) that is not counted yet, then
        return how many are counted: one read of what is counted first, so a check that
        replays a big run's sinks writes only the missing ones."""
        if sinks <= self._shard:
            item = self._get(run_id, c.SINKS_SK) or {}
            counted = _indexes(item)
            for step, index in steps.items():
                if index not in counted and c.sink_mark(step) not in item:
                    self._add(run_id, c.SINKS_SK, step, index)
        else:
            counted = {i for item in self._shards(run_id) for i in self._absolute(item)}
            for index in steps.values():
                if index not in counted:
                    shard, offset = divmod(index, self._shard)
                    self._add(run_id, _shard_sk(shard), None, offset, earlier=index)
        return self.counted(run_id, sinks)

    def counted(self, run_id: str, sinks: int) -> int:
        if sinks <= self._shard:
            return _n(self._get(run_id, c.SINKS_SK))
        return sum(_n(item) for item in self._shards(run_id))

    def uncount(self, run_id: str, step: str, index: int, sinks: int) -> None:
        names = {"#ks": "ks", "#n": "n"}
        values = {
            ":minus": {"N": "-1"},
            ":i": {"N": str(index)},
            ":marks": {"NS": [str(index)]},
        }
        if sinks <= self._shard:
            sk, update = c.SINKS_SK, "REMOVE #old DELETE #ks :marks ADD #n :minus"
            condition = "contains(#ks, :i) OR attribute_exists(#old)"
            names["#old"] = c.sink_mark(step)
        else:
            shard, offset = divmod(index, self._shard)
            sk, update = _shard_sk(shard), "DELETE #ks :marks ADD #n :minus"
            # Counted as its offset, or (by the release before) as its index.
            condition = "contains(#ks, :o) OR contains(#ks, :i)"
            values[":o"] = {"N": str(offset)}
            values[":marks"] = {"NS": sorted({str(offset), str(index)})}
        try:
            self._db.update_item(
                TableName=self._table,
                Key=c.key(c.run_pk(run_id), sk),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise  # else it was not counted: nothing to take back

    def _add(
        self, run_id: str, sk: str, step: str | None, index: int, earlier: int | None = None
    ) -> int:
        """Add one number (an index, or a shard's offset) to an item's set and counter;
        returns the item's count after (or, when it was counted before, the count the
        replay found). ``earlier``: the number the release before stored for this sink
        on a shard (its absolute index), which counts as counted too."""
        condition = "NOT contains(#ks, :i)"
        names = {"#ks": "ks", "#n": "n"}
        values = {":one": {"N": "1"}, ":i": {"N": str(index)}, ":marks": {"NS": [str(index)]}}
        if step is not None:  # the single item: the earlier layout's marker counts too
            condition += " AND attribute_not_exists(#old)"
            names["#old"] = c.sink_mark(step)
        if earlier is not None and earlier != index:
            condition += " AND NOT contains(#ks, :earlier)"
            values[":earlier"] = {"N": str(earlier)}
        try:
            resp = self._db.update_item(
                TableName=self._table,
                Key=c.key(c.run_pk(run_id), sk),
                UpdateExpression="ADD #ks :marks, #n :one",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return _n(exc.response.get("Item"))  # counted before: a replay
            raise
        return _n(resp["Attributes"])

    def _get(self, run_id: str, sk: str) -> c.Item | None:
        item: c.Item | None = self._db.get_item(
            TableName=self._table, Key=c.key(c.run_pk(run_id), sk), ConsistentRead=True
        ).get("Item")
        return item

    def _shards(self, run_id: str) -> list[c.Item]:
        return self._query_prefix(run_id, _SHARD_PREFIX)

    def _absolute(self, item: Mapping[str, Any]) -> set[int]:
        """The sink indexes a shard item counted: its offsets (below the shard size) and
        the absolute indexes the release before wrote (on shard 0, the same numbers)."""
        base = _shard_of(item) * self._shard
        return {i if i >= self._shard else base + i for i in _indexes(item)}
