"""The bench prices DynamoDB writes as DynamoDB bills them, indexes included: a write
that puts an item into, changes it in, moves it within or takes it out of a global
secondary index (both of Podium's project ALL) is billed again per index."""

from __future__ import annotations

from podium.bench.engine import _index_units


def item(**attrs: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": "R#r"}, "sk": {"S": "#RUN"}, **{k: {"S": v} for k, v in attrs.items()}}


def test_index_writes_are_billed_per_index() -> None:
    plain = item()
    both = item(gsi1pk="W#wf", gsi1sk="1#r", gsi2pk="ACTIVE", gsi2sk="5#r")
    assert _index_units(None, plain, 1) == 0  # in no index
    assert _index_units(None, both, 1) == 2  # put into both
    assert _index_units(both, {**both, "st": {"S": "SUCCEEDED"}}, 1) == 2  # changed in both
    moved = {**both, "gsi2sk": {"S": "9#r"}}
    assert _index_units(both, moved, 1) == 1 + 2  # gsi1 update, gsi2 delete + put
    settled = {k: v for k, v in both.items() if not k.startswith("gsi2")}
    assert _index_units(both, settled, 1) == 2  # gsi1 update, gsi2 delete
    assert _index_units(both, both | {"x": {"S": "y" * 2000}}, 2) == 4  # per KB


def test_a_query_is_billed_per_4_kb_it_returns() -> None:
    from types import SimpleNamespace

    from podium.bench.engine import RequestCounter

    counter = RequestCounter()
    query = SimpleNamespace(name="Query")
    big = [item(x="y" * 1000) for _ in range(40)]  # about 40 KB
    counter.before(query, {"ConsistentRead": True})
    counter.after(parsed={"Items": big}, model=query)
    assert counter.read_units == 10  # ceil(40 x ~1 KB / 4 KB)
    counter.before(query, {})
    counter.after(parsed={"Items": []}, model=query)
    assert counter.read_units == 10.5  # eventually consistent, at least one unit: half


def test_batch_and_transactional_reads_and_batch_writes_are_billed() -> None:
    """BatchGetItem (the trigger routing index, signal payloads, marks) was counted as a
    call and billed nothing; BatchWriteItem and TransactGetItems too."""
    from types import SimpleNamespace

    from podium.bench.engine import RequestCounter

    counter = RequestCounter()
    keys = [{"pk": {"S": f"K#{i}"}, "sk": {"S": "#R"}} for i in range(3)]
    counter.before(
        SimpleNamespace(name="BatchGetItem"),
        {"RequestItems": {"t": {"Keys": keys, "ConsistentRead": True}}},
    )
    assert counter.read_units == 3  # one unit per key, found or not
    counter.before(SimpleNamespace(name="BatchGetItem"), {"RequestItems": {"t": {"Keys": keys}}})
    assert counter.read_units == 4.5  # eventually consistent: half each
    counter.before(
        SimpleNamespace(name="TransactGetItems"),
        {"TransactItems": [{"Get": {"TableName": "t", "Key": keys[0]}}]},
    )
    assert counter.read_units == 6.5  # transactional: twice
    put = {"PutRequest": {"Item": item()}}
    delete = {"DeleteRequest": {"Key": keys[1]}}
    counter.before(SimpleNamespace(name="BatchWriteItem"), {"RequestItems": {"t": [put, delete]}})
    counter.after()
    assert counter.write_units == 2


def test_a_query_bills_the_items_its_filter_drops_and_its_projection_leaves_out() -> None:
    """DynamoDB bills a Query for every item it reads before the filter, whole: the
    bench used to count the returned items only, as projected."""
    import boto3
    from moto import mock_aws

    from podium.bench.engine import RequestCounter

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for i in range(12):  # 12 items of about 1 KB: 3 units read in all
            row = {"pk": {"S": "P"}, "sk": {"S": f"{i:02}"}, "k": {"S": "keep" if i == 0 else "x"}}
            client.put_item(TableName="t", Item={**row, "pad": {"S": "y" * 1000}})
        side = boto3.client("dynamodb", region_name="us-east-1")
        counter = RequestCounter(side, "t")
        client.meta.events.register("before-parameter-build.dynamodb", counter.before)
        client.meta.events.register("after-call.dynamodb", counter.after)
        got = client.query(
            TableName="t",
            KeyConditionExpression="#p = :p",
            FilterExpression="#k = :k",
            ProjectionExpression="#p, #k",
            ExpressionAttributeNames={"#p": "pk", "#k": "k"},
            ExpressionAttributeValues={":p": {"S": "P"}, ":k": {"S": "keep"}},
            ConsistentRead=True,
        )
        assert got["Count"] == 1 and got["ScannedCount"] == 12
        assert counter.read_units == 3  # not 1: the 11 dropped items and the padding count
        client.query(
            TableName="t",
            KeyConditionExpression="#p = :p",
            ExpressionAttributeNames={"#p": "pk"},
            ExpressionAttributeValues={":p": {"S": "P"}},
            Limit=4,  # counts items read: 4 of about 1 KB, one unit, halved
        )
        assert counter.read_units == 3.5
