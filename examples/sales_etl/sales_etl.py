"""The sales ETL's step functions. On AWS each would be a Lambda function; on the embedded
runtime Podium calls them in-process and boto3 talks to moto's S3.

Each function gets Podium's event: {"payload", "params", "run", "step", "attempt",
"idempotency_key"}. What it returns becomes the step's output.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import random

import boto3

PRODUCTS = ["espresso", "latte", "cold brew", "croissant", "bagel"]


def _s3():  # type: ignore[no-untyped-def]
    return boto3.client("s3")


def extract(event: dict) -> dict:
    """Write one CSV of the day's orders per region (deterministic for a date)."""
    params = event["params"]
    bucket, date = params["bucket"], params["date"]
    s3 = _s3()
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)
    rows_written = {}
    for region in params["regions"]:
        rng = random.Random(f"{date}/{region}")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["order_id", "product", "quantity", "unit_price"])
        n = rng.randint(40, 80)
        for i in range(n):
            product = rng.choice(PRODUCTS)
            writer.writerow(
                [f"{region}-{i}", product, rng.randint(1, 5), rng.choice([3.5, 4.0, 4.5])]
            )
        s3.put_object(Bucket=bucket, Key=f"raw/{date}/{region}.csv", Body=out.getvalue().encode())
        rows_written[region] = n
        print(f"wrote {n} orders to s3://{bucket}/raw/{date}/{region}.csv")
    return {"orders": rows_written}


def transform(event: dict) -> dict:
    """Aggregate one region's orders into revenue per product (one foreach iteration)."""
    params, region = event["params"], event["payload"]["region"]
    bucket, date = params["bucket"], params["date"]
    s3 = _s3()
    body = s3.get_object(Bucket=bucket, Key=f"raw/{date}/{region}.csv")["Body"].read().decode()
    revenue: dict[str, float] = {}
    orders = 0
    for row in csv.DictReader(io.StringIO(body)):
        orders += 1
        amount = int(row["quantity"]) * float(row["unit_price"])
        revenue[row["product"]] = round(revenue.get(row["product"], 0.0) + amount, 2)
    aggregate = {"region": region, "orders": orders, "revenue": revenue}
    key = f"aggregates/{date}/{region}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(aggregate).encode())
    return {
        "region": region,
        "orders": orders,
        "total": round(sum(revenue.values()), 2),
        "key": key,
    }


def load(event: dict) -> dict:
    """Merge the regional aggregates into one summary object: the payload's `aggregates`
    are the transform iterations' outputs, one per region, index-aligned."""
    params = event["params"]
    bucket, date = params["bucket"], params["date"]
    s3 = _s3()
    by_region = {}
    by_product: dict[str, float] = {}
    for aggregate in event["payload"]["aggregates"]:
        by_region[aggregate["region"]] = aggregate["total"]
        agg = json.loads(s3.get_object(Bucket=bucket, Key=aggregate["key"])["Body"].read())
        for product, amount in agg["revenue"].items():
            by_product[product] = round(by_product.get(product, 0.0) + amount, 2)
    summary = {
        "date": date,
        "revenue_by_region": by_region,
        "revenue_by_product": dict(sorted(by_product.items(), key=lambda kv: -kv[1])),
        "total_revenue": round(sum(by_region.values()), 2),
    }
    key = f"summary/{date}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(summary).encode())
    return {"summary_key": f"s3://{bucket}/{key}", "total_revenue": summary["total_revenue"]}


def report(event: dict) -> str:
    """Read the summary back from S3 and format it."""
    params = event["params"]
    bucket, date = params["bucket"], params["date"]
    summary = json.loads(_s3().get_object(Bucket=bucket, Key=f"summary/{date}.json")["Body"].read())
    lines = [f"Sales report for {date}: total revenue {summary['total_revenue']:.2f}"]
    for region, amount in summary["revenue_by_region"].items():
        lines.append(f"  {region:<6} {amount:>10.2f}")
    top = next(iter(summary["revenue_by_product"]), None)
    if top is not None:
        lines.append(f"  best seller: {top}")
    return "\n".join(lines)
