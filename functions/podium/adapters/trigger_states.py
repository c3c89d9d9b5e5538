"""Triggers' state across versions (TriggerStates port): on/off, since when the trigger
exists, its catch-up watermark and its latest failure to start a run. In memory, on
SQLite and on the DynamoDB table (``TRG#<workflow>`` / ``<trigger>``: ``en`` on, ``ca``
since, ``fa`` fired at, ``ft`` failed at, ``fe`` the failure)."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from podium.adapters.dynamo_conditions import error_code
from podium.core.ports import TriggerState

MAX_ERROR = 2_000  # characters of a failure kept


class MemoryTriggerStates:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str], TriggerState] = {}

    def ensure(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        with self._lock:
            return self._states.setdefault((workflow, trigger), TriggerState(enabled, now))

    def set_enabled(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        with self._lock:
            old = self._states.get((workflow, trigger), TriggerState(enabled, now))
            new = replace(old, enabled=enabled)
            self._states[(workflow, trigger)] = new
            return new

    def states(self, workflow: str) -> dict[str, TriggerState]:
        with self._lock:
            return {t: s for (w, t), s in self._states.items() if w == workflow}

    def mark_fired(self, workflow: str, trigger: str, at: int) -> bool:
        with self._lock:
            old = self._states.get((workflow, trigger))
            if old is None or (old.fired_at is not None and old.fired_at >= at):
                return False
            self._states[(workflow, trigger)] = replace(old, fired_at=at)
            return True

    def record_failure(self, workflow: str, trigger: str, error: str, at: int) -> None:
        with self._lock:
            old = self._states.get((workflow, trigger))
            if old is None or (old.failed_at is not None and old.failed_at > at):
                return
            self._states[(workflow, trigger)] = replace(old, failed_at=at, error=error[:MAX_ERROR])


_SQL = """
CREATE TABLE IF NOT EXISTS trigger_states (
    workflow TEXT NOT NULL,
    trigger TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    since INTEGER NOT NULL,
    fired_at INTEGER,
    failed_at INTEGER,
    error TEXT,
    PRIMARY KEY (workflow, trigger)
) WITHOUT ROWID
"""


# The table's columns as its newest version makes them.
SQLITE_COLUMNS = ("enabled", "since", "fired_at", "failed_at", "error")


class SqliteTriggerStates:
    def __init__(self, db: Any) -> None:
        self.db = db
        if db.has_table("trigger_states", SQLITE_COLUMNS):
            return  # no write lock: a command that only reads must not wait for a writer
        with db.write() as conn:
            conn.execute(_SQL)
            columns = {r[1] for r in conn.execute("PRAGMA table_info(trigger_states)")}
            for column, kind in (("failed_at", "INTEGER"), ("error", "TEXT")):
                if column not in columns:  # a home made before failures were kept
                    conn.execute(f"ALTER TABLE trigger_states ADD COLUMN {column} {kind}")

    def ensure(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO trigger_states (workflow, trigger, enabled, since)"
                " VALUES (?, ?, ?, ?)",
                (workflow, trigger, int(enabled), now),
            )
        return self.states(workflow)[trigger]

    def set_enabled(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO trigger_states (workflow, trigger, enabled, since) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (workflow, trigger) DO UPDATE SET enabled = excluded.enabled",
                (workflow, trigger, int(enabled), now),
            )
        return self.states(workflow)[trigger]

    def states(self, workflow: str) -> dict[str, TriggerState]:
        with self.db.query() as conn:
            rows = conn.execute(
                "SELECT trigger, enabled, since, fired_at, failed_at, error FROM trigger_states"
                " WHERE workflow = ?",
                (workflow,),
            ).fetchall()
        return {
            str(r[0]): TriggerState(
                bool(r[1]),
                int(r[2]),
                None if r[3] is None else int(r[3]),
                None if r[4] is None else int(r[4]),
                None if r[5] is None else str(r[5]),
            )
            for r in rows
        }

    def mark_fired(self, workflow: str, trigger: str, at: int) -> bool:
        with self.db.write() as conn:
            changed = conn.execute(
                "UPDATE trigger_states SET fired_at = ? WHERE workflow = ? AND trigger = ?"
                " AND (fired_at IS NULL OR fired_at < ?)",
                (at, workflow, trigger, at),
            ).rowcount
        return bool(changed)

    def record_failure(self, workflow: str, trigger: str, error: str, at: int) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE trigger_states SET failed_at = ?, error = ? WHERE workflow = ?"
                " AND trigger = ? AND (failed_at IS NULL OR failed_at <= ?)",
                (at, error[:MAX_ERROR], workflow, trigger, at),
            )


class DynamoTriggerStates:
    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    def _key(self, workflow: str, trigger: str) -> dict[str, Any]:
        return {"pk": {"S": f"TRG#{workflow}"}, "sk": {"S": trigger}}

    @staticmethod
    def _state(item: dict[str, Any]) -> TriggerState:
        fired, failed, error = item.get("fa"), item.get("ft"), item.get("fe")
        return TriggerState(
            bool(item["en"]["BOOL"]),
            int(item["ca"]["N"]),
            int(fired["N"]) if fired else None,
            int(failed["N"]) if failed else None,
            str(error["S"]) if error else None,
        )

    def ensure(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        resp = self._db.update_item(
            TableName=self._table,
            Key=self._key(workflow, trigger),
            UpdateExpression="SET #en = if_not_exists(#en, :en), #ca = if_not_exists(#ca, :ca)",
            ExpressionAttributeNames={"#en": "en", "#ca": "ca"},
            ExpressionAttributeValues={":en": {"BOOL": enabled}, ":ca": {"N": str(now)}},
            ReturnValues="ALL_NEW",
        )
        return self._state(resp["Attributes"])

    def set_enabled(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        resp = self._db.update_item(
            TableName=self._table,
            Key=self._key(workflow, trigger),
            UpdateExpression="SET #en = :en, #ca = if_not_exists(#ca, :ca)",
            ExpressionAttributeNames={"#en": "en", "#ca": "ca"},
            ExpressionAttributeValues={":en": {"BOOL": enabled}, ":ca": {"N": str(now)}},
            ReturnValues="ALL_NEW",
        )
        return self._state(resp["Attributes"])

    def states(self, workflow: str) -> dict[str, TriggerState]:
        resp = self._db.query(
            TableName=self._table,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": "pk"},
            ExpressionAttributeValues={":pk": {"S": f"TRG#{workflow}"}},
            ConsistentRead=True,
        )
        return {item["sk"]["S"]: self._state(item) for item in resp.get("Items", [])}

    def mark_fired(self, workflow: str, trigger: str, at: int) -> bool:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(workflow, trigger),
                UpdateExpression="SET #fa = :at",
                ConditionExpression=(
                    "attribute_exists(#pk) AND (attribute_not_exists(#fa) OR #fa < :at)"
                ),
                ExpressionAttributeNames={"#fa": "fa", "#pk": "pk"},
                ExpressionAttributeValues={":at": {"N": str(at)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def record_failure(self, workflow: str, trigger: str, error: str, at: int) -> None:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(workflow, trigger),
                UpdateExpression="SET #ft = :at, #fe = :error",
                ConditionExpression=(
                    "attribute_exists(#pk) AND (attribute_not_exists(#ft) OR #ft <= :at)"
                ),
                ExpressionAttributeNames={"#ft": "ft", "#fe": "fe", "#pk": "pk"},
                ExpressionAttributeValues={
                    ":at": {"N": str(at)},
                    ":error": {"S": error[:MAX_ERROR]},
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise  # else: no state yet, or a newer failure is kept
