"""A version stored by an earlier release keeps loading after an upgrade.

Each rule below was added after versions could hold what it refuses. A push is refused
(the rule still holds for new versions), but a stored version is read, not judged again
(core.dsl.stored): its runs in flight go on, a new run of it starts, a trigger routes to
it. Before, the engine raised DefinitionError on every message of such a run: retried,
then dead-lettered, the run RUNNING for good.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition
from podium.core.engine.compiled import CompiledWorkflow
from podium.local.runtime import LocalRuntime

BASE: dict[str, Any] = {
    "name": "nightly",
    "params": {"day": {"type": "string", "default": "2026-01-15"}},
    "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
    "steps": [
        {"id": "wait_a_bit", "type": "sleep", "seconds": 60},
        {
            "id": "per_region",
            "type": "foreach",
            "over": {"region": ["emea", "amer"]},
            "steps": [{"id": "load", "type": "noop", "params": {"region": "${iteration.region}"}}],
            "depends_on": ["wait_a_bit"],
        },
        {"id": "report", "type": "noop", "depends_on": ["per_region"]},
    ],
}


def _never_firing_cron(doc: dict[str, Any]) -> None:
    doc["triggers"][0]["cron"] = "0 0 31 2 *"


def _match_template(doc: dict[str, Any]) -> None:
    doc["triggers"].append(
        {"id": "on_ready", "signal": {"names": ["ready"], "match": {"ready": {"d": "${1}"}}}}
    )


def _reserved_loop_param(doc: dict[str, Any]) -> None:
    doc["steps"][1]["over"] = {"region": ["emea", "amer"], "index": [7]}


def _unknown_iteration_field(doc: dict[str, Any]) -> None:
    doc["steps"][2]["params"] = {"n": "${steps.per_region.output.count}"}
    doc["steps"][1]["steps"][0]["params"]["typo"] = "${has(iteration.regoin)}"


def _plain_text_over(doc: dict[str, Any]) -> None:
    doc["steps"][1]["over"]["kind"] = "full"  # failed when the loop started: still does


def _boolean_number(doc: dict[str, Any]) -> None:
    doc["steps"][1]["concurrency"] = True


RULES = {
    "never-firing cron": _never_firing_cron,
    "template in a match": _match_template,
    "reserved loop param": _reserved_loop_param,
    "unknown iteration field": _unknown_iteration_field,
    "plain text over": _plain_text_over,
    "boolean as a number": _boolean_number,
}


def _stored(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    change(doc)
    return doc


@pytest.mark.parametrize("rule", list(RULES))
def test_a_push_is_refused_but_a_stored_version_loads(rule: str) -> None:
    doc = _stored(RULES[rule])
    with pytest.raises(DefinitionError):
        validate_definition(doc)  # a push: the rule holds
    compiled = CompiledWorkflow.of(doc)  # read back by the engine: loads
    assert compiled.body("per_region").definition.steps[0].id == "load"


def test_a_stored_version_still_needs_what_running_it_needs() -> None:
    broken = copy.deepcopy(BASE)
    broken["steps"][2]["depends_on"] = ["nowhere"]  # no graph to run
    with pytest.raises(DefinitionError, match="nowhere"):
        CompiledWorkflow.of(broken)
    syntax = copy.deepcopy(BASE)
    syntax["steps"][2]["params"] = {"n": "${1 +}"}  # an expression that does not compile
    with pytest.raises(DefinitionError, match=r"steps\[2\]\.params"):
        CompiledWorkflow.of(syntax)


def _tamper(runtime: LocalRuntime, change: Any) -> None:
    """What an earlier release stored (the store keeps the document as pushed)."""
    stored = runtime.services.store.get_workflow_version("nightly", 1)
    change(stored.document)
    runtime.services.definitions._cache.clear()  # a new process: the new release


@pytest.mark.parametrize("store", ["sqlite", "moto"])
def test_a_run_in_flight_goes_on_after_an_upgrade(store: str, tmp_path: Any) -> None:
    home = tmp_path / "home" if store == "sqlite" else None
    with LocalRuntime(store=store, virtual_time=True, home=home) as runtime:
        runtime.push(copy.deepcopy(BASE))
        run = runtime.start_run("nightly")
        runtime.pump(advance_time=False)  # waiting in its sleep
        assert runtime.describe(run.run_id).run.status.value == "RUNNING"
        if store == "sqlite":
            _rewrite_sqlite_document(runtime, _unknown_iteration_field, _never_firing_cron)
        else:
            _rewrite_dynamo_document(runtime, _unknown_iteration_field, _never_firing_cron)
        runtime.services.definitions._cache.clear()  # the new release's process
        runtime.pump()
        view = runtime.describe(run.run_id)
        assert view.run.status.value == "SUCCEEDED", view.run
        again = runtime.start_run("nightly")  # a new run of the stored version
        runtime.pump()
        assert runtime.describe(again.run_id).run.status.value == "SUCCEEDED"


def _rewrite_sqlite_document(runtime: LocalRuntime, *changes: Any) -> None:
    import json
    import sqlite3
    import zlib

    assert runtime.database is not None
    db = sqlite3.connect(runtime.database)
    try:
        table, column = _sqlite_versions(db)
        (blob,) = db.execute(f"SELECT {column} FROM {table}").fetchone()
        raw = zlib.decompress(blob) if isinstance(blob, bytes) else blob.encode()
        doc = json.loads(raw)
        for change in changes:
            change(doc)
        text = json.dumps(doc)
        value: Any = zlib.compress(text.encode()) if isinstance(blob, bytes) else text
        db.execute(f"UPDATE {table} SET {column} = ?", (value,))
        db.commit()
    finally:
        db.close()


def _sqlite_versions(db: Any) -> tuple[str, str]:
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
        if "document" in columns and "version" in columns:
            return table, "document"
    raise AssertionError("no workflow versions table in the home")


def _rewrite_dynamo_document(runtime: LocalRuntime, *changes: Any) -> None:
    import json
    import zlib

    store: Any = runtime.services.store
    while not hasattr(store, "_table"):  # through the wrappers (expiry, metrics)
        store = store._inner
    client, table = store._db, store._table
    for item in client.scan(TableName=table)["Items"]:
        if item["pk"]["S"] == "W#nightly" and "doc" in item:
            doc = json.loads(zlib.decompress(item["doc"]["B"]))
            for change in changes:
                change(doc)
            item["doc"] = {"B": zlib.compress(json.dumps(doc).encode())}
            client.put_item(TableName=table, Item=item)
            return
    raise AssertionError("no workflow version item in the table")
