"""One workflow file, local and AWS: a lambda step names its Lambda function, and a local
mapping (``podium.toml`` beside the workflow, ``--functions``) says which Python callable
plays it locally. ``module:function`` keeps working locally; a deployed stack refuses it
at push, naming the step and the fix."""

from __future__ import annotations

import json
import logging
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from podium import bootstrap
from podium.adapters.clock import SystemClock, UlidGenerator
from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.queues import SqsQueue
from podium.adapters.runners import LambdaFunctionRunner, LocalFunctionRunner, RoutingRunner
from podium.adapters.table_schema import create_table
from podium.cli.main import app
from podium.core.dsl.errors import DefinitionError
from podium.core.functions import is_python_ref, lambda_name
from podium.core.ports import Invocation
from podium.local.functions import parse_pairs, read_config
from podium.local.runtime import LocalRuntime
from podium.service.context import Services
from podium.service.runtimes.registry import RUNTIMES
from podium.service.workflows import push_workflow
from podium.testing import run_workflow, step_of
from tests.integration import remote_support as rs

runner = CliRunner()

MODULE = """\
def extract(event):
    return {"rows": 3, "date": event["params"]["date"]}

def load(event):
    return {"loaded": event["payload"]["rows"] * 10}
"""

WORKFLOW = """\
name: mapped_etl
params:
  date: {type: string, default: "2026-01-15"}
steps:
  - {id: extract, type: lambda, function: etl-extract, retries: 2}
  - id: load
    type: lambda
    function: arn:aws:lambda:us-east-1:123456789012:function:etl-load
    payload: {rows: "${steps.extract.output.rows}"}
    depends_on: [extract]
"""

TOML = """\
[functions]
"etl-extract" = "etl_mod_{tag}:extract"
"etl-load" = "etl_mod_{tag}:load"
"""


def project(tmp_path: Path, tag: str, *, toml: bool = True) -> Path:
    """A workflow, its Python module (a name of its own: modules are cached per process)
    and, unless told not to, its podium.toml."""
    (tmp_path / f"etl_mod_{tag}.py").write_text(MODULE)
    (tmp_path / "workflow.yaml").write_text(WORKFLOW)
    if toml:
        (tmp_path / "podium.toml").write_text(TOML.format(tag=tag))
    return tmp_path / "workflow.yaml"


def test_refs_tell_python_callables_from_lambda_names() -> None:
    assert is_python_ref("sales_etl:extract")
    assert is_python_ref("pkg.mod:Class.method")
    for lambda_ref in (
        "sales-extract",
        "sales-extract:prod",  # a name with an alias
        "sales_extract:7",  # a name with a version
        "sales_extract:$LATEST",
        "arn:aws:lambda:us-east-1:123456789012:function:sales-extract",
        "arn:aws:lambda:us-east-1:123456789012:function:sales_extract:live",
        "123456789012:function:sales-extract",
    ):
        assert not is_python_ref(lambda_ref), lambda_ref
    assert lambda_name("arn:aws:lambda:eu-west-1:123456789012:function:f:live") == "f"
    assert lambda_name("plain") == "plain"


