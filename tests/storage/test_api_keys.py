"""The gateway's API keys in AWS: AUTH_TOKEN_PARAM / SHARED_TOKEN_PARAM name SSM parameters (moto here)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cursor_gateway.services.api_keys import ApiKeys
from cursor_gateway.settings import Settings
from cursor_gateway.storage.tokens import StorageUnavailable
from moto import mock_aws

REGION = "us-east-1"
IN_AWS = Settings(auth_token_param="/gw/auth-token", shared_token_param="/gw/shared-token")


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingSsm:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls = 0

    def get_parameter(self, **kwargs: Any) -> Any:
        self.calls += 1
        return self.client.get_parameter(**kwargs)


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingSsm]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield CountingSsm(boto3.client("ssm", region_name=REGION))


def test_values_set_directly_win_and_aws_is_never_asked() -> None:
    settings = Settings(
        auth_token="local-admin", shared_token="local-shared", auth_token_param="/x", shared_token_param="/y"
    )
    keys = ApiKeys(settings, ssm=object(), secretsmanager=object())
    assert (keys.admin(), keys.shared()) == ("local-admin", "local-shared")


def test_keys_come_from_ssm_once_per_cache_period(ssm: CountingSsm) -> None:
    ssm.client.put_parameter(Name="/gw/auth-token", Value="admin-v1", Type="SecureString")
    ssm.client.put_parameter(Name="/gw/shared-token", Value="shared-v1", Type="SecureString")
    clock = Clock()
    keys = ApiKeys(IN_AWS.with_overrides(secrets_cache_seconds=60), clock=clock, ssm=ssm)
    assert ssm.calls == 0  # nothing is read before it is needed
    assert (keys.admin(), keys.shared()) == ("admin-v1", "shared-v1")
    assert (keys.admin(), keys.shared()) == ("admin-v1", "shared-v1")
    assert ssm.calls == 2
    ssm.client.put_parameter(Name="/gw/auth-token", Value="admin-v2", Type="SecureString", Overwrite=True)
    clock.now += 61
    assert keys.admin() == "admin-v2"  # a rotated key applies after the cache period


def test_an_unreadable_admin_key_fails_closed(ssm: CountingSsm) -> None:
    keys = ApiKeys(IN_AWS, ssm=ssm)
    with pytest.raises(StorageUnavailable) as caught:
        keys.admin()
    assert caught.value.status == 503
    assert "/gw/auth-token" in caught.value.message


def test_a_missing_shared_key_means_none_and_is_not_asked_for_again_at_once(ssm: CountingSsm) -> None:
    clock = Clock()
    keys = ApiKeys(IN_AWS.with_overrides(secrets_cache_seconds=60), clock=clock, ssm=ssm)
    assert keys.shared() == ""
    assert keys.shared() == ""
    assert ssm.calls == 1
    ssm.client.put_parameter(Name="/gw/shared-token", Value="shared-new", Type="SecureString")
    clock.now += 61
    assert keys.shared() == "shared-new"


async def test_async_callers_get_the_same_keys(ssm: CountingSsm) -> None:
    ssm.client.put_parameter(Name="/gw/auth-token", Value="admin-v1", Type="SecureString")
    keys = ApiKeys(IN_AWS, ssm=ssm)
    assert await keys.admin_async() == "admin-v1"
    assert await keys.shared_async() == ""
    local = ApiKeys(Settings(auth_token="a", shared_token="s"), ssm=object())
    assert (await local.admin_async(), await local.shared_async()) == ("a", "s")
