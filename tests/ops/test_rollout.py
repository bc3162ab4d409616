"""The pack in force is one thing: after `qixian rules rollout --rules NEW` the CLI, the scan, the reports and a
dashboard that kept running all use NEW (its files kept in the store), whatever folder they are configured with;
`qixian rules rollback` puts the earlier pack back everywhere; an explicit --rules naming another pack is refused."""

import json
import shutil

from qixian.casework.feeds import ingest_path
from qixian.casework.rollout import PackInForce, packs_folder
from qixian.cli import main
from qixian.legaltime.localtime import parse_local
from qixian.rulebook import load_pack
from qixian.store.tables import RulePackRow
from tests.fixtures.dashboard import SAMPLE, THEFT, serving
from tests.paths import RULES

OLD_NAME, NEW_NAME = "拘留后通知家属", "拘留后二十四小时内通知家属"
NOW = "2025-09-30 09:00"


def renamed_pack(tmp_path):
    folder = tmp_path / "rules-new"
    shutil.copytree(RULES, folder)
    path = folder / "criminal-coercive.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(f"name: {OLD_NAME}\n", f"name: {NEW_NAME}\n", 1), encoding="utf-8")
    return folder


def run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def names_listed(capsys, db_url, *extra):
    code, out, _ = run(capsys, "clocks", "--json", "--db", db_url, "--now", NOW, *extra)
    assert code == 0
    return {c["rule_name"] for c in json.loads(out)}


def scanned_names(capsys, db_url, notify):
    code, out, _ = run(capsys, "scan", "--dry-run", "--json", "--db", db_url, "--notify", str(notify), "--now", "2025-09-30 15:00")
    assert code == 0
    return {item["rule"] for message in json.loads(out) for item in message["items"]}


def test_rollout_switches_every_command_and_the_running_dashboard_and_rollback_switches_back(world, store, db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the configured pack stays the shipped one (./rules absent)
    monkeypatch.setenv("QIXIAN_RULES", str(RULES))
    new = renamed_pack(tmp_path)
    assert run(capsys, "rules", "rollout", "--by", "王法制", "--db", db_url, "--now", NOW)[0] == 0
    with serving(store, PackInForce(store, RULES, load_pack), world) as dashboard:
        client = dashboard.login("officer-1")
        assert OLD_NAME in client.get("/case", params={"id": THEFT}).text
        assert NEW_NAME not in names_listed(capsys, db_url)

        code, out, _ = run(capsys, "rules", "rollout", "--rules", str(new), "--by", "王法制", "--db", db_url, "--now", NOW)
        assert code == 0 and "扫描、看板、报表、导入此后都按这个规则包" in out
        # configured with the old folder ($QIXIAN_RULES), every command now shows the rolled-out pack's names
        assert NEW_NAME in names_listed(capsys, db_url) and OLD_NAME not in names_listed(capsys, db_url)
        assert NEW_NAME in scanned_names(capsys, db_url, world)
        code, out, _ = run(capsys, "case", "show", THEFT, "--db", db_url, "--now", NOW)
        assert code == 0 and NEW_NAME in out
        code, out, _ = run(capsys, "report", "--from", "2025-09-01", "--to", "2025-10-31", "--format", "json", "--db", db_url, "--now", NOW)
        assert code == 0 and NEW_NAME in out and OLD_NAME not in out
        assert NEW_NAME in client.get("/case", params={"id": THEFT}).text  # the dashboard switched, not restarted
        assert NEW_NAME in client.get("/rules").text
        # the old folder named explicitly is another pack than the one the clocks were computed with: refused
        code, _, err = run(capsys, "clocks", "--db", db_url, "--rules", str(RULES), "--now", NOW)
        assert code == 2 and "不同" in err and f"qixian rules rollout --rules {RULES}" in err
        code, _, _ = run(capsys, "clocks", "--db", db_url, "--rules", str(new), "--now", NOW)
        assert code == 0  # the same pack named: fine
        code, out, _ = run(capsys, "health", "--json", "--db", db_url, "--now", NOW)
        rules = json.loads(out)["checks"]["rules"]
        assert rules["status"] == "warning" and rules["kept"] and "尚未上线的修改" in rules["summary"]

        code, out, _ = run(capsys, "rules", "rollback", "--by", "王法制", "--db", db_url, "--now", NOW)
        assert code == 0 and "回退" in out
        assert OLD_NAME in names_listed(capsys, db_url) and NEW_NAME not in names_listed(capsys, db_url)
        assert OLD_NAME in scanned_names(capsys, db_url, world)
        page = client.get("/case", params={"id": THEFT}).text
        assert OLD_NAME in page and NEW_NAME not in page
        code, out, _ = run(capsys, "health", "--json", "--db", db_url, "--now", NOW)
        assert json.loads(out)["checks"]["rules"]["status"] == "ok"  # in force again: the configured pack
    assert store.count(RulePackRow) == 2  # each pack's files kept once


def test_the_kept_copy_is_rewritten_when_edited_on_disk(store, pack, db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ingest_path(store, pack, SAMPLE, source="case-system", now=parse_local("2025-09-29 16:00"))
    new = renamed_pack(tmp_path)
    assert run(capsys, "rules", "rollout", "--rules", str(new), "--by", "王法制", "--db", db_url)[0] == 0
    assert NEW_NAME in names_listed(capsys, db_url)  # written out beside the SQLite file on first use
    kept = next(p for p in packs_folder(store).iterdir() if not p.name.startswith("."))
    edited = kept / "criminal-coercive.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace(NEW_NAME, "手改的名称"), encoding="utf-8")
    listed = names_listed(capsys, db_url)  # loads the pack in force: the edited copy is replaced from the store
    assert "手改的名称" not in edited.read_text(encoding="utf-8") and listed == names_listed(capsys, db_url)
    assert NEW_NAME in listed


def test_rollback_with_nothing_earlier_says_so(store, db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "rules", "rollback", "--db", db_url)
    assert code == 2 and "还没有上线记录" in err
    assert run(capsys, "rules", "rollout", "--rules", str(RULES), "--by", "王法制", "--db", db_url)[0] == 0
    code, _, err = run(capsys, "rules", "rollback", "--db", db_url)
    assert code == 2 and "只上线过这一个规则包" in err
