"""The admin pages' files in the assets bucket (`pages/<name>`), for deployments that publish them there
(`infra/scripts/publish_pages.py`). Reads only; a missing object is `None`, not an error."""

from __future__ import annotations

from typing import Any, Protocol

from cursor_gateway.storage import aws

PREFIX = "pages/"


class PageObjects(Protocol):
    def get(self, name: str) -> bytes | None: ...


class S3PageObjects:
    def __init__(self, bucket: str, *, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("s3")
        return self._client

    def get(self, name: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=PREFIX + name)
        except ClientError as exc:
            # Without s3:ListBucket a missing key is AccessDenied, not NoSuchKey: both mean "not published".
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "AccessDenied", "404"):
                return None
            raise
        body: bytes = answer["Body"].read()
        return body

    def put(self, name: str, body: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=PREFIX + name, Body=body, ContentType=content_type)
