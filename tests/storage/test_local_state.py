"""The local stack's pieces: template.yaml -> resources, and the write-through state in DATA_DIR."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.local.state import LocalState, StateError
from cursor_gateway.local.template import TemplateError, load_template, local_resources
from cursor_gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


# --- template ---------------------------------------------------------------------------------------


def test_the_real_template_declares_the_tokens_table_under_the_settings_name() -> None:
    tables, buckets = local_resources(load_template(ROOT / "template.yaml"), region=REGION)
    by_id = {t.logical_id: t for t in tables}
    assert by_id["TokensTable"].name == Settings().tokens_table == "cursor-gateway-tokens"
    assert by_id["TokensTable"].create_args["KeySchema"] == [{"AttributeName": "alias", "KeyType": "HASH"}]
    assert by_id["TokensTable"].create_args["BillingMode"] == "PAY_PER_REQUEST"
    assert ("AssetsBucket", "cursor-gateway-assetsbucket", True) in [
        (b.logical_id, b.name, b.versioned) for b in buckets
    ]


def test_cloudformation_tags_and_name_functions(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text("""
Parameters:
  Prefix: {Type: String, Default: app}
  Other: {Type: String}
Resources:
  A:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${Prefix}-${AWS::Region}-a"
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      BillingMode: PAY_PER_REQUEST
      TimeToLiveSpecification: {AttributeName: expires, Enabled: true}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  B:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Join ["-", [!Ref Prefix, !Sub ["${X}", {X: b}], "${!literal}"]]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
  C:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${Prefix}-${AWS::AccountId}-files"
  Role:
    Type: AWS::IAM::Role
    Properties:
      Arn: !GetAtt A.Arn
""")
    tables, buckets = local_resources(load_template(template), region="eu-west-1", stack_name="s")
    assert [t.name for t in tables] == ["app-eu-west-1-a", "app-b-${!literal}"]
    assert tables[0].ttl_attribute == "expires"
    stream = tables[0].create_args["StreamSpecification"]
    assert stream == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert "TimeToLiveSpecification" not in tables[0].create_args
    assert [b.name for b in buckets] == ["app-123456789012-files"]


@pytest.mark.parametrize("name", ["!Ref Other", "!GetAtt X.Arn", '!Sub "${Missing}-t"'])
def test_unresolvable_names_are_errors_not_guesses(tmp_path: Path, name: str) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(f"""
Parameters:
  Other: {{Type: String}}
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: {name}
      KeySchema: [{{AttributeName: id, KeyType: HASH}}]
      AttributeDefinitions: [{{AttributeName: id, AttributeType: S}}]
