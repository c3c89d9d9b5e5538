"""Triggers' state across versions (TriggerStates port): on/off, since when the trigger
exists, and its catch-up watermark. In memory, on SQLite and on the DynamoDB table
(``TRG#<workflow>`` / ``<trigger>``: ``en`` on, ``ca`` since, ``fa`` fired at)."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from podium.core.ports import TriggerState


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


_SQL = """
CREATE TABLE IF NOT EXISTS trigger_states (
    workflow TEXT NOT NULL,
    trigger TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    since INTEGER NOT NULL,
    fired_at INTEGER,
    PRIMARY KEY (workflow, trigger)
) WITHOUT ROWID
"""


class SqliteTriggerStates:
    def __init__(self, db: Any) -> None:
        self.db = db
        with db.write() as conn:
            conn.execute(_SQL)

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
                "SELECT trigger, enabled, since, fired_at FROM trigger_states WHERE workflow = ?",
                (workflow,),
            ).fetchall()
        return {
            str(r[0]): TriggerState(bool(r[1]), int(r[2]), None if r[3] is None else int(r[3]))
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


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class DynamoTriggerStates:
    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    def _key(self, workflow: str, trigger: str) -> dict[str, Any]:
        return {"pk": {"S": f"TRG#{workflow}"}, "sk": {"S": trigger}}

    @staticmethod
    def _state(item: dict[str, Any]) -> TriggerState:
        fired = item.get("fa")
        return TriggerState(
            bool(item["en"]["BOOL"]), int(item["ca"]["N"]), int(fired["N"]) if fired else None
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
            if _code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True
