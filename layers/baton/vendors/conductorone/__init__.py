"""ConductorOne's dialect: its gRPC-style error body and its task and user views."""
