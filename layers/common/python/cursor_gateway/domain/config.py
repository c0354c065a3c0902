"""Runtime config: what an operator changes with `POST /config`, without a redeploy (pure).

The stored config overrides the environment. It is kept as a flat JSON object of the fields below;
every update is validated here first, so nothing invalid is ever written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
_CHOICES: dict[str, tuple[str, ...]] = {
    "cursor_protocol": PROFILES,
    "thinking_output": ("reasoning_content", "think_tags"),
    "vision_ability": ("none", "base64", "all"),
    "token_selection": ("round_robin", "fill_first", "most_remaining"),
}
_FLAGS = ("enable_slow_pool", "enable_long_context", "include_web_references", "enable_dynamic_key")
USAGE_CHECK_TYPES = ("none", "default", "all", "list")
# Public names for the admin console's form (services/config_console.py).
FIELD_CHOICES = _CHOICES
FLAGS = _FLAGS


@dataclass(frozen=True, slots=True)
class ModelAlias:
    """What a client model id means on Cursor: a model id, max mode and parameters (e.g. effort)."""

    model: str
    max_mode: bool = False
    parameters: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"model": self.model, "max_mode": self.max_mode, "parameters": dict(self.parameters)}


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    cursor_protocol: str = "agent"
    thinking_output: str = "reasoning_content"
    client_identity: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    vision_ability: str = "base64"
    token_selection: str = "round_robin"
    enable_slow_pool: bool = False
    enable_long_context: bool = False
    include_web_references: bool = False
    enable_dynamic_key: bool = False
    usage_check_models: Mapping[str, str] = field(default_factory=lambda: {"type": "default", "content": ""})
    share_token: str = ""
    model_aliases: Mapping[str, ModelAlias] = field(default_factory=dict)
    version: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "cursor_protocol": self.cursor_protocol,
            "thinking_output": self.thinking_output,
            "client_identity": {p: dict(self.client_identity.get(p, {})) for p in PROFILES},
            "vision_ability": self.vision_ability,
            "token_selection": self.token_selection,
            **{flag: getattr(self, flag) for flag in _FLAGS},
            "usage_check_models": dict(self.usage_check_models),
            "share_token": self.share_token,
            "model_aliases": {k: v.as_json() for k, v in self.model_aliases.items()},
        }

    def public_json(self) -> dict[str, Any]:
        """As `as_json`, with the share token masked (responses and logs)."""
        data = self.as_json()
        if self.share_token:
            data["share_token"] = self.share_token[:3] + "***"
        return data

    def identity_overrides(self, profile: str) -> dict[str, Any]:
        return dict(self.client_identity.get(profile, {}))

    def client_type_for(self, profile: str) -> str:
        chosen = self.client_identity.get(profile, {}).get("client_type")
        return str(chosen) if chosen else DEFAULT_CLIENT_TYPES.get(profile, "cli")


FIELDS = (
    "cursor_protocol",
    "thinking_output",
    "client_identity",
    "vision_ability",
    "token_selection",
    *_FLAGS,
    "usage_check_models",
    "share_token",
    "model_aliases",
)


def apply_update(current: RuntimeConfig, changes: Mapping[str, Any]) -> RuntimeConfig:
    """Validate `changes` (flat fields of POST /config) and return the new config. `client_identity`
    merges per profile and per field, `model_aliases` per alias; null resets a field (or removes an
    identity field / an alias)."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise InvalidRequest(f"Unknown config field(s): {', '.join(unknown)}", param=unknown[0])
    defaults = RuntimeConfig()
    values: dict[str, Any] = {f: getattr(current, f) for f in FIELDS}
    for name, value in changes.items():
        if value is None and name not in ("client_identity", "model_aliases"):
            values[name] = getattr(defaults, name)
        elif name in _CHOICES:
            if value not in _CHOICES[name]:
                raise InvalidRequest(f"{name} must be one of: {', '.join(_CHOICES[name])}", param=name)
            values[name] = value
        elif name in _FLAGS:
            if not isinstance(value, bool):
                raise InvalidRequest(f"{name} must be true or false", param=name)
            values[name] = value
        elif name == "share_token":
            if not isinstance(value, str):
                raise InvalidRequest("share_token must be a string", param=name)
            values[name] = value.strip()
        elif name == "usage_check_models":
            values[name] = _usage_check(value)
        elif name == "client_identity":
            values[name] = _merge_identity({p: dict(v) for p, v in current.client_identity.items()}, value)
        elif name == "model_aliases":
            values[name] = _merge_aliases(dict(current.model_aliases), value)
    return RuntimeConfig(version=current.version, **values)