""")
    with pytest.raises(TemplateError):
        local_resources(load_template(template), region=REGION)


def test_missing_template_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="cannot read"):
        load_template(tmp_path / "nope.yaml")


# --- state ------------------------------------------------------------------------------------------


class Stack:
    def __init__(self, root: Path) -> None:
        suffix = uuid.uuid4().hex[:8]  # moto's state is process-wide: unique names per test
        self.table, self.other, self.bucket = f"t-{suffix}", f"o-{suffix}", f"b-{suffix}"
        self.state = LocalState(root, tables=[self.table], buckets=[self.bucket])
        self.moto = EmbeddedMoto("127.0.0.1", 0, wrap=self.state.wrap)
        endpoint = self.moto.start()
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self.dynamodb: Any = session.client("dynamodb", endpoint_url=endpoint)
        self.s3: Any = session.client("s3", endpoint_url=endpoint)
        self.state.dynamodb, self.state.s3 = self.dynamodb, self.s3
        for table in (self.table, self.other):
            self.dynamodb.create_table(
                TableName=table,
                BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            )
        self.s3.create_bucket(Bucket=self.bucket)
        self.state.saving = True

    def saved_items(self) -> dict[str, Any]:
        document = json.loads(self.state.table_file(self.table).read_text())
        return {item["id"]["S"]: item for item in document["items"]}

    def put(self, key: str, value: str, table: str | None = None) -> None:
        self.dynamodb.put_item(TableName=table or self.table, Item={"id": {"S": key}, "v": {"S": value}})


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = Stack(tmp_path / "data")
    try:
        yield s
    finally:
        s.moto.stop()


def test_every_dynamodb_write_is_on_disk_when_it_returns(stack: Stack) -> None:
    stack.put("a", "1")
    assert {k: v["v"]["S"] for k, v in stack.saved_items().items()} == {"a": "1"}
    stack.dynamodb.update_item(
        TableName=stack.table,
        Key={"id": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "2"}},
    )
    put_b = {"PutRequest": {"Item": {"id": {"S": "b"}}}}
    stack.dynamodb.batch_write_item(RequestItems={stack.table: [put_b]})
    stack.dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": stack.table, "Item": {"id": {"S": "c"}}}}]
    )
    stack.dynamodb.delete_item(TableName=stack.table, Key={"id": {"S": "b"}})
    saved = stack.saved_items()
    assert sorted(saved) == ["a", "c"] and saved["a"]["v"]["S"] == "2"
    assert oct(stack.state.table_file(stack.table).stat().st_mode & 0o777) == "0o600"  # holds secrets


def test_failed_writes_and_unmanaged_tables_do_not_touch_the_snapshot(stack: Stack) -> None:
    stack.put("a", "1")
    path = stack.state.table_file(stack.table)
    before = path.read_bytes()
    with pytest.raises(stack.dynamodb.exceptions.ConditionalCheckFailedException):
        stack.dynamodb.put_item(
            TableName=stack.table,
            Item={"id": {"S": "a"}, "v": {"S": "x"}},
            ConditionExpression="attribute_not_exists(id)",
        )
    stack.put("z", "1", table=stack.other)
    assert path.read_bytes() == before
    assert not stack.state.table_file(stack.other).exists()


def test_restore_brings_back_tables_and_objects(stack: Stack) -> None:
    for i in range(30):  # more than one BatchWriteItem
        stack.put(f"k{i}", str(i))
    stack.s3.put_object(
        Bucket=stack.bucket, Key="pages/index.html", Body=b"<h1>hi</h1>", ContentType="text/html"
    )
    stack.s3.put_object(Bucket=stack.bucket, Key="../odd key", Body=b"x")
    stack.s3.put_object(Bucket=stack.bucket, Key="gone.csv", Body=b"1,2")
    stack.s3.delete_object(Bucket=stack.bucket, Key="gone.csv")

    # Wipe moto without saving (as a restart would), then restore from disk.
    stack.state.saving = False
    for i in range(30):
        stack.dynamodb.delete_item(TableName=stack.table, Key={"id": {"S": f"k{i}"}})
    for key in ("pages/index.html", "../odd key"):
        stack.s3.delete_object(Bucket=stack.bucket, Key=key)
    assert stack.state.restore() == {stack.table: 30, stack.bucket: 2}

    items = stack.dynamodb.scan(TableName=stack.table)["Items"]
    assert sorted(int(i["v"]["S"]) for i in items) == list(range(30))
    page = stack.s3.get_object(Bucket=stack.bucket, Key="pages/index.html")
    assert (page["Body"].read(), page["ContentType"]) == (b"<h1>hi</h1>", "text/html")
    assert stack.s3.get_object(Bucket=stack.bucket, Key="../odd key")["Body"].read() == b"x"
    keys = {o["Key"] for o in stack.s3.list_objects_v2(Bucket=stack.bucket).get("Contents", [])}
    assert keys == {"pages/index.html", "../odd key"}
    # Data files live under hashed names inside the bucket directory, never at a path built from the key.
    files = list((stack.state.bucket_dir(stack.bucket) / "objects").iterdir())
    assert len(files) == 2 and all(len(f.name) == 64 for f in files)


def test_an_unreadable_snapshot_refuses_to_start_empty(stack: Stack) -> None:
    stack.put("a", "1")
    stack.state.table_file(stack.table).write_text("{truncated")
    with pytest.raises(StateError, match="cannot read saved state"):
        stack.state.restore()
