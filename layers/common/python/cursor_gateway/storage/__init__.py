"""The only boto3 user: DynamoDB and S3 repositories behind small Protocols, and the cached clients."""
