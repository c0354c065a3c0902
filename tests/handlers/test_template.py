"""template.yaml against the code it deploys. Routes come from the FastAPI apps, never from a list here,
so a new router without its function (or a function event its app does not serve) fails at once; the
same checks cover every issue's functions, tables and buckets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cursor_gateway.api.app import all_routers, create_app
from cursor_gateway.local.template import load_template
from cursor_gateway.settings import Settings
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from handler_kit import ROOT, TEMPLATE, load_function

Route = tuple[str, str]  # (METHOD, path)
TEMPLATE_DOC = load_template(TEMPLATE)
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE_DOC["Resources"]
GLOBAL_FUNCTION: dict[str, Any] = TEMPLATE_DOC["Globals"]["Function"]
FUNCTIONS = {n: r["Properties"] for n, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
SECRET_VALUES = {"AUTH_TOKEN", "SHARED_TOKEN", "CURSOR_ADMIN_API_KEY"}


def routes_of(app: FastAPI) -> set[Route]:
    """Every (method, path) the app answers. FastAPI includes routers lazily (`app.routes` holds the
    inclusions), so walk them the way its OpenAPI generator does."""
    found = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path:
            found.update((method, context.path) for method in route.methods)
    return found


def api_events(props: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: e["Properties"] for n, e in (props.get("Events") or {}).items() if e["Type"] == "Api"}


def event_routes(props: dict[str, Any]) -> set[Route]:
    return {(e["Method"].upper(), e["Path"]) for e in api_events(props).values()}


def function_dir(props: dict[str, Any]) -> Path:
    return ROOT / str(props["CodeUri"])


def function_app(props: dict[str, Any]) -> FastAPI:
    """The ASGI app a function serves: Mangum's `handler.app`, or the `app` run.sh gives uvicorn."""
    module = load_function(function_dir(props).name)
    app = getattr(module, "app", None) or module.handler.app
    assert isinstance(app, FastAPI)
    return app


def environment(props: dict[str, Any]) -> dict[str, Any]:
    merged = dict((GLOBAL_FUNCTION.get("Environment") or {}).get("Variables") or {})
    merged.update(((props.get("Environment") or {}).get("Variables")) or {})
    return merged


def test_every_route_the_app_serves_is_served_by_exactly_one_function() -> None:
    app_routes = routes_of(create_app(*all_routers(), settings=Settings()))
    assert ("POST", "/v1/chat/completions") in app_routes  # the derivation itself works
    served: dict[Route, list[str]] = {}
    for name, props in FUNCTIONS.items():
        for route in event_routes(props):
            served.setdefault(route, []).append(name)
    unserved = sorted(app_routes - served.keys())
    doubly = {route: names for route, names in served.items() if len(names) > 1}
    assert unserved == [], f"routes with no function in template.yaml: {unserved}"
    assert doubly == {}, f"routes served by more than one function: {doubly}"


@pytest.mark.parametrize("name", sorted(n for n, p in FUNCTIONS.items() if api_events(p)))
def test_no_function_declares_a_route_its_own_app_does_not_serve(name: str) -> None:
    props = FUNCTIONS[name]
    missing = event_routes(props) - routes_of(function_app(props))
    assert missing == set(), f"{name} declares {missing}, which functions/{function_dir(props).name} lacks"
    for event in api_events(props).values():
        assert event["RestApiId"] == {"Ref": "GatewayApi"}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functions_are_wiring_that_imports_only_api_and_services(name: str) -> None:
    for source in function_dir(FUNCTIONS[name]).glob("*.py"):
        text = source.read_text()
        imported = set(re.findall(r"^\s*(?:from|import) cursor_gateway\.(\w+)", text, re.MULTILINE))
        assert imported <= {"api", "services"}, f"{source} imports {imported}"
        assert len(text.splitlines()) < 40, f"{source} is more than wiring"


