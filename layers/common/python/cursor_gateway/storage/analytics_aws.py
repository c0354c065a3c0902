"""The boto3 plumbing the analytics stores share: one call wrapper that turns botocore errors into
StorageUnavailable (and a failed condition into ConditionFailed, which the caller acts on), clients made
on first use, and a DynamoDB table base that reads items back as plain JSON-able values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from cursor_gateway.storage.tokens import StorageUnavailable

Clock = Callable[[], float]


class ConditionFailed(Exception):
    """A conditional write found its condition false (DynamoDB's ConditionalCheckFailedException)."""


def aws_call(client: Any, operation: str, *, conditional: bool = False, **kwargs: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        result: dict[str, Any] = getattr(client, operation)(**kwargs)
        return result
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if conditional and code == "ConditionalCheckFailedException":
            raise ConditionFailed from exc
        where = kwargs.get("TableName") or kwargs.get("Bucket") or ""
        raise StorageUnavailable(f"{operation} {where} failed: {code or exc}") from exc
    except BotoCoreError as exc:
        raise StorageUnavailable(f"{operation} failed: {exc}") from exc


def lazy_client(service: str) -> Any:
    from cursor_gateway.storage import aws

    return aws.client(service)


def _serializer() -> tuple[Any, Any]:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals and sets as plain JSON-able Python values."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value


def dynamo_number(value: float) -> Decimal:
    return Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value)


class DynamoTable:
    """One table: its name, a client made on first use, and item (de)serialisation."""

    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self._client = client
        self.serializer, self._deserializer = _serializer()

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = lazy_client("dynamodb")
        return self._client

    def encode(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {k: self.serializer.serialize(v) for k, v in values.items()}

    def decode(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: _plain(self._deserializer.deserialize(v)) for k, v in item.items()}
