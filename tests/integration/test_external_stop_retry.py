"""A stop of external work the service refused transiently (ECS throttling StopTask
past botocore's own retries): the attempt has ended, so a ``stop_work`` timer asks
again until the work stops; a refusal for good is not asked again (moto ECS)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from podium.adapters.clock import ManualClock
from podium.adapters.jobs.ecs import EcsTasks
from podium.local.runtime import LocalRuntime
from podium.service.lifecycle import stop_run

from .external_support import manual_ecs_tasks

STEP = {
    "id": "job",
    "type": "ecs_task",
    "cluster": "ml",
    "task_definition": "train",
    "launch_type": "FARGATE",
}


class RefusesStops:
    """ECS whose StopTask fails ``times`` times with ``code``."""

    def __init__(self, client: Any, code: str, times: int) -> None:
        self._client, self._code, self._left, self.tries = client, code, times, 0

    def stop_task(self, **kwargs: Any) -> Any:
        self.tries += 1
        if self._left > 0:
            self._left -= 1
            error = {"Error": {"Code": self._code, "Message": "no"}}
            raise ClientError(error, "StopTask")  # type: ignore[arg-type]
        return self._client.stop_task(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def stopped_run(code: str, times: int) -> tuple[RefusesStops, str]:
    """A run whose task is stopped while StopTask fails; an hour of timers delivered."""
    with LocalRuntime(store="memory", clock=ManualClock()) as rt, manual_ecs_tasks():
        ecs = boto3.client("ecs", region_name="us-east-1")
        ecs.create_cluster(clusterName="ml")
        ecs.register_task_definition(
            family="train",
            networkMode="bridge",
            containerDefinitions=[{"name": "trainer", "image": "x", "memory": 512}],
        )
        refusing = RefusesStops(ecs, code, times)
        rt.services.jobs = {"ecs_task": EcsTasks(refusing)}
        rt.push({"name": "e", "steps": [STEP]})
        run = rt.start_run("e")
        rt.pump(wait=False)
        stop_run(rt.services, run.run_id, "stopped by a test")
        for _ in range(6):
            rt.clock.advance(600_000)
            rt.pump(wait=False)
        (arn,) = ecs.list_tasks(cluster="ml", desiredStatus="STOPPED")["taskArns"] or [""]
        return refusing, arn


def test_a_throttled_stop_is_asked_again_until_the_task_stops() -> None:
    refusing, stopped = stopped_run("ThrottlingException", times=3)
    assert stopped, "the task of a stopped run runs on"
    assert refusing.tries == 4


def test_a_stop_refused_for_good_is_not_asked_again() -> None:
    refusing, stopped = stopped_run("AccessDeniedException", times=100)
    assert not stopped
    assert (
        refusing.tries == 2
    )  # no timer asks again; the poll already due asks once more: the net under a start racing a stop, core/engine/left_work.py