def test_one_architecture_for_every_function_and_the_layer() -> None:
    architectures = GLOBAL_FUNCTION["Architectures"]
    assert architectures == ["arm64"]
    for name, props in FUNCTIONS.items():
        assert "Architectures" not in props, f"{name} overrides the Globals architecture"
    layers = {n: r for n, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::LayerVersion"}
    assert layers, "no layer"
    for name, layer in layers.items():
        assert layer["Properties"]["CompatibleArchitectures"] == architectures, name
        assert layer["Metadata"]["BuildArchitecture"] == architectures[0], name
        assert layer["Metadata"]["BuildMethod"] == GLOBAL_FUNCTION["Runtime"], name
        assert GLOBAL_FUNCTION["Runtime"] in layer["Properties"]["CompatibleRuntimes"], name
    assert {"Ref": "CommonLayer"} in GLOBAL_FUNCTION["Layers"]
    assert (ROOT / layers["CommonLayer"]["Properties"]["ContentUri"] / "cursor_gateway").is_dir()


def test_the_chat_function_streams_through_the_web_adapter() -> None:
    streaming = {
        name: props
        for name, props in FUNCTIONS.items()
        if any("ResponseTransferMode" in e for e in api_events(props).values())
    }
    assert "ChatFunction" in streaming
    assert ("POST", "/v1/chat/completions") in event_routes(streaming["ChatFunction"])
    for name, props in streaming.items():
        env = environment(props)
        assert props["Handler"] == "run.sh", name
        assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap", name
        assert env["AWS_LWA_INVOKE_MODE"] == "response_stream", name
        max_stream = float(env["MAX_STREAM_SECONDS"])
        assert props["Timeout"] >= max_stream + 30, f"{name} would be killed before MAX_STREAM_SECONDS"
        for event in api_events(props).values():
            # `STREAM` here passes every linter and deploys a buffered integration.
            assert event["ResponseTransferMode"] == "RESPONSE_STREAM", name
            assert event["TimeoutInMillis"] >= max_stream * 1000, name
        assert (function_dir(props) / "run.sh").stat().st_mode & 0o111, "run.sh must be executable"
    for name, props in FUNCTIONS.items():
        if name not in streaming and api_events(props):
            assert props["Handler"] == "app.handler", f"{name} is neither Mangum nor streaming"


def test_secrets_are_named_never_passed_as_values() -> None:
    for name, props in {"Globals": GLOBAL_FUNCTION, **FUNCTIONS}.items():
        variables = set(((props.get("Environment") or {}).get("Variables")) or {})
        assert variables & SECRET_VALUES == set(), f"{name} passes a secret value; name it with X_PARAM"
    for name, spec in (TEMPLATE_DOC.get("Parameters") or {}).items():
        if re.search(r"(Token|Password|ApiKey)$", name):
            assert spec.get("NoEcho") and not spec.get("Default"), f"parameter {name} holds a secret"
    assert environment({})["AUTH_TOKEN_PARAM"]  # the admin key is read from SSM in AWS


def test_tables_and_buckets_are_on_demand_recoverable_and_private() -> None:
    tables = {n: r["Properties"] for n, r in RESOURCES.items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert "TokensTable" in tables
    for name, props in tables.items():
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props.get("SSESpecification", {}).get("SSEEnabled") is True, name
        ttl = props.get("TimeToLiveSpecification")
        assert ttl is None or (ttl["Enabled"] is True and ttl["AttributeName"]), name
        pitr = (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
        # Data that does not age out must be recoverable; a table whose items expire (TTL) holds working
        # state that the next run rebuilds, and may go without.
        assert pitr is True or ttl is not None, f"{name}: point-in-time recovery is off"
    buckets = {n: r["Properties"] for n, r in RESOURCES.items() if r["Type"] == "AWS::S3::Bucket"}
    assert buckets
    for name, props in buckets.items():
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], name
        assert all(props["PublicAccessBlockConfiguration"].values()), name
    # The admin pages and exports bucket keeps old versions (other buckets may say why they need none).
    assert buckets["AssetsBucket"]["VersioningConfiguration"]["Status"] == "Enabled"


def statements(props: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in props.get("Policies") or []:
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
    return found


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_policies_name_actions_and_resources(name: str) -> None:
    for statement in statements(FUNCTIONS[name]):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        assert all(not a.endswith(":*") and a != "*" for a in actions), f"{name}: wildcard action {actions}"
        assert "*" not in resources, f"{name}: a statement on every resource"


def test_outputs_give_the_api_url() -> None:
    outputs = TEMPLATE_DOC["Outputs"]
    assert "${GatewayApi}.execute-api" in outputs["ApiUrl"]["Value"]["Fn::Sub"]
    assert outputs["OpenAIBaseUrl"]["Value"]["Fn::Sub"].endswith("/v1")
