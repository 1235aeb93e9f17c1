"""Storage: what every feature's repository stands on, knowing DynamoDB but no feature and no
HTTP: the table handle and codec (`dynamo`), the key scheme (`keys`), page cursors (`cursors`) and
declared conditions (`conditions`). See docs/architecture.md."""
