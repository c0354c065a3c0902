"""Translate template.yaml the way CloudFormation will (AWS SAM's own translator) and check what
`sam validate --lint` and cfn-lint cannot see: that the chat routes really stream.

    .venv-tools/bin/python infra/scripts/check_template.py template.yaml

The trap (../shared/docs/architecture.md): on an `Api` event the property is
`ResponseTransferMode: RESPONSE_STREAM`; `STREAM` passes every linter and silently deploys a BUFFERED
integration. So, in the translated template:

- every route of a function run by Lambda Web Adapter in `response_stream` mode integrates through the
  `2021-11-15/.../response-streaming-invocations` URI with `responseTransferMode: STREAM` and an
  integration timeout long enough for a stream;
- every other route integrates through the buffered `/invocations` URI (Mangum cannot stream);
- the chat routes are among the streamed ones (so dropping the adapter cannot make the check pass);
- the REST API is REGIONAL (edge-optimised endpoints drop streams after 30 s of silence).

Then it proves it would catch the trap: the same template with `STREAM` written instead must fail.
Runs in the tools virtualenv (aws-sam-cli brings the translator). No AWS account or network needed.
"""

from __future__ import annotations

import copy
import os
import re
import sys
from pathlib import Path
from typing import Any

from samtranslator.parser import parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

MUST_STREAM = {("post", "/v1/chat/completions"), ("post", "/v1/messages")}
STREAM_URI = re.compile(r"/2021-11-15/functions/\$\{(\w+)\.Arn\}/response-streaming-invocations$")
BUFFERED_URI = re.compile(r"/2015-03-31/functions/\$\{(\w+)\.Arn\}/invocations$")
# API Gateway's stream limit is 15 minutes; anything much shorter would cut long answers.
MIN_STREAM_TIMEOUT_MS = 300_000


def translate(sam_template: dict[str, Any]) -> dict[str, Any]:
    template = copy.deepcopy(sam_template)
    # The translator wants S3 locations; `sam build`/`sam deploy` put the code there. Any will do.
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = "s3://placeholder/code.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator needs a region, any region
    translator = Translator(managed_policy_map={}, sam_parser=parser.Parser())
    return translator.translate(sam_template=template, parameter_values={})


def streaming_functions(sam_template: dict[str, Any]) -> set[str]:
    """Functions that Lambda Web Adapter serves in response_stream mode (Globals merged in)."""
    global_env = ((sam_template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}
    global_vars = global_env.get("Variables") or {}
    found = set()
    for name, resource in sam_template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        own = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        if {**global_vars, **own}.get("AWS_LWA_INVOKE_MODE") == "response_stream":
            found.add(name)
    return found


def _uri_text(uri: Any) -> str:
    if isinstance(uri, dict) and "Fn::Sub" in uri:
        sub = uri["Fn::Sub"]
        return sub if isinstance(sub, str) else str(sub[0])
    return str(uri)


def integrations(cfn: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for resource in cfn["Resources"].values():
        if resource.get("Type") != "AWS::ApiGateway::RestApi":
            continue
        for path, item in (resource["Properties"].get("Body") or {}).get("paths", {}).items():
            for method, operation in item.items():
                integration = (
                    operation.get("x-amazon-apigateway-integration") if isinstance(operation, dict) else None
                )
                if integration:
                    found.append((method.lower(), path, integration))
    return found


def problems(sam_template: dict[str, Any]) -> list[str]:
    cfn = translate(sam_template)
    streamed = streaming_functions(sam_template)
    out: list[str] = []
    if not streamed:
        out.append("no function runs Lambda Web Adapter with AWS_LWA_INVOKE_MODE=response_stream")
    seen_streaming: set[tuple[str, str]] = set()
    for method, path, integration in integrations(cfn):
        where = f"{method.upper()} {path}"
        uri = _uri_text(integration.get("uri"))
        stream_match, buffered_match = STREAM_URI.search(uri), BUFFERED_URI.search(uri)
        function = (stream_match or buffered_match).group(1) if (stream_match or buffered_match) else "?"
        if function in streamed:
            if not stream_match or integration.get("responseTransferMode") != "STREAM":
                fix = "use ResponseTransferMode: RESPONSE_STREAM"
                out.append(f"{where} -> {function} is BUFFERED (uri {uri!r}); {fix}")
                continue
            if int(integration.get("timeoutInMillis") or 29_000) < MIN_STREAM_TIMEOUT_MS:
                out.append(f"{where}: integration timeout under {MIN_STREAM_TIMEOUT_MS} ms cuts long streams")
            seen_streaming.add((method, path))
        elif stream_match or integration.get("responseTransferMode") == "STREAM":
            out.append(f"{where} -> {function} streams, but only the Web Adapter function can stream")
        elif not buffered_match:
            out.append(f"{where}: unexpected integration uri {uri!r}")
    declared = {(m, p) for m, p, _ in integrations(cfn)}
    for route in sorted(MUST_STREAM & declared - seen_streaming):
        out.append(f"{route[0].upper()} {route[1]} must stream")
    if ("post", "/v1/chat/completions") not in declared:
        out.append("POST /v1/chat/completions is not routed")
    for resource in cfn["Resources"].values():
        if resource.get("Type") == "AWS::ApiGateway::RestApi":
            types = (resource["Properties"].get("EndpointConfiguration") or {}).get("Types")
            if types != ["REGIONAL"]:
                out.append(f"REST API endpoint is {types}, not REGIONAL (edge endpoints idle out after 30 s)")
    return out


def with_trap(sam_template: dict[str, Any]) -> dict[str, Any]:
    """The template with the silent mistake made: `STREAM` instead of `RESPONSE_STREAM`."""
    mutated = copy.deepcopy(sam_template)
    for resource in mutated["Resources"].values():
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            props = event.get("Properties") or {}
            if props.get("ResponseTransferMode") == "RESPONSE_STREAM":
                props["ResponseTransferMode"] = "STREAM"
    return mutated


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "template.yaml")
    sam_template = yaml_parse(path.read_text())
    found = problems(sam_template)
    for line in found:
        print(f"{path}: {line}", file=sys.stderr)
    if found:
        return 1
    if not problems(with_trap(sam_template)):
        print(f"{path}: self-test failed: ResponseTransferMode STREAM was not caught", file=sys.stderr)
        return 1
    streamed = sorted(
        f"{m.upper()} {p}"
        for m, p, i in integrations(translate(sam_template))
        if STREAM_URI.search(_uri_text(i.get("uri")))
    )
    print(f"{path}: streamed routes {', '.join(streamed)}; all other routes buffered; trap self-test caught")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
