"""ProcessMaker's dialect: its error body and its password-grant sign-in (its assignee lists are
the `activities` feature, which follows ProcessMaker's server)."""
