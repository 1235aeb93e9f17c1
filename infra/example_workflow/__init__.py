"""The example workflow's Lambda code (its asset: infra/workflow.py)."""
