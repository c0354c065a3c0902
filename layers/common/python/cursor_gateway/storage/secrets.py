"""Secrets kept in SSM Parameter Store or Secrets Manager, read lazily and cached with a TTL.

The convention (architecture.md): a setting `X` holds the value locally; in AWS `X_PARAM` names where it
lives instead, because `{{resolve:ssm-secure}}` cannot be used in Lambda environment variables. A name
starting with `arn:aws:secretsmanager:` (or `secretsmanager:`) is a Secrets Manager secret; anything
else is an SSM parameter, read with decryption. A rotated value is picked up within `ttl` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from cursor_gateway.storage.tokens import StorageUnavailable

_SECRETS_MANAGER = ("arn:aws:secretsmanager:", "secretsmanager:")


class SecretReader:
    def __init__(
        self,
        value: str = "",
        param: str = "",
        *,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        ssm: Any = None,
        secretsmanager: Any = None,
    ) -> None:
        self.value = value
        self.param = param
        self.ttl = ttl
        self._clock = clock
        self._ssm = ssm
        self._secretsmanager = secretsmanager
        self._lock = threading.Lock()
        self._cached: tuple[str, float] | None = None

    def __call__(self) -> str:
        if not self.param:
            return self.value
        with self._lock:
            now = self._clock()
            if self._cached is not None and now < self._cached[1]:
                return self._cached[0]
            secret = self._read()
            self._cached = (secret, now + self.ttl)
            return secret

    def _read(self) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        from cursor_gateway.storage import aws

        try:
            if self.param.startswith(_SECRETS_MANAGER):
                client = self._secretsmanager or aws.client("secretsmanager")
                secret_id = self.param.removeprefix("secretsmanager:")
                return str(client.get_secret_value(SecretId=secret_id)["SecretString"])
            client = self._ssm or aws.client("ssm")
            answer = client.get_parameter(Name=self.param, WithDecryption=True)
            return str(answer["Parameter"]["Value"])
        except (BotoCoreError, ClientError, KeyError) as exc:
            raise StorageUnavailable(f"cannot read the secret {self.param}: {exc}") from exc
