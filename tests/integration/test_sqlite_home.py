"""The SQLite home: durable across processes, safe with threads and processes on one file,
and the embedded runtime on it gives the same results as on moto."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite import Database, SqliteQueue, SqliteStateStore
from podium.core.engine.errors import RunConflict, RunNotFound, StepConflict
from podium.core.engine.permits import PermitNeed
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import Claim
from podium.local.runtime import LocalRuntime
from tests.conftest import chain, fan

READY = frozenset({StepStatus.READY})


def a_run(
    run_id: str, workflow: str = "wf", created: int = 1000, status: RunStatus = RunStatus.RUNNING
) -> RunRecord:
    return RunRecord(run_id, workflow, 1, status, {}, created, sinks_total=1)


def test_the_database_is_wal_and_keeps_state_across_opens(tmp_path: Path) -> None:
    path = tmp_path / "home" / "podium.db"
    store = SqliteStateStore(path)
    store.create_run(a_run("r1"))
    store.create_step(StepRecord("r1", "a", StepStatus.READY, output={"x": [1]}))
    store.close()
    again = SqliteStateStore(path)
    with again.db.query() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert again.get_run("r1").status is RunStatus.RUNNING
    assert again.get_step("r1", "a") == StepRecord("r1", "a", StepStatus.READY, output={"x": [1]})
    again.close()


def test_the_active_index_follows_dynamodb(tmp_path: Path) -> None:
    """Runs stay listed until settled (or dropped from their queue), like the gsi2 index."""
    store = SqliteStateStore(tmp_path / "podium.db")
    store.create_run(a_run("r1"))
    store.create_run(a_run("r0", status=RunStatus.SUCCEEDED))
    assert store.list_active_run_ids() == ["r1"]
    store.transition_run(
        "r1", expected=frozenset({RunStatus.RUNNING}), to=RunStatus.FAILED, changes={}
    )
    assert store.list_active_run_ids() == ["r1"]  # ended, follow-ups not done yet
    assert not store.get_run("r1").settled
    store.settle_run("r1")
    store.settle_run("r1")  # idempotent
    assert store.list_active_run_ids() == []
    assert store.get_run("r1").settled
    store.create_run(a_run("r2"))
    with pytest.raises(RunConflict):
        store.settle_run("r2")  # not terminal
    slots = store.run_slots()
    slots.enqueue(a_run("q1", status=RunStatus.QUEUED))
    assert store.list_active_run_ids() == ["q1", "r2"]
    (entry,) = slots.queued("wf", 10)
    assert slots.drop_queued(entry, RunStatus.DISCARDED, "replaced", 5)
    assert store.list_active_run_ids() == ["r2"]
    with pytest.raises(RunNotFound):
        store.mark_run_failing("nope", "x")
    store.close()


def test_search_runs_filters_by_workflow_status_and_time(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "podium.db")
    store.create_run(a_run("a1", "a", created=100))
    store.create_run(a_run("b1", "b", created=200))
    store.create_run(a_run("a2", "a", created=300, status=RunStatus.FAILED))
    assert [r.run_id for r in store.search_runs()] == ["a2", "b1", "a1"]
    assert [r.run_id for r in store.search_runs("a")] == ["a2", "a1"]
    failed = store.search_runs(statuses=frozenset({RunStatus.FAILED}))
    assert [r.run_id for r in failed] == ["a2"]
    assert [r.run_id for r in store.search_runs(since=200, limit=1)] == ["a2"]
    assert store.list_workflows() == []  # runs only: nothing pushed
    store.close()


def test_threads_racing_for_one_claim_make_one_winner(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "podium.db")
    store.create_run(a_run("r1"))
    store.create_step(StepRecord("r1", "s", StepStatus.READY))
    wins: list[int] = []
    barrier = threading.Barrier(8)

    def claim(i: int) -> None:
        barrier.wait()
        try:
            store.transition_step(
                "r1", "s", expected=READY, attempt=0, to=StepStatus.RUNNING, changes={"attempt": 1}
            )
            wins.append(i)
        except StepConflict as lost:
            assert lost.current is not None and lost.current.status is StepStatus.RUNNING

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    store.close()


def _claim_permits(path: str, worker: int) -> list[str]:
    """In another process: claim a limit-2 permit for each of 10 steps, then release it."""
    store = SqliteStateStore(path)
    permits = store.permits()
    claimed = []
    for i in range(10):
        run = f"p{worker}-{i}"
        store.create_step(StepRecord(run, "s", StepStatus.READY))
        record = store.get_step(run, "s")
        assert record is not None
        result = permits.claim(
            record, [PermitNeed("shared", 2)], attempt=1, changes={"attempt": 1, "lease_until": 9}
        )
        if result.outcome is Claim.CLAIMED:
            held = permits.state("shared").active
            assert held <= 2, held
            claimed.append(run)
            assert permits.release("shared", f"{run}/s")
    store.close()
    return claimed


def test_processes_share_one_file_and_never_exceed_a_limit(tmp_path: Path) -> None:
    path = str(tmp_path / "podium.db")
    SqliteStateStore(path).close()  # the schema, before the processes race
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        results = pool.starmap(_claim_permits, [(path, w) for w in range(3)])
    store = SqliteStateStore(path)
    assert sum(len(r) for r in results) >= 10  # most claims win; none exceeds the limit
    state = store.permits().state("shared")
    assert (state.active, state.holders) == (0, {})
    store.close()


def test_queued_messages_survive_the_runtime(tmp_path: Path) -> None:
    home = tmp_path / ".podium"
    with LocalRuntime(clock=ManualClock(), store="sqlite", home=home) as rt:
        rt.push(chain("kept", 5))
        run = rt.start_run("kept")
        # The process ends before delivering anything: the start message stays in the file.
        assert rt.describe(run.run_id).run.status is RunStatus.RUNNING
        assert len(rt.event_queue) == 1
    assert (home / "podium.db").exists()
    with LocalRuntime(clock=ManualClock(), store="sqlite", home=home) as rt:
        rt.pump()
        view = rt.describe(run.run_id)
        assert view.run.status is RunStatus.SUCCEEDED
        assert [s.status for s in view.steps] == [StepStatus.SUCCEEDED] * 5


@pytest.mark.parametrize("workflow", [chain("c", 30), fan("f", 40)], ids=["chain", "fan"])
def test_the_home_gives_the_same_result_as_moto(tmp_path: Path, workflow: dict[str, Any]) -> None:
    def outcome(store: str) -> list[tuple[str, StepStatus, int]]:
        with LocalRuntime(clock=ManualClock(), store=store, home=tmp_path / store) as rt:
            view = rt.run(workflow)
            assert view.run.status is RunStatus.SUCCEEDED
            return [(s.step, s.status, s.attempt) for s in view.steps]

    assert outcome("sqlite") == outcome("moto")


def test_an_in_memory_home_keeps_nothing(tmp_path: Path) -> None:
    with LocalRuntime(clock=ManualClock(), store="sqlite", home=":memory:") as rt:
        assert rt.home is None and rt.database is None
        assert rt.run(chain("m", 3)).run.status is RunStatus.SUCCEEDED


def test_a_dead_letter_queue_must_share_the_database(tmp_path: Path) -> None:
    clock = ManualClock()
    one, two = Database(tmp_path / "one.db"), Database(tmp_path / "two.db")
    with pytest.raises(ValueError):
        SqliteQueue(one, "work", clock, dead_letters=SqliteQueue(two, "dlq", clock))
    one.close()
    two.close()


def napping(event: dict[str, Any]) -> dict[str, Any]:
    import time

    time.sleep(0.1)
    return {"step": event["step"]}


def test_workers_run_ready_steps_at_once_with_the_same_result(tmp_path: Path) -> None:
    import time

    wf = {
        "name": "parallel",
        "steps": [
            {"id": "root", "type": "noop"},
            *(
                {
                    "id": f"p{i}",
                    "type": "lambda",
                    "function": "tests.integration.test_sqlite_home:napping",
                    "depends_on": ["root"],
                }
                for i in range(8)
            ),
            {"id": "join", "type": "noop", "depends_on": [f"p{i}" for i in range(8)]},
        ],
    }

    def run(workers: int) -> tuple[float, list[tuple[str, StepStatus, Any]]]:
        home = tmp_path / f"w{workers}"
        with LocalRuntime(store="sqlite", home=home, workers=workers) as rt:
            started = time.perf_counter()
            view = rt.run(wf)
            took = time.perf_counter() - started
        assert view.run.status is RunStatus.SUCCEEDED
        return took, [(s.step, s.status, s.output) for s in view.steps]

    one, serial = run(1)
    four, parallel = run(4)
    assert parallel == serial
    assert four < one * 0.75  # 8 naps of 0.1 s: 2 rounds of 4 instead of 8 in a row


def test_a_long_wait_is_one_timer_message_in_the_home(tmp_path: Path) -> None:
    wf = {"name": "long_wait", "steps": [{"id": "nap", "type": "sleep", "seconds": 7200}]}

    def run(store: str) -> tuple[int, int]:
        with LocalRuntime(clock=ManualClock(), store=store, home=tmp_path / store) as rt:
            view = rt.run(wf)
            assert view.run.status is RunStatus.SUCCEEDED
            (nap,) = view.steps
            assert nap.ended_at is not None and nap.started_at is not None
            assert nap.ended_at - nap.started_at >= 7_200_000
            return rt.event_queue.sent + rt.work_queue.sent, nap.ended_at - nap.started_at

    home_messages, home_wait = run("sqlite")
    sqs_messages, sqs_wait = run("memory")  # SQS delays: a hop every 15 minutes
    assert home_messages < sqs_messages
    assert home_wait <= sqs_wait


def test_each_owner_receives_its_own_messages(tmp_path: Path) -> None:
    """Processes sharing a home (``podium dev`` and a ``podium run``) each deliver the
    work they started; a retired owner's messages go to whoever adopts them."""
    from podium.adapters.sqlite.queue import Owners

    clock = ManualClock()
    db = Database(tmp_path / "podium.db")
    first, second = Owners(db, clock), Owners(db, clock)
    first.register()
    second.register()
    mine = SqliteQueue(db, "work", clock, owner=first.token)
    theirs = SqliteQueue(db, "work", clock, owner=second.token)
    mine.send({"from": "first"})
    theirs.send({"from": "second"})
    assert [m.body for m in theirs.receive(10)] == ['{"from":"second"}']
    assert second.others_alive()  # this process: alive
    assert second.adopt() == 0  # a live owner's work is not taken
    first.retire()  # an interrupted run: its messages are left for the next process
    assert second.adopt() == 1
    assert [m.body for m in theirs.receive(10)] == ['{"from":"first"}']
    assert mine.receive(10) == []
    assert len(SqliteQueue(db, "work", clock)) == 2  # no owner: sees every message
    db.close()


