"""The local stack's pieces: template.yaml -> resources, and the write-through state in DATA_DIR."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from cursor_gateway import cli
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.local.snapshot_format import export_snapshots
from cursor_gateway.local.state import LocalState, StateError
from cursor_gateway.local.state_store import INLINE_BODY_LIMIT, StateStore
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


class Clock:
    """The state's notion of now (TTL); real time elsewhere."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Stack:
    def __init__(self, root: Path, clock: Clock | None = None) -> None:
        suffix = uuid.uuid4().hex[:8]  # moto's state is process-wide: unique names per test
        self.root = root
        self.table, self.other, self.bucket = f"t-{suffix}", f"o-{suffix}", f"b-{suffix}"
        self.clock = clock or Clock()
        self.state = self._state()
        # Every request goes to the current LocalState (`restart` replaces it, as a new process would).
        self.moto = EmbeddedMoto("127.0.0.1", 0, wrap=lambda app: lambda *a: self.state.wrap(app)(*a))
        endpoint = self.moto.start()
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        config = botocore.config.Config(max_pool_connections=16)
        self.dynamodb: Any = session.client("dynamodb", endpoint_url=endpoint, config=config)
        self.s3: Any = session.client("s3", endpoint_url=endpoint)
        self.state.dynamodb, self.state.s3 = self.dynamodb, self.s3
        self._create()
        self.state.saving = True

    def _state(self) -> LocalState:
        return LocalState(
            self.root,
            tables=[self.table],
            buckets=[self.bucket],
            ttl_attributes={self.table: "expires"},
            region=REGION,
            clock=self.clock,
        )

    def _create(self) -> None:
        for table in (self.table, self.other):
            self.dynamodb.create_table(
                TableName=table,
                BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            )
        self.s3.create_bucket(Bucket=self.bucket)

    def restart(self) -> dict[str, int]:
        """What a new process does: empty moto tables and bucket, a new LocalState on the same DATA_DIR."""
        self.state.close()
        self.state = self._state()  # unsaving while moto is emptied and refilled
        for table in (self.table, self.other):
            self.dynamodb.delete_table(TableName=table)
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for summary in page.get("Contents", []):
                self.s3.delete_object(Bucket=self.bucket, Key=summary["Key"])
        self.s3.delete_bucket(Bucket=self.bucket)
        self._create()
        self.state.dynamodb, self.state.s3 = self.dynamodb, self.s3
        restored = self.state.restore()
        self.state.saving = True
        return restored

    def saved_items(self, table: str | None = None) -> dict[str, Any]:
        """Read the database file itself (another connection, as a restarted process would)."""
        with contextlib.closing(sqlite3.connect(self.root / "state.sqlite3")) as db:
            rows = db.execute("SELECT item FROM items WHERE tbl = ?", (table or self.table,)).fetchall()
        items = [json.loads(text) for (text,) in rows]
        return {item["id"]["S"]: item for item in items}

    def live_items(self) -> dict[str, Any]:
        items = self.dynamodb.scan(TableName=self.table, ConsistentRead=True)["Items"]
        return {item["id"]["S"]: item for item in items}

    def put(self, key: str, value: str, table: str | None = None, **extra: Any) -> None:
        item = {"id": {"S": key}, "v": {"S": value}, **extra}
        self.dynamodb.put_item(TableName=table or self.table, Item=item)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = Stack(tmp_path / "data")
    try:
        yield s
    finally:
        s.moto.stop()
        s.state.close()


def _modes(root: Path) -> set[tuple[str, str]]:
    return {
        ("dir" if p.is_dir() else "file", oct(p.stat().st_mode & 0o777)) for p in [root, *root.rglob("*")]
    }


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
    # The tokens table holds secrets: the database and its -wal/-shm files are the owner's only.
    assert _modes(stack.root) == {("dir", "0o700"), ("file", "0o600")}
    assert {p.name for p in stack.root.iterdir()} >= {"state.sqlite3", "state.sqlite3-wal"}


def test_failed_writes_and_unmanaged_tables_do_not_touch_the_saved_state(stack: Stack) -> None:
    stack.put("a", "1")
    before = stack.saved_items()
    with pytest.raises(stack.dynamodb.exceptions.ConditionalCheckFailedException):
        stack.dynamodb.put_item(
            TableName=stack.table,
            Item={"id": {"S": "a"}, "v": {"S": "x"}},
            ConditionExpression="attribute_not_exists(id)",
        )
    stack.put("z", "1", table=stack.other)
    assert stack.saved_items() == before
    assert stack.saved_items(stack.other) == {}


