"""Secrets are never logged or stored. Planted in the environment (a DingTalk robot's signing secret and token, an
SMS gateway token, an ops robot's token), they reach the providers — a real local HTTP server that even echoes
them back in its refusals — while the scan delivers, fails over and retries. Afterwards every table of the store,
every log record and everything printed is searched for them."""

import io
import logging

import pytest
from sqlalchemy import inspect, select, text

from qixian.cli import main
from qixian.store.database import connect
from tests.paths import RULES

DING_SECRET = "SECplantedDingSecret7f3a9c"
DING_TOKEN = "plantedDingToken91b2e4"
SMS_TOKEN = "plantedSmsToken5d0c81"
OPS_TOKEN = "plantedOpsToken33aa10"
SECRETS = (DING_SECRET, DING_TOKEN, SMS_TOKEN, OPS_TOKEN)
NOW = "2025-10-05 09:00"


@pytest.fixture
def planted(monkeypatch, tmp_path, notify_folder, sink):
    """Channels whose URLs name the secrets only as ${VAR}; the values are in the environment alone."""
    for name, value in (("QX_DING_SECRET", DING_SECRET), ("QX_DING_TOKEN", DING_TOKEN), ("QX_SMS_TOKEN", SMS_TOKEN), ("QX_OPS_TOKEN", OPS_TOKEN)):
        monkeypatch.setenv(name, value)
    endpoint = f"http://127.0.0.1:{sink.port}"
    (notify_folder / "channels.yaml").write_text(
        f'sms: "qxsms://127.0.0.1:{sink.port}/sms?phones={{phone}}&scheme=http&token=${{QX_SMS_TOKEN}}"\n'
        "levels: {notice: [chat, sms], warning: [chat, sms, duty], overdue: [chat, sms, duty]}\n"
        "retry: {tries: 2, backoff: [1 minute, 5 minutes]}\n"
        f'ops: ["qxdingtalk://${{QX_OPS_TOKEN}}?endpoint={endpoint}/ops"]\n',
        encoding="utf-8",
    )
    directory = (notify_folder / "directory.yaml").read_text(encoding="utf-8")
    robot = f"qxdingtalk://${{QX_DING_SECRET}}@${{QX_DING_TOKEN}}?endpoint={endpoint}"
    (notify_folder / "directory.yaml").write_text(directory.replace(f"json://127.0.0.1:{sink.port}/chat/officer-1", robot), encoding="utf-8")
    # The robot refuses (HTTP 200, errcode) and the SMS gateway at first refuses too, both quoting the secrets back.
    sink.failing["/robot/send"] = (200, {"errcode": 310000, "errmsg": f"sign not match: {DING_SECRET} {DING_TOKEN}"})
    sink.failing["/sms"] = (401, {"code": 401, "msg": f"token {SMS_TOKEN} expired"})
    sink.failing["/ops/"] = (200, {"errcode": 300001, "errmsg": f"token {OPS_TOKEN} is not exist"})
    return notify_folder


@pytest.fixture
def every_log():
    """Every record any logger emits, at DEBUG, including apprise's (which does not propagate to the root)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(), logging.getLogger("apprise"), logging.getLogger("qixian.notify")]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield stream
    for lg, level in saved:
        lg.removeHandler(handler)
        lg.setLevel(level)


def dump(url: str) -> str:
    """Every row of every table, as text."""
    engine = connect(url)
    parts = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            parts += [f"{table}: {tuple(row)}" for row in connection.execute(text(f'SELECT * FROM "{table}"'))]
    engine.dispose()
    return "\n".join(parts)


def test_no_secret_in_the_store_the_logs_or_the_output(store, db_url, planted, sink, every_log, capsys):
    from qixian.store.tables import DeliveryRow

    common = ["--db", db_url, "--rules", str(RULES), "--notify", str(planted)]
    assert main(["directory", "load", str(planted / "directory.yaml"), "--db", db_url]) == 0
    assert main(["ingest", str(RULES.parent / "examples" / "events.jsonl"), "--db", db_url, "--rules", str(RULES), "--now", "2025-09-29 16:00"]) == 0
    assert main(["scan", *common, "--now", NOW]) == 0  # robot refused, SMS refused: retried later
    del sink.failing["/sms"]
    assert main(["scan", *common, "--now", "2025-10-05 09:01", "--json"]) == 0  # robot refused again, SMS takes it
    assert main(["health", "--alert", *common, "--now", "2025-10-05 10:00"]) == 1  # scans stopped: ops alerted
    printed = capsys.readouterr()

    # The secrets did reach the providers (so the test proves they were in play) ...
    assert sink.to("/robot/send?access_token=" + DING_TOKEN) and sink.to("/ops/robot/send?access_token=" + OPS_TOKEN)
    assert sink.to("/sms")
    with store.session() as session:
        log = list(session.exec(select(DeliveryRow)).scalars())
    assert {(d.channel, d.ok) for d in log} >= {("chat", False), ("sms", False), ("sms", True)}
    # ... and are nowhere on our side.
    for place, content in (("database", dump(db_url)), ("logs", every_log.getvalue()), ("stdout", printed.out), ("stderr", printed.err)):
        assert content or place == "stderr"
        for secret in SECRETS:
            assert secret not in content, f"{secret} found in {place}"