def test_a_process_on_another_host_is_dead_once_it_stops_beating(tmp_path: Path) -> None:
    """Another host's process cannot be asked by pid: it was taken for alive forever, so
    its work was never adopted and a run waiting on it waited for good."""
    from podium.adapters.sqlite import queue as sqlite_queue
    from podium.adapters.sqlite.queue import Owners

    clock = ManualClock()
    db = Database(tmp_path / "podium.db")
    here, there = Owners(db, clock), Owners(db, clock)
    there._host = "container-7"
    there.token = "container-7:1:abc"
    here.register()
    there.register()
    SqliteQueue(db, "work", clock, owner=there.token).send({"from": "there"})
    assert here.others_alive() and here.adopt() == 0  # it beat a moment ago
    silent = sqlite_queue._wall_ms() - sqlite_queue.SILENT_FOR_MS - 1
    with db.write() as conn:
        conn.execute("UPDATE owners SET seen_at = ? WHERE token = ?", (silent, there.token))
    assert not here.others_alive()
    assert here.adopt() == 1
    db.close()


def _start_and_die(home: str) -> str:
    """In another process: start a run, then die without stopping (a crash)."""
    import os

    rt = LocalRuntime(clock=ManualClock(), store="sqlite", home=home)
    rt.start()
    rt.push(chain("orphan", 3))
    run_id = rt.start_run("orphan").run_id
    print(run_id, flush=True)
    os._exit(0)


