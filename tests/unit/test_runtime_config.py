"""Runtime config validation (pure) and the config service's cache and identities."""

from __future__ import annotations

import pytest
from cursor_gateway.domain.config import RuntimeConfig, apply_update, from_stored
from cursor_gateway.errors import InvalidRequest
from cursor_gateway.services.config import ConfigService
from cursor_gateway.settings import Settings
from cursor_gateway.storage.config import ConfigConflict, InMemoryConfigStore


def test_update_merges_identity_per_profile_and_field() -> None:
    first = apply_update(
        RuntimeConfig(), {"client_identity": {"agent": {"client_version": "cli-2027.01.01-abc"}}}
    )
    second = apply_update(
        first, {"client_identity": {"agent": {"ghost_mode": False}}, "cursor_protocol": "legacy"}
    )
    assert second.cursor_protocol == "legacy"
    assert second.identity_overrides("agent") == {"client_version": "cli-2027.01.01-abc", "ghost_mode": False}
    cleared = apply_update(second, {"client_identity": {"agent": {"client_version": None}}})
    assert cleared.identity_overrides("agent") == {"ghost_mode": False}


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"cursor_protocol": "grpc"}, "cursor_protocol"),
        ({"thinking_output": "xml"}, "thinking_output"),
        ({"vision": "all"}, "vision"),
        ({"client_identity": "cli"}, "client_identity"),
        ({"client_identity": {"chat": {}}}, "client_identity.chat"),
        ({"client_identity": {"agent": {"colour": "red"}}}, "client_identity.agent.colour"),
        ({"client_identity": {"agent": {"client_version": 3}}}, "client_identity.agent.client_version"),
        ({"client_identity": {"agent": {"client_version": "  "}}}, "client_identity.agent.client_version"),
        ({"client_identity": {"agent": {"client_type": "browser"}}}, "client_identity.agent.client_type"),
        ({"client_identity": {"ide": {}}}, "client_identity.ide"),
        ({"client_identity": {"inference": {"base_url": "ftp://x"}}}, "client_identity.inference.base_url"),
        (
            {"client_identity": {"legacy": {"checksum_alphabet": "hex"}}},
            "client_identity.legacy.checksum_alphabet",
        ),
    ],
)
def test_invalid_updates_name_the_field(changes: dict, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        apply_update(RuntimeConfig(), changes)
    assert caught.value.param == param


def test_stored_garbage_falls_back_to_defaults() -> None:
    defaults = RuntimeConfig(cursor_protocol="inference")
    assert from_stored({"cursor_protocol": "nope"}, 7, defaults).cursor_protocol == "inference"
    assert (
        from_stored({"cursor_protocol": "legacy", "future_field": 1}, 7, defaults).cursor_protocol == "legacy"
    )


def test_default_client_types_per_profile() -> None:
    config = RuntimeConfig()
    assert [config.client_type_for(p) for p in ("agent", "inference", "legacy")] == ["cli", "ide", "ide"]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_service_caches_then_rereads_and_identities_merge() -> None:
    store = InMemoryConfigStore()
    clock = Clock()
    settings = Settings(config_cache_seconds=5.0, cursor_client_version="cli-env-version")
    service = ConfigService(store, settings, clock=clock)
    assert service.identity_for("agent").client_version == "cli-env-version"
    assert service.identity_for("inference").client_type == "ide"
    other_instance = ConfigService(store, settings, clock=clock)
    other_instance.update(
        {"client_identity": {"agent": {"client_version": "cli-new", "base_url": "https://h.example/"}}}
    )
    assert service.identity_for("agent").client_version == "cli-env-version"  # cached
    clock.now += 6
    identity = service.identity_for("agent")
    assert identity.client_version == "cli-new" and identity.base_url == "https://h.example"
    assert service.current().version == 1


def test_update_with_a_stale_expected_version_conflicts() -> None:
    service = ConfigService(InMemoryConfigStore(), Settings())
    service.update({"cursor_protocol": "legacy"})
    with pytest.raises(ConfigConflict):
        service.update({"cursor_protocol": "agent"}, expected_version=0)
    assert service.get()["data"]["cursor_protocol"] == "legacy"
    with pytest.raises(InvalidRequest):
        service.update({})
