"""StateStore cases the contract suite was missing,
run on every adapter (memory, DynamoDB on moto, DynamoDB with expiring run items,
SQLite), in the style of tests/contract/test_state_store.py."""

from __future__ import annotations

import base64
import random
from dataclasses import replace

from podium.core.engine.records import StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import StateStore
from tests.contract.test_state_store import a_run, store  # noqa: F401  (the fixture)


def test_a_step_created_with_empty_values_reads_them_back_empty(store: StateStore) -> None:  # noqa: F811
    """A restart takes a succeeded step over with its output and params as they were
    (service/reuse.py ``take_over``: one ``create_step`` of a SUCCEEDED record). A step
    whose function returned ``{}`` must read back ``{}`` in the restarted run, as it did
    in the run it restarts (whose ``{}`` came through ``transition_step``), not null:
    ``${steps.load.output}`` would render null, and ``steps.load.output.x`` fail
    differently. DynamoDB's codec leaves empty maps out of a created item."""
    store.create_run(a_run("r1"))
    store.create_step(
        StepRecord(
            "r1",
            "load",
            StepStatus.SUCCEEDED,
            attempt=1,
            output={},
            params={},
            signals={},
            loop={},
        )
    )
    got = store.get_step("r1", "load")
    assert got is not None
    assert (got.output, got.params, got.signals, got.loop) == ({}, {}, {}, {})
    # ... the same values the original run's step holds after its transition.
    store.create_step(StepRecord("r1", "orig", StepStatus.READY))
    store.transition_step(
        "r1",
        "orig",
        expected=frozenset({StepStatus.READY}),
        attempt=None,
        to=StepStatus.RUNNING,
        changes={"attempt": 1, "output": {}, "params": {}},
    )
    orig = store.get_step("r1", "orig")
    assert orig is not None
    assert (orig.output, orig.params) == (got.output, got.params)


def test_every_version_is_listed_however_big_the_documents(store: StateStore) -> None:  # noqa: F811
    """A version item holds a definition compressed up to 300 KB
    (service/workflows.MAX_STORED_DEFINITION_BYTES: a 10,000-step workflow). DynamoDB
    returns at most 1 MB per Query page, so a Query with ``Limit=100`` over five such
    versions stops after three, with a LastEvaluatedKey the adapter must follow (as
    list_runs does). ``podium workflows versions`` and ``GET /workflows/{name}/versions``
    then miss the older versions, the very ones a user looks for to roll back to."""
    rng = random.Random(24)
    for i in range(6):
        # ~250 KB once compressed: random bytes do not compress (base64 only by 3/4).
        blob = base64.b64encode(rng.randbytes(250_000)).decode()
        store.put_workflow_version("big", {"name": "big", "blob": blob}, f"d{i}", 1000 + i)
    listed = store.list_workflow_versions("big")
    assert [v.version for v in listed] == [6, 5, 4, 3, 2, 1]
    assert [v.version for v in store.list_workflow_versions("big", limit=5)] == [6, 5, 4, 3, 2]


def test_a_run_created_with_its_flags_reads_them_back(store: StateStore) -> None:  # noqa: F811
    """``create_run`` stores the record given. DynamoDB's ``run_to_item`` writes neither
    ``timed_out`` (``tof``) nor ``reopened`` (``rop``), which ``run_from_item`` reads:
    a run created with them reads back without (latent: today's callers create runs
    with neither set, but the fence of a retry in place and the TIMED_OUT end read them)."""
    run = replace(
        a_run("r1"),
        status=RunStatus.RUNNING,
        timed_out=True,
        failing_since=5,
        error="s: slow",
        reopened=2,
    )
    store.create_run(run)
    got = store.get_run("r1")
    assert (got.timed_out, got.failing_since, got.error, got.reopened) == (True, 5, "s: slow", 2)


def test_a_page_after_a_time_beyond_any_run_lists_every_run(store: StateStore) -> None:  # noqa: F811
    """``before`` comes from a runs list's ``next`` token (service/views.parse_runs_token),
    which takes any non-negative int as the time. Memory and DynamoDB (a string
    comparison of the index's sort key) list every run older than it; SQLite cannot bind
    an int past int64 and raises a raw OverflowError, so ``podium dev`` answers
    ``GET /workflows/wf/runs?next=...`` with a 500, not a page (or a 400)."""
    store.create_run(a_run("r1", created=1000))
    store.create_run(a_run("r2", created=2000))
    page = store.list_runs("wf", limit=5, before=(2**64, "z"))
    assert [r.run_id for r in page] == ["r2", "r1"]
