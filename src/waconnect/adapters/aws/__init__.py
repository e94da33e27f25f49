"""Ports over boto3 clients: End User Messaging, Connect, the Participant Service, S3, DynamoDB."""
