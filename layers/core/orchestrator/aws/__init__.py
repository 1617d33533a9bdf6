"""AWS plumbing shared by every package: boto3 clients built one way, DynamoDB helpers."""
