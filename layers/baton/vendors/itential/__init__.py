"""Itential Automation Platform's dialect: its error body, its task document, its sign-in."""
