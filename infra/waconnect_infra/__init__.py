"""The AWS CDK app that deploys waconnect's Lambda functions, queues, tables and bucket."""
