"""The analytics bucket (S3): raw rows as pulled and the CSV exports.

analytics/<dataset>/dt=YYYY-MM-DD/part-<digest>.jsonl   rows new or changed in a page, by createdAt day
exports/<dataset>/dt=YYYY-MM-DD/<dataset>-YYYY-MM-DD.csv the day's rows in Cursor's CSV columns
exports/adhoc/<dataset>/<stamp>-<id>.csv                on-demand exports (expire after 7 days)
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterable
from typing import Any

from cursor_gateway.storage.analytics_aws import aws_call, lazy_client
from cursor_gateway.storage.tokens import StorageUnavailable


class AnalyticsObjects:
    def __init__(self, bucket: str, *, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = lazy_client("s3")
        return self._client

    def put(self, key: str, body: bytes, content_type: str) -> None:
        aws_call(self.client, "put_object", Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def upload_text(self, key: str, chunks: Iterable[str], content_type: str) -> int:
        """Upload text produced piece by piece; spooled to disk past 8 MB, never all in memory (S3's
        managed transfer switches to multipart for large files). Returns the byte count."""
        from botocore.exceptions import BotoCoreError, ClientError

        size = 0
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            for chunk in chunks:
                data = chunk.encode()
                size += len(data)
                spool.write(data)
            spool.seek(0)
            try:
                self.client.upload_fileobj(spool, self.bucket, key, ExtraArgs={"ContentType": content_type})
            except (BotoCoreError, ClientError) as exc:
                raise StorageUnavailable(f"upload of s3://{self.bucket}/{key} failed: {exc}") from exc
        return size

    def get(self, key: str) -> bytes:
        body = aws_call(self.client, "get_object", Bucket=self.bucket, Key=key)["Body"]
        with contextlib.closing(body):
            data: bytes = body.read()
            return data

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        while True:
            answer = aws_call(self.client, "list_objects_v2", **kwargs)
            found += [o["Key"] for o in answer.get("Contents", [])]
            if not answer.get("IsTruncated"):
                return found
            kwargs["ContinuationToken"] = answer["NextContinuationToken"]

    def presign(self, key: str, seconds: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds
        )
        return url
