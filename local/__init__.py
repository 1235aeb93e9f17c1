"""Local tooling: the development server, its embedded DynamoDB, tokens and demo data.

Not used by the deployed functions (the CDK layer build leaves this package out)."""
