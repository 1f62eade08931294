"""Prefect flows. Each task wraps a plain function from `pipeline/`, so the flows stay thin."""
