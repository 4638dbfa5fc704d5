"""Narrated demo flows, one module per flow, each with `run(session) -> None`."""