def test_a_cancelled_transaction_changes_nothing_and_a_committed_one_is_saved_whole(stack: Stack) -> None:
    stack.put("a", "old")
    stack.put("guard", "1")

    def transaction(guard_condition: str) -> list[dict[str, Any]]:
        return [
            {"Put": {"TableName": stack.table, "Item": {"id": {"S": "new"}}}},
            {
                "Update": {
                    "TableName": stack.table,
                    "Key": {"id": {"S": "a"}},
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "changed"}},
                }
            },
            {
                "ConditionCheck": {
                    "TableName": stack.table,
                    "Key": {"id": {"S": "guard"}},
                    "ConditionExpression": guard_condition,
                }
            },
        ]

    with pytest.raises(stack.dynamodb.exceptions.TransactionCanceledException):
        stack.dynamodb.transact_write_items(TransactItems=transaction("attribute_not_exists(id)"))
    # Rolled back item by item (not by copying the table): the update and the put are both undone.
    assert {k: v["v"]["S"] for k, v in stack.live_items().items()} == {"a": "old", "guard": "1"}
    assert stack.saved_items() == stack.live_items()

    stack.dynamodb.transact_write_items(TransactItems=transaction("attribute_exists(id)"))
    saved = stack.saved_items()
    assert sorted(saved) == ["a", "guard", "new"] and saved["a"]["v"]["S"] == "changed"


def test_concurrent_writes_leave_disk_equal_to_moto(stack: Stack) -> None:
    def writer(n: int) -> None:
        for i in range(25):
            stack.put(f"w{n}-{i % 7}", str(i))  # the same keys rewritten: last write must win on disk
            if i % 5 == 0:
                stack.dynamodb.delete_item(TableName=stack.table, Key={"id": {"S": f"w{n}-{i % 3}"}})

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(writer, range(6)))
    assert stack.saved_items() == stack.live_items()
    assert len(stack.live_items()) >= 6


def test_restore_brings_back_tables_and_objects_byte_for_byte(stack: Stack) -> None:
    for i in range(30):
        stack.put(f"k{i}", str(i))
    large = os.urandom(INLINE_BODY_LIMIT + 1)
    stack.s3.put_object(
        Bucket=stack.bucket, Key="pages/index.html", Body=b"<h1>hi</h1>", ContentType="text/html"
    )
    stack.s3.put_object(Bucket=stack.bucket, Key="../odd key ü", Body=b"\x00\xff")
    stack.s3.put_object(Bucket=stack.bucket, Key="big.bin", Body=large)
    stack.s3.put_object(Bucket=stack.bucket, Key="gone.csv", Body=b"1,2")
    stack.s3.put_object(Bucket=stack.bucket, Key="gone-too.csv", Body=b"3")
    stack.s3.delete_object(Bucket=stack.bucket, Key="gone.csv")
    stack.s3.delete_objects(Bucket=stack.bucket, Delete={"Objects": [{"Key": "gone-too.csv"}]})
    stack.s3.copy_object(Bucket=stack.bucket, Key="copy.html", CopySource=f"{stack.bucket}/pages/index.html")

    assert stack.restart() == {stack.table: 30, stack.bucket: 4}

    assert sorted(int(i["v"]["S"]) for i in stack.live_items().values()) == list(range(30))
    page = stack.s3.get_object(Bucket=stack.bucket, Key="pages/index.html")
    assert (page["Body"].read(), page["ContentType"]) == (b"<h1>hi</h1>", "text/html")
    assert stack.s3.get_object(Bucket=stack.bucket, Key="../odd key ü")["Body"].read() == b"\x00\xff"
    assert stack.s3.get_object(Bucket=stack.bucket, Key="big.bin")["Body"].read() == large
    assert stack.s3.get_object(Bucket=stack.bucket, Key="copy.html")["Body"].read() == b"<h1>hi</h1>"
    keys = {o["Key"] for o in stack.s3.list_objects_v2(Bucket=stack.bucket).get("Contents", [])}
    assert keys == {"pages/index.html", "../odd key ü", "big.bin", "copy.html"}
    # Large bodies are files named by their content's hash, never by a path built from the key.
    assert [p.name for p in (stack.root / "s3-bodies").iterdir()] == [hashlib.sha256(large).hexdigest()]

    stack.s3.delete_object(Bucket=stack.bucket, Key="big.bin")
    assert list((stack.root / "s3-bodies").iterdir()) == []  # its body file goes with it


