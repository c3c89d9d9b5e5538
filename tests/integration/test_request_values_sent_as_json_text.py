"""A whole-template request field (``"${params.cfg}"``) whose value was a bool, list or
map was sent as Python's repr in the text fields of external and http steps.

docs/workflow-language.md (Params): "Where a rendered value leaves Podium ... (an http,
job or state machine request ...) it is JSON, in the forms templates print inside text".
Inside text a template prints JSON (``"x-${params.flag}"`` -> ``x-true``), and a string
that is exactly one ``${expr}`` takes the expression's value; but the adapters then
turned that value into the service's text field with ``str(v)``
(adapters/jobs/glue.py ``arguments``, batch.py ``parameters``/``environment``/
``command``, ecs.py ``environment``/``command``, local.py ``environment``,
service/runtimes/http.py ``headers``). So a Glue job got ``--cfg "{'a': 1, 'b': True}"``
(not JSON: its script's json.loads failed), ``--flag True`` and ``--regions "['eu',
'us']"``, while the same value inside text is ``true`` / ``["eu","us"]``.

Expected: a non-string value in a text field is sent in the form the template would
print it inside text (JSON: ``true``, ``["eu","us"]``, ``{"a":1,"b":true}``), by one
helper shared by every adapter (core/engine/text_fields.as_text).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID

from podium.adapters.http_transport import MappedHttpTransport, StdlibHttpTransport
from podium.adapters.jobs.glue import GlueJobs
from podium.core.ports import HttpAccess
from podium.local.runtime import LocalRuntime
from tests.integration import test_aws_jobs as aws_jobs_tests

REGION = "us-east-1"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/podium-test"
PARAMS = {
    "cfg": {"type": "map", "default": {"a": 1, "b": True}},
    "flag": {"type": "bool", "default": True},
    "regions": {"type": "list", "default": ["eu", "us"]},
}


rt = aws_jobs_tests.rt  # the fixture: a memory runtime, moto Glue runs held RUNNING


def test_glue_arguments_get_json_text_for_bool_list_and_map_values(rt: LocalRuntime) -> None:
    glue = boto3.client("glue", region_name=REGION)
    glue.create_job(
        Name="nightly_etl",
        Role=ROLE,
        Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/etl.py"},
    )
    rt.services.jobs = {"glue_job": GlueJobs(glue)}
    rt.push(
        {
            "name": "glue_args",
            "params": PARAMS,
            "steps": [
                {
                    "id": "job",
                    "type": "glue_job",
                    "job_name": "nightly_etl",
                    "arguments": {
                        "--cfg": "${params.cfg}",
                        "--flag": "${params.flag}",
                        "--regions": "${params.regions}",
                        "--inline": "${params.flag}/${params.regions}",
                    },
                }
            ],
        }
    )
    rt.start_run("glue_args")
    rt.pump(wait=False)
    (job_run,) = glue.get_job_runs(JobName="nightly_etl")["JobRuns"]
    args = job_run["Arguments"]
    # The same values printed inside text: JSON.
    assert args["--inline"] == 'true/["eu","us"]'
    # Was: "{'a': 1, 'b': True}", "True", "['eu', 'us']" (Python's repr).
    assert args["--flag"] == "true", args["--flag"]
    assert json.loads(args["--cfg"]) == {"a": 1, "b": True}, args["--cfg"]
    assert json.loads(args["--regions"]) == ["eu", "us"], args["--regions"]


def test_http_header_gets_json_text_for_a_bool_and_a_list(rt: LocalRuntime) -> None:
    seen: list[dict[str, Any]] = []

    def api(request: dict[str, Any]) -> Any:
        seen.append(request)
        return {"ok": True}

    transport = MappedHttpTransport(
        StdlibHttpTransport(), {"https://api.example.com": "fake:api"}, lambda ref: api
    )
    rt.services.http = HttpAccess(transport, frozenset({"api.example.com"}))
    view = rt.run(
        {
            "name": "http_headers",
            "params": PARAMS,
            "steps": [
                {
                    "id": "c",
                    "type": "http",
                    "url": "https://api.example.com/refresh",
                    "headers": {"X-Dry-Run": "${params.flag}", "X-Regions": "${params.regions}"},
                }
            ],
        }
    )
    assert view.steps[0].error is None, view.steps[0].error
    (request,) = seen
    # Was: "True" and "['eu', 'us']".
    assert request["headers"]["x-dry-run"] == "true"
    assert json.loads(request["headers"]["x-regions"]) == ["eu", "us"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("as is", "as is"),
        (True, "true"),
        (None, "null"),
        (3, "3"),
        (2.5, "2.5"),
        (["eu", "us"], '["eu","us"]'),
        ({"a": 1, "b": True}, '{"a":1,"b":true}'),
        ({"city": "Zürich"}, '{"city":"Zürich"}'),
    ],
)
def test_the_shared_helper_prints_what_a_template_prints_inside_text(value: Any, text: str) -> None:
    from podium.core.engine.text_fields import as_text  # new with the fix

    assert as_text(value) == text


def test_ecs_and_batch_overrides_use_the_same_text() -> None:
    from podium.adapters.jobs.ecs import _container_override

    override = _container_override(
        "main", {"command": ["run", 3, True], "environment": {"REGIONS": ["eu", "us"]}}
    )
    assert override == {
        "name": "main",
        "command": ["run", "3", "true"],
        "environment": [{"name": "REGIONS", "value": '["eu","us"]'}],
    }
