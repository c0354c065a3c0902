"""Running the Lambda functions here as Lambda would: their modules loaded from functions/<group>/app.py
with the source layer on the path, an AWS made of a moto server (tables from template.yaml, the API keys
in SSM), and the environment the template gives them.

Server-mode moto (architecture.md: in-process moto is not thread-safe; the handlers' sync routes run in
FastAPI's thread pool). Everything started here is stopped by its context manager.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.local.template import load_template, local_resources
from cursor_gateway.settings import get_settings
from cursor_gateway.storage import aws

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "infra/events"
REGION = "us-east-1"
ADMIN = "handler-admin-token"
AUTH_PARAM = "/cursor-gateway/auth-token"
SHARED_PARAM = "/cursor-gateway/shared-token"


@dataclass
class Stack:
    endpoint: str
    tables: dict[str, str]  # logical id -> table name

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@contextlib.contextmanager
def moto_stack() -> Iterator[Stack]:
    """A moto server with every table and bucket of template.yaml and the admin key in SSM."""
    moto = EmbeddedMoto("127.0.0.1", 0)
    endpoint = moto.start()
    try:
        _reset(endpoint)  # moto keeps its state per process, not per server: start from nothing
        stack = Stack(endpoint, {})
        tables, buckets = local_resources(load_template(TEMPLATE), region=REGION)
        dynamodb, s3 = stack.client("dynamodb"), stack.client("s3")
        for table in tables:
            dynamodb.create_table(TableName=table.name, **table.create_args)
            stack.tables[table.logical_id] = table.name
        for bucket in buckets:
            s3.create_bucket(Bucket=bucket.name)
        stack.client("ssm").put_parameter(Name=AUTH_PARAM, Value=ADMIN, Type="SecureString")
        yield stack
    finally:
        with contextlib.suppress(OSError):
            _reset(endpoint)
        moto.stop()


def _reset(endpoint: str) -> None:
    with urllib.request.urlopen(
        urllib.request.Request(endpoint + "/moto-api/reset", method="POST")
    ) as answer:
        assert answer.status == 200


def lambda_environment(stack: Stack) -> dict[str, str]:
    """What the template's Globals give every function, pointed at the moto server. The admin key is
    only named (AUTH_TOKEN_PARAM), as in AWS; the shared one is named but does not exist."""
    return {
        "AWS_ENDPOINT_URL": stack.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "TOKENS_TABLE": stack.tables["TokensTable"],
        "CONFIG_TABLE": stack.tables["ConfigTable"],
        "CANARY_TABLE": stack.tables["CanaryTable"],
        "AUTH_TOKEN_PARAM": AUTH_PARAM,
        "SHARED_TOKEN_PARAM": SHARED_PARAM,
        "LOG_LEVEL": "WARNING",
        # Nothing listens here: a handler that tried to reach Cursor would fail fast, not hang.
        "CURSOR_API_URL": "http://127.0.0.1:9",
    }


def apply_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AUTH_TOKEN", "SHARED_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    aws.reset_clients()


def load_function(group: str) -> ModuleType:
    """functions/<group>/app.py as a fresh module (a cold start), after the environment is set."""
    get_settings.cache_clear()  # settings are read once per process: this "process" is a new cold start
    path = ROOT / "functions" / group / "app.py"
    spec = importlib.util.spec_from_file_location(f"lambda_{group}_{uuid.uuid4().hex}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    function_name = "cursor-gateway-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cursor-gateway-test"
    aws_request_id = "52fdfc07-2182-454f-963f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def sample_event(name: str, *, auth: str | None = ADMIN, body: Any = None) -> dict[str, Any]:
    """A sample API Gateway REST proxy event from infra/events/ sent with `auth` as bearer (none when
    `auth` is None; the samples hold a placeholder) and optionally another JSON body."""
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / name).read_text()))
    for key in ("headers", "multiValueHeaders"):
        headers = event[key]
        if auth is None:
            headers.pop("Authorization", None)
        else:
            value = f"Bearer {auth}"
            headers["Authorization"] = [value] if key == "multiValueHeaders" else value
    if body is not None:
        event["body"] = json.dumps(body)
    return event


def invoke(module: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """Call the function's handler like Lambda does: status, lower-cased headers, and the body (decoded
    when it is JSON, else the text)."""
    answer = module.handler(event, LambdaContext())
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    for key, values in (answer.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = ",".join(values)
    assert answer["isBase64Encoded"] is False
    body = answer["body"]
    if body and headers.get("content-type", "").startswith("application/json"):
        return answer["statusCode"], headers, json.loads(body)
    return answer["statusCode"], headers, body or None


def environment_for_subprocess(stack: Stack) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AUTH_TOKEN", "SHARED_TOKEN"))}
    env.update(lambda_environment(stack))
    return env
