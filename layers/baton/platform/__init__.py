"""What knows AWS and HTTP and nothing about tasks (see docs/architecture.md)."""