def _usage_check(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or value.get("type") not in USAGE_CHECK_TYPES:
        raise InvalidRequest(
            f'usage_check_models must be {{"type": {"|".join(USAGE_CHECK_TYPES)}, "content": "a,b"}}',
            param="usage_check_models",
        )
    content = value.get("content", "")
    if not isinstance(content, str):
        raise InvalidRequest(
            "usage_check_models.content must be a comma-separated string", param="usage_check_models"
        )
    return {
        "type": str(value["type"]),
        "content": ",".join(m.strip() for m in content.split(",") if m.strip()),
    }


def _merge_aliases(aliases: dict[str, ModelAlias], update: Any) -> dict[str, ModelAlias]:
    if not isinstance(update, Mapping):
        raise InvalidRequest(
            "model_aliases must be an object of client model id -> alias", param="model_aliases"
        )
    for client_id, target in update.items():
        param = f"model_aliases.{client_id}"
        if not isinstance(client_id, str) or not client_id.strip():
            raise InvalidRequest("model alias names must be non-empty strings", param="model_aliases")
        if target is None:
            aliases.pop(client_id, None)
        elif isinstance(target, str) and target.strip():
            aliases[client_id] = ModelAlias(target.strip())
        elif isinstance(target, Mapping) and isinstance(target.get("model"), str) and target["model"].strip():
            parameters = target.get("parameters") or {}
            max_mode = target.get("max_mode", False)
            if not isinstance(parameters, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in parameters.items()
            ):
                raise InvalidRequest(
                    f"{param}.parameters must map strings to strings", param=f"{param}.parameters"
                )
            if not isinstance(max_mode, bool):
                raise InvalidRequest(f"{param}.max_mode must be true or false", param=f"{param}.max_mode")
            aliases[client_id] = ModelAlias(target["model"].strip(), max_mode, dict(parameters))
        else:
            raise InvalidRequest(
                f'{param} must be a Cursor model id or {{"model", "max_mode"?, "parameters"?}}', param=param
            )
    return aliases


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
            if not isinstance(value, expected) or (isinstance(value, str) and not value.strip()):
                raise InvalidRequest(
                    f"{param}.{key} must be a non-empty {expected.__name__}", param=f"{param}.{key}"
                )
            if key == "client_type" and value not in CLIENT_TYPES:
                raise InvalidRequest(
                    f"client_type must be one of {', '.join(CLIENT_TYPES)}", param=f"{param}.{key}"
                )
            if key == "checksum_alphabet" and value not in ("urlsafe", "standard"):
                raise InvalidRequest("checksum_alphabet must be urlsafe or standard", param=f"{param}.{key}")
            if key == "base_url":
                if not isinstance(value, str) or not value.startswith(("https://", "http://")):
                    raise InvalidRequest("base_url must be an http(s) URL", param=f"{param}.{key}")
                value = value.rstrip("/")
            merged[key] = value
        identity[profile] = merged
    return identity


def from_stored(data: Mapping[str, Any], version: int, defaults: RuntimeConfig) -> RuntimeConfig:
    """Stored JSON -> config. Each field is applied on its own, so one invalid leftover (or a field a
    newer version wrote) falls back to its default without discarding the rest."""
    config = defaults
    for name in FIELDS:
        if name in data:
            try:
                config = apply_update(config, {name: data[name]})
            except InvalidRequest:
                continue
    return replace(config, version=version)
