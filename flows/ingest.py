"""Prefect flows that feed events from the case system into Qixian: a file or folder drop, and a polled view.
Thin on purpose: the work is qixian.casework.feeds; a flow only sequences, retries the I/O and reports counts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, task

from qixian.casework.feeds import ingest_path, ingest_sql
from qixian.casework.rollout import pack_in_force
from qixian.legaltime.localtime import SHANGHAI
from qixian.ops.config import database_url, rules_dir
from qixian.store.repository import Store


@task(retries=2, retry_delay_seconds=10)
def ingest_drop(path: str, db: str | None, rules: str | None, source: str, encoding: str = "utf-8") -> dict:
    """Read every event file at `path` (in `encoding`) into the store and replay the touched cases."""
    report = ingest_path(
        store := Store.open(db), pack_in_force(store, rules_dir(rules)), Path(path), source=source, now=datetime.now(SHANGHAI), parallel=True, encoding=encoding
    )
    return {**report.counts(), "warnings": report.warnings}


@task(retries=3, retry_delay_seconds=30)
def poll_view(url: str, query: str, watermark_column: str, db: str | None, rules: str | None, source: str) -> dict:
    """Read the rows of the case system's view past the watermark."""
    report = ingest_sql(
        store := Store.open(db),
        pack_in_force(store, rules_dir(rules)),
        url,
        query,
        source=source,
        now=datetime.now(SHANGHAI),
        watermark_column=watermark_column,
    )
    return report.counts()


@flow(name="qixian-ingest-files", flow_run_name="ingest {path}")
def ingest_files(path: str, db: str | None = None, rules: str | None = None, source: str = "case-system", encoding: str = "utf-8") -> dict:
    """Ingest a file or a folder of event files (JSON Lines or CSV; `encoding` gb18030 for older case systems)."""
    counts = ingest_drop(path, database_url(db), rules, source, encoding)
    logger = get_run_logger()
    logger.info(
        "导入 %s：读入 %d，采用 %d，重复 %d，隔离 %d，需核对 %d",
        path,
        counts["lines"],
        counts["accepted"],
        counts["duplicate"],
        counts["quarantined"],
        counts["warned"],
    )
    for warning in counts["warnings"][:50]:
        logger.warning("%s", warning)
    return counts


@flow(name="qixian-ingest-view", flow_run_name="poll {source}")
def ingest_view(url: str, query: str, watermark_column: str = "at", db: str | None = None, rules: str | None = None, source: str = "case-system") -> dict:
    """Poll a view in the case system's database (see `qixian ingest --sql`)."""
    counts = poll_view(url, query, watermark_column, database_url(db), rules, source)
    get_run_logger().info(
        "轮询 %s：读入 %d，采用 %d，重复 %d，隔离 %d，需核对 %d",
        source,
        counts["lines"],
        counts["accepted"],
        counts["duplicate"],
        counts["quarantined"],
        counts["warned"],
    )
    return counts
