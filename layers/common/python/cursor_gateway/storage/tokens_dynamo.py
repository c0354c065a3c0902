"""`DynamoTokenStore`: the account pool in DynamoDB, with the write conditions `storage.tokens` promises.

Table layout: partition key `alias` (S); one item per token (`storage.token_items` maps a `TokenRecord` to
its attributes). `version` (N) starts at 1 and grows by one on every write, and every write is
conditional, so concurrent writers (many Lambda instances) never silently overwrite each other. `rename`
is one transaction (Put new if absent + Delete old if still at the version read).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any

from cursor_gateway.domain.tokens import TokenHealth, TokenRecord
from cursor_gateway.errors import GatewayError, NotFound
from cursor_gateway.storage.aws import key_can_exist
from cursor_gateway.storage.token_items import attr_of, item_to_record, number_attr, record_to_item
from cursor_gateway.storage.tokens import (
    Clock,
    DuplicateAlias,
    StorageUnavailable,
    VersionConflict,
    check_changes,
    oldest_first,
)


class DynamoTokenStore:
    def __init__(self, table: str, *, client: Any = None, clock: Clock = time.time) -> None:
        self.table = table
        self._client = client
        self._clock = clock

    @property
    def client(self) -> Any:
        if self._client is None:
            from cursor_gateway.storage import aws

            self._client = aws.client("dynamodb")
        return self._client

    def list(self) -> list[TokenRecord]:
        records: list[TokenRecord] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            page = self._call("scan", **kwargs)
            records.extend(item_to_record(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return oldest_first(records)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, alias: str) -> TokenRecord | None:
        if not key_can_exist(alias):
            return None
        answer = self._call("get_item", TableName=self.table, Key=self._key(alias), ConsistentRead=True)
        return item_to_record(answer["Item"]) if answer.get("Item") else None

    def put_new(self, record: TokenRecord) -> TokenRecord:
        stored = replace(record, version=1, updated_at=self._clock())
        try:
            self._call(
                "put_item",
                TableName=self.table,
                Item=record_to_item(stored),
                ConditionExpression="attribute_not_exists(alias)",
                conditional=True,
            )
        except _ConditionFailed:
            raise DuplicateAlias(f"Token alias '{record.alias}' already exists") from None
        return stored

    def replace(self, record: TokenRecord) -> TokenRecord:
        stored = replace(record, version=record.version + 1, updated_at=self._clock())
        try:
            self._call(
                "put_item",
                TableName=self.table,
                Item=record_to_item(stored),
                ConditionExpression="#v = :expected",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":expected": number_attr(record.version)},
                conditional=True,
            )
        except _ConditionFailed:
            raise self._why_failed(record.alias) from None
        return stored

    def update_health(
        self, alias: str, health: TokenHealth, *, expected_version: int | None = None
    ) -> TokenRecord:
        return self._update(alias, {"health": attr_of(asdict(health))}, expected_version)

    def cache_access_token(self, alias: str, token: str, expires_at: float) -> TokenRecord:
        changes = {"access_token": attr_of(token), "access_expires_at": number_attr(float(expires_at))}
        return self._update(alias, changes, None)

    def store_refreshed_session(self, alias: str, token: str, expires_at: float) -> TokenRecord:
        changes = {"primary_token": attr_of(token), "expires_at": number_attr(float(expires_at))}
        return self._update(alias, changes, None)

    def set_usable_models(self, alias: str, models: tuple[str, ...]) -> TokenRecord:
        return self._update(alias, {"usable_models": attr_of(list(models))}, None)

    def update_fields(
        self, alias: str, changes: Mapping[str, Any], *, expected_version: int | None = None
    ) -> TokenRecord:
        check_changes(changes)
        sets = {
            name: attr_of(asdict(value) if isinstance(value, TokenHealth) else value)
            for name, value in changes.items()
        }
        return self._update(alias, sets, expected_version)

    def rename(self, record: TokenRecord, new_alias: str) -> TokenRecord:
        from botocore.exceptions import BotoCoreError, ClientError

        stored = replace(record, alias=new_alias, version=record.version + 1, updated_at=self._clock())
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": record_to_item(stored),
                            "ConditionExpression": "attribute_not_exists(alias)",
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": self._key(record.alias),
                            "ConditionExpression": "#v = :expected",
                            "ExpressionAttributeNames": {"#v": "version"},
                            "ExpressionAttributeValues": {":expected": number_attr(record.version)},
                        }
                    },
                ],
                # Idempotent for 10 minutes: boto3's retry of a transaction whose answer was lost is a no-op.
                ClientRequestToken=uuid.uuid4().hex,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise StorageUnavailable(f"DynamoDB rename on {self.table} failed: {exc}") from exc
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or []]
            if reasons[:1] == ["ConditionalCheckFailed"] or (not reasons and self.get(new_alias)):
                raise DuplicateAlias(f"Token alias '{new_alias}' already exists") from None
            if len(reasons) > 1 and reasons[1] not in ("ConditionalCheckFailed", "None", None):
                raise StorageUnavailable(f"DynamoDB rename on {self.table} failed: {reasons}") from exc
            raise self._why_failed(record.alias) from None
        except BotoCoreError as exc:
            raise StorageUnavailable(f"DynamoDB rename on {self.table} failed: {exc}") from exc
        return stored

    def delete(self, alias: str) -> bool:
        if not key_can_exist(alias):
            return False
        answer = self._call("delete_item", TableName=self.table, Key=self._key(alias), ReturnValues="ALL_OLD")
        return bool(answer.get("Attributes"))

    # -- helpers --

    def _update(
        self, alias: str, sets: dict[str, dict[str, Any]], expected_version: int | None
    ) -> TokenRecord:
        """SET only the given attributes (plus version and updated_at): other fields are never rewritten."""
        if not key_can_exist(alias):
            raise NotFound(f"Token '{alias[:64]}' does not exist")
        names = {"#a": "alias", "#v": "version", "#u": "updated_at"}
        values: dict[str, Any] = {
            ":one": number_attr(1),
            ":zero": number_attr(0),
            ":now": number_attr(float(self._clock())),
        }
        write_id = uuid.uuid4().hex
        names["#w"] = "write_id"
        values[":w"] = {"S": write_id}
        assignments = ["#v = if_not_exists(#v, :zero) + :one", "#u = :now", "#w = :w"]
        for i, (name, value) in enumerate(sets.items()):
            names[f"#f{i}"] = name
            values[f":f{i}"] = value
            assignments.append(f"#f{i} = :f{i}")
        condition = "attribute_exists(#a)"
        if expected_version is not None:
            condition += " AND #v = :expected"
            values[":expected"] = number_attr(expected_version)
        try:
            answer = self._call(
                "update_item",
                TableName=self.table,
                Key=self._key(alias),
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                conditional=True,
            )
        except _ConditionFailed:
            landed = self._own_write_landed(alias, write_id)
            if landed is not None:
                return landed
            raise self._why_failed(alias) from None
        return item_to_record(answer["Attributes"])

    def _own_write_landed(self, alias: str, write_id: str) -> TokenRecord | None:
        """boto3 retries a request whose answer was lost; if the first attempt had applied, the retry
        fails its own version check. Each update stamps a fresh `write_id`, so finding ours on the item
        means the change did land (instead of reporting a conflict and having the caller apply it twice)."""
        item = self._call("get_item", TableName=self.table, Key=self._key(alias), ConsistentRead=True).get(
            "Item"
        )
        if item and item.get("write_id") == {"S": write_id}:
            return item_to_record(item)
        return None

    def _why_failed(self, alias: str) -> GatewayError:
        if self.get(alias) is None:
            return NotFound(f"Token '{alias}' does not exist")
        return VersionConflict(f"Token '{alias}' changed concurrently; read it again")

    @staticmethod
    def _key(alias: str) -> dict[str, Any]:
        return {"alias": {"S": alias}}

    def _call(self, operation: str, *, conditional: bool = False, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            result: dict[str, Any] = getattr(self.client, operation)(**kwargs)
            return result
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if conditional and code == "ConditionalCheckFailedException":
                raise _ConditionFailed from exc
            raise StorageUnavailable(f"DynamoDB {operation} on {self.table} failed: {code or exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"DynamoDB {operation} on {self.table} failed: {exc}") from exc


class _ConditionFailed(Exception):
    pass
