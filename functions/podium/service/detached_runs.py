"""Whether a child run is detached: the run of a subworkflow step that does not wait for
it. One question, asked by the run operations (a parent's pause, resume, stop and end
leave such a run alone; ``follows_parent``) and by a timed-out child's message (only its
parent run's deadline bounds it, not its step's timeout). A leaf module: the runtimes
and the lifecycle both ask it."""

from __future__ import annotations

from podium.core.engine.errors import RunNotFound, WorkflowNotFound
from podium.core.engine.records import RunRecord
from podium.service.context import Services


def detached(ctx: Services, run: RunRecord, parent: RunRecord | None = None) -> bool:
    """The run of a subworkflow step that does not wait for it (``wait: false``): the
    step succeeded as the run started, so its parent's pause, resume, stop and end never
    reach it (they follow running steps): an operator acts on it as on a run of its own.
    Asked of the step's definition: one read of the parent run (none when ``parent`` is
    given), the definitions being cached; False for a loop's iteration or a top run."""
    if run.parent_run is None or run.parent_step is None or run.iteration is not None:
        return False
    if parent is None:
        try:
            parent = ctx.store.get_run(run.parent_run)
        except RunNotFound:
            return False
    try:
        spec = ctx.definitions.get(parent.workflow, parent.version).by_id.get(run.parent_step)
    except WorkflowNotFound:
        return False
    return spec is not None and spec.type == "subworkflow" and not spec.wait


def follows_parent(ctx: Services, run: RunRecord) -> bool:
    """A child run that pauses and resumes with its parent (a loop's iteration, the run
    of a subworkflow step that waits for it), so that an operator acts on the parent:
    not a detached child, nor one whose parent is gone (expired: a detached child
    outlives its parent's retention; pruned), which nothing else could resume. One
    read of the parent."""
    return followed_parent(ctx, run) is not None


def followed_parent(ctx: Services, run: RunRecord) -> RunRecord | None:
    """The parent ``run`` follows (``follows_parent``), as read; None when it follows
    none."""
    if run.parent_run is None:
        return None
    try:
        parent = ctx.store.get_run(run.parent_run)
    except RunNotFound:
        return None
    return None if detached(ctx, run, parent) else parent
