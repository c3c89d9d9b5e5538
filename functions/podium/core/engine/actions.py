"""Operators' actions on runs and steps: the one allowed-actions matrix, and the pure
decisions behind them (which steps a restart reuses, where a step path leads).

Every action the API, the CLI or the console takes is checked here and nowhere else
(``check_run_action`` / ``check_step_action``); a refused action raises ``ActionRefused``,
which names the status and what is allowed from it (the API answers 409 with it).
docs/operations.md prints the same matrix (``matrix_rows``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from podium.core.engine.decide import skipped_as_decided
from podium.core.engine.graph import Graph
from podium.core.engine.identity import child_run_id
from podium.core.engine.loops import MAX_ITERATIONS
from podium.core.engine.records import StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.errors import PodiumError

ACTION_EVENT = "action"  # the timeline event kind of every action (who, when, why)


class RunAction(str, Enum):
    STOP = "stop"  # no new step starts, running attempts terminated: the run ends STOPPED
    KILL = "kill"  # the same, and the run ends FAILED
    PAUSE = "pause"  # no new step starts; running attempts finish
    RESUME = "resume"  # a paused run goes on (steps held meanwhile start now)
    RESTART = "restart"  # a new run pointing back with restart_of


class StepAction(str, Enum):
    SKIP = "skip"  # SKIPPED with the reason; its successors go on as after a success
    # A step waiting for its next attempt gets it now; a failed one (its run still runs)
    # gets a new one, and what its failure skipped is reopened (core/engine/reopen.py).
    RETRY = "retry"
    STOP = "stop"  # STOPPED (a running attempt is terminated): a failure downstream
    RESUME = "resume"  # a PAUSED step (a breakpoint, or a held step) becomes READY


_R, _S = RunStatus, StepStatus
_ENDED_RUN = frozenset({RunAction.RESTART})

RUN_ACTIONS: Mapping[RunStatus, frozenset[RunAction]] = {
    # A queued run holds nothing yet: it can only leave the queue.
    _R.QUEUED: frozenset({RunAction.STOP}),
    _R.RUNNING: frozenset({RunAction.STOP, RunAction.KILL, RunAction.PAUSE}),
    _R.PAUSED: frozenset({RunAction.STOP, RunAction.KILL, RunAction.RESUME}),
    _R.SUCCEEDED: _ENDED_RUN,
    _R.FAILED: _ENDED_RUN,
    _R.STOPPED: _ENDED_RUN,
    _R.TIMED_OUT: _ENDED_RUN,
    _R.DISCARDED: _ENDED_RUN,
}

# Step actions by step status, in a run that is RUNNING or PAUSED (a step of an ended
# run is acted on by restarting the run). A step acted on has all its predecessors ended:
# one not reached yet (no item; ``None``) or a join still waiting for some (PENDING)
# cannot be ended early, or the run could complete while its predecessors still run
# (set a breakpoint on it instead).
_WAITING = frozenset({StepAction.SKIP, StepAction.STOP})
STEP_ACTIONS: Mapping[StepStatus | None, frozenset[StepAction]] = {
    None: frozenset(),
    _S.PENDING: frozenset(),
    _S.READY: _WAITING,
    _S.WAITING_FOR_SIGNALS: _WAITING,
    _S.WAITING_FOR_PERMITS: _WAITING,
    _S.PAUSED: frozenset({StepAction.SKIP, StepAction.STOP, StepAction.RESUME}),
    _S.RUNNING: frozenset({StepAction.STOP}),
    _S.RETRY_WAIT: frozenset({StepAction.SKIP, StepAction.STOP, StepAction.RETRY}),
    _S.SUCCEEDED: frozenset(),
    _S.FAILED_IGNORED: frozenset(),
    # Failed with its retries used up, in a run that still runs (another branch goes on):
    # retried in place. A run that ended is restarted instead.
    _S.FAILED: frozenset({StepAction.RETRY}),
    _S.SKIPPED: frozenset(),
    _S.STOPPED: frozenset(),
    _S.TIMED_OUT: frozenset({StepAction.RETRY}),
}
# Step actions need a run that goes on; a paused run takes only those that start nothing.
STEP_ACTION_RUNS: Mapping[StepAction, frozenset[RunStatus]] = {
    StepAction.SKIP: frozenset({_R.RUNNING, _R.PAUSED}),
    StepAction.STOP: frozenset({_R.RUNNING, _R.PAUSED}),
    StepAction.RETRY: frozenset({_R.RUNNING}),
    StepAction.RESUME: frozenset({_R.RUNNING}),
}


SKIPPED_BY = "skipped by "  # the reason of a step an operator skipped (and only of it)


def propagates_as(status: StepStatus, reason: str | None) -> StepStatus:
    """The outcome a terminal step passes to its successors: a step an operator skipped
    lets the DAG continue, as after a success (an engine skip propagates as a skip).
    Every replay of a terminal step's follow-ups asks this, so they agree with the
    first propagation."""
    if status is StepStatus.SKIPPED and reason is not None and reason.startswith(SKIPPED_BY):
        return StepStatus.SUCCEEDED
    return status


# The API's ``current`` for a step that has no status yet (nothing reached it).
NOT_REACHED = "NOT_REACHED"


class ActionRefused(PodiumError):
    """The action is not allowed from the current status (HTTP 409)."""

    def __init__(
        self,
        action: str,
        target: str,
        status: str,
        allowed: Iterable[str],
        hint: str | None = None,
        *,
        said: str | None = None,
    ) -> None:
        """``status``: a status value (the API's ``current``); ``said``: how the message
        tells it when the status alone does not say why (a step ``in a PAUSED run``)."""
        self.action, self.target, self.status = action, target, status
        self.allowed = sorted(allowed)
        options = ", ".join(self.allowed) if self.allowed else "nothing"
        self.message = (
            f"cannot {action} {target}: it is {said or status}; allowed"
            f" {'now' if said else f'from {status}'}: {options}"
        )
        if hint:
            self.message += f" ({hint})"
        super().__init__(self.message)


# A child run (a loop's iteration, the run of a subworkflow step that waits for it)
# pauses and resumes with its parent: paused alone, the sweeper would resume it as a
# parent's resume cut short. A detached child (a ``wait: false`` subworkflow's run: its
# step ended as it started) is acted on as a run of its own (service/actions.py).
FOLLOWS_PARENT = frozenset({RunAction.PAUSE, RunAction.RESUME})


def allowed_run_actions(
    status: RunStatus, *, child: bool = False, iteration: bool = False, restarted: bool = False
) -> frozenset[RunAction]:
    """What a run takes now. ``child``: a child run pauses and resumes with its parent.
    ``iteration``: a loop iteration's run is never restarted on its own (its workflow is
    its loop's body; the top run restarts from a path into it), nor a waited-for
    subworkflow's run (its parent restarts it). ``restarted``: a run is
    restarted at most once (its restart's id is derived from its own: restart that one).
    service/restart.py refuses the same two (``AlreadyRestarted``)."""
    allowed = RUN_ACTIONS[status] - FOLLOWS_PARENT if child else RUN_ACTIONS[status]
    if iteration or restarted:
        allowed -= {RunAction.RESTART}
    return allowed


def check_run_action(
    action: RunAction,
    run_id: str,
    status: RunStatus,
    *,
    parent: tuple[str, str] | None = None,
    pauses_with: str | None = None,
    iteration: tuple[str, str] | None = None,
    waited_by: tuple[str, str] | None = None,
    restarted_as: str | None = None,
) -> None:
    """``parent``: (run, step) of a child run that pauses and resumes with its parent (a
    loop's iteration, the run of a subworkflow step that waits for it). ``pauses_with``:
    the run a pause or resume of that child takes, when it is not the parent (a nested
    iteration's parent is a child run too: the first run up its parents that does not
    follow its own parent, the top run or a detached child). ``iteration``:
    (top run, ``LOOP/INDEX`` path from it) of a loop iteration's run. ``waited_by``: (the
    run restarted for it, the path to its step) of a waited-for subworkflow's run, which
    is restarted through that run as an iteration is. ``restarted_as``:
    the run that restarts this one. A refusal hints at a restart only when one is
    allowed, else at the one that is (the top run's, from a path into the iteration)."""
    allowed = allowed_run_actions(
        status,
        child=parent is not None,
        iteration=iteration is not None or waited_by is not None,
        restarted=restarted_as is not None,
    )
    if action not in allowed:
        hint: str | None = None
        if parent is not None and action in FOLLOWS_PARENT and action in RUN_ACTIONS[status]:
            # Name the run that takes the action: a parent that is a child run itself
            # refuses it in turn.
            takes = pauses_with or parent[0]
            through = f", and so with run {takes}" if takes != parent[0] else ""
            hint = (
                f"it is a child run of step {parent[1]} of run {parent[0]}, and pauses and"
                f" resumes with it{through}: {action.value} run {takes}, or set a breakpoint"
                " on a step of its body"
            )
        elif status.terminal and RunAction.RESTART in allowed:
            hint = "restart it to run it again"
        elif status.terminal and iteration is not None:
            hint = iteration_restart_hint(*iteration)
        elif status.terminal and waited_by is not None:
            hint = subworkflow_restart_hint(*waited_by)
        elif status.terminal and restarted_as is not None:
            hint = f"it was restarted as {restarted_as}: " + (
                f"restart {restarted_as} instead"
                if action is RunAction.RESTART
                else "act on that run"
            )
        raise ActionRefused(
            action.value, f"run {run_id}", status.value, (a.value for a in allowed), hint
        )


def iteration_restart_hint(top_run: str, path: str) -> str:
    """How to run a loop iteration's steps again: its run is never restarted on its own,
    its top run is, from a path into it (``path``: ``LOOP/INDEX``, nested
    ``OUTER/I/INNER/J``)."""
    return (
        f"it is iteration {path} of run {top_run}: restart that run from {path}/<step>, or"
        f" from incomplete, once it has ended (podium runs restart {top_run} --from"
        f" {path}/<step>)"
    )


def subworkflow_restart_hint(top_run: str, path: str) -> str:
    """How to run a waited-for subworkflow's run again: it is never restarted on its own
    (a run its parent would never see), the run that waits for it is (``top_run``; ``path``:
    the subworkflow step, ``LOOP/INDEX/STEP`` when that step is in an iteration), and the
    step restarts it from incomplete (service/reuse.py)."""
    return (
        f"it is the run of subworkflow step {path} of run {top_run}, which waits for it:"
        f" restart that run from incomplete once it has ended, and the step restarts this"
        f" run from incomplete (podium runs restart {top_run}), or from one of its steps"
        f" (podium runs restart {top_run} --from {path}/<step>)"
    )


def _restart_top_hint(top: str, step: str, ended: bool | None) -> str:
    """A step of a child run that ended (a loop iteration's, a waited-for subworkflow's)
    runs again through its top run's restart, which takes a run that has ended: now when
    it has, once it has when it is still going (``ended`` None: either, said so)."""
    command = f"podium runs restart {top} --from {step}"
    if ended is None:
        return (
            f"the run it is in has ended: restart run {top} from it (a run still going is"
            f" restarted once it has ended): {command}"
        )
    if ended:
        return (
            f"the run it is in has ended, and so has run {top}: restart that run from it: {command}"
        )
    return (
        f"the run it is in has ended; run {top} has not: restart that run from it once it"
        f" has ended: {command}"
    )


def allowed_step_actions(
    run: RunStatus, step: StepStatus | None, kind: str | None = None
) -> frozenset[StepAction]:
    """What a step takes (``kind``: its type, when known: an ended loop step is not
    retried in place, see ``check_retry_in_place``)."""
    allowed = frozenset(a for a in STEP_ACTIONS[step] if run in STEP_ACTION_RUNS[a])
    if step is not None and step.terminal and kind in NOT_RETRIED_IN_PLACE:
        allowed -= {StepAction.RETRY}
    return allowed


def check_step_action(
    action: StepAction,
    run_id: str,
    step: str,
    run: RunStatus,
    status: StepStatus | None,
    *,
    top_run: str | None = None,
    restarted_as: str | None = None,
    resumes_with: str | None = None,
    top_ended: bool | None = None,
    kind: str | None = None,
) -> None:
    """``top_run``: the run a path into a child run (``step``, from that run: an
    iteration's, a waited-for subworkflow's) starts from, when ``run_id`` is that child
    (which is not restarted on its own). ``restarted_as``: the run that restarts the top
    run (a restart of it is refused). ``resumes_with``: for a PAUSED ``run_id``, the run
    a resume takes (a child run resumes with its parents: the first up them that does
    not follow its own parent). ``top_ended``: whether that top run has ended (None: not
    known), for the hint of a child run that ended: restart the top run now, or once it
    has ended. ``kind``: the step's type, so that a refusal offers only what the step
    takes (``allowed_step_actions``: an ended loop step is not retried in place)."""
    takes = allowed_step_actions(run, status, kind)
    allowed = [a.value for a in STEP_ACTIONS[status] if a in takes]
    if run not in STEP_ACTION_RUNS[action]:
        top = top_run or run_id
        # A path through a subworkflow step (a step id with no index after it) reaches,
        # in the run that restarted this one, the child its step started last, which may
        # be yet to start: only the restart that reruns the step is named for it.
        by_path = all(not bare for bare in (IterationPath.parse(step) or _PLAIN).unindexed)
        act_there = f"act on step {step} there, or " if by_path else ""
        hint = (
            f"run {top} was restarted as {restarted_as}: {act_there}restart that run once it"
            f" has ended: podium runs restart {restarted_as} --from {step}"
            if run.terminal and restarted_as is not None
            else f"restart the run: podium runs restart {run_id} --from {step}"
            if run.terminal and top == run_id
            else _restart_top_hint(top, step, top_ended)
            if run.terminal
            else f"resume run {resumes_with or run_id} first"
            if run is RunStatus.PAUSED
            else None
        )
        shown = status.value if status is not None else "not reached yet"
        raise ActionRefused(
            action.value,
            f"step {step} of run {top}",
            status.value if status is not None else NOT_REACHED,
            allowed,
            hint,
            said=f"{shown} in a {run.value} run",
        )
    if action not in STEP_ACTIONS[status]:
        target = f"step {step} of run {top_run or run_id}"  # ``step`` is a path from it
        if status is None:  # no status yet: the API's current says so in one word
            raise ActionRefused(action.value, target, NOT_REACHED, allowed, said="not reached yet")
        raise ActionRefused(action.value, target, status.value, allowed)


# A loop step's iterations ended with it (their child runs are done and counted): a new
# attempt of the loop would find them ended, and so would a retry of a step in one (its
# run ended). The run is restarted instead (from incomplete: only they rerun).
NOT_RETRIED_IN_PLACE = frozenset({"foreach", "while"})


def check_retry_in_place(
    run_id: str,
    step: str,
    status: StepStatus | None,
    kind: str,
    *,
    restart: tuple[str, str] | None = None,
) -> None:
    """``run_id``, ``step``: the run the request named and the path from it.
    ``restart``: (the run a restart takes, the path from it to the loop step) when that
    is not ``run_id`` and ``step`` (the loop is in an iteration, or a waited-for
    subworkflow's run)."""
    if status is not None and status.terminal and kind in NOT_RETRIED_IN_PLACE:
        top, path = restart or (run_id, step)
        # ActionRefused's ``said``: the status, and why it is not retried here.
        raise ActionRefused(
            StepAction.RETRY.value,
            f"step {step} of run {run_id}",
            status.value,
            [],
            f"its iterations ended with it: restart run {top} once it has ended, from"
            f" incomplete (what failed in it reruns) or from a step of one (podium runs"
            f" restart {top} --from {path}/INDEX/STEP)",
            said=f"a {kind} step that ended {status.value}",
        )


def matrix_rows() -> list[tuple[str, str]]:
    """(status, allowed actions) for the docs: runs first, then steps."""
    rows = [(f"run {s.value}", ", ".join(sorted(a.value for a in RUN_ACTIONS[s]))) for s in _R]
    for status, actions in STEP_ACTIONS.items():
        name = status.value if status is not None else "(not reached)"
        rows.append((f"step {name}", ", ".join(sorted(a.value for a in actions)) or "-"))
    return rows


# -- restart ----------------------------------------------------------------------------
class RestartFrom(str, Enum):
    INCOMPLETE = "incomplete"
    BEGINNING = "beginning"


@dataclass(frozen=True, slots=True)
class StepPath:
    """Where a step path leads: ``load`` is a step of the run itself; ``per_day/3/load``
    is step ``load`` of iteration 3 of loop step ``per_day``, a child run whose id is
    derived from its parent (core/engine/identity.py)."""

    run_id: str
    step: str

    @property
    def is_child(self) -> bool:
        return "." in self.run_id


class BadStepPath(PodiumError):
    def __init__(self, path: str, why: str) -> None:
        self.path = path
        super().__init__(f"step path {path!r}: {why}")


# Who knows the run a subworkflow step started: (the run, the step, the path to the
# step as written) -> that run's id; raises BadStepPath when there is none to name.
ChildOf = Callable[[str, str, str], str]


def resolve_step_path(run_id: str, path: str, child_of: ChildOf | None = None) -> StepPath:
    """``step``, ``LOOP/INDEX/.../STEP``, or with a ``SUBWORKFLOW_STEP/`` part
    (``call/load``), read as the step actions and restart read it (IterationPath.parse):
    the run that holds the step, and its id. An iteration's run id is derived from its
    parent (identity.py); the run of a subworkflow step is the one it started last,
    which only a read of the run tells: ``child_of`` reads it (the CLI, from the home or
    through the API), and a path through a subworkflow step is refused without it."""
    where = IterationPath.parse(path)
    if where is None:
        return StepPath(run_id, path)
    current, walked = run_id, ""
    for (name, index), bare in zip(where.loops, where.unindexed, strict=True):
        here = walked + name
        if not bare:
            current = child_run_id(current, name, index)
            walked = f"{here}/{index}/"
            continue
        if child_of is None:
            raise BadStepPath(
                path,
                f"{name!r} is followed by a step id, not an iteration index: a path into the"
                f" run of subworkflow step {name!r} needs that run read (the step actions"
                " and restart take it)",
            )
        current = child_of(current, name, here)
        walked = here + "/"
    return StepPath(current, where.step)


def _too_big(index: str, loop: str) -> str:
    """An index of more digits than any loop's iterations have (a shorter one that never
    ran is told which ran, where the run is read: service/step_paths.py)."""
    return (
        f"{index!r} after {loop!r} is no iteration: an iteration index is 0 to"
        f" {MAX_ITERATIONS - 1:,}"
    )


@dataclass(frozen=True, slots=True)
class IterationPath:
    """A step path that reaches into child runs: loop iterations (``per_day/3/load``,
    ``outer/2/inner/5/work``) and, for a restart, the run of a subworkflow step, named
    without an index (``call/load``: the child its first attempt starts, as a restart
    reruns the step; ``per_day/3/call/load``). ``loops``: the (step, index) pairs from
    the top run down, a subworkflow step's index 0; ``unindexed``: for each, whether it
    was written without an index (only a subworkflow step may be); ``step``: the step of
    the innermost child run. A definition tells which steps are loops or subworkflows
    (service/step_paths.py checks it): the path alone cannot."""

    loops: tuple[tuple[str, int], ...]
    step: str
    unindexed: tuple[bool, ...] = ()

    @staticmethod
    def parse(path: str) -> IterationPath | None:
        """None for a plain step (no child run); BadStepPath for a malformed path."""
        parts = path.split("/")
        shape = (
            "write STEP, LOOP_STEP/INDEX/STEP for a step of an iteration, or"
            " SUBWORKFLOW_STEP/STEP for a step of a subworkflow's run"
        )
        if any(not p for p in parts):
            raise BadStepPath(path, shape)
        if len(parts) == 1:
            return None
        pairs: list[tuple[str, int]] = []
        bare: list[bool] = []
        i = 0
        while i < len(parts) - 1:
            name, after = parts[i], parts[i + 1]
            if not (after.isascii() and after.isdigit()):  # a step id: a subworkflow's child
                pairs.append((name, 0))
                bare.append(True)
                i += 1
                continue
            if len(after) > 6:
                raise BadStepPath(path, _too_big(after, name))
            if i + 1 == len(parts) - 1:  # ends with an index: no step named
                raise BadStepPath(path, shape)
            pairs.append((name, int(after)))
            bare.append(False)
            i += 2
        return IterationPath(tuple(pairs), parts[-1], tuple(bare))

    def run_ids(self, top_run: str) -> list[str]:
        """The iteration runs the path goes through, outermost first (identity.py)."""
        ids: list[str] = []
        current = top_run
        for loop, index in self.loops:
            current = child_run_id(current, loop, index)
            ids.append(current)
        return ids


_PLAIN = IterationPath((), "")  # a path with no child run in it


def restart_from_in(top_run: str, path: str | None, run_id: str) -> str | None:
    """A restart from a step inside an iteration: the step that ``run_id`` (the new top
    run, or one of its iteration runs) reruns from, with everything below it. The top
    run and every iteration on the way rerun from the loop step that leads on down; the
    innermost iteration from the named step; every other run from incomplete (None)."""
    where = IterationPath.parse(path) if path else None
    if where is None:
        return None
    if run_id == top_run:
        return where.loops[0][0]
    ids = where.run_ids(top_run)
    if run_id not in ids:
        return None
    depth = ids.index(run_id)
    return where.loops[depth + 1][0] if depth + 1 < len(where.loops) else where.step


def rerun_whole(
    graph: Graph, top_run: str, restart_from: str | None, run_id: str
) -> frozenset[str]:
    """The steps of ``run_id`` (a restarted top run, or one of its iteration runs) that
    run again in full, a loop's iterations included (none of them is taken over).

    ``restart_from`` is what the top run was restarted from (None: incomplete). From
    ``beginning``, every step of the top run; from a step, that step and everything below
    it. From a path into an iteration, in each run on the way everything below the loop
    step the path goes through (not that loop: its other iterations restart from
    incomplete), and in the innermost iteration the named step and everything below it.
    Runs off the path, and every iteration of a loop that reruns in full (which is not
    restarted at all), have none."""
    if restart_from is None:
        return frozenset()
    where = IterationPath.parse(restart_from)
    if where is None:
        if run_id != top_run:
            return frozenset()
        if restart_from == RestartFrom.BEGINNING.value:
            return frozenset(graph.predecessors)
        return _and_below(graph, restart_from)
    ids = [top_run, *where.run_ids(top_run)]
    if run_id not in ids:
        return frozenset()
    depth = ids.index(run_id)
    if depth < len(where.loops):
        loop = where.loops[depth][0]
        return _and_below(graph, loop) - {loop}
    return _and_below(graph, where.step)


def _and_below(graph: Graph, step: str) -> frozenset[str]:
    """``step`` and every step downstream of it."""
    below: set[str] = set()
    stack = [step]
    while stack:
        current = stack.pop()
        if current not in below:
            below.add(current)
            stack.extend(graph.successors[current])
    return frozenset(below)


# The reason on a step a restart took over from the run it restarts (service/reuse.py).
_TAKEN_OVER = "reused from run "


def taken_over_reason(old_run: str) -> str:
    return f"{_TAKEN_OVER}{old_run} (restart)"


def taken_over_from(reason: str | None) -> str | None:
    """The run a restart took a SUCCEEDED step over from (its reason says), or None."""
    if not was_taken_over(reason):
        return None
    assert reason is not None
    return reason[len(_TAKEN_OVER) :].split(" ", 1)[0] or None


def was_taken_over(reason: str | None) -> bool:
    """Whether a SUCCEEDED step was taken over by a restart, not run: its replays
    propagate it, and send no ``emit`` (the run it came from sent it)."""
    return reason is not None and reason.startswith(_TAKEN_OVER)


def restarts_iteration(old: Mapping[str, object] | None, new: Mapping[str, object]) -> bool:
    """Whether a restarted run's loop restarts the old run's iteration (takes over what
    succeeded there, ``reused_steps``) rather than running it in full: only when it
    starts with the very values the old one did (``old``, ``new``: as stored: its index,
    its loop params or a while's ``state``, the enclosing iteration's ``parent``).

    A foreach's items are rendered again from the restart's params and version: with
    other params, index 0 may be another item, and the old iteration's outputs were
    computed for the item it had. A while iteration starts from the state the one
    before it left: once an iteration reruns (``--from LOOP/K/STEP``), or the restart
    gives other params or another version, the states after it may differ. Either way
    the iteration runs in full (and so does every loop nested in it)."""
    return old is not None and dict(old) == dict(new)


def reused_steps(
    graph: Graph,
    succeeded: Iterable[str],
    rerun_from: str | None = None,
    *,
    decided: Iterable[str] = (),
) -> frozenset[str]:
    """Which steps a restart takes over from the run it restarts, with their outputs.

    A step is reused when it succeeded there and every predecessor is reused or settled:
    a step below a rerun one runs again (its inputs may change; a cleanup that ran after
    a failure runs after the fix). ``rerun_from`` (restart from a step) reruns that step
    and everything below it.

    ``decided``: the steps skipped there by their join's rule (``skipped_as_decided``:
    the branch an if/else did not take, a handler with no failure to handle). Such a
    step is settled when every predecessor is reused or settled: the new run decides
    it again from the same outcomes, so it does not keep the steps below it (the merge
    after an if/else) from being taken over. It is not taken over itself (the new run
    writes its skip). A skip for a failure, or an operator's, settles nothing: what it
    skipped runs again."""
    done, skipped = set(succeeded), set(decided)
    below = _and_below(graph, rerun_from) if rerun_from is not None else frozenset()
    reused: set[str] = set()
    settled: set[str] = set()
    for step in topological_order(graph):
        if step in below or not all(p in reused or p in settled for p in graph.predecessors[step]):
            continue
        if step in done:
            reused.add(step)
        elif step in skipped:
            settled.add(step)
    return frozenset(reused)


def reuse_basis(steps: Iterable[StepRecord]) -> tuple[list[str], list[str]]:
    """The old run's steps ``reused_steps`` weighs: (those that succeeded, those
    skipped by their join's rule)."""
    succeeded: list[str] = []
    decided: list[str] = []
    for s in steps:
        if s.status is StepStatus.SUCCEEDED:
            succeeded.append(s.step)
        elif s.status is StepStatus.SKIPPED and skipped_as_decided(s.reason):
            decided.append(s.step)
    return succeeded, decided


def topological_order(graph: Graph) -> list[str]:
    """Every step after all its predecessors (Kahn's algorithm; the graph is acyclic)."""
    missing = {step: len(preds) for step, preds in graph.predecessors.items()}
    ready = [step for step, n in missing.items() if n == 0]
    order: list[str] = []
    while ready:
        step = ready.pop()
        order.append(step)
        for succ in graph.successors[step]:
            missing[succ] -= 1
            if missing[succ] == 0:
                ready.append(succ)
    return order
