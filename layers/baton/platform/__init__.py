"""What knows AWS and HTTP and nothing about tasks: the Lambda entry (`entry`), request plumbing
(`http`), the dialects' error rendering (`dialects`), identity from the authorizer's claims
(`auth`), logging and tracing (`observability`), the cold-start measures (`coldstart`), settings
and the clock."""
