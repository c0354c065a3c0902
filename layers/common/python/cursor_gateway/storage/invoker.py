"""Asynchronous invocation of another Lambda function (InvocationType=Event): Lambda queues the event and
answers 202 at once; the function then runs on its own, with its own timeout (up to 15 minutes)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cursor_gateway.storage.tokens import StorageUnavailable


class LambdaInvoker:
    def __init__(self, function_name: str, *, client: Any = None) -> None:
        self.function_name = function_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from cursor_gateway.storage import aws

            self._client = aws.client("lambda")
        return self._client

    def invoke_async(self, payload: Mapping[str, Any]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.invoke(
                FunctionName=self.function_name,
                InvocationType="Event",
                Payload=json.dumps(dict(payload)).encode(),
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"cannot start {self.function_name}: {exc}") from exc
        if answer.get("StatusCode") != 202:
            status = answer.get("StatusCode")
            raise StorageUnavailable(f"{self.function_name} did not accept the event (status {status})")
