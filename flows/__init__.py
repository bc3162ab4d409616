"""Prefect flows: the entry points that deployments/prefect.yaml names."""

from __future__ import annotations

from datetime import datetime

from qixian.legaltime.localtime import SHANGHAI


def scheduled_start() -> datetime:
    """When the running flow run was scheduled to start, in Beijing time: what a run is named after. (A scheduled
    run starts a little after its time, or late after downtime; named from the clock it would be a minute off.)"""
    from prefect.runtime import flow_run

    return datetime.fromisoformat(flow_run.scheduled_start_time.isoformat()).astimezone(SHANGHAI)