def test_the_work_of_a_dead_process_is_adopted(tmp_path: Path) -> None:
    import subprocess
    import sys

    home = tmp_path / ".podium"
    code = (
        "import sys; from tests.integration.test_sqlite_home import _start_and_die;"
        f" _start_and_die({str(home)!r})"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120
    )
    run_id = done.stdout.strip()
    assert run_id, done.stderr
    with LocalRuntime(clock=ManualClock(), store="sqlite", home=home) as rt:
        rt.pump()
        assert rt.describe(run_id).run.status is RunStatus.SUCCEEDED
        assert isinstance(rt.store, SqliteStateStore)
        with rt.store.db.query() as conn:
            assert conn.execute("SELECT COUNT(*) FROM owners").fetchone()[0] == 1  # only us


def test_two_cli_runs_at_once_on_one_home(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "PODIUM_CONFIG"}
    env["PODIUM_HOME"] = str(tmp_path / ".podium")
    procs = []
    for name in ("one", "two"):
        wf = {
            "name": name,
            "steps": [
                {
                    "id": f"s{i}",
                    "type": "lambda",
                    "function": "tests.integration.test_sqlite_home:napping",
                    **({"depends_on": [f"s{i - 1}"]} if i else {}),
                }
                for i in range(4)
            ],
        }
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(wf))
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "podium.cli.main", "run", str(path), "--json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                cwd=root,
            )
        )
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        body = json.loads(out)
        assert body["run"]["status"] == "SUCCEEDED"
        assert [s["status"] for s in body["steps"]] == ["SUCCEEDED"] * 4


