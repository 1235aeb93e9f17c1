"""The CDK app: a data stack (the table) and an API stack (layer, functions, HTTP API, auth,
monitoring), built from constructs. Routes come from the one route table."""
