"""Runtime config: what an operator changes with `POST /config`, without a redeploy (pure).

The stored config overrides the environment. It is kept as a flat JSON object of the fields below;
every update is validated here first, so nothing invalid is ever written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cursor_gateway.errors import InvalidRequest

PROFILES = ("agent", "inference", "legacy")
DEFAULT_CLIENT_TYPES = {"agent": "cli", "inference": "ide", "legacy": "ide"}
CLIENT_TYPES = ("cli", "sdk", "ide")

# Per-profile identity fields an operator may set (all optional), with their JSON types.
IDENTITY_FIELDS: dict[str, type] = {
    "client_type": str,
    "client_version": str,
    "client_commit": str,
    "client_os": str,
    "client_arch": str,
    "device_type": str,
    "ghost_mode": bool,
    "checksum_alphabet": str,
    "base_url": str,
}
_CHOICES = {
    "cursor_protocol": PROFILES,
    "thinking_output": ("reasoning_content", "think_tags"),
}


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    cursor_protocol: str = "agent"
    thinking_output: str = "reasoning_content"
    client_identity: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    version: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "cursor_protocol": self.cursor_protocol,
            "thinking_output": self.thinking_output,
            "client_identity": {p: dict(self.client_identity.get(p, {})) for p in PROFILES},
        }

    def identity_overrides(self, profile: str) -> dict[str, Any]:
        return dict(self.client_identity.get(profile, {}))

    def client_type_for(self, profile: str) -> str:
        chosen = self.client_identity.get(profile, {}).get("client_type")
        return str(chosen) if chosen else DEFAULT_CLIENT_TYPES.get(profile, "cli")


FIELDS = ("cursor_protocol", "thinking_output", "client_identity")


def apply_update(current: RuntimeConfig, changes: Mapping[str, Any]) -> RuntimeConfig:
    """Validate `changes` (flat fields of POST /config) and return the new config. `client_identity`
    merges per profile and per field; a field set to null goes back to its default."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise InvalidRequest(f"Unknown config field(s): {', '.join(unknown)}", param=unknown[0])
    values: dict[str, Any] = {
        "cursor_protocol": current.cursor_protocol,
        "thinking_output": current.thinking_output,
    }
    for name, allowed in _CHOICES.items():
        if name in changes:
            value = changes[name]
            if value not in allowed:
                raise InvalidRequest(f"{name} must be one of: {', '.join(allowed)}", param=name)
            values[name] = value
    identity = {p: dict(v) for p, v in current.client_identity.items()}
    if "client_identity" in changes:
        identity = _merge_identity(identity, changes["client_identity"])
    return RuntimeConfig(client_identity=identity, version=current.version, **values)


def _merge_identity(identity: dict[str, dict[str, Any]], update: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(update, Mapping):
        raise InvalidRequest("client_identity must be an object keyed by profile", param="client_identity")
    for profile, fields_ in update.items():
        param = f"client_identity.{profile}"
        if profile not in PROFILES:
            raise InvalidRequest(f"Unknown profile '{profile}' (expected {', '.join(PROFILES)})", param=param)
        if not isinstance(fields_, Mapping):
            raise InvalidRequest(f"{param} must be an object", param=param)
        merged = dict(identity.get(profile, {}))
        for key, value in fields_.items():
            expected = IDENTITY_FIELDS.get(key)
            if expected is None:
                raise InvalidRequest(f"Unknown identity field '{key}'", param=f"{param}.{key}")
            if value is None:
                merged.pop(key, None)
                continue
            if not isinstance(value, expected) or (expected is str and not value.strip()):
                raise InvalidRequest(
                    f"{param}.{key} must be a non-empty {expected.__name__}", param=f"{param}.{key}"
                )
            if key == "client_type" and value not in CLIENT_TYPES:
                raise InvalidRequest(
                    f"client_type must be one of {', '.join(CLIENT_TYPES)}", param=f"{param}.{key}"
                )
            if key == "checksum_alphabet" and value not in ("urlsafe", "standard"):
                raise InvalidRequest("checksum_alphabet must be urlsafe or standard", param=f"{param}.{key}")
            if key == "base_url" and not value.startswith(("https://", "http://")):
                raise InvalidRequest("base_url must be an http(s) URL", param=f"{param}.{key}")
            merged[key] = value.rstrip("/") if key == "base_url" else value
        identity[profile] = merged
    return identity


def from_stored(data: Mapping[str, Any], version: int, defaults: RuntimeConfig) -> RuntimeConfig:
    """Stored JSON -> config; fields a newer version wrote (or invalid leftovers) fall back to defaults."""
    try:
        known = {k: v for k, v in data.items() if k in FIELDS}
        config = apply_update(defaults, known)
    except InvalidRequest:
        config = defaults
    return RuntimeConfig(config.cursor_protocol, config.thinking_output, config.client_identity, version)
