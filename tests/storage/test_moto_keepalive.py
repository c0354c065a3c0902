"""The embedded moto keeps connections alive (local/moto_keepalive.py): a client's calls of every kind
(S3 puts with 100-continue, gets, heads, deletes, missing keys, DynamoDB writes and reads) go over one
connection and still answer what moto answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from cursor_gateway.local.moto_server import EmbeddedMoto


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = EmbeddedMoto("127.0.0.1", 0)
    try:
        yield server.start()
    finally:
        server.stop()


def client(endpoint: str, service: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


class Ports:
    """The local ports of a client's open connections to moto, seen after each call: one port throughout
    means one connection kept alive (a connection the server closed is reopened on a new port)."""

    def __init__(self, aws_client: Any, endpoint: str) -> None:
        self.pool = aws_client._endpoint.http_session._manager.connection_from_url(endpoint)
        self.seen: set[int] = set()
        aws_client.meta.events.register("after-call", self.note)

    def note(self, **_: Any) -> None:
        for connection in list(self.pool.pool.queue):
            if connection is not None and connection.sock is not None:
                self.seen.add(connection.sock.getsockname()[1])


def test_s3_calls_share_one_connection(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    ports = Ports(s3, endpoint)
    s3.create_bucket(Bucket="keepalive-bucket")
    for n in range(5):
        body = bytes([n]) * (n * 70_000)  # empty up to 280 kB
        s3.put_object(Bucket="keepalive-bucket", Key=f"k{n}", Body=body, ContentEncoding="gzip")
        assert s3.get_object(Bucket="keepalive-bucket", Key=f"k{n}")["Body"].read() == body
        assert s3.head_object(Bucket="keepalive-bucket", Key=f"k{n}")["ContentLength"] == len(body)
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="keepalive-bucket", Key="missing")
    s3.delete_object(Bucket="keepalive-bucket", Key="k1")
    listed = s3.list_objects_v2(Bucket="keepalive-bucket")["Contents"]
    assert sorted(o["Key"] for o in listed) == ["k0", "k2", "k3", "k4"]
    assert len(ports.seen) == 1


def test_dynamodb_calls_share_one_connection(endpoint: str) -> None:
    dynamodb = client(endpoint, "dynamodb")
    ports = Ports(dynamodb, endpoint)
    dynamodb.create_table(
        TableName="keepalive-table",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(20):
        dynamodb.put_item(TableName="keepalive-table", Item={"pk": {"S": f"p{n}"}, "n": {"N": str(n)}})
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(
            TableName="keepalive-table",
            Item={"pk": {"S": "p1"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    item = dynamodb.get_item(TableName="keepalive-table", Key={"pk": {"S": "p7"}})["Item"]
    assert item["n"] == {"N": "7"}
    assert dynamodb.scan(TableName="keepalive-table", Select="COUNT")["Count"] == 20
    assert len(ports.seen) == 1
