"""The HTTP edge: what stands between API Gateway and the services, knowing HTTP and Lambda but no
feature and no table: the Lambda entry (`entry`), request plumbing (`http`), path parameters
(`paths`), the dialects' error rendering (`dialects`), identity from the authorizer's claims
(`auth`), logging and tracing (`observability`) and the cold-start measures (`coldstart`). See
docs/architecture.md."""
