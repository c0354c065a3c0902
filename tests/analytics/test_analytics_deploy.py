"""The analytics deployment: the schedule wired in template.yaml (parsed, not assumed), the function
handlers, and the asynchronous invocation behind `POST /analytics/pull` on Lambda."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from analytics_env import ROOT, Env
from cursor_gateway.api.routes import analytics
from cursor_gateway.domain.analytics import DATASETS
from cursor_gateway.domain.analytics_time import rate_seconds
from cursor_gateway.local.template import load_template, local_resources
from cursor_gateway.services.analytics import LambdaDispatcher, handle_event
from cursor_gateway.settings import Settings
from cursor_gateway.storage.invoker import LambdaInvoker

TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]


def statements(function: str) -> list[dict[str, Any]]:
    return [s for p in RESOURCES[function]["Properties"]["Policies"] for s in p["Statement"]]


def actions(function: str) -> set[str]:
    found: set[str] = set()
    for statement in statements(function):
        value = statement["Action"]
        found.update([value] if isinstance(value, str) else value)
    return found


def load_handler_module(directory: str) -> Any:
    path = ROOT / "functions" / directory / "app.py"
    spec = importlib.util.spec_from_file_location(f"fn_{directory}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_schedule_is_wired_to_the_analytics_function() -> None:
    function = RESOURCES["AnalyticsFunction"]
    props = function["Properties"]
    assert function["Type"] == "AWS::Serverless::Function"
    assert (props["CodeUri"], props["Handler"], props["Timeout"]) == (
        "functions/analytics/",
        "app.handler",
        900,
    )
    schedules = [e for e in props["Events"].values() if e["Type"] == "Schedule"]
    assert len(schedules) == 1
    event = schedules[0]["Properties"]
    assert event["Schedule"] == {"Ref": "AnalyticsScheduleRate"}
    assert event["State"] == {"Fn::If": ["AnalyticsScheduleOn", "ENABLED", "DISABLED"]}
    assert json.loads(event["Input"])["action"] == "pull"
    rate = TEMPLATE["Parameters"]["AnalyticsScheduleRate"]
    assert rate["Default"] == Settings().analytics_schedule_rate == "rate(1 hour)"
    assert rate_seconds(rate["Default"]) == 3600
    assert TEMPLATE["Conditions"]["AnalyticsScheduleOn"] == {
        "Fn::Equals": [{"Ref": "AnalyticsSchedule"}, "enabled"]
    }
    env = props["Environment"]["Variables"]
    assert env["CURSOR_ADMIN_API_KEY_PARAM"] == {"Fn::Sub": "/${SecretsPath}/cursor-admin-api-key"}
    assert env["CURSOR_ADMIN_API_RPM"] == {"Ref": "CursorAdminApiRpm"}
    assert env["ANALYTICS_STATE_TABLE"] == {"Ref": "AnalyticsStateTable"}
    assert env["ANALYTICS_BUCKET"] == {"Ref": "AnalyticsBucket"}
    assert props["EventInvokeConfig"]["MaximumRetryAttempts"] == 0
    assert {
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:Query",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "s3:PutObject",
        "ssm:GetParameter",
    } <= actions("AnalyticsFunction")
    assert callable(load_handler_module("analytics").handler)


def test_every_analytics_route_has_an_api_event_on_the_api_function() -> None:
    props = RESOURCES["AnalyticsApiFunction"]["Properties"]
    events = {
        (e["Properties"]["Method"].upper(), e["Properties"]["Path"])
        for e in props["Events"].values()
        if e["Type"] == "Api"
    }
    routes = {(method, route.path) for route in analytics.router.routes for method in route.methods}  # type: ignore[attr-defined]
    assert routes == events
    assert props["Environment"]["Variables"]["ANALYTICS_FUNCTION_NAME"] == {"Ref": "AnalyticsFunction"}
    invoke = [s for s in statements("AnalyticsApiFunction") if s["Action"] == "lambda:InvokeFunction"]
    assert invoke and invoke[0]["Resource"] == {"Fn::GetAtt": ["AnalyticsFunction", "Arn"]}
    assert "s3:GetObject" in actions("AnalyticsApiFunction")  # presigned URLs are signed with this role
    assert "dynamodb:BatchWriteItem" not in actions("AnalyticsApiFunction")  # it never writes rows
    module = load_handler_module("analytics_api")
    assert type(module.handler).__name__ == "Mangum"


def test_tables_match_the_code_and_the_local_defaults() -> None:
    tables, buckets = local_resources(TEMPLATE, region="us-east-1")
    by_id = {t.logical_id: t for t in tables}
    defaults = Settings()
    for logical_id, name in (("AnalyticsCommitsTable", "commits"), ("AnalyticsChangesTable", "changes")):
        spec = by_id[logical_id]
        assert spec.create_args["KeySchema"] == [{"AttributeName": DATASETS[name].key, "KeyType": "HASH"}]
        (index,) = spec.create_args["GlobalSecondaryIndexes"]
        assert index["IndexName"] == "by-day"
        assert [k["AttributeName"] for k in index["KeySchema"]] == ["day", "sk"]
    assert by_id["AnalyticsCommitsTable"].name == defaults.analytics_commits_table
    assert by_id["AnalyticsChangesTable"].name == defaults.analytics_changes_table
    assert by_id["AnalyticsStateTable"].name == defaults.analytics_state_table
    assert by_id["AnalyticsStateTable"].ttl_attribute == "expires_at"
    assert defaults.analytics_bucket in {b.name for b in buckets}
    for retained in ("AnalyticsCommitsTable", "AnalyticsChangesTable", "AnalyticsBucket"):
        assert RESOURCES[retained]["DeletionPolicy"] == "Retain"  # Cursor keeps only a rolling window


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_the_scheduled_handler_runs_the_pull_within_the_lambda_time(env: Env) -> None:
    scheduled = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    answer = handle_event(scheduled, Context(900_000), service=env.service)
    assert answer["state"] == "succeeded"
    run = env.service.run(answer["run_id"])
    assert run["trigger"] == "schedule" and run["streams"]["commits"]["inserted"] > 0

    # 61 s left: the run stops a minute before Lambda would kill it. The rate limit was used up by the
    # run above (same minute), so the next request could only start after that: the run ends partial.
    answer = handle_event(
        {"action": "pull", "since": "2026-02-20", "trigger": "api"}, Context(61_000), service=env.service
    )
    assert answer["state"] == "partial"
    assert env.service.run(answer["run_id"])["trigger"] == "api"


class RecordingLambda:
    """boto3's lambda client as far as LambdaInvoker uses it."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"StatusCode": 202}


