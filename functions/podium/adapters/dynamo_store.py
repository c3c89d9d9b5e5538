"""StateStore on one DynamoDB table (key schema: docs/architecture.md).

Every state change is one conditional write naming the state it expects, with
ExpressionAttributeNames throughout and ReturnValuesOnConditionCheckFailure=ALL_OLD so a
lost race is explained without a second read (the Powertools idempotency-layer style).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from podium.adapters import dynamo_codec as c
from podium.adapters.dynamo_conditions import error_code, status_in, step_transition
from podium.adapters.dynamo_expiry import ChildPartitions
from podium.adapters.dynamo_permits import DynamoPermits
from podium.adapters.dynamo_signals import DynamoSignals
from podium.adapters.dynamo_sinks import SHARD as SINK_SHARD
from podium.adapters.dynamo_sinks import DynamoSinkCounts
from podium.adapters.dynamo_slots import DynamoRunSlots
from podium.adapters.trigger_states import DynamoTriggerStates
from podium.core.engine.decide import EdgeState
from podium.core.engine.errors import (
    ActiveVersionMoved,
    RunConflict,
    RunNotFound,
    StepConflict,
    StepExists,
    StoreUnavailable,
    VersionConflict,
    VersionSuperseded,
    WorkflowNotFound,
)
from podium.core.engine.identity import child_run_id
from podium.core.engine.records import (
    RunFailure,
    RunRecord,
    StepRecord,
    TimelineEvent,
    WorkflowVersion,
)
from podium.core.engine.retention import children_kept_with
from podium.core.engine.status import RunStatus, StepStatus

_PUSH_ATTEMPTS = 5
# The statuses of a run that has not ended: the condition of a write that only a running
# (or queued, or paused) run may take (mark_run_failing).
_NOT_ENDED = frozenset(s for s in RunStatus if not s.terminal)
BREAKPOINTS_SK = "#BP"  # a workflow's breakpoints: one small item beside its head


def _is(exc: ClientError, code: str) -> bool:
    return error_code(exc) == code


_BATCH_GET = 100  # BatchGetItem's most keys per call
_BATCH_GET_TRIES = 8


# Indexes counted by one conditional update (count_children): its condition names each.
_COUNT_GROUP = 50


class DynamoStateStore:
    def __init__(self, client: Any, table_name: str, *, sink_shard: int = SINK_SHARD) -> None:
        self._db = client
        self._table = table_name
        self._sinks = DynamoSinkCounts(client, table_name, self._query_prefix, shard=sink_shard)

    # workflows ---------------------------------------------------------------
    def put_workflow_version(
        self,
        name: str,
        document: dict[str, Any],
        digest: str,
        now: int,
        *,
        activate: bool = True,
    ) -> tuple[WorkflowVersion, bool]:
        for _ in range(_PUSH_ATTEMPTS):
            head = self._db.get_item(
                TableName=self._table,
                Key=c.key(c.workflow_pk(name), c.HEAD_SK),
                ConsistentRead=True,
            ).get("Item")
            latest = int(head["latest"]["N"]) if head else 0
            if head and head["dg"]["S"] == digest:
                return self.get_workflow_version(name, latest), False
            # A first version is always active; else the active one stays unless asked.
            keep = None if activate or not head else int(head["active"]["N"])
            try:
                return self._write_version(name, document, digest, now, latest, keep), True
            except VersionConflict:
                continue
        raise VersionConflict(f"workflow '{name}' is being pushed concurrently; try again")

    def _write_version(
        self,
        name: str,
        document: dict[str, Any],
        digest: str,
        now: int,
        latest: int,
        keep_active: int | None = None,
    ) -> WorkflowVersion:
        n = latest + 1
        version_item = c.key(c.workflow_pk(name), c.version_sk(n))
        version_item.update(
            {
                "ver": {"N": str(n)},
                "doc": {"B": c.pack_document(document)},
                "dg": {"S": digest},
                "ca": {"N": str(now)},
            }
        )
        head_condition = "attribute_not_exists(#pk)" if latest == 0 else "#latest = :prev"
        head_values: dict[str, Any] = {
            ":n": {"N": str(n)},
            ":dg": {"S": digest},
            ":wl": {"S": c.WORKFLOWS_PK},
            ":name": {"S": name},
        }
        head_names = {
            "#latest": "latest",
            "#active": "active",
            "#dg": "dg",
            "#ipk": "gsi1pk",
            "#isk": "gsi1sk",
        }
        if latest:
            head_values[":prev"] = {"N": str(latest)}
        else:
            head_names["#pk"] = "pk"
        if keep_active is not None:
            del head_names["#active"]
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": version_item,
                            "ConditionExpression": "attribute_not_exists(#pk)",
                            "ExpressionAttributeNames": {"#pk": "pk"},
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": c.key(c.workflow_pk(name), c.HEAD_SK),
                            # The head is in gsi1 under WORKFLOWS: list_workflows is a Query.
                            "UpdateExpression": (
                                "SET #latest = :n, #dg = :dg, #ipk = :wl, #isk = :name"
                                + (", #active = :n" if keep_active is None else "")
                            ),
                            "ConditionExpression": head_condition,
                            "ExpressionAttributeNames": head_names,
                            "ExpressionAttributeValues": head_values,
                        }
                    },
                ]
            )
        except ClientError as exc:
            if _is(exc, "TransactionCanceledException"):
                raise VersionConflict(name) from None
            raise
        active = n if keep_active is None else keep_active
        return WorkflowVersion(name, n, document, digest, now, active)

    def active_version(self, name: str) -> int:
        head = self._db.get_item(
            TableName=self._table,
            Key=c.key(c.workflow_pk(name), c.HEAD_SK),
            ConsistentRead=True,
            ProjectionExpression="#active",
            ExpressionAttributeNames={"#active": "active"},
        ).get("Item")
        if not head:
            raise WorkflowNotFound(name)
        return int(head["active"]["N"])

    def list_workflows(self) -> list[tuple[str, int]]:
        """One Query of gsi1's WORKFLOWS partition (the heads), not a Scan. A head written
        before heads were indexed shows up after the workflow's next push."""
        found: list[tuple[str, int]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "#pk = :pk",
            "ProjectionExpression": "#sk, #active",
            "ExpressionAttributeNames": {"#pk": "gsi1pk", "#sk": "gsi1sk", "#active": "active"},
            "ExpressionAttributeValues": {":pk": {"S": c.WORKFLOWS_PK}},
        }
        while True:
            resp = self._db.query(**kwargs)
            found.extend((i["gsi1sk"]["S"], int(i["active"]["N"])) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return found
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def get_workflow_version(self, name: str, version: int | None = None) -> WorkflowVersion:
        head = self._db.get_item(
            TableName=self._table,
            Key=c.key(c.workflow_pk(name), c.HEAD_SK),
            ConsistentRead=True,
        ).get("Item")
        if not head:
            raise WorkflowNotFound(name)
        active = int(head["active"]["N"])
        wanted = active if version is None else version
        # Consistent too: the head just read may name a version put moments ago (a push
        # reading its version back, a start right after an activation), which an
        # eventually consistent read can still miss. Each version is read once per
        # process (service/context.py DefinitionCache), so the doubled cost is small.
        item = self._db.get_item(
            TableName=self._table,
            Key=c.key(c.workflow_pk(name), c.version_sk(wanted)),
            ConsistentRead=True,
        ).get("Item")
        if not item:
            raise WorkflowNotFound.no_such_version(name, wanted)
        return c.version_from_item(item, active)

    def list_workflow_versions(self, name: str, limit: int = 100) -> list[WorkflowVersion]:
        active = self.active_version(name)  # WorkflowNotFound for an unknown workflow
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while len(items) < limit:  # a page stops at 1 MB: a few big definitions fill it
            query: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :v)",
                "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk"},
                "ExpressionAttributeValues": {
                    ":pk": {"S": c.workflow_pk(name)},
                    ":v": {"S": c.version_sk(0)[:2]},
                },
                "ScanIndexForward": False,  # newest first
                "Limit": limit - len(items),
                "ConsistentRead": True,
            }
            if start is not None:
                query["ExclusiveStartKey"] = start
            resp = self._db.query(**query)
            items += resp.get("Items", [])
            start = resp.get("LastEvaluatedKey")
            if start is None:
                break
        return [c.version_from_item(item, active) for item in items]

    def activate_workflow_version(
        self,
        name: str,
        version: int,
        *,
        only_if_latest: bool = False,
        only_if_active: int | None = None,
    ) -> WorkflowVersion:
        head = c.key(c.workflow_pk(name), c.HEAD_SK)
        condition, names = "attribute_exists(#pk)", {"#pk": "pk", "#active": "active"}
        values: dict[str, Any] = {":v": {"N": str(version)}}
        if only_if_latest:
            condition += " AND #latest = :v"
            names["#latest"] = "latest"
        if only_if_active is not None:
            condition += " AND #active = :was"
            values[":was"] = {"N": str(only_if_active)}
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": c.key(c.workflow_pk(name), c.version_sk(version)),
                            "ConditionExpression": "attribute_exists(#pk)",
                            "ExpressionAttributeNames": {"#pk": "pk"},
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": head,
                            "UpdateExpression": "SET #active = :v",
                            "ConditionExpression": condition,
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                ]
            )
        except ClientError as exc:
            if not _is(exc, "TransactionCanceledException"):
                raise
            reasons = exc.response.get("CancellationReasons") or []
            head_now = reasons[1].get("Item") if len(reasons) > 1 else None
            exists = (reasons[0].get("Code") if reasons else None) in (None, "None")
            if exists and head_now and only_if_latest and int(head_now["latest"]["N"]) != version:
                latest = int(head_now["latest"]["N"])
                raise VersionSuperseded(name, version, latest) from None
            active = int(head_now["active"]["N"]) if head_now and "active" in head_now else 0
            if exists and head_now and only_if_active is not None and active != only_if_active:
                raise ActiveVersionMoved(name, only_if_active, active) from None
            if head_now:  # the workflow is there: not this version
                raise WorkflowNotFound.no_such_version(name, version) from None
            raise WorkflowNotFound(name, version) from None
        return self.get_workflow_version(name, version)

    # breakpoints -------------------------------------------------------------
    def breakpoints(self, workflow: str) -> frozenset[str]:
        item = self._db.get_item(
            TableName=self._table,
            Key=c.key(c.workflow_pk(workflow), BREAKPOINTS_SK),
            ConsistentRead=True,
        ).get("Item")
        return frozenset(item["steps"]["SS"]) if item and "steps" in item else frozenset()

    def set_breakpoint(self, workflow: str, step: str, *, on: bool) -> None:
        # A string set: ADD and DELETE are idempotent, and an emptied set disappears.
        self._db.update_item(
            TableName=self._table,
            Key=c.key(c.workflow_pk(workflow), BREAKPOINTS_SK),
            UpdateExpression=("ADD" if on else "DELETE") + " #steps :s",
            ExpressionAttributeNames={"#steps": "steps"},
            ExpressionAttributeValues={":s": {"SS": [step]}},
        )

    # runs --------------------------------------------------------------------
    def create_run(self, run: RunRecord) -> None:
        try:
            self._db.put_item(
                TableName=self._table,
                Item=c.run_to_item(run),
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": "pk"},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                old = exc.response.get("Item")
                raise RunConflict(run.run_id, c.run_from_item(old) if old else None) from None
            raise

    def get_run(self, run_id: str) -> RunRecord:
        item = self._db.get_item(
            TableName=self._table, Key=c.key(c.run_pk(run_id), c.RUN_SK), ConsistentRead=True
        ).get("Item")
        if not item:
            raise RunNotFound(run_id)
        return c.run_from_item(item)

    def get_runs(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        keys = [c.key(c.run_pk(i), c.RUN_SK) for i in dict.fromkeys(run_ids)]
        runs = (c.run_from_item(item) for item in self._batch_get(keys))
        return {run.run_id: run for run in runs}

    def list_runs(
        self, workflow: str, limit: int = 20, before: tuple[int, str] | None = None
    ) -> list[RunRecord]:
        names = {"#pk": "gsi1pk"}
        values: dict[str, Any] = {":pk": {"S": c.workflow_pk(workflow)}}
        condition = "#pk = :pk"
        if before is not None:
            names["#sk"] = "gsi1sk"
            values[":before"] = {"S": c.runs_index_sk(*before)}
            condition += " AND #sk < :before"
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "gsi1",
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        runs: list[RunRecord] = []
        while len(runs) < limit:
            # A query page stops at 1 MB: follow it until ``limit`` (big run items
            # would otherwise return fewer runs than there are).
            resp = self._db.query(**kwargs, Limit=limit - len(runs))
            runs += [c.run_from_item(i) for i in resp.get("Items", [])]
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return runs

    def list_active_run_ids(self) -> list[str]:
        ids: list[str] = []
        for pk in c.active_pks():
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": "gsi2",
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": "gsi2pk"},
                "ExpressionAttributeValues": {":pk": {"S": pk}},
            }
            while True:
                resp = self._db.query(**kwargs)
                ids.extend(c.run_id_of_active_sk(i["gsi2sk"]["S"]) for i in resp.get("Items", []))
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return sorted(ids)

    def list_due_run_ids(self, now: int, limit: int) -> list[str]:
        # One query per gsi2 partition, each in check-time order and bounded (a KEYS_ONLY
        # read of at most ``limit`` items), merged: the ``limit`` most overdue of all,
        # however many runs are active.
        due: list[str] = []
        for pk in c.active_pks():
            resp = self._db.query(
                TableName=self._table,
                IndexName="gsi2",
                KeyConditionExpression="#pk = :pk AND #sk <= :due",
                ExpressionAttributeNames={"#pk": "gsi2pk", "#sk": "gsi2sk"},
                ExpressionAttributeValues={":pk": {"S": pk}, ":due": {"S": c.due_until(now)}},
                Limit=limit,
            )
            due.extend(i["gsi2sk"]["S"] for i in resp.get("Items", []))
        return [c.run_id_of_active_sk(sk) for sk in sorted(due)[:limit]]

    def set_run_check(self, run_id: str, at: int) -> None:
        self._update_if(
            Key=c.key(c.run_pk(run_id), c.RUN_SK),
            UpdateExpression="SET #g2s = :sk",
            # Only while in the index: a settled run never comes back to it.
            ConditionExpression="attribute_exists(#g2p)",
            ExpressionAttributeNames={"#g2p": "gsi2pk", "#g2s": "gsi2sk"},
            ExpressionAttributeValues={":sk": {"S": c.active_sk(at, run_id)}},
        )

    def transition_run(
        self,
        run_id: str,
        *,
        expected: frozenset[RunStatus],
        to: RunStatus,
        changes: Mapping[str, Any],
        reopened: int | None = None,
    ) -> RunRecord:
        # A terminal run stays in the active index until settle_run: its follow-ups are
        # not done yet.
        sets, removes, names, values = c.update_parts({"status": to, **changes}, c.RUN_FIELDS, "f")
        cond = status_in("#st", expected, values, names)
        if reopened is not None:
            cond = f"({cond}) AND {_reopened_is(reopened, names, values)}"
        return self._update_run(run_id, c.expression(sets, removes), cond, names, values)

    def mark_run_reopened(self, run_id: str) -> RunRecord:
        return self._update_run(
            run_id,
            "ADD #rop :one",
            "#st = :running",
            {"#rop": "rop", "#st": "st"},
            {":one": {"N": "1"}, ":running": {"S": RunStatus.RUNNING.value}},
        )

    def _update_if(self, **request: Any) -> bool:
        """One conditional UpdateItem on this table: False when its condition failed."""
        try:
            self._db.update_item(TableName=self._table, **request)
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True

    def _update_run(
        self,
        run_id: str,
        update: str,
        condition: str,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> RunRecord:
        """One conditional update of a run item; returns it as written, or raises
        RunConflict with the item as it was when the condition failed."""
        try:
            resp = self._db.update_item(
                TableName=self._table,
                Key=c.key(c.run_pk(run_id), c.RUN_SK),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                old = exc.response.get("Item")
                raise RunConflict(run_id, c.run_from_item(old) if old else None) from None
            raise
        return c.run_from_item(resp["Attributes"])

    def settle_run(self, run_id: str) -> None:
        """The run's follow-ups are done: it leaves the active index (idempotent)."""
        names = {"#g2p": "gsi2pk", "#g2s": "gsi2sk", "#uw": c.UNWATCHED, "#st": "st"}
        values: dict[str, Any] = {}
        cond = status_in("#st", frozenset(s for s in RunStatus if s.terminal), values, names)
        self._update_run(run_id, "REMOVE #g2p, #g2s, #uw", cond, names, values)

    def keep_run_items(self, run: RunRecord) -> None:
        # Only a client that stamps run items to expire renews them (it knows how long),
        # with the partitions of the children the run still needs (retention.py).
        renew = getattr(self._db, "renew_run_partition", None)
        if renew is not None:
            children = ChildPartitions(_LAUNCH_ATTRIBUTES, partial(_kept_children, run.run_id))
            renew(self._table, c.run_pk(run.run_id), run.created_at, children)

    def watch_run(self, run_id: str, at: int) -> bool:
        # Two index writes, paid only by the iterations that outlive their first check.
        return self._update_if(
            Key=c.key(c.run_pk(run_id), c.RUN_SK),
            UpdateExpression="SET #g2p = :pk, #g2s = :sk REMOVE #uw",
            ConditionExpression="attribute_exists(#uw)",
            ExpressionAttributeNames={"#g2p": "gsi2pk", "#g2s": "gsi2sk", "#uw": c.UNWATCHED},
            ExpressionAttributeValues={
                ":pk": {"S": c.active_pk(run_id)},
                ":sk": {"S": c.active_sk(at, run_id)},
            },
        )

    def mark_run_failing(
        self, run_id: str, error: str, *, timed_out: bool = False, at: int | None = None
    ) -> bool:
        update, condition, names, values = _flag_failing(RunFailure(error, at, timed_out))
        try:
            self._update_run(run_id, update, condition, names, values)
        except RunConflict as conflict:
            if conflict.current is None:
                raise RunNotFound(run_id) from None
            return False  # the run ended: its end stands as it was made
        return True

    def end_step_failing_run(
        self,
        run_id: str,
        step: str,
        *,
        expected: frozenset[StepStatus],
        attempt: int | None,
        to: StepStatus,
        changes: Mapping[str, Any],
        unless_result: bool = False,
        failure: RunFailure,
    ) -> bool:
        update, condition, names, values = _flag_failing(failure)
        step_end = step_transition(
            self._table, run_id, step, expected, attempt, to, changes, unless_result
        )
        flag = {
            "TableName": self._table,
            "Key": c.key(c.run_pk(run_id), c.RUN_SK),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        # Two items, four write units: only a final failure that fails its run pays it.
        try:
            self._db.transact_write_items(TransactItems=[{"Update": step_end}, {"Update": flag}])
        except ClientError as exc:
            if not _is(exc, "TransactionCanceledException"):
                raise
            reasons = exc.response.get("CancellationReasons") or [{}, {}]
            if reasons[0].get("Code") == "ConditionalCheckFailed":
                old = reasons[0].get("Item")
                raise StepConflict(run_id, step, c.step_from_item(old) if old else None) from None
            # The run had ended (or is gone), or another transaction held one of the
            # items (TransactionConflict): the two writes one after the other, the run's
            # flag still only while it has not ended.
            self.transition_step(
                run_id,
                step,
                expected=expected,
                attempt=attempt,
                to=to,
                changes=changes,
                unless_result=unless_result,
            )
            if reasons[1].get("Code") == "ConditionalCheckFailed":
                return False
            try:
                return self.mark_run_failing(
                    run_id, failure.error, timed_out=failure.timed_out, at=failure.at
                )
            except RunNotFound:
                return False
        return True

    # A run's finished sinks: on their own small items (dynamo_sinks.py), not the run
    # item, which is read on every step.
    def count_sink(self, run_id: str, step: str, *, index: int, sinks: int) -> int:
        return self._sinks.count(run_id, step, index, sinks)

    def count_sinks(self, run_id: str, steps: Mapping[str, int], *, sinks: int) -> int:
        return self._sinks.count_many(run_id, steps, sinks)

    def sinks_counted(self, run_id: str, *, sinks: int) -> int:
        return self._sinks.counted(run_id, sinks)

    def uncount_sink(self, run_id: str, step: str, *, index: int, sinks: int) -> None:
        self._sinks.uncount(run_id, step, index, sinks)

    def clear_run_failing(self, run_id: str, since: int) -> bool:
        return self._update_if(
            Key=c.key(c.run_pk(run_id), c.RUN_SK),
            UpdateExpression="SET #fl = :f REMOVE #tof, #fs, #er",
            ConditionExpression="#fs = :since",
            ExpressionAttributeNames={"#fl": "fl", "#tof": "tof", "#fs": "fs", "#er": "er"},
            ExpressionAttributeValues={":f": {"BOOL": False}, ":since": {"N": str(since)}},
        )

    def reopen_step(self, run_id: str, step: str, *, expected: frozenset[StepStatus]) -> bool:
        # The join's arrivals (the "ar" set) are on its item: they go with it.
        names = {f":s{i}": {"S": status.value} for i, status in enumerate(sorted(expected))}
        try:
            self._db.delete_item(
                TableName=self._table,
                Key=c.key(c.run_pk(run_id), c.step_sk(step)),
                ConditionExpression=f"#st IN ({', '.join(names)})",
                ExpressionAttributeNames={"#st": "st"},
                ExpressionAttributeValues=names,
            )
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True

    # steps -------------------------------------------------------------------
    def create_step(self, step: StepRecord) -> None:
        put = {
            "TableName": self._table,
            "Item": c.step_to_item(step),
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": "pk"},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        try:
            self._db.put_item(**put)
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                raise StepExists(step.run_id, step.step, _old_step(exc)) from None
            raise

    def transition_step(
        self,
        run_id: str,
        step: str,
        *,
        expected: frozenset[StepStatus],
        attempt: int | None,
        to: StepStatus,
        changes: Mapping[str, Any],
        unless_result: bool = False,
    ) -> StepRecord:
        update = step_transition(
            self._table, run_id, step, expected, attempt, to, changes, unless_result
        )
        try:
            resp = self._db.update_item(**update, ReturnValues="ALL_NEW")
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                raise StepConflict(run_id, step, _old_step(exc)) from None
            raise
        return c.step_from_item(resp["Attributes"])

    def note_result(self, run_id: str, step: str, *, attempt: int) -> bool:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=c.key(c.run_pk(run_id), c.step_sk(step)),
                UpdateExpression="SET #rsf = :n",
                ConditionExpression="#st = :running AND #at = :n",
                ExpressionAttributeNames={
                    "#rsf": c.STEP_FIELDS["result_for"][0],
                    "#st": "st",
                    "#at": "at",
                },
                ExpressionAttributeValues={
                    ":n": {"N": str(attempt)},
                    ":running": {"S": StepStatus.RUNNING.value},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                return False  # no longer waiting: its end won the race
            raise
        return True

    def arrive(
        self, run_id: str, step: str, pred_index: int, edge: EdgeState, now: int
    ) -> StepRecord:
        # The predecessor's index joins a number set in the same write that counts it, so
        # the count is exactly-once; a number costs 2-3 bytes of item size, so a join of
        # 500 predecessors stays near 1 KB (one write unit per arrival).
        try:
            resp = self._db.update_item(
                TableName=self._table,
                Key=c.key(c.run_pk(run_id), c.step_sk(step)),
                UpdateExpression=(
                    "SET #st = if_not_exists(#st, :pending), #at = if_not_exists(#at, :zero)"
                    " ADD #ar :marks, #n :one, #nt :taken, #nf :failed"
                ),
                ConditionExpression="NOT contains(#ar, :mark)",
                ExpressionAttributeNames={
                    "#st": "st",
                    "#at": "at",
                    "#ar": "ar",
                    "#n": "n",
                    "#nt": "nt",
                    "#nf": "nf",
                },
                ExpressionAttributeValues={
                    ":pending": {"S": StepStatus.PENDING.value},
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":taken": {"N": "1" if edge is EdgeState.TAKEN else "0"},
                    ":failed": {"N": "1" if edge is EdgeState.FAILED else "0"},
                    ":mark": {"N": str(pred_index)},
                    ":marks": {"NS": [str(pred_index)]},
                },
                # ALL_NEW, not UPDATED_NEW: an attribute the write left unchanged (ADD 0)
                # may be missing from UPDATED_NEW, and every counter is needed.
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                old = _old_step(exc)
                if old is not None:
                    return old  # a duplicate arrival: counted once already
            raise
        return c.step_from_item(resp["Attributes"])

    # A loop's children are counted on sharded items beside its step (dynamo_codec.
    # shard_sk): an index is opened (added to its shard's running set) before the child
    # is created, and counted by one conditional update that takes it out of the set.
    # No transaction per child, and a thousand children ending at once write to sixteen
    # items, not one. The count is exactly once because an index leaves the set once
    # and is never opened twice (each shard's ``hi`` only rises).
    def open_children(self, run_id: str, step: str, first: int, last: int) -> None:
        if first == 0:
            # A loop's first launch marks its step as counted on shards, before any
            # child exists: get_step reads the shards of a marked step only.
            self._update_if(
                Key=c.key(c.run_pk(run_id), c.step_sk(step)),
                UpdateExpression="SET #ks = :t",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#ks": c.SHARDED, "#pk": "pk"},
                ExpressionAttributeValues={":t": {"BOOL": True}},
            )
        by_shard: dict[str, list[int]] = {}
        for index in range(first, last):
            by_shard.setdefault(c.shard_sk(step, index), []).append(index)
        for sk, indexes in by_shard.items():
            self._open_shard(run_id, sk, indexes, first, last)

    def _open_shard(self, run_id: str, sk: str, indexes: list[int], first: int, last: int) -> None:
        floor, cond = first, "attribute_not_exists(#hi) OR #hi <= :floor"
        while True:
            todo = [i for i in indexes if i >= floor]
            names = {"#hi": "hi"}
            values: dict[str, Any] = {":hi": {"N": str(last)}, ":floor": {"N": str(floor)}}
            update = "SET #hi = :hi"
            if todo:
                update = "ADD #rn :rn " + update
                names["#rn"] = "rn"
                values[":rn"] = {"NS": [str(i) for i in todo]}
            try:
                self._db.update_item(
                    TableName=self._table,
                    Key=c.key(c.run_pk(run_id), sk),
                    UpdateExpression=update,
                    ConditionExpression=cond,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return
            except ClientError as exc:
                if not _is(exc, "ConditionalCheckFailedException"):
                    raise
                # Another launcher opened some of them: open only those above its mark.
                old = exc.response.get("Item") or {}
                floor = int(old.get("hi", {"N": str(last)})["N"])
                if floor >= last:
                    return
                cond = "#hi = :floor"

    def _count_shard(self, run_id: str, step: str, index: int, outcome: str) -> bool:
        # False: counted before (or never opened: a launcher's bug).
        if self._count_on(run_id, c.shard_sk(step, index), index, outcome):
            return True
        return self._count_legacy(run_id, step, index, outcome)

    def _count_legacy(self, run_id: str, step: str, index: int, outcome: str) -> bool:
        # A loop launched by the build before 16-index blocks opened its indexes on shard
        # index % 16: still counted after an upgrade. (Remove once no such loop runs.)
        legacy = c.legacy_shard_sk(step, index)
        return legacy != c.shard_sk(step, index) and self._count_on(run_id, legacy, index, outcome)

    def _count_on(self, run_id: str, sk: str, index: int, outcome: str) -> bool:
        return self._update_if(
            Key=c.key(c.run_pk(run_id), sk),
            UpdateExpression="DELETE #rn :set ADD #n :one",
            ConditionExpression="contains(#rn, :index)",
            ExpressionAttributeNames={"#rn": "rn", "#n": c.SHARD_COUNTERS[outcome]},
            ExpressionAttributeValues={
                ":set": {"NS": [str(index)]},
                ":index": {"N": str(index)},
                ":one": {"N": "1"},
            },
        )

    def count_children(self, run_id: str, step: str, indexes: list[int], outcome: str) -> int:
        by_shard: dict[str, list[int]] = {}
        for index in sorted(set(indexes)):
            by_shard.setdefault(c.shard_sk(step, index), []).append(index)
        groups = [  # a condition names at most _COUNT_GROUP indexes (expression size)
            (sk, some[k : k + _COUNT_GROUP])
            for sk, some in by_shard.items()
            for k in range(0, len(some), _COUNT_GROUP)
        ]
        counted = 0
        for sk, some in groups:
            values: dict[str, Any] = {
                ":set": {"NS": [str(i) for i in some]},
                ":n": {"N": str(len(some))},
            }
            values.update({f":i{k}": {"N": str(i)} for k, i in enumerate(some)})
            # All of them still running there, or none counted by this write: exactly
            # once each, whoever else (a replay, the poll) counts them.
            if self._update_if(
                Key=c.key(c.run_pk(run_id), sk),
                UpdateExpression="DELETE #rn :set ADD #n :n",
                ConditionExpression=" AND ".join(f"contains(#rn, :i{k})" for k in range(len(some))),
                ExpressionAttributeNames={"#rn": "rn", "#n": c.SHARD_COUNTERS[outcome]},
                ExpressionAttributeValues=values,
            ):
                counted += len(some)
            elif len(some) > 1:  # some were counted meanwhile: the others one by one
                counted += sum(self._count_shard(run_id, step, i, outcome) for i in some)
            else:
                counted += self._count_legacy(run_id, step, some[0], outcome)
        return counted

    def count_child(self, run_id: str, step: str, index: int, outcome: str) -> bool:
        # Settling again is harmless (it raises RunConflict unless the child ended).
        self.settle_run(child_run_id(run_id, step, index))
        return self._count_shard(run_id, step, index, outcome)

    def end_counted_child(
        self,
        child: RunRecord,
        *,
        expected: frozenset[RunStatus],
        to: RunStatus,
        changes: Mapping[str, Any],
        outcome: str,
        defer_count: bool = False,
    ) -> RunRecord:
        assert child.parent_run is not None and child.parent_step is not None
        assert child.parent_index is not None
        # The end and the settle in one write, whose status condition makes it once;
        # then the count, unless the caller counts it with others (count_children); a
        # crash between: the loop's poll (service/loops.poll_children).
        sets, removes, names, values = c.update_parts({"status": to, **changes}, c.RUN_FIELDS, "f")
        names.update({"#g2p": "gsi2pk", "#g2s": "gsi2sk", "#uw": c.UNWATCHED})
        cond = status_in("#st", expected, values, names)
        cond = f"({cond}) AND {_reopened_is(child.reopened, names, values)}"
        update = c.expression(sets, [*removes, "#g2p", "#g2s", "#uw"])
        self._update_run(child.run_id, update, cond, names, values)
        if not defer_count:
            self._count_shard(child.parent_run, child.parent_step, child.parent_index, outcome)
        return replace(child, status=to, settled=True, watched=True, **changes)

    def running_children(self, run_id: str, step: str) -> list[int]:
        items = self._shard_items(run_id, step)
        return sorted(i for item in items for i in c.running_of_shard(item))

    def close_children(self, run_id: str, step: str) -> None:
        self._update_if(  # on the step item: it goes with the step (a reopen deletes it)
            Key=c.key(c.run_pk(run_id), c.step_sk(step)),
            UpdateExpression="SET #cl = :t",
            ConditionExpression="attribute_exists(#pk)",
            ExpressionAttributeNames={"#cl": c.CLOSED, "#pk": "pk"},
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )

    def children_closed(self, run_id: str, step: str) -> bool:
        item = self._db.get_item(
            TableName=self._table,
            Key=c.key(c.run_pk(run_id), c.step_sk(step)),
            ConsistentRead=True,
            ProjectionExpression="#cl",
            ExpressionAttributeNames={"#cl": c.CLOSED},
        ).get("Item")
        return bool(item and item.get(c.CLOSED, {}).get("BOOL"))

    def hold_children(self, run_id: str, step: str, reason: str | None) -> None:
        names = {"#kh": c.HELD, "#pk": "pk"}
        if reason is None:
            self._update_if(
                Key=c.key(c.run_pk(run_id), c.step_sk(step)),
                UpdateExpression="REMOVE #kh",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames=names,
            )
            return
        self._update_if(
            Key=c.key(c.run_pk(run_id), c.step_sk(step)),
            UpdateExpression="SET #kh = :r",
            ConditionExpression="attribute_exists(#pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":r": {"S": reason}},
        )

    def mark_launched(
        self, run_id: str, step: str, launched: int, loop: dict[str, Any] | None = None
    ) -> str | None:
        names = {"#cl": c.LOOP_COUNTERS["children_launched"], "#pk": "pk"}
        values: dict[str, Any] = {":n": {"N": str(launched)}}
        update = "SET #cl = :n"
        if loop is not None:
            names["#lp"] = c.STEP_FIELDS["loop"][0]
            values[":lp"] = c.encode(loop, "J")
            update += ", #lp = if_not_exists(#lp, :lp)"
        try:
            item = self._db.update_item(
                TableName=self._table,
                Key=c.key(c.run_pk(run_id), c.step_sk(step)),
                UpdateExpression=update,
                ConditionExpression="attribute_exists(#pk) AND"
                " (attribute_not_exists(#cl) OR #cl < :n)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                # The pause mark comes back with the write (billed by the item's size,
                # not by what it returns): a launch pays no read to learn of a pause.
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ).get("Attributes", {})
        except ClientError as exc:
            if not _is(exc, "ConditionalCheckFailedException"):
                raise
            # A newer mark is there already: it never goes down.
            item = exc.response.get("Item", {})
        held = item.get(c.HELD, {}).get("S")
        return held if isinstance(held, str) else None

    def run_slots(self) -> DynamoRunSlots:
        return DynamoRunSlots(self._db, self._table)

    def trigger_states(self) -> DynamoTriggerStates:
        return DynamoTriggerStates(self._db, self._table)

    def signals(self) -> DynamoSignals:
        return DynamoSignals(self._db, self._table)

    def permits(self) -> DynamoPermits:
        return DynamoPermits(self._db, self._table)

    def get_step(self, run_id: str, step: str) -> StepRecord | None:
        item = self._db.get_item(
            TableName=self._table,
            Key=c.key(c.run_pk(run_id), c.step_sk(step)),
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return None
        if c.SHARDED not in item:
            return c.step_from_item(item)
        # A loop step that launched children: its counts are on its shards.
        (record,) = c.steps_from_items([item, *self._shard_items(run_id, step)])
        return record

    def _shard_items(self, run_id: str, step: str) -> list[c.Item]:
        return self._query_prefix(run_id, c.shard_prefix(step))

    def get_steps(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], StepRecord]:
        # Step items alone: a loop step's counts (on its shards) are not added here.
        unique = list(dict.fromkeys(keys))
        items = self._batch_get([c.key(c.run_pk(run), c.step_sk(step)) for run, step in unique])
        records = (c.step_from_item(item) for item in items)
        return {(record.run_id, record.step): record for record in records}

    def _batch_get(self, keys: list[c.Item]) -> list[c.Item]:
        """Consistent reads of many items, 100 keys a call, unprocessed keys retried."""
        out: list[c.Item] = []
        for start in range(0, len(keys), _BATCH_GET):
            pending = keys[start : start + _BATCH_GET]
            for attempt in range(_BATCH_GET_TRIES):
                resp = self._db.batch_get_item(
                    RequestItems={self._table: {"Keys": pending, "ConsistentRead": True}}
                )
                out.extend(resp.get("Responses", {}).get(self._table, []))
                pending = resp.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
                if not pending:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt))  # throttled: back off, then retry
            else:
                raise StoreUnavailable(f"BatchGetItem left {len(pending)} keys unread")
        return out

    def list_steps(self, run_id: str) -> list[StepRecord]:
        return c.steps_from_items(self._query_prefix(run_id, "S#"))

    # timeline ----------------------------------------------------------------
    def put_event(self, event: TimelineEvent) -> None:
        self._db.put_item(TableName=self._table, Item=c.event_to_item(event))

    def put_event_once(self, event: TimelineEvent) -> tuple[TimelineEvent, bool]:
        item = c.event_to_item(event)
        try:
            self._db.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": "pk"},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _is(exc, "ConditionalCheckFailedException"):
                raise
            old = exc.response.get("Item") or self._db.get_item(
                TableName=self._table, Key={"pk": item["pk"], "sk": item["sk"]}, ConsistentRead=True
            ).get("Item")
            if old is None:  # deleted (expired) since: the condition would hold now
                return self.put_event_once(event)
            return c.event_from_item(old), False
        return event, True

    def list_events(self, run_id: str) -> list[TimelineEvent]:
        return [c.event_from_item(i) for i in self._query_prefix(run_id, "E#")]

    # helpers -----------------------------------------------------------------
    def _query_prefix(self, run_id: str, prefix: str) -> list[c.Item]:
        items: list[c.Item] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk"},
            "ExpressionAttributeValues": {
                ":pk": {"S": c.run_pk(run_id)},
                ":prefix": {"S": prefix},
            },
            "ConsistentRead": True,
        }
        while True:
            resp = self._db.query(**kwargs)
            items.extend(resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return items
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def _old_step(exc: ClientError) -> StepRecord | None:
    item = exc.response.get("Item")
    return c.step_from_item(item) if item else None


def _reopened_is(count: int, names: dict[str, str], values: dict[str, Any]) -> str:
    """The condition that a run's ``reopened`` count (``rop``, absent until the first
    retry in place) is ``count``."""
    names["#rop"] = "rop"
    values[":rop"] = {"N": str(count)}
    if count == 0:
        return "(attribute_not_exists(#rop) OR #rop = :rop)"
    return "#rop = :rop"


# What a run's renewal lists of its step items besides key and stamp (keep_run_items):
# a step's status, the launched mark of a step that launched children, and a loop
# shard's highest index opened (``hi``: a launch that died before raising the mark).
_LAUNCH_ATTRIBUTES = (c.STEP_FIELDS["status"][0], c.LOOP_COUNTERS["children_launched"], "hi")


def _kept_children(run_id: str, items: list[c.Item]) -> Iterator[tuple[tuple[str, int], str]]:
    """The partitions of the children the run ``run_id`` still needs, from its items as
    a renewal lists them: those of its steps that have not ended (retention.py)."""
    status: dict[str, StepStatus | None] = {}
    launched: dict[str, int] = {}
    prefix = c.step_sk("")
    for item in items:
        if not item["sk"]["S"].startswith(prefix):
            continue
        if c.is_shard(item):
            step, mark = c.step_of_shard(item), item.get("hi")
        else:
            step, mark = item["sk"]["S"][len(prefix) :], item.get(_LAUNCH_ATTRIBUTES[1])
            status[step] = _status_of(item.get(_LAUNCH_ATTRIBUTES[0], {}).get("S"))
        if mark is not None:
            launched[step] = max(launched.get(step, 0), int(mark["N"]))
    steps = [(step, status.get(step), count) for step, count in launched.items()]
    for place, child in children_kept_with(run_id, steps):
        yield place, c.run_pk(child)


def _status_of(value: str | None) -> StepStatus | None:
    try:
        return StepStatus(value) if value is not None else None
    except ValueError:  # written by a newer build: not a step this one knows as ended
        return None


def _flag_failing(failure: RunFailure) -> tuple[str, str, dict[str, str], dict[str, Any]]:
    """The update that flags a run failing (or timed out), keeping its first error and
    its first ``failing_since``, on condition it has not ended: expression, condition,
    names, values."""
    values: dict[str, Any] = {":t": {"BOOL": True}, ":er": {"S": failure.error}}
    update = "SET #fl = :t, #er = if_not_exists(#er, :er)"
    names = {"#fl": "tof" if failure.timed_out else "fl", "#er": "er"}
    if failure.at is not None:
        update += ", #fs = if_not_exists(#fs, :fs)"
        names["#fs"] = "fs"
        values[":fs"] = {"N": str(failure.at)}
    # Only while the run has not ended (every run item has a status: a missing item
    # fails the condition too, and comes back without an old item).
    condition = status_in("#st", _NOT_ENDED, values, names)
    return update, condition, names, values
