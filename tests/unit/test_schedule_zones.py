"""A trigger's time zone is an IANA name (core/engine/schedule.py ``zone``): the push
took whatever this machine's zoneinfo files had (``localtime``, ``posixrules``,
``posix/...``, ``right/...``, ``Factory``), names that mean this host's setting, a
leap-second variant, or no zone, and that EventBridge Scheduler and Lambda (whose image
has no zoneinfo files: Podium ships the ``tzdata`` package) do not have. The names are
tzdata's list, the same on every host."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition
from podium.core.engine.schedule import (
    Cron,
    ScheduleError,
    cron_times,
    load_zone,
    logical_date,
    parse_iso,
    zone,
)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("localtime", r"'localtime' is this machine's own zone.*Europe/Berlin or UTC"),
        ("posixrules", r"'posixrules' is the tz database's rule.*Europe/Berlin or UTC"),
        ("posix/Europe/Berlin", r"variant of 'Europe/Berlin'.*use 'Europe/Berlin'"),
        ("right/UTC", r"variant of 'UTC'.*use 'UTC'"),
        ("Factory", r"'Factory' is the tz database's 'zone not set' marker.*Europe/Berlin"),
        ("europe/berlin", r"case-sensitive: use 'Europe/Berlin'"),
        ("utc", r"case-sensitive: use 'UTC'"),
        ("Mars/Olympus", r"unknown time zone 'Mars/Olympus'; use an IANA name"),
        ("/etc/localtime", r"unknown time zone '/etc/localtime'; use an IANA name"),
        ("../zoneinfo/UTC", r"unknown time zone"),
        ("", r"unknown time zone ''"),
    ],
)
def test_names_that_are_not_iana_zones_are_refused_saying_what_to_use(
    name: str, words: str
) -> None:
    with pytest.raises(ScheduleError, match=words):
        zone(name)


@pytest.mark.parametrize(
    "name",
    ["UTC", "Etc/UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "US/Eastern"],
)
def test_iana_names_and_their_links_are_taken(name: str) -> None:
    assert zone(name).key == name


def test_the_names_are_tzdatas_not_the_hosts() -> None:
    listed = set(resources.files("tzdata").joinpath("zones").read_text().split())
    for name in sorted(listed - {"Factory"})[::25]:  # a sample of every region
        zone(name)
    assert "localtime" not in listed and not any(n.startswith("posix/") for n in listed)


def definition(timezone: str) -> dict[str, Any]:
    return {
        "name": "t",
        "steps": [{"id": "a", "type": "noop"}],
        "triggers": [{"id": "nightly", "cron": "0 6 * * *", "timezone": timezone}],
    }


@pytest.mark.parametrize("name", ["localtime", "posixrules", "right/UTC", "Factory"])
def test_the_push_refuses_them(name: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        validate_definition(definition(name))
    assert "IANA" in str(caught.value) or "use 'UTC'" in str(caught.value)


def test_a_version_stored_with_one_still_loads_and_fires() -> None:
    """A name an earlier release took stays readable: the stored version is not
    refused (its runs and its schedule go on); only a push must name an IANA zone."""
    defn = validate_definition(definition("Factory"), stored=True)
    assert defn.trigger_map["nightly"].timezone == "Factory"
    times = cron_times(
        Cron.parse("0 6 * * *"),
        "Factory",
        parse_iso("2026-01-01T00:00:00Z"),
        parse_iso("2026-01-03T00:00:00Z"),
    )
    assert len(times) == 2
    assert logical_date(times[0], "Factory") == "2026-01-01"
    assert load_zone("Factory").key == "Factory"
    with pytest.raises(ScheduleError, match="unknown time zone 'Nowhere/Land'"):
        load_zone("Nowhere/Land")


def test_a_backfill_of_a_version_stored_with_one_plans_its_times() -> None:
    """The backfill read its dates with the push's strict check: a stored trigger with
    such a name raised an uncaught ScheduleError (a 500) instead of planning."""
    import json

    from podium.adapters.clock import ManualClock
    from podium.core.engine.schedule import parse_iso
    from podium.local.runtime import LocalRuntime
    from podium.service.backfill import BackfillRequest, backfill_request

    now = parse_iso("2026-04-01T00:00:00Z")  # after the range: its times have come
    with LocalRuntime(store="memory", clock=ManualClock(start_ms=now)) as rt:
        document = definition("posix/Europe/Berlin")
        rt.store.put_workflow_version("t", document, "digest", 1)  # as stored before
        request = BackfillRequest.model_validate(
            {"from": "2026-03-01", "to": "2026-03-02", "dry_run": True}
        )
        summary = backfill_request(rt.services, "t", request)
    assert summary["times"] == 2, json.dumps(summary)
    assert summary["entries"][0]["time"] == "2026-03-01T05:00:00Z"  # 06:00 in Berlin