def test_on_lambda_the_route_invokes_the_puller_asynchronously(env: Env) -> None:
    client = RecordingLambda()
    env.service.dispatcher = LambdaDispatcher(
        LambdaInvoker("gw-AnalyticsFunction-abc", client=client).invoke_async
    )
    run_id = env.service.start_pull(since="2026-03-01", datasets=["changes"])
    (call,) = client.calls
    assert (call["FunctionName"], call["InvocationType"]) == ("gw-AnalyticsFunction-abc", "Event")
    payload = json.loads(call["Payload"])
    assert payload == {
        "action": "pull",
        "run_id": run_id,
        "since": "2026-03-01",
        "datasets": ["changes"],
        "trigger": "api",
    }
    run = env.service.run(run_id)
    assert (run["state"], run["datasets"], run["since"]) == ("queued", ["changes"], "2026-03-01")
    assert env.fake.calls == []  # nothing pulled in this process

    # the invoked function runs exactly that request
    answer = handle_event(payload, Context(900_000), service=env.service)
    assert answer["run_id"] == run_id and env.service.run(run_id)["state"] == "succeeded"


def test_handler_module_paths_exist() -> None:
    for directory in ("analytics", "analytics_api"):
        assert (Path(ROOT) / "functions" / directory / "app.py").is_file()
