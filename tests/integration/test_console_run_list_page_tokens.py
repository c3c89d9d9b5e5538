"""The console's run list pages on with a ``next`` token (``/console/runs?next=TOKEN``,
podium dev's ``/api/console/runs``): it took none, so runs past the newest 200 a filter
matched were out of reach. A forged or cut token is refused at query.next (400), by the
deployed route and by podium dev alike, never a 500."""

from __future__ import annotations

import base64

import pytest

from podium.local.dev_server import DevServer
from tests.integration import test_cli_dev_console_queries as console_queries
from tests.integration.test_dev_console_parity import both

WF = {"name": "paged", "steps": [{"id": "a", "type": "noop"}]}

dev = console_queries.dev


def test_the_next_token_leads_on_to_older_runs(dev: DevServer) -> None:
    ids = [dev.runtime.run(WF).run.run_id for _ in range(3)]
    (status, _, first), (api_status, _, deployed) = both(dev, "/runs?workflow=paged&limit=2")
    assert status == api_status == 200 and first["runs"] == deployed["runs"]
    token = first["next"]
    (status, _, second), (api_status, _, deployed) = both(dev, f"/runs?limit=2&next={token}")
    assert status == api_status == 200 and second["runs"] == deployed["runs"]
    listed = [r["run_id"] for r in first["runs"] + second["runs"]]
    assert sorted(listed) == sorted(ids) and len(set(listed)) == 3 and "next" not in second


@pytest.mark.parametrize(
    "token",
    [
        "%00",
        "bm90IGpzb24",  # "not json"
        base64.urlsafe_b64encode(b'["runs", 1e400, "a"]').decode(),
        base64.urlsafe_b64encode(b'["runs", 99999999999999999999999999999, "a"]').decode(),
        base64.urlsafe_b64encode(b'["runs", 1, "../../x"]').decode(),
        base64.urlsafe_b64encode(b'["runs", 1, {"a": 1}]').decode(),
    ],
)
def test_a_forged_token_is_a_400_at_query_next(dev: DevServer, token: str) -> None:
    dev.runtime.run(WF)
    (dev_status, _, dev_body), (api_status, _, api_body) = both(dev, f"/runs?next={token}")
    assert (dev_status, api_status) == (400, 400), (dev_body, api_body)
    assert dev_body["errors"][0]["path"] == api_body["errors"][0]["path"] == "query.next"