def test_an_unreadable_database_refuses_to_start_empty(stack: Stack) -> None:
    stack.put("a", "1")
    stack.state.close()
    for path in stack.root.glob("state.sqlite3*"):
        path.unlink()
    (stack.root / "state.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError, match="cannot read saved state"):
        stack.restart()


def test_partiql_writes_are_saved_too(stack: Stack) -> None:
    stack.put("a", "1")
    stack.dynamodb.execute_statement(Statement=f"INSERT INTO \"{stack.table}\" VALUE {{'id': 'p', 'v': '2'}}")
    stack.dynamodb.execute_statement(Statement=f"DELETE FROM \"{stack.table}\" WHERE id = 'a'")
    assert {k: v["v"]["S"] for k, v in stack.saved_items().items()} == {"p": "2"}


# --- migration from the JSON snapshots --------------------------------------------------------------


def _write_snapshots(root: Path, table: str, bucket: str, items: list[dict[str, Any]]) -> None:
    (root / "dynamodb").mkdir(parents=True)
    (root / "dynamodb" / f"{table}.json").write_text(
        json.dumps({"format": 1, "table": table, "items": items})
    )
    objects = root / "s3" / bucket / "objects"
    objects.mkdir(parents=True)
    file = hashlib.sha256(b"report.csv").hexdigest()
    (objects / file).write_bytes(b"a,b\n1,2\n")
    manifest = {"report.csv": {"file": file, "etag": '"x"', "content_type": "text/csv"}}
    (root / "s3" / bucket / "manifest.json").write_text(json.dumps({"format": 1, "objects": manifest}))


def test_a_snapshot_directory_is_imported_once_and_left_untouched(tmp_path: Path) -> None:
    root = tmp_path / "data"
    # The snapshot's names must match the stack's: build the stack first, then write its old state.
    stack = Stack(root)
    try:
        stack.state.close()
        for path in root.glob("state.sqlite3*"):
            path.unlink()
        items = [{"id": {"S": f"m{i}"}, "v": {"S": str(i)}} for i in range(40)]
        _write_snapshots(root, stack.table, stack.bucket, items)
        old = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}

        assert stack.restart() == {stack.table: 40, stack.bucket: 1}
        assert stack.state.imported == {stack.table: 40, stack.bucket: 1}
        assert len(stack.live_items()) == 40
        report = stack.s3.get_object(Bucket=stack.bucket, Key="report.csv")
        assert (report["Body"].read(), report["ContentType"]) == (b"a,b\n1,2\n", "text/csv")
        # Imported rows are keyed as new writes are: a delete of an imported item removes its row.
        stack.dynamodb.delete_item(TableName=stack.table, Key={"id": {"S": "m0"}})
        stack.put("new", "x")
        assert "m0" not in stack.saved_items() and "new" in stack.saved_items()
        assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in old} == old  # the backup as it was

        # A second start reads the database only, even if the old files changed meanwhile.
        items.append({"id": {"S": "late"}, "v": {"S": "!"}})
        (root / "dynamodb" / f"{stack.table}.json").write_text(
            json.dumps({"format": 1, "table": stack.table, "items": items})
        )
        assert stack.restart() == {stack.table: 40, stack.bucket: 1}
        assert stack.state.imported is None
        assert "late" not in stack.live_items() and "m0" not in stack.live_items()
    finally:
        stack.moto.stop()
        stack.state.close()


def test_a_broken_snapshot_refuses_to_import(tmp_path: Path) -> None:
    root = tmp_path / "data"
    stack = Stack(root)
    try:
        stack.state.close()
        for path in root.glob("state.sqlite3*"):
            path.unlink()
        (root / "dynamodb").mkdir(parents=True)
        (root / "dynamodb" / f"{stack.table}.json").write_text("{truncated")
        with pytest.raises(StateError, match="cannot read saved state"):
            stack.restart()
        (root / "dynamodb" / f"{stack.table}.json").unlink()
        assert stack.restart() == {}  # nothing was half-imported by the failed attempt
    finally:
        stack.moto.stop()
        stack.state.close()


