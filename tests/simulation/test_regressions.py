"""Seeds of the simulation that once failed, kept forever (podium.sim).

Each case is a (shape, seed): the simulated world depends on nothing else, so it replays
alone (``scripts/simulate --explain SEED --shapes SHAPE`` prints its interleaving). A case
of a bug still open is ``xfail(strict=True)``: the suite stays green, and the mark must
go when the fix lands (the case then passes and strict xfail fails the run).

A seed fixes the fault *draws*, not the interleaving: when the engine's sequence of port
calls changes, the same seed replays a different schedule. So a case that XPASSes after
an engine change may only have lost its schedule: check with ``--explain`` that the bug
is gone (and find a fresh seed with ``scripts/simulate --shapes SHAPE`` if it is not).
"""

from __future__ import annotations

import pytest

from podium.sim.harness import factory_for
from podium.sim.simulate import Simulator, run_case

OPEN = pytest.mark.xfail  # with strict=True below

# (shape, seed, what it found). Fixed bugs: issue 8's list, found on 1d7a6c7.
FIXED = [
    ("diamond", 66, "bug 1: run slot leaked after a crash between the run's end and the release"),
    ("max_parallel", 193, "bug 2: permit leaked after a crash between a step's end and release"),
    ("long_retry", 161, "bug 3: a 3,600 s retry delay re-driven by the sweeper after 360 s"),
    ("key_limit", 107, "bug 4: hot loop after a crash between RETRY_WAIT and permit release"),
    ("key_limit", 30, "bugs 4/6: a retry of a step waiting on a key delivered in a hot loop"),
    ("last_only", 107, "bug 5: an older start's supersede pass discarded the newest run"),
    ("max_parallel", 47, "bug 6: memory permits: a woken waiter refused forever (hot loop)"),
    ("fail_sibling", 6, "bug 7: fail_after_running skipped a ready sibling (message order)"),
]

# Found on later heads (the open ones are xfail, strict).
FIXED += [
    ("key_limit", 734, "failed on fd201de: permit leak after the run ended (open bug below)"),
    ("last_only", 112, "failed on fd201de: a RUNNING step left in a STOPPED run (open, below)"),
]

RUN_SUCCEEDED_WITH_FAILED_STEP = (
    "a run SUCCEEDED with a FAILED step: the failing step's end write happened, the worker"
    " died before mark_run_failing, and the sweeper completed the run from the sink"
    " counts before the message came back (the replay then finds the run ended)"
)
PERMIT_LEAK_AFTER_RUN_END = (
    "permit leak after the run ended: a crash between a step's end write and its permit"
    " release; the sweeper completes the run before the message comes back, the replay"
    " returns early for an ended run, run_ended releases no step permits, and the sweeper"
    " reconciles only keys named by RUNNING runs"
)
STOPPED_RUN_KEEPS_RUNNING_STEP = (
    "a STOPPED run keeps a RUNNING step forever: its worker died mid-attempt and the"
    " sweeper never reclaims leases in ended runs (a permit it held would leak too)"
)
JOIN_LEFT_PENDING = (
    "a join stays PENDING forever: the last predecessor's end and its arrival were written"
    " by a process that died before the join's PENDING->READY (here the sweeper reclaiming"
    " an in-process claimed step, which has no message of its own); the sweeper replays a"
    " terminal step only when a successor item is missing, and this one exists"
)

# Fixed on main after the engine-core changes (sweeper flags failures before counting
# sinks; run_ended releases step permits and ends unfinished steps; a late message ends
# its step in an ended run; the sweeper replays steps whose join stayed PENDING).
FIXED += [
    ("fail_sibling", 435, RUN_SUCCEEDED_WITH_FAILED_STEP),
    ("fail_sibling", 480, RUN_SUCCEEDED_WITH_FAILED_STEP),
    ("max_parallel", 87, PERMIT_LEAK_AFTER_RUN_END),
    ("max_parallel", 105, PERMIT_LEAK_AFTER_RUN_END),
    ("max_parallel", 239, PERMIT_LEAK_AFTER_RUN_END),
    ("key_limit", 454, PERMIT_LEAK_AFTER_RUN_END),
    ("last_only", 77, STOPPED_RUN_KEEPS_RUNNING_STEP),
    ("conditional", 20, JOIN_LEFT_PENDING),
    ("conditional", 133, JOIN_LEFT_PENDING),
    ("key_limit", 553, JOIN_LEFT_PENDING),
]

