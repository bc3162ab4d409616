"""The Prefect automation in deployments/ is one Prefect 3.8.8 accepts: a proactive trigger on the absence of a
completed qixian-scan flow run for 3 one-minute intervals, notifying ops."""

import string
import uuid
from datetime import timedelta

import yaml

from tests.paths import ROOT


def test_the_scan_stopped_automation_is_valid_for_prefect():
    from prefect.events.schemas.automations import AutomationCore, Posture

    text = (ROOT / "deployments" / "automation-scan-stopped.yaml").read_text(encoding="utf-8")
    block = str(uuid.uuid4())
    filled = string.Template(text).safe_substitute(QIXIAN_OPS_BLOCK_ID=block)  # what envsubst does
    (automation,) = [AutomationCore.model_validate(item) for item in yaml.safe_load(filled)]
    trigger = automation.trigger
    assert trigger.posture == Posture.Proactive and trigger.within == timedelta(minutes=3)
    assert trigger.expect == {"prefect.flow-run.Completed"}
    assert trigger.match_related.get("prefect.resource.name") == ["qixian-scan"]
    from flows.scan import scan  # the flow the scan deployment runs

    deployments = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
    assert any(d["entrypoint"] == "flows/scan.py:scan" for d in deployments) and scan.name == "qixian-scan"
    assert str(automation.actions[0].block_document_id) == block
