"""``podium dev``'s console views and a blank query parameter, next to the deployed
API's views, which dev also serves (the api function's answer, forwarded)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.integration.dev_support import memory_dev_server


def get_json(url: str) -> tuple[int, Any]:
    """GET ``url``: the status and the JSON body, an error's too."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize(
    "view", ["/runs?limit=", "/runs/r-1?offset=", "/runs/r-1?limit=", "/runs/r-1?offset=&limit="]
)
def test_a_blank_query_parameter_is_answered_as_the_deployed_api_answers_it(view: str) -> None:
    """``GET /api/console/runs?limit=`` (a blank limit) on ``podium dev`` answered 200
    with the default page, while the deployed API's ``/console/runs?limit=`` answered 400
    at query.limit (and so offset=/limit= on the run page): dev's console views dropped
    blank parameters (parse_qs without keep_blank_values). Both answer alike now."""
    with memory_dev_server() as server:
        deployed, body = get_json(server.url + "/console" + view)
        assert deployed == 400, body  # the api handler's answer, forwarded by dev
        local, answer = get_json(server.url + "/api/console" + view)
        assert local == deployed, answer
        assert [e["path"] for e in answer["errors"]] == [e["path"] for e in body["errors"]]
