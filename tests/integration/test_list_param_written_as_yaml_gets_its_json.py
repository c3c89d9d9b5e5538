"""`podium run FILE -p regions='[emea, amer]'`: a list param written as YAML.

Was: a list or map param's `-p` text is read as JSON, so `[emea, amer]` stayed a string
and was refused with `expected list (a list such as ["a", "b"]), got string '[emea,
amer]'`, leaving the user to find out that the strings must be quoted. Now the refusal
gives the same value written as JSON, to copy: `'["emea", "amer"]'`.
"""

from __future__ import annotations

from pathlib import Path

from podium.core.dsl.models import ParamSpec, ParamType
from podium.core.dsl.params import check_value
from tests.integration.test_cli_local import podium

WORKFLOW = """
name: regions_wf
params:
  regions: {type: list, default: [emea]}
steps:
  - {id: a, type: noop}
"""


def test_a_list_param_written_as_yaml_on_the_command_line_gets_its_json(tmp_path: Path) -> None:
    """The CLI's refusal gives the JSON to write."""
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    ran = podium(tmp_path / "home", "run", str(tmp_path / "wf.yaml"), "-p", "regions=[emea, amer]")
    said = " ".join((ran.stdout + ran.stderr).split())
    assert ran.returncode != 0, said
    assert """'["emea", "amer"]'""" in said, said


def test_a_map_written_as_yaml_gets_its_json_and_plain_text_gets_none() -> None:
    """A map too; a text that is no list or map keeps the refusal as it was."""
    _, issue = check_value(ParamSpec(type=ParamType.MAP), "{day: 1}", "params.m")
    assert issue is not None and """'{"day": 1}'""" in issue.message, issue
    _, plain = check_value(ParamSpec(type=ParamType.LIST), "emea", "params.regions")
    assert plain is not None and "JSON" not in plain.message, plain
