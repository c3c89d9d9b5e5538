"""The nightly feed's step functions (each would be a Lambda function on AWS)."""

from __future__ import annotations

from podium import NonRetryable


def fetch(event: dict) -> dict:
    """The day's rows, as a partner sends them (one of them is broken)."""
    rows = ["12", "7", "31", "5", "18", "22", "n/a", "9"]
    print(f"fetched {len(rows)} rows for {event['params']['date']}")
    return {"rows": rows}


def clean(event: dict) -> dict:
    values = []
    for number, row in enumerate(event["payload"]["rows"], start=1):
        if not row.isdigit():
            if event["params"]["skip_bad_rows"]:
                print(f"skipped row {number}: {row!r}")
                continue
            raise NonRetryable(f"row {number}: {row!r} is not a number")
        values.append(int(row))
    return {"values": values}


def publish(event: dict) -> dict:
    values = event["payload"]["values"]
    return {"rows": len(values), "total": sum(values)}
