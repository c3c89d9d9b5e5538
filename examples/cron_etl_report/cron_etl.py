"""The ETL's and the report's step functions (Lambda functions on AWS)."""

from __future__ import annotations

import random


def extract(event: dict) -> dict:
    day = event["params"]["day"]
    rows = random.Random(day).randint(50, 150)
    return {"rows": rows}


def load(event: dict) -> dict:
    day = event["params"]["day"]
    rows = random.Random(day).randint(50, 150)
    print(f"loaded {rows} rows for {day}")
    return {"rows": rows, "table": f"sales_{day.replace('-', '')}"}


def build_report(event: dict) -> dict:
    params = event["params"]
    print(f"report for {params['day']} from {params['table']}")
    return {"report": f"s3://reports/{params['day']}.html"}
