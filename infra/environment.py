"""The environment every function runs with (besides its table and service name); the
benchmarks run the handlers with the same (benchmarks/run.py)."""

FUNCTION_ENV = {
    "POWERTOOLS_METRICS_NAMESPACE": "Baton",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    # No pydantic plugins are used: skip scanning every installed package's entry points for
    # them on the first model a cold start builds.
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
}
