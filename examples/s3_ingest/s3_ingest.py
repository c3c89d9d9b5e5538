"""The S3 ingest's step functions (each a Lambda function on AWS). Locally boto3 talks
to moto's S3, so ``validate`` writes a sample object first when the bucket is empty."""

from __future__ import annotations

import contextlib
import csv
import io

import boto3

SAMPLE = "order_id,product,quantity\n1,latte,2\n2,bagel,1\n3,espresso,4\n"


def validate(event: dict) -> dict:
    """Count the CSV's rows; a file without a header is refused."""
    params = event["params"]
    s3 = boto3.client("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=params["bucket"])
    try:
        body = s3.get_object(Bucket=params["bucket"], Key=params["key"])["Body"].read()
    except s3.exceptions.NoSuchKey:  # the local demo: play the upload
        s3.put_object(Bucket=params["bucket"], Key=params["key"], Body=SAMPLE.encode())
        body = SAMPLE.encode()
    rows = list(csv.reader(io.StringIO(body.decode())))
    if not rows or rows[0][0] != "order_id":
        raise ValueError(f"{params['key']}: no order_id header")
    print(f"{params['key']}: {len(rows) - 1} rows")
    return {"rows": len(rows) - 1}


def load(event: dict) -> dict:
    print(f"loaded {event['params']['key']}")
    return {"loaded": event["params"]["key"]}
