"""What knows AWS and HTTP and nothing about tasks: the Lambda entry (`entry`), request plumbing
(`http`), the dialects' error rendering (`dialects`), identity from the authorizer's claims
(`auth`), logging and tracing (`observability`), the cold-start measures (`coldstart`), settings
and the clock; and the storage side every feature's repository stands on: the DynamoDB handle and
codec (`dynamo`), the key scheme (`keys`), cursors (`cursors`) and declared conditions
(`conditions`). See docs/architecture.md."""