STEP_CLAIMED_IN_ENDED_RUN = (
    "a step left RUNNING in an ended run: a worker that read the run as RUNNING (a"
    " duplicate delivery of 'a', parked) created its successor 'nap' claimed (RUNNING)"
    " after another worker had ended the run (fail_immediately / run timeout) and run"
    " run_ended; the sleep's timer later finds the run ended and leaves the step, and the"
    " sweeper never looks at settled runs"
)
DEADLINE_BY_MESSAGE_ORDER = (
    "a deadline decided by message order: after a clock jump both the sleep's done timer"
    " and the deadline's timer are due; when the done message is handled first, the step"
    " (step timeout) or the run (run timeout) SUCCEEDS although its deadline passed long"
    " before the sleep could end; a completion arriving after the deadline should end the"
    " attempt TIMED_OUT"
)

# Fixed: a timer for a step of an ended run ends that step; a completion at a known
# time past a deadline is a timeout, whichever message is handled first.
FIXED += [
    ("fail_immediately", 70, STEP_CLAIMED_IN_ENDED_RUN),
    ("run_timeout", 1497, STEP_CLAIMED_IN_ENDED_RUN),
    ("step_timeout", 232, DEADLINE_BY_MESSAGE_ORDER),
    ("run_timeout", 909, DEADLINE_BY_MESSAGE_ORDER),
]
WRITE_AFTER_RUN_ENDED = (
    "a step written after its run ended, by a process that read the run as RUNNING"
    " before: run_timeout/1930: a's worker created 'nap' claimed (RUNNING) in the same"
    " instant as the run deadline's run_ended, then lost the reply and died before"
    " scheduling nap's timer, so no timer ever ends it; run_timeout/2734: start_roots"
    " created root 'a' READY after run_ended (its exec never sent). The sweeper skips"
    " settled runs, so both stay open (docs: the other unfinished steps end STOPPED)"
)
SKIPPED_NOT_STOPPED = (
    "fail_immediately: when boom's worker dies between mark_run_failing and the run's"
    " FAILED write, a replay decides the ready sibling 'nap' in the failing window and"
    " creates it SKIPPED (run is failing); docs: every other unfinished step ends STOPPED"
)

# Fixed: a start replayed after the run ended ends the roots an earlier delivery made;
# the ended_check timer (a lease after a non-succeeded run ends) ends what is left open.
FIXED += [("run_timeout", 2734, WRITE_AFTER_RUN_ENDED)]

# Fixed: a lease after a run ended (not succeeded), an ended_check message ends any step
# a worker that had read the run as RUNNING created in the instant it ended.
FIXED += [("run_timeout", 1930, WRITE_AFTER_RUN_ENDED)]

# Fixed: the run records when it started failing (failing_since); a replayed decision of
# a step that ended before decides as the original did (its successors run).
FIXED += [("fail_immediately", 189, SKIPPED_NOT_STOPPED)]

# Loops (issue 10): a while iteration that ended before its launcher raised the launched
# mark was counted, and the loop then waited forever for an iteration never launched.
FIXED += [("while_ten", 188, "a while stuck RUNNING after a child ended before its mark")]
FIXED += [("while_ten", 283, "the same, another schedule")]

CALLBACK_MARK_AFTER_THE_RUNS_END = (
    "a callback result answered 202 and dropped: its request read the step RUNNING just"
    " by the run's deadline, the run's timer then ended the run and the step (no result"
    " recorded yet), and the request recorded its result (received in time) and answered"
    " 202; the step stays TIMED_OUT. The result's mark and the step's end are two items"
    " (the step's own deadline has the same window)"
)
# Fixed: the API notes the result on the step after recording it (one conditional write,
# RUNNING at its attempt) and a deadline's end of the attempt requires no note: the
# later of the two yields (the end keeps the result; or the request answers 409).
FIXED += [("callback_run_deadline", 827, CALLBACK_MARK_AFTER_THE_RUNS_END)]
STILL_OPEN: list[tuple[str, int, str]] = []

CASES = [pytest.param(shape, seed, id=f"{shape}-{seed}") for shape, seed, _ in FIXED] + [
    pytest.param(shape, seed, id=f"{shape}-{seed}", marks=OPEN(strict=True, reason=f"open: {why}"))
    for shape, seed, why in STILL_OPEN
]


@pytest.mark.parametrize(("shape", "seed"), CASES)
def test_seed_violates_nothing(shape: str, seed: int) -> None:
    result = run_case(shape, seed)
    assert result.verdict.ok, "\n".join(result.verdict.details)


