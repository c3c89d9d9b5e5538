"""The local function mapping of `podium.toml` (README step 1, docs/workflow-language.md
"Local functions"): a `[functions]` table beside the workflow.

Was: a file that wrote `[function]` (or forgot the header) was read as having no
mapping at all (local/functions.py ``read_config`` read only ``data["functions"]``;
local/stand_ins.py ignored unknown tables): `podium validate` noted "'sales-extract'
has no local mapping in podium.toml" and `podium run` failed the step with
FunctionNotMapped, both telling the user to add the line that was already there. Now an
unknown table (with the nearest table's name) or a key outside any table is refused,
naming the file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app

runner = CliRunner()

WORKFLOW = """
name: first_day
steps:
  - {id: extract, type: lambda, function: sales-extract}
"""

MODULE = """
def extract(event):
    return {"rows": 3}
"""


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('[function]\n"sales-extract" = "first_day_fns:extract"\n', "[function]"),
        ('"sales-extract" = "first_day_fns:extract"\n', "[functions]"),
    ],
    ids=["table-misspelt", "table-header-forgotten"],
)
def test_a_podium_toml_mapping_outside_the_functions_table_is_pointed_out(
    tmp_path: Path, toml: str, named: str
) -> None:
    """`[function]` (or no header) was read as no mapping; `podium validate` asked for
    the line already in the file. Now it names the unknown table (or the key outside any
    table) and `[functions]`."""
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    (tmp_path / "first_day_fns.py").write_text(MODULE)
    (tmp_path / "podium.toml").write_text(toml)
    result = runner.invoke(app, ["validate", str(tmp_path / "wf.yaml")], env={"COLUMNS": "400"})
    said = _flat(result.output)
    assert named in said, said


def test_a_misspelt_table_names_the_table_meant_and_the_file(tmp_path: Path) -> None:
    """`[function]` is said with the table meant (`did you mean [functions]?`) and the
    file's path; the note no longer asks to map a function the file maps."""
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    (tmp_path / "podium.toml").write_text('[function]\n"sales-extract" = "first_day_fns:extract"\n')
    result = runner.invoke(app, ["validate", str(tmp_path / "wf.yaml")], env={"COLUMNS": "400"})
    said = _flat(result.output)
    assert "did you mean [functions]?" in said, said
    assert "podium.toml" in said, said
    assert "has no local mapping" not in said, said


def test_podium_run_refuses_a_misspelt_table_before_running(tmp_path: Path) -> None:
    """`podium run` ran the workflow and failed its step with FunctionNotMapped. Now it
    stops first, a usage error (exit 2) naming the table."""
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    (tmp_path / "first_day_fns.py").write_text(MODULE)
    (tmp_path / "podium.toml").write_text('[function]\n"sales-extract" = "first_day_fns:extract"\n')
    env = {**os.environ, "PODIUM_HOME": str(tmp_path / "home"), "COLUMNS": "400"}
    ran = subprocess.run(
        [sys.executable, "-m", "podium.cli.main", "run", str(tmp_path / "wf.yaml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    said = _flat(ran.stdout + ran.stderr)
    assert ran.returncode == 2, said
    assert "unknown table [function]" in said, said
    assert "FunctionNotMapped" not in said, said


def test_an_unknown_key_of_the_http_table_is_refused(tmp_path: Path) -> None:
    """`[http] allowed_host = [...]` (a misspelt `allowed_hosts`) was read as no host
    allowed, silently. Now the key is named with the table's keys."""
    from podium.local.stand_ins import read_stand_ins

    path = tmp_path / "podium.toml"
    path.write_text('[http]\nallowed_host = ["localhost:8080"]\n')
    with pytest.raises(ValueError, match="allowed_host") as refused:
        read_stand_ins(path)
    assert "allowed_hosts" in str(refused.value)


def test_the_known_tables_are_still_read(tmp_path: Path) -> None:
    """Every table the docs list is still read as before."""
    from podium.local.functions import read_config
    from podium.local.stand_ins import read_stand_ins

    path = tmp_path / "podium.toml"
    path.write_text(
        '[functions]\n"sales-extract" = "fns:extract"\n'
        '[ecs_tasks]\ntrain = "ml.train:main"\n'
        '[batch_jobs]\nfeatures = { command = ["python", "f.py"] }\n'
        '[glue_jobs]\netl = "etl.local:run"\n'
        '[state_machines]\nReconcile = "recon.local:run"\n'
        '[http]\nallowed_hosts = ["localhost:8080"]\n'
        '[http.map]\n"https://api.example.com" = "fake_api:handle"\n'
        '[secrets]\n"warehouse/token" = "env:WAREHOUSE_TOKEN"\n'
    )
    assert read_config(path) == {"sales-extract": "fns:extract"}
    stand_ins = read_stand_ins(path)
    assert stand_ins.http_hosts == ["localhost:8080"]
    assert stand_ins.jobs["ecs_task"] == {"train": "ml.train:main"}
