"""Journey Manager's dialect: its error body (every refusal a 400 with an `errorKey`) and its field names."""
