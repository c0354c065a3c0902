"""Read `template.yaml` and describe the DynamoDB tables and S3 buckets it declares, with the physical
names they get when the stack is deployed with its parameter defaults.

This is what keeps local and cloud from drifting: the local stack creates exactly these resources.
Only what the names need is resolved (`Ref` to parameters and pseudo parameters, `Fn::Sub`,
`Fn::Join`); anything else in a name is an error rather than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# moto's default account; what AWS::AccountId means locally.
LOCAL_ACCOUNT_ID = "123456789012"
DEFAULT_STACK_NAME = "cursor-gateway"

# CreateTable arguments that have the same shape in CloudFormation and in the API.
_TABLE_API_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "TableClass",
)


class TemplateError(ValueError):
    pass


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short forms (`!Ref x`, `!GetAtt a.b`, `!Sub ...`) as their
    long forms instead of failing on unknown tags."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # yaml has no other node kind; kept explicit so the types narrow
        raise yaml.constructor.ConstructorError(
            None, None, f"unexpected YAML node {node.tag}", node.start_mark
        )
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: str | Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise TemplateError(f"cannot read {path}: {exc.strerror}") from exc
    document = yaml.load(text, Loader=_CfnLoader)  # a SafeLoader subclass
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{path} has no Resources section")
    return document


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    create_args: dict[str, Any] = field(default_factory=dict)
    ttl_attribute: str = ""


@dataclass(frozen=True)
class BucketSpec:
    logical_id: str
    name: str
    versioned: bool = False


class _Resolver:
    def __init__(self, template: dict[str, Any], region: str, stack_name: str) -> None:
        self.values: dict[str, str] = {
            "AWS::Region": region,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::StackName": stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        for name, spec in (template.get("Parameters") or {}).items():
            if isinstance(spec, dict) and "Default" in spec:
                self.values[name] = str(spec["Default"])

    def __call__(self, value: Any, where: str) -> str:
        if isinstance(value, str | int):
            return str(value)
        if isinstance(value, dict) and len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref" and isinstance(arg, str):
                return self._lookup(arg, where)
            if fn == "Fn::Sub":
                return self._sub(arg, where)
            if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
                return str(arg[0]).join(self(part, where) for part in arg[1])
        raise TemplateError(f"{where}: cannot resolve {value!r} locally")

    def _lookup(self, name: str, where: str) -> str:
        if name not in self.values:
            raise TemplateError(f"{where}: '{name}' is not a parameter with a Default or a pseudo parameter")
        return self.values[name]

    def _sub(self, arg: Any, where: str) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        out, i = [], 0
        while i < len(text):
            start = text.find("${", i)
            if start < 0:
                out.append(text[i:])
                break
            end = text.index("}", start)
            out.append(text[i:start])
            name = text[start + 2 : end]
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")  # `${!Literal}` is an escaped literal
            elif name in variables:
                out.append(self(variables[name], where))
            else:
                out.append(self._lookup(name, where))
            i = end + 1
        return "".join(out)


def local_resources(
    template: dict[str, Any], *, region: str, stack_name: str = DEFAULT_STACK_NAME
) -> tuple[list[TableSpec], list[BucketSpec]]:
    resolve = _Resolver(template, region, stack_name)
    tables: list[TableSpec] = []
    buckets: list[BucketSpec] = []
    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, dict):
            continue
        kind = resource.get("Type")
        props = resource.get("Properties") or {}
        if kind == "AWS::DynamoDB::Table":
            tables.append(_table(logical_id, props, resolve, stack_name))
        elif kind == "AWS::S3::Bucket":
            # Without BucketName CloudFormation makes one up; locally it is derived from the logical id.
            name = (
                resolve(props["BucketName"], logical_id)
                if "BucketName" in props
                else f"{stack_name}-{logical_id}".lower()
            )
            versioned = (props.get("VersioningConfiguration") or {}).get("Status") == "Enabled"
            buckets.append(BucketSpec(logical_id, name, versioned))
    return tables, buckets


def _table(logical_id: str, props: dict[str, Any], resolve: _Resolver, stack_name: str) -> TableSpec:
    name = resolve(props["TableName"], logical_id) if "TableName" in props else f"{stack_name}-{logical_id}"
    args = {key: props[key] for key in _TABLE_API_KEYS if key in props}
    if "KeySchema" not in args or "AttributeDefinitions" not in args:
        raise TemplateError(f"{logical_id}: a table needs KeySchema and AttributeDefinitions")
    stream = props.get("StreamSpecification")
    if stream:
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    ttl = props.get("TimeToLiveSpecification") or {}
    return TableSpec(logical_id, name, args, ttl.get("AttributeName", "") if ttl.get("Enabled") else "")
