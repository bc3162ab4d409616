"""Prefect flows: the entry points that deployments/prefect.yaml names."""
