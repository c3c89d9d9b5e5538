"""The deployed wiring of the external step types: every backend made lazily, and the
HTTP allow-list from PODIUM_HTTP_HOSTS (none when unset)."""

from __future__ import annotations

from podium import bootstrap
from podium.adapters.jobs.lazy import LazyBackend

ENV = {
    "PODIUM_TABLE_NAME": "t",
    "PODIUM_WORK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/w",
    "PODIUM_EVENT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/e",
    "AWS_REGION": "us-east-1",
}


def test_backends_are_lazy_and_hosts_come_from_the_environment() -> None:
    wired = bootstrap.from_environment({**ENV, "PODIUM_HTTP_HOSTS": "api.example.com, *.b.io"})
    assert set(wired.jobs) == {"ecs_task", "batch_job", "glue_job", "sfn_execution"}
    assert all(isinstance(b, LazyBackend) and b._backend is None for b in wired.jobs.values())
    assert wired.http is not None
    assert wired.http.allowed_hosts == frozenset({"api.example.com", "*.b.io"})
    nothing = bootstrap.from_environment(ENV)
    assert nothing.http is not None and nothing.http.allowed_hosts == frozenset()
