"""The examples did not do what their comments and README.md said, and taught logic a
user would copy: train_until's loop stopped at a loss equal to the threshold (``>``) and
capped itself inside its condition (``&& iteration.index < 50``), so a plateau ended
SUCCEEDED as "converged"; cron_etl's 06:00 firing loaded its own, six-hour-old day
rather than the previous one; sales_etl declared a ``regions`` param but transformed
three fixed regions (a run for two failed on a CSV never written); s3_ingest refused a
headerless file with a ValueError, retried twice on the same bad file.

Now train_until trains while ``state.loss >= params.threshold`` with ``max_iterations:
50`` as its only cap (a plateau fails the step), cron_etl's trigger (and its default)
renders the day before the logical date, sales_etl's transform is a foreach over
``${params.regions}`` whose index-aligned outputs load reads, and s3_ingest raises
``podium.NonRetryable``. Each test runs an example as its comments and README.md say, on
a copy in a temp dir and a fresh local home (the CLI in a new process, like a user's
shell)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_cli_local import podium  # the CLI in a new process

ROOT = Path(__file__).resolve().parents[2]


def example(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(ROOT / "examples" / name, folder)
    return folder


def run_json(tmp_path: Path, folder: Path, *args: str) -> dict[str, Any]:
    ran = podium(tmp_path / "home", "run", *args, "--json", cwd=folder)
    assert ran.stdout.strip(), ran.stderr
    body: dict[str, Any] = json.loads(ran.stdout)
    return body


def step(body: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [s for s in body["steps"] if s["step"] == name]
    return found


def test_train_until_trains_until_the_loss_is_below_the_threshold(tmp_path: Path) -> None:
    """README: "a while that trains until the loss is below a threshold". With a threshold
    of 0.1 the loss goes 0.8, 0.4, 0.2, 0.1, 0.05: 0.1 is not below 0.1, yet the loop's
    condition (state.loss > params.threshold) stops there and the report calls it
    converged."""
    folder = example(tmp_path, "train_until")
    body = run_json(tmp_path, folder, "workflow.yaml", "-p", "threshold=0.1")
    assert body["run"]["status"] == "SUCCEEDED", body
    final = step(body, "until_converged")["output"]["state"]
    assert final["loss"] < 0.1, (final, step(body, "report")["output"])


PLATEAU = '''
"""Training whose loss stops improving at 0.05 (it never gets below 0.01)."""


def train_epoch(event):
    epoch = int(event["payload"]["epoch"])
    return {"epoch": epoch, "loss": max(0.05, round(0.8 * 0.5**epoch, 6))}
'''


def test_train_until_does_not_call_a_plateau_converged(tmp_path: Path) -> None:
    """The loop's own cap (`&& iteration.index < 50` in the condition) ends a run that
    never reached the threshold as a success, and the report says "converged after 50
    epochs, loss 0.05" although 0.05 is above the default threshold 0.01
    (max_iterations, which fails the step when the condition still holds, is the cap
    that tells the two apart)."""
    folder = example(tmp_path, "train_until")
    (folder / "plateau.py").write_text(PLATEAU)
    body = run_json(
        tmp_path, folder, "workflow.yaml", "--functions", "train-epoch=plateau:train_epoch"
    )
    loop = step(body, "until_converged")
    report = step(body, "report").get("output")
    claims_convergence = body["run"]["status"] == "SUCCEEDED" and "converged" in str(report)
    assert not claims_convergence, (loop["output"], report)


def test_the_cron_etl_loads_the_day_before_its_firing(tmp_path: Path) -> None:
    """etl.yaml: "Every day at 06:00 Berlin time ... the ETL loads the previous day".
    fire.json fires at 2026-01-15T05:00Z (06:00 in Berlin), as its comment runs it; the
    run's day param is the firing's own date, 2026-01-15, a day only six hours old."""
    folder = example(tmp_path, "cron_etl_report")
    body = run_json(tmp_path, folder, "etl.yaml", "--event", "fire.json")
    assert body["run"]["status"] == "SUCCEEDED", body
    assert body["run"]["params"]["day"] == "2026-01-14", body["run"]["params"]


def test_the_sales_etl_runs_for_the_regions_its_params_name(tmp_path: Path) -> None:
    """daily_sales_etl declares `regions` as a param (extract and load follow it), but
    its transforms are three fixed steps for emea, amer and apac: a run for two regions
    fails transform_apac on a CSV extract never wrote (NoSuchKey)."""
    folder = example(tmp_path, "sales_etl")
    body = run_json(
        tmp_path,
        folder,
        "workflow.yaml",
        "-p",
        "date=2026-03-01",
        "-p",
        'regions=["emea","amer"]',
    )
    statuses = {s["step"]: (s["status"], s.get("error")) for s in body["steps"]}
    assert body["run"]["status"] == "SUCCEEDED", statuses


HEADERLESS = '''
"""The upload of a CSV without a header row first, then the example's validate."""

import contextlib

import boto3

import s3_ingest


def validate(event):
    params = event["params"]
    s3 = boto3.client("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=params["bucket"])
    s3.put_object(Bucket=params["bucket"], Key=params["key"], Body=BODY)
    return s3_ingest.validate(event)
'''


@pytest.mark.parametrize(
    "upload",
    [b"1,latte,2\n2,bagel,1\n", b"\norder_id,product,quantity\n1,latte,2\n"],
    ids=["no-header", "blank-first-line"],
)
def test_s3_ingest_refuses_a_headerless_file_without_retrying_it(
    tmp_path: Path, upload: bytes
) -> None:
    """README: "A function raises podium.NonRetryable for bad data that no retry will
    fix". s3_ingest's validate refuses a file without a header with a ValueError, so its
    `retries: 2` runs it twice more on the same bad file before the run fails; a blank
    first line was an IndexError (retried too, and saying nothing of the header)."""
    folder = example(tmp_path, "s3_ingest")
    (folder / "headerless.py").write_text(HEADERLESS.replace("BODY", repr(upload)))
    body = run_json(
        tmp_path,
        folder,
        "workflow.yaml",
        "--event",
        "s3-event.json",
        "--functions",
        "ingest-validate=headerless:validate",
    )
    validate = step(body, "validate")
    assert body["run"]["status"] == "FAILED" and "no order_id header" in str(validate["error"])
    assert validate["attempts"] == 1, validate