# Seeds that fail on DynamoDB (moto) only: the memory fake disagrees with DynamoDB.
STALE_QUEUE_ITEM = (
    "DynamoPermits.wait decides from the step as the caller read it: a duplicate delivery"
    " read k3 READY with no waiting_key, another delivery meanwhile queued it and was woken;"
    " the stale wait then put a second queue item and moved waiting_since, so the first"
    " item is orphaned. It stays at the head of the key's queue, wake_head finds its step"
    " not waiting and wakes nobody, and every waiter behind it waits forever (three runs"
    " stuck). The memory fake reads the current item and keeps the step's place."
)
# Fixed: the wait's step write also expects the waiting key the caller read.
FIXED_ON_MOTO: list[tuple[str, int, str]] = [("key_limit", 20, STALE_QUEUE_ITEM)]
STILL_OPEN_ON_MOTO: list[tuple[str, int, str]] = []

MOTO_CASES = [pytest.param(shape, seed, id=f"{shape}-{seed}") for shape, seed, _ in FIXED_ON_MOTO]
MOTO_CASES += [
    pytest.param(shape, seed, id=f"{shape}-{seed}", marks=OPEN(strict=True, reason=f"open: {why}"))
    for shape, seed, why in STILL_OPEN_ON_MOTO
]


@pytest.mark.parametrize(("shape", "seed"), MOTO_CASES)
def test_moto_seed_violates_nothing(shape: str, seed: int) -> None:
    result = run_case(shape, seed, store="moto")
    assert result.verdict.ok, "\n".join(result.verdict.details)


# Seeds that fail with operators acting (--actions: pauses, retries in place, stops).
WOKEN_STEP_LEFT_IN_QUEUE = (
    "a run stopped while its step, woken from a key's queue (READY), had not claimed yet:"
    " the stop ended the step and left its queue entry first in line, so wake_head found"
    " it not waiting and woke nobody; every later waiter on the key waited forever"
)
# (Found as key_limit 4/85 and max_parallel 410; re-found after the operators' requests
# were queued in one heap, which changed the interleavings.)
UNSTARTED_SUBWORKFLOW_TERMINATED = (
    "a stopped run's end asked each subworkflow step that did not succeed to stop its"
    " child (a crash may have come between the step's end and that stop); one stopped"
    " before it started (attempt 0) asked for the child of attempt 0, which is no id: the"
    " stop and every sweep after it died, and the run never settled"
)
FIXED_WITH_ACTIONS: list[tuple[str, int, str]] = [
    ("subworkflow", 296, UNSTARTED_SUBWORKFLOW_TERMINATED),
    ("subworkflow", 2483, UNSTARTED_SUBWORKFLOW_TERMINATED),
    ("key_limit", 52, WOKEN_STEP_LEFT_IN_QUEUE),
    ("key_limit", 122, WOKEN_STEP_LEFT_IN_QUEUE),
    ("max_parallel", 231, WOKEN_STEP_LEFT_IN_QUEUE),
    # The simulation's own trace: a throttled count_sinks({"t": 0, ...}) (a while body's
    # sink named "t") was printed as if it were a message, and raised.
    ("while_ten", 1834, "a dict argument taken for a message in the trace"),
]


@pytest.mark.parametrize(
    ("shape", "seed"),
    [pytest.param(shape, seed, id=f"{shape}-{seed}") for shape, seed, _ in FIXED_WITH_ACTIONS],
)
def test_seed_with_operators_violates_nothing(shape: str, seed: int) -> None:
    result = run_case(shape, seed, actions=True)
    assert result.verdict.ok, "\n".join(result.verdict.details)


STOP_READ_BEFORE_THE_STEP_QUEUED = (
    "an operator's stop read a step READY and not queued; meanwhile it queued for a"
    " permit and was woken (READY again at the same attempt, first in line); the stop's"
    " write, expecting READY at that attempt, ended it STOPPED still holding its place,"
    " and wake_head, finding a head not waiting, woke nobody: the key was blocked for good"
)
# (shape, seed, intensity, what it found): cases found at a higher --intensity.
FIXED_WITH_ACTIONS_AT_INTENSITY: list[tuple[str, int, float, str]] = [
    ("job_give_back", 162, 2.0, STOP_READ_BEFORE_THE_STEP_QUEUED),
]


@pytest.mark.parametrize(
    ("shape", "seed", "intensity"),
    [
        pytest.param(shape, seed, intensity, id=f"{shape}-{seed}-x{intensity:g}")
        for shape, seed, intensity, _ in FIXED_WITH_ACTIONS_AT_INTENSITY
    ],
)
def test_seed_with_operators_at_intensity_violates_nothing(
    shape: str, seed: int, intensity: float
) -> None:
    factory = factory_for("memory")
    with factory.session():
        result = Simulator(factory, (shape,), intensity, actions=True).run_seed(seed)
    assert result.verdict.ok, "\n".join(result.verdict.details)
