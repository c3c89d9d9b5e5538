"""The table's key schema, in one place: the embedded runtime and tests create it from
here, and the CDK StateTable construct declares the same keys and indexes."""

from __future__ import annotations

from typing import Any

KEY_ATTRIBUTES = ("pk", "sk")
INDEXES = {
    "gsi1": ("gsi1pk", "gsi1sk"),  # a workflow's runs, newest first
    "gsi2": ("gsi2pk", "gsi2sk"),  # active runs, for the sweeper (sparse)
}
TTL_ATTRIBUTE = "expires_at"


def create_table(client: Any, table_name: str) -> None:
    attributes = {name for pair in (KEY_ATTRIBUTES, *INDEXES.values()) for name in pair}
    client.create_table(
        TableName=table_name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": hash_key, "KeyType": "HASH"},
                    {"AttributeName": range_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, (hash_key, range_key) in INDEXES.items()
        ],
    )
