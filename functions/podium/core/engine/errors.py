"""Typed domain errors the store raises instead of leaking DynamoDB exceptions."""

from __future__ import annotations

from podium.core.engine.records import RunRecord, StepRecord
from podium.core.errors import PodiumError


class NotFound(PodiumError, LookupError):
    pass


class WorkflowNotFound(NotFound):
    """``hint`` says how a workflow gets where it was looked for: a push, for a deployed
    stack's store (the default); a local home's store gives its own."""

    PUSH_FIRST = "push it first (podium push FILE)"

    def __init__(self, name: str, version: int | None = None, *, hint: str = PUSH_FIRST) -> None:
        self.name, self.version, self.hint = name, version, hint
        which = f" version {version}" if version is not None else ""
        super().__init__(f"workflow '{name}'{which} not found; {hint}")

    @classmethod
    def no_such_version(cls, name: str, version: int) -> WorkflowNotFound:
        """A version a pushed workflow does not have: a push never makes a given number,
        its list of versions says which exist."""
        return cls(name, version, hint=f"podium workflows versions {name} lists its versions")


class RunNotFound(NotFound):
    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"run '{run_id}' not found")


class StepConflict(PodiumError):
    """A conditional step write lost: the step is not in the expected state.

    ``current`` is the item as it was (from ReturnValuesOnConditionCheckFailure=ALL_OLD),
    so callers decide what to do without a second read. None when the item is missing.
    """

    def __init__(self, run_id: str, step: str, current: StepRecord | None) -> None:
        self.run_id, self.step, self.current = run_id, step, current
        state = current.status.value if current else "missing"
        super().__init__(f"step {run_id}/{step} is {state}")


class StepExists(StepConflict):
    """A lazy step creation lost: another writer created the item first."""


class RunConflict(PodiumError):
    def __init__(self, run_id: str, current: RunRecord | None) -> None:
        self.run_id, self.current = run_id, current
        state = current.status.value if current else "missing"
        super().__init__(f"run {run_id} is {state}")


class RunIdConflict(RunConflict):
    """A client token (``run_id``) reused for another workflow or with other params."""

    def __init__(self, run_id: str, current: RunRecord, workflow: str) -> None:
        super().__init__(run_id, current)
        if current.workflow != workflow:
            why = f"already names a run of workflow '{current.workflow}'"
        else:
            why = f"already names a run of '{workflow}' started with different params"
        self.message = (
            f"run_id '{run_id}' {why} (status {current.status.value}); send a new run_id"
            " to start another run, or repeat the first request to get that run"
        )
        self.args = (self.message,)


class VersionConflict(PodiumError):
    """Two pushes of one workflow raced; the loser retries with the new head."""


class VersionSuperseded(VersionConflict):
    """A version was to be made active only while it is the latest, and a newer one was
    pushed since (StateStore.activate_workflow_version's ``only_if_latest``)."""

    def __init__(self, name: str, version: int, latest: int) -> None:
        self.name, self.version, self.latest = name, version, latest
        super().__init__(
            f"workflow '{name}' version {version} was not made active: version {latest}"
            " was pushed since"
        )


class ActiveVersionMoved(VersionConflict):
    """A version was to be made active in place of the one the caller read as active,
    and another became active since (StateStore.activate_workflow_version's
    ``only_if_active``: a push or an activation landed in between)."""

    def __init__(self, name: str, expected: int, active: int) -> None:
        self.name, self.expected, self.active = name, expected, active
        super().__init__(
            f"workflow '{name}': version {active} became active while this change was"
            f" made from version {expected}; nothing was changed: look at version {active}"
            " and run it again if it still applies"
        )


class StoreUnavailable(PodiumError):
    """The store kept refusing a request (throttled past its retries): the caller's
    message is redelivered later, as after any platform error."""
