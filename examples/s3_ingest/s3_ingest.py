"""The S3 ingest's step functions (each a Lambda function on AWS). Locally boto3 talks
to moto's S3, so ``validate`` writes a sample object first when the bucket is empty."""

from __future__ import annotations

import contextlib
import csv
import io

import boto3

from podium import NonRetryable

SAMPLE = "order_id,product,quantity\n1,latte,2\n2,bagel,1\n3,espresso,4\n"


def validate(event: dict) -> dict:
    """Count the CSV's rows; a file without a header is refused at once (NonRetryable:
    the step's retries are for S3's hiccups, and no retry fixes the file)."""
    params = event["params"]
    s3 = boto3.client("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=params["bucket"])
    try:
        body = s3.get_object(Bucket=params["bucket"], Key=params["key"])["Body"].read()
    except s3.exceptions.NoSuchKey:  # the local demo: play the upload
        s3.put_object(Bucket=params["bucket"], Key=params["key"], Body=SAMPLE.encode())
        body = SAMPLE.encode()
    try:
        text = body.decode("utf-8-sig")  # a BOM (Excel's CSV export) is not part of the header
    except UnicodeDecodeError as e:
        raise NonRetryable(f"{params['key']}: not UTF-8 text ({e})") from e
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not rows[0] or rows[0][0] != "order_id":  # empty, a blank first line
        raise NonRetryable(f"{params['key']}: no order_id header")
    print(f"{params['key']}: {len(rows) - 1} rows")
    return {"rows": len(rows) - 1}


def load(event: dict) -> dict:
    print(f"loaded {event['params']['key']}")
    return {"loaded": event["params"]["key"]}
