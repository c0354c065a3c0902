"""The local stack's AWS, in this process: an embedded moto with the template's tables and buckets, the
state saved in DATA_DIR restored into it, its writes saved back (`local.state`) and a TTL sweep.

`serve` runs this in a child process (`local.moto_process`), so moto's CPU does not share the
gateway's GIL; one-off commands (`local_aws`) run it in their own process.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

_FOREIGN_AWS_VARS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


class StackError(RuntimeError):
    pass


@dataclass(frozen=True)
class LocalAws:
    endpoint: str
    tables: list[str]
    buckets: list[str]
    restored: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AwsOptions:
    """What the local AWS needs from the settings (plain values: they cross to the moto process)."""

    tokens_table: str
    fsync: bool = False
    ttl_sweep_seconds: float = 60.0


@contextlib.contextmanager
def aws_in_process(port: int, data_dir: Path, template_path: Path, options: AwsOptions) -> Iterator[LocalAws]:
    """Moto on 127.0.0.1:port (0: a free one) with the saved state, until the block ends. Points this
    process's boto3 at it."""
    from cursor_gateway.local.moto_server import EmbeddedMoto
    from cursor_gateway.local.state import LocalState, StateError
    from cursor_gateway.local.template import TemplateError, load_template, local_resources
    from cursor_gateway.storage import aws

    where = region()
    try:
        tables, buckets = local_resources(load_template(template_path), region=where)
    except TemplateError as exc:
        raise StackError(f"template: {exc}") from exc
    table_names = [t.name for t in tables]
    if options.tokens_table not in table_names:
        raise StackError(
            f"TOKENS_TABLE={options.tokens_table} is not declared in {template_path} "
            f"(it declares {', '.join(table_names) or 'no tables'})"
        )

    state = LocalState(
        data_dir,
        tables=table_names,
        buckets=[b.name for b in buckets],
        ttl_attributes={t.name: t.ttl_attribute for t in tables},
        region=where,
        fsync=options.fsync,
    )
    moto = EmbeddedMoto("127.0.0.1", port, wrap=state.wrap)
    try:
        endpoint = moto.start()
    except OSError as exc:
        raise StackError(f"cannot start moto on 127.0.0.1:{port}: {exc.strerror}") from exc
    try:
        point_boto3_at(endpoint, where)
        dynamodb, s3 = aws.client("dynamodb"), aws.client("s3")
        state.dynamodb, state.s3 = dynamodb, s3
        for table in tables:
            dynamodb.create_table(TableName=table.name, **table.create_args)
            if table.ttl_attribute:
                dynamodb.update_time_to_live(
                    TableName=table.name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
        for bucket in buckets:
            # us-east-1 is the one region that refuses an explicit LocationConstraint.
            constraint = {} if where == "us-east-1" else {"LocationConstraint": where}
            s3.create_bucket(
                Bucket=bucket.name, **({"CreateBucketConfiguration": constraint} if constraint else {})
            )
            if bucket.versioned:
                s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"})
        try:
            restored = state.restore()
        except StateError as exc:
            raise StackError(str(exc)) from exc
        state.saving = True
        state.start_ttl_sweep(options.ttl_sweep_seconds)
        yield LocalAws(endpoint, table_names, state.buckets, restored)
    finally:
        state.stop_ttl_sweep()  # before moto goes: a sweep in flight would fail noisily
        moto.stop()
        state.close()


def region() -> str:
    from cursor_gateway.storage import aws

    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or aws.DEFAULT_REGION


def point_boto3_at(endpoint: str, where: str) -> None:
    """This process talks to the local moto only: a stray real credential or profile must never be used."""
    for name in [*_FOREIGN_AWS_VARS, *(n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_"))]:
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": where,
            "AWS_DEFAULT_REGION": where,
        }
    )
    from cursor_gateway.storage import aws

    aws.reset_clients()
