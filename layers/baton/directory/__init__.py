"""The directory: users and groups of a tenant."""
