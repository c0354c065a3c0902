"""Each buffered function's handler (functions/<group>/app.py, Mangum) invoked with the sample API Gateway
REST proxy events of infra/events/, against moto: the tables come from template.yaml and the admin key
from SSM, as in AWS."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from cursor_gateway.local.template import load_template
from fakes.jwts import make_jwt
from handler_kit import (
    ADMIN,
    AUTH_PARAM,
    TEMPLATE,
    Stack,
    apply_environment,
    invoke,
    lambda_environment,
    load_function,
    moto_stack,
    sample_event,
)


@pytest.fixture(scope="module")
def aws_stack() -> Iterator[Stack]:
    # One moto server for the module (creating every table takes a second or two); `stack` empties it.
    with moto_stack() as running, pytest.MonkeyPatch.context() as patch:
        apply_environment(patch, lambda_environment(running))
        yield running


@pytest.fixture
def stack(aws_stack: Stack) -> Stack:
    """The module's moto server as a fresh deployment has it: an empty pool, the original admin key."""
    dynamodb, table = aws_stack.client("dynamodb"), aws_stack.tables["TokensTable"]
    for item in dynamodb.scan(TableName=table, ProjectionExpression="alias")["Items"]:
        dynamodb.delete_item(TableName=table, Key={"alias": item["alias"]})
    aws_stack.client("ssm").put_parameter(Name=AUTH_PARAM, Value=ADMIN, Type="SecureString", Overwrite=True)
    return aws_stack


def function(group: str) -> ModuleType:
    return load_function(group)


def test_health_answers_everyone_and_shows_the_pool_to_the_admin(stack: Stack) -> None:
    health = function("health")
    status, headers, body = invoke(health, sample_event("health.json", auth=None))
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert body["status"] == "ok" and "pool" not in body
    status, _, body = invoke(health, sample_event("health.json", auth=ADMIN))
    assert status == 200
    assert body["pool"] == {"tokens": 0, "enabled": 0, "usable_now": 0}
    status, _, body = invoke(health, sample_event("root.json", auth=None))
    assert status == 200 and body["service"] == "cursor-gateway"


def test_tokens_add_writes_the_pool_table_and_get_reads_it_back(stack: Stack) -> None:
    tokens = function("tokens")
    jwt = make_jwt()
    added = sample_event("tokens-add.json", body={"tokens": [{"token": jwt, "alias": "main"}]})
    status, headers, body = invoke(tokens, added)
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    assert body["results"][0]["outcome"] == "added"
    item = stack.client("dynamodb").get_item(
        TableName=stack.tables["TokensTable"], Key={"alias": {"S": "main"}}, ConsistentRead=True
    )["Item"]
    assert item["primary_token"]["S"] == jwt

    status, _, body = invoke(tokens, sample_event("tokens-get.json"))
    assert status == 200
    assert body["tokens_count"] == 1
    assert jwt not in str(body)  # masked unless asked with reveal


def test_keys_are_checked_in_each_routes_envelope(stack: Stack) -> None:
    status, headers, body = invoke(function("tokens"), sample_event("tokens-get.json", auth="not-the-key"))
    assert status == 401
    assert headers["content-type"] == "application/json"
    assert body["status"] == "error" and body["code"] == 401  # the admin envelope
    status, _, body = invoke(function("models"), sample_event("models.json", auth=None))
    assert status == 401
    assert body["error"]["type"] == "authentication_error"  # OpenAI's envelope under /v1/


def test_models_lists_the_builtin_catalog_when_the_pool_is_empty(stack: Stack) -> None:
    status, headers, body = invoke(function("models"), sample_event("models.json"))
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert body["object"] == "list" and body["source"] == "builtin"
    assert any(m["id"] == "auto" or m["id"].startswith("claude") for m in body["data"])


def test_config_get_reads_the_runtime_config(stack: Stack) -> None:
    status, headers, body = invoke(function("config"), sample_event("config-get.json"))
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    assert "version" in body


def test_a_rotated_admin_key_in_ssm_is_used_by_a_new_cold_start(stack: Stack) -> None:
    ssm = stack.client("ssm")
    ssm.put_parameter(Name="/cursor-gateway/auth-token", Value="rotated", Type="SecureString", Overwrite=True)
    tokens = function("tokens")
    assert invoke(tokens, sample_event("tokens-get.json", auth="rotated"))[0] == 200
    assert invoke(tokens, sample_event("tokens-get.json", auth=ADMIN))[0] == 401


def buffered_routes() -> list[tuple[str, str, str]]:
    """(function directory, METHOD, path) of every Api event of every Mangum function in template.yaml,
    including other issues' functions, so each of them is smoke-tested too."""
    found = []
    for resource in load_template(TEMPLATE)["Resources"].values():
        props = resource.get("Properties") or {}
        if resource.get("Type") != "AWS::Serverless::Function" or props.get("Handler") != "app.handler":
            continue
        group = str(props["CodeUri"]).strip("/").split("/")[-1]
        for event in (props.get("Events") or {}).values():
            if event.get("Type") == "Api":
                found.append((group, event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    return found


@pytest.mark.parametrize("group, method, path", buffered_routes())
def test_every_buffered_route_reaches_its_app(stack: Stack, group: str, method: str, path: str) -> None:
    event = sample_event("health.json", auth=None)
    resource = path
    # A public route with a path parameter gets a value it serves (an admin one answers 401 before looking).
    path = path.replace("/static/{name}", "/static/app.css")
    event.update(path=path, resource=resource, httpMethod=method, body="{}" if method != "GET" else None)
    event["requestContext"].update(path=f"/prod{path}", resourcePath=resource, httpMethod=method)
    status, headers, body = invoke(function(group), event)
    # Public routes answer; the rest ask for a key. Never 404 (the template's path is not the app's) or
    # 5xx (the handler cannot start or reach its tables).
    assert status in (200, 401), (status, body)
    assert body is not None
    if status == 401:
        assert headers["content-type"] == "application/json"  # an error envelope, not a page