def test_podium_run_maps_lambda_names_with_podium_toml(tmp_path: Path) -> None:
    wf = project(tmp_path, "toml")
    result = runner.invoke(app, ["run", str(wf), "--json", "--home", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["run"]["status"] == "SUCCEEDED"
    outputs = {s["step"]: s["output"] for s in body["steps"]}
    assert outputs == {"extract": {"rows": 3, "date": "2026-01-15"}, "load": {"loaded": 30}}


def test_functions_option_maps_and_wins_over_podium_toml(tmp_path: Path) -> None:
    wf = project(tmp_path, "cli", toml=False)
    (tmp_path / "etl_other_cli.py").write_text("def load(event):\n    return {'other': True}\n")
    (tmp_path / "podium.toml").write_text('[functions]\n"etl-load" = "etl_mod_cli:load"\n')
    result = runner.invoke(
        app,
        [
            "run",
            str(wf),
            "--json",
            "--home",
            str(tmp_path / "home"),
            "--functions",
            "etl-extract=etl_mod_cli:extract",
            "--functions",
            "etl-load=etl_other_cli:load",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert {s["step"]: s["output"] for s in body["steps"]}["load"] == {"other": True}


def test_an_unmapped_lambda_name_fails_at_once_naming_podium_toml(tmp_path: Path) -> None:
    wf = project(tmp_path, "none", toml=False)
    result = runner.invoke(app, ["run", str(wf), "--json", "--home", str(tmp_path / "home")])
    assert result.exit_code == 1, result.output
    body = json.loads(result.stdout)
    extract = next(s for s in body["steps"] if s["step"] == "extract")
    assert extract["status"] == "FAILED"
    assert extract["attempts"] == 1  # not retried (retries: 2): no mapping will appear
    assert "etl-extract" in extract["error"] and "podium.toml" in extract["error"]
    assert "--functions etl-extract=module:function" in extract["error"]


def test_the_runner_reports_an_unmapped_name_as_not_retryable() -> None:
    local = LocalFunctionRunner({"mapped": "json:dumps"})
    result = RoutingRunner(local, None).invoke(Invocation("nope", {}, "k"))
    assert not result.ok and not result.retryable
    assert result.error_type == "Podium.FunctionNotMapped"
    assert local.plays("mapped") and local.plays("os.path:join") and not local.plays("nope")


def test_a_mapped_name_stays_local_when_a_lambda_runner_exists() -> None:
    class NoLambda:
        def invoke(self, **_: Any) -> Any:
            raise AssertionError("the mapped function went to Lambda")

    local = LocalFunctionRunner({"shout": "tests.integration.test_function_mapping:shout"})
    routed = RoutingRunner(local, LambdaFunctionRunner(NoLambda()))
    result = routed.invoke(Invocation("shout", {"text": "hi"}, "k"))
    assert result.ok and result.output == "HI"


def shout(event: dict[str, Any]) -> str:
    """A step's event holds its payload; a bare invocation is the payload."""
    return str(event.get("payload", event)["text"]).upper()


def test_bad_podium_toml_and_bad_pairs_are_usage_errors(tmp_path: Path) -> None:
    wf = project(tmp_path, "bad", toml=False)
    (tmp_path / "podium.toml").write_text('[functions]\n"etl-extract" = "not a callable"\n')
    result = runner.invoke(app, ["run", str(wf), "--home", str(tmp_path / "home")])
    assert result.exit_code == 2
    assert "podium.toml" in result.output and "etl-extract" in result.output
    (tmp_path / "podium.toml").write_text("[functions\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        read_config(tmp_path / "podium.toml")
    with pytest.raises(ValueError, match="use name=module:function"):
        parse_pairs(["etl-extract"])
    assert parse_pairs(["a=m:f,b=m:g"]) == {"a": "m:f", "b": "m:g"}


def test_podium_testing_reads_podium_toml_and_takes_functions(tmp_path: Path) -> None:
    wf = project(tmp_path, "testing")
    view = run_workflow(wf, {"date": "2026-02-02"})
    assert view.run.status.value == "SUCCEEDED"
    assert step_of(view, "load").output == {"loaded": 30}
    (tmp_path / "etl_alt_testing.py").write_text("def load(event):\n    return 'alt'\n")
    view = run_workflow(wf, functions={"etl-load": "etl_alt_testing:load"})
    assert step_of(view, "load").output == "alt"


def test_module_function_keeps_working_locally() -> None:
    definition = {
        "name": "direct_ref",
        "steps": [
            {
                "id": "s",
                "type": "lambda",
                "function": "tests.integration.test_function_mapping:shout",
                "payload": {"text": "local"},
            }
        ],
    }
    view = run_workflow(definition)
    assert step_of(view, "s").output == "LOCAL"


def test_the_deployed_wiring_refuses_python_callables() -> None:
    podium_logger = logging.getLogger("podium")
    saved = (list(podium_logger.handlers), podium_logger.propagate, podium_logger.level)
    try:
        ctx = bootstrap.from_environment(
            {
                "PODIUM_TABLE_NAME": "t",
                "PODIUM_WORK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/work",
                "PODIUM_EVENT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/events",
                "AWS_REGION": "us-east-1",
            }
        )
    finally:
        podium_logger.handlers, podium_logger.propagate = saved[0], saved[1]
        podium_logger.setLevel(saved[2])
    assert ctx.local_functions is False
    with pytest.raises(DefinitionError) as caught:
        push_workflow(
            ctx,
            {
                "name": "w",
                "steps": [
                    {"id": "ok", "type": "lambda", "function": "etl-extract"},
                    {"id": "bad", "type": "lambda", "function": "sales_etl:extract"},
                ],
            },
        )
    (issue,) = caught.value.issues
    assert issue.path == "steps[1].function"
    assert "step 'bad'" in issue.message and "podium.toml" in issue.message


@pytest.fixture
def aws_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[rs.ApiGateway]:
    """A deployed stack on moto behind a SigV4-checking gateway, wired as on Lambda: its
    push refuses Python callables."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "PODIUM_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", rs.REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("PODIUM_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("COLUMNS", "300")
    with mock_aws(), rs.ApiGateway() as gateway:
        cf = boto3.client("cloudformation", region_name=rs.REGION)
        cf.create_stack(
            StackName="mapped", TemplateBody=json.dumps(rs.stack_template(gateway.url, "state"))
        )
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in cf.describe_stacks(StackName="mapped")["Stacks"][0]["Outputs"]
        }
        db = boto3.client("dynamodb", region_name=rs.REGION)
        sqs = boto3.client("sqs", region_name=rs.REGION)
        create_table(db, outputs["TableName"])
        clock = SystemClock()
        bootstrap.install(
            Services(
                runtimes=RUNTIMES,
                store=DynamoStateStore(db, outputs["TableName"]),
                work_queue=SqsQueue(sqs, outputs["WorkQueueUrl"]),
                event_queue=SqsQueue(sqs, outputs["EventQueueUrl"]),
                runner=LambdaFunctionRunner(boto3.client("lambda", region_name=rs.REGION)),
                clock=clock,
                ids=UlidGenerator(clock),
                local_functions=False,
            )
        )
        # The user's credentials (moto put fake ones in place when it started).
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", rs.ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", rs.SECRET_KEY)
        try:
            yield gateway
        finally:
            bootstrap.install(None)


def test_push_to_aws_refuses_module_function_naming_the_step_and_the_fix(
    aws_stack: rs.ApiGateway, tmp_path: Path
) -> None:
    wf = tmp_path / "direct.yaml"
    wf.write_text(
        textwrap.dedent(
            """\
            name: direct
            steps:
              - {id: extract, type: lambda, function: sales_etl:extract}
              - {id: load, type: lambda, function: sales-load, depends_on: [extract]}
            """
        )
    )
    result = runner.invoke(app, ["push", str(wf), "--stack", "mapped"])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "steps[0].function" in text and "step 'extract'" in text
    assert "Python callable 'sales_etl:extract'" in text
    assert "podium.toml" in text and '"sales-etl-extract" = "sales_etl:extract"' in text
    # The same file with Lambda names (mapped locally in podium.toml) is accepted.
    project(tmp_path, "aws")
    result = runner.invoke(app, ["push", str(tmp_path / "workflow.yaml"), "--stack", "mapped"])
    assert result.exit_code == 0, result.output
    assert "pushed mapped_etl v1" in result.output


def test_a_local_push_accepts_module_function(tmp_path: Path) -> None:
    """The embedded runtime (podium run, podium dev, podium.testing) calls Python."""
    with LocalRuntime(store="sqlite", home=tmp_path / "home") as rt:
        assert rt.services.local_functions
        name = rt.push({"name": "d", "steps": [{"id": "s", "type": "lambda", "function": "m:f"}]})
        assert name == "d"


def test_validate_notes_where_lambda_steps_can_run(tmp_path: Path) -> None:
    wf = project(tmp_path, "validate")
    result = runner.invoke(app, ["validate", str(wf)])
    assert result.exit_code == 0 and "no local mapping" not in result.output  # all mapped
    (tmp_path / "podium.toml").unlink()
    direct = tmp_path / "direct.yaml"
    direct.write_text(
        "name: d\nsteps:\n  - {id: a, type: lambda, function: etl_mod_validate:extract}\n"
        "  - {id: b, type: lambda, function: etl-load, depends_on: [a]}\n"
    )
    result = runner.invoke(app, ["validate", str(direct)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "steps[0].function: 'etl_mod_validate:extract' is a Python callable" in text
    assert "steps[1].function: Lambda function 'etl-load' has no local mapping" in text
