"""Secrets named by an `X_PARAM` setting: SSM SecureString or Secrets Manager, read lazily, cached for a TTL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cursor_gateway.storage.secrets import SecretReader
from cursor_gateway.storage.tokens import StorageUnavailable
from moto import mock_aws

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("ssm", region_name=REGION), boto3.client("secretsmanager", region_name=REGION)


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_without_a_param_the_value_is_used_and_aws_is_never_called() -> None:
    reader = SecretReader("local-key", "", ssm=object(), secretsmanager=object())
    assert reader() == "local-key"


def test_ssm_secure_string_is_read_once_per_ttl(aws: tuple[Any, Any]) -> None:
    ssm, _ = aws
    ssm.put_parameter(Name="/gw/cursor-admin-api-key", Value="key_v1", Type="SecureString")
    clock = Clock()
    reader = SecretReader("ignored", "/gw/cursor-admin-api-key", ttl=300, clock=clock, ssm=ssm)
    assert reader() == "key_v1"
    ssm.put_parameter(Name="/gw/cursor-admin-api-key", Value="key_v2", Type="SecureString", Overwrite=True)
    clock.now += 299
    assert reader() == "key_v1"  # cached
    clock.now += 2
    assert reader() == "key_v2"  # rotated value picked up after the TTL


def test_secrets_manager_arn(aws: tuple[Any, Any]) -> None:
    _, secrets = aws
    arn = secrets.create_secret(Name="cursor-admin", SecretString="key_sm")["ARN"]
    assert SecretReader("", arn, secretsmanager=secrets)() == "key_sm"
    assert SecretReader("", "secretsmanager:cursor-admin", secretsmanager=secrets)() == "key_sm"


def test_a_missing_parameter_is_a_storage_error_naming_it(aws: tuple[Any, Any]) -> None:
    ssm, _ = aws
    with pytest.raises(StorageUnavailable, match="/gw/missing"):
        SecretReader("", "/gw/missing", ssm=ssm)()
