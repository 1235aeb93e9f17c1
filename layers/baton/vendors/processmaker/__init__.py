"""ProcessMaker's dialect: its error body, its `aas_*` fields and its password-grant sign-in (its
assignee lists are the `activities` feature, which follows ProcessMaker's server)."""
