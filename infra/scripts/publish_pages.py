"""Upload the admin console's files to the assets bucket (`pages/<name>`), where the deployed functions
read them first (services/pages.py; the layer's copy is the fallback). Lets a page fix ship without a new
layer version. Uses your ordinary AWS credentials and region.

    .venv/bin/python infra/scripts/publish_pages.py --bucket "$(aws cloudformation describe-stacks \\
        --stack-name cursor-gateway --query "Stacks[0].Outputs[?OutputKey=='AssetsBucketName'].OutputValue" \\
        --output text)"

Functions cache a page for 60 s, so a published change shows within a minute. `--delete` removes the
published copies again (the packaged pages then serve).
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "layers/common/python"))

from cursor_gateway.services.pages import content_type, packaged_names
from cursor_gateway.storage.pages import PREFIX, S3PageObjects


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", required=True, help="the stack's AssetsBucketName output")
    parser.add_argument("--delete", action="store_true", help="remove the published copies instead")
    args = parser.parse_args(argv)
    objects = S3PageObjects(args.bucket)
    folder = resources.files("cursor_gateway.api").joinpath("static")
    for name in sorted(packaged_names()):
        if args.delete:
            objects.client.delete_object(Bucket=args.bucket, Key=PREFIX + name)
            print(f"deleted s3://{args.bucket}/{PREFIX}{name}")
        else:
            objects.put(name, folder.joinpath(name).read_bytes(), content_type(name))
            print(f"published s3://{args.bucket}/{PREFIX}{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
