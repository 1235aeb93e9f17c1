"""Lambda functions, one module per API family. Each only translates HTTP to domain calls."""