def test_export_writes_the_snapshot_format_back(stack: Stack, tmp_path: Path) -> None:
    stack.put("a", "1")
    stack.s3.put_object(Bucket=stack.bucket, Key="x.txt", Body=b"hello", ContentType="text/plain")
    target = tmp_path / "old-format"
    counts = export_snapshots(stack.state.store, target, tables=[stack.table], buckets=[stack.bucket])
    assert counts == {stack.table: 1, stack.bucket: 1}
    document = json.loads((target / "dynamodb" / f"{stack.table}.json").read_text())
    assert document["format"] == 1 and document["items"] == [stack.live_items()["a"]]
    manifest = json.loads((target / "s3" / stack.bucket / "manifest.json").read_text())["objects"]
    assert manifest["x.txt"]["content_type"] == "text/plain"
    assert (target / "s3" / stack.bucket / "objects" / manifest["x.txt"]["file"]).read_bytes() == b"hello"


# --- TTL --------------------------------------------------------------------------------------------


def test_the_sweep_deletes_expired_items_and_keeps_the_rest(stack: Stack) -> None:
    now = int(stack.clock.now)
    stack.put("expired", "1", expires={"N": str(now - 10)})
    stack.put("later", "1", expires={"N": str(now + 3600)})
    stack.put("ancient", "1", expires={"N": str(now - 6 * 365 * 86400)})  # DynamoDB ignores these too
    stack.put("text", "1", expires={"S": str(now - 10)})  # not a Number: no TTL
    stack.put("none", "1")

    assert stack.state.sweep_expired() == 1
    expected = ["ancient", "later", "none", "text"]
    assert sorted(stack.live_items()) == expected and sorted(stack.saved_items()) == expected

    # Time passes; the background sweep picks the next one up.
    stack.clock.now += 7200
    stack.state.start_ttl_sweep(0.05)
    deadline = time.monotonic() + 10
    while "later" in stack.live_items() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(stack.live_items()) == ["ancient", "none", "text"]
    assert sorted(stack.saved_items()) == ["ancient", "none", "text"]


def test_an_item_renewed_before_the_sweep_is_kept(stack: Stack) -> None:
    now = int(stack.clock.now)
    stack.put("renewed", "1", expires={"N": str(now - 10)})
    candidates = stack.state.store.expired(now, 0, 10)
    stack.state.saving = False  # moto changes behind the saved state's back (a race, made certain)
    stack.put("renewed", "2", expires={"N": str(now + 3600)})
    stack.state.saving = True
    assert [c[1] for c in candidates] == ['[{"S":"renewed"}]']
    assert stack.state.sweep_expired() == 0
    assert stack.saved_items()["renewed"]["v"]["S"] == "2"  # the stale row was brought up to date


def test_expired_items_are_not_loaded_at_start(stack: Stack) -> None:
    now = int(stack.clock.now)
    stack.put("soon", "1", expires={"N": str(now + 5)})
    stack.put("stays", "1", expires={"N": str(now + 3600)})
    stack.clock.now += 60  # the process was down for a minute; no sweep ran
    assert stack.restart() == {stack.table: 1}
    assert sorted(stack.live_items()) == ["stays"]
    assert sorted(stack.saved_items()) == ["stays"]


@pytest.mark.parametrize(("fsync", "synchronous"), [(False, 1), (True, 2)])  # NORMAL, FULL
def test_fsync_setting_chooses_sqlite_synchronous_mode(tmp_path: Path, fsync: bool, synchronous: int) -> None:
    store = StateStore(tmp_path / "data", fsync=fsync)
    try:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA synchronous").fetchone()[0] == synchronous
    finally:
        store.close()


def test_export_state_command_writes_snapshots_a_previous_version_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, target = tmp_path / "data", tmp_path / "old"
    store = StateStore(data_dir)
    item = {"alias": {"S": "a"}, "bundle": {"M": {"primary_token": {"S": "secret"}}}}
    with store.transaction() as db:
        store.put_item(db, "cursor-gateway-tokens", '[{"S":"a"}]', item, None)
    store.close()
    common = ["--data-dir", str(data_dir), "--template", str(ROOT / "template.yaml")]

    assert cli.main(["export-state", "--to", str(data_dir), *common]) == 1  # never over the backup
    assert "must be a new directory" in capsys.readouterr().err
    assert cli.main(["export-state", "--to", str(target), *common]) == 0
    assert "cursor-gateway-tokens: 1" in capsys.readouterr().out
    document = json.loads((target / "dynamodb" / "cursor-gateway-tokens.json").read_text())
    assert document == {"format": 1, "table": "cursor-gateway-tokens", "items": [item]}
    assert oct((target / "dynamodb" / "cursor-gateway-tokens.json").stat().st_mode & 0o777) == "0o600"
