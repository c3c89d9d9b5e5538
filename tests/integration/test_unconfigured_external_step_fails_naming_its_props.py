"""An external step type whose construct props are empty: its steps failed with the
AccessDenied of a grant the construct never made, not the promised ConfigError naming
the prop to set. bootstrap.aws_jobs wired all four backends whatever the props; now the
construct lists the granted types in PODIUM_EXTERNAL_STEP_TYPES, bootstrap wires only
those (all four when it is unset: a stack from before it), and the step fails with
Podium.ConfigError naming the props."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium import bootstrap
from podium.adapters.clock import ManualClock
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from tests.unit.test_bootstrap_step_targets import ENV

from .test_ecs_task import workflow


def test_only_the_granted_types_are_wired() -> None:
    glue_only = bootstrap.from_environment({**ENV, "PODIUM_EXTERNAL_STEP_TYPES": "glue_job"})
    assert set(glue_only.jobs) == {"glue_job"}
    none = bootstrap.from_environment({**ENV, "PODIUM_EXTERNAL_STEP_TYPES": ""})
    assert none.jobs == {}
    unset = bootstrap.from_environment(ENV)
    assert set(unset.jobs) == {"ecs_task", "batch_job", "glue_job", "sfn_execution"}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    """A runtime with the deployed wiring of a stack whose props name Glue jobs only."""
    wired = bootstrap.from_environment({**ENV, "PODIUM_EXTERNAL_STEP_TYPES": "glue_job"})
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        runtime.services.jobs = wired.jobs
        yield runtime


def test_a_step_of_a_type_not_granted_fails_naming_its_props(rt: LocalRuntime) -> None:
    rt.push(workflow(retries=3))
    run = rt.start_run("train_wf")
    rt.pump(wait=False)
    record = rt.store.get_step(run.run_id, "train")
    assert record is not None
    assert record.status is StepStatus.FAILED and record.attempt == 1  # not retried
    assert record.error_type == "Podium.ConfigError"
    assert "ecs_cluster_arns" in (record.error or ""), record.error