def test_prints_of_concurrent_attempts_land_in_their_own_logs(tmp_path: Path) -> None:
    import sys

    from podium.adapters.sqlite.logs import SqliteLogs
    from podium.core.ports import Invocation, InvocationResult
    from podium.local import capture

    class Chatty:
        def invoke(self, invocation: Invocation) -> InvocationResult:
            for i in range(50):
                print(f"{invocation.idempotency_key} line {i}")
            print("warn", file=sys.stderr)
            return InvocationResult(True, output=None)

    db = Database(tmp_path / "podium.db")
    logs = SqliteLogs(db)
    runner = capture.CapturingRunner(Chatty(), logs, ManualClock())
    capture.install()
    try:
        threads = [
            threading.Thread(
                target=runner.invoke, args=(Invocation("f", {}, f"r1/load/{i}/x/{n}"),)
            )
            for i, n in ((0, 1), (1, 1), (2, 3))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        capture.uninstall()
    entries = logs.read("r1")
    assert {(e.step, e.attempt, e.stream) for e in entries} == {
        (f"load/{i}/x", n, stream)
        for i, n in ((0, 1), (1, 1), (2, 3))
        for stream in ("stdout", "stderr")
    }
    for e in entries:
        if e.stream == "stdout":
            lines = e.text.splitlines()
            assert lines == [f"r1/{e.step}/{e.attempt} line {i}" for i in range(50)]
    assert not isinstance(sys.stdout, capture._Router)  # put back
    db.close()


def _receive_and_die(home: str) -> None:
    """In another process: start a run, take its start message, and die holding it."""
    import os

    rt = LocalRuntime(store="sqlite", home=home, virtual_time=False)
    rt.start()
    rt.push(chain("held", 2))
    run_id = rt.start_run("held").run_id
    assert len(rt.event_queue.receive(1)) == 1  # in flight: invisible for 60 s
    print(run_id, flush=True)
    os._exit(0)


def test_a_message_a_dead_process_held_is_delivered_at_once(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    home = tmp_path / ".podium"
    code = (
        "from tests.integration.test_sqlite_home import _receive_and_die;"
        f" _receive_and_die({str(home)!r})"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120
    )
    run_id = done.stdout.strip()
    assert run_id, done.stderr
    with LocalRuntime(store="sqlite", home=home, virtual_time=False) as rt:
        started = time.monotonic()
        rt.pump()
        assert rt.describe(run_id).run.status is RunStatus.SUCCEEDED
        assert time.monotonic() - started < 10  # not the 60 s visibility timeout


def die_once(event: dict[str, Any]) -> dict[str, Any]:
    """Kills its process the first time (a worker lost mid-step), succeeds after; the
    first time, it prints (and flushes) the payload's ``say`` first, if it has one."""
    import os

    marker = Path(event["payload"]["marker"])
    if not marker.exists():
        if "say" in event["payload"]:
            print(event["payload"]["say"], flush=True)
        marker.write_text("died here once")
        os._exit(0)
    return {"survived": True}


def _run_until_killed(home: str, marker: str, say: str | None = None) -> None:
    rt = LocalRuntime(clock=ManualClock(), store="sqlite", home=home)
    rt.start()
    wf = {
        "name": "lost_worker",
        "steps": [
            {"id": "a", "type": "noop"},
            {
                "id": "b",
                "type": "lambda",
                "function": "tests.integration.test_sqlite_home:die_once",
                "payload": {"marker": marker, **({"say": say} if say is not None else {})},
                "depends_on": ["a"],
            },
        ],
    }
    rt.run(wf)  # dies inside step b


def test_a_step_lost_with_its_process_is_reclaimed_by_the_next_run(tmp_path: Path) -> None:
    import subprocess
    import sys

    home, marker = tmp_path / ".podium", tmp_path / "marker"
    code = (
        "from tests.integration.test_sqlite_home import _run_until_killed;"
        f" _run_until_killed({str(home)!r}, {str(marker)!r})"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], cwd=root, timeout=120, check=True)
    assert marker.exists()
    with LocalRuntime(clock=ManualClock(), store="sqlite", home=home) as rt:
        assert isinstance(rt.store, SqliteStateStore)
        (run,) = rt.store.search_runs("lost_worker")
        # Nobody else works on the home: the step is reclaimed as the runtime starts.
        assert rt.store.get_step(run.run_id, "b").status is StepStatus.RETRY_WAIT  # type: ignore[union-attr]
        rt.pump(run_id=run.run_id)
        view = rt.describe(run.run_id)
        assert view.run.status is RunStatus.SUCCEEDED
        b = next(s for s in view.steps if s.step == "b")
        assert (b.attempt, b.output) == (2, {"survived": True})
        assert "reclaim" in [e.kind for e in view.events if e.step == "b"]


def _talks_then_returns(event: dict[str, Any]) -> str:
    print("hello from a step with a timeout")
    return "ok"


def test_a_step_with_a_timeout_keeps_its_output_in_its_log(tmp_path: Path) -> None:
    """Regression: with a timeout the local runner calls the function on a thread; the
    thread did not carry the attempt's capture context, so prints reached the terminal."""
    from podium.adapters.runners import LocalFunctionRunner
    from podium.adapters.sqlite.logs import SqliteLogs
    from podium.core.ports import Invocation
    from podium.local import capture

    db = Database(tmp_path / "podium.db")
    logs = SqliteLogs(db)
    runner = capture.CapturingRunner(LocalFunctionRunner(), logs, ManualClock())
    fn = f"{__name__}:_talks_then_returns"
    capture.install()
    try:
        result = runner.invoke(Invocation(fn, {}, "r1/s/1", timeout_seconds=5))
    finally:
        capture.uninstall()
    assert result.ok
    (entry,) = logs.read("r1")
    assert entry.text.strip() == "hello from a step with a timeout"
    db.close()
