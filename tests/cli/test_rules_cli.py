"""`qixian rules ...` as legal-affairs staff use it."""

import json

from qixian.cli import main
from qixian.cli.rules import schema_of
from qixian.rulebook import load_pack
from tests.paths import DATA, ROOT, RULES


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_passes_and_counts(capsys, make_pack):
    folder = make_pack(DATA / "sample.good.yaml")
    code, out, _ = run(capsys, "rules", "check", folder)
    assert code == 0
    assert "检查通过：4 条规则（5 个版本），5 个例子全部通过" in out


def test_check_reports_every_problem_and_fails(capsys, make_pack):
    folder = make_pack(DATA / "sample.good.yaml", ("broken.yaml", (DATA / "unknown_key.bad.yaml").read_text(encoding="utf-8")))
    code, out, err = run(capsys, "rules", "check", folder)
    assert code == 1 and out == ""
    assert "broken.yaml:12:5: 规则 crim.detention.family_notice: 未知的键 'custdy'。是否应为 custody？" in err
    assert "未被采用" in err


def test_check_shows_exp_and_got_for_a_failing_example(capsys, make_pack, tmp_path):
    wrong = (DATA / "family_notice.good.yaml").read_text(encoding="utf-8").replace('due: "2026-03-03 10:00"', 'due: "2026-03-03 11:00"')
    folder = make_pack(("family.yaml", wrong))
    junit = tmp_path / "junit.xml"
    code, _, err = run(capsys, "rules", "check", folder, "--junit", junit)
    assert code == 1
    assert "exp: due=2026-03-03 11:00" in err and "got: due=2026-03-03 10:00" in err
    assert "<failure" in junit.read_text(encoding="utf-8")


def test_list_json_has_the_fields_reports_need(capsys, make_pack):
    code, out, _ = run(capsys, "rules", "list", "--json", "--rules", make_pack(DATA / "sample.good.yaml"))
    rules = json.loads(out)
    assert code == 0 and len(rules) == 5
    for rule in rules:
        assert {"id", "name", "limit", "custody", "group", "reminder_type", "basis", "enabled"} <= set(rule)
        assert rule["basis"] and rule["basis"][0]["text"]


def test_list_by_group_and_unknown_group(capsys, make_pack):
    folder = make_pack(DATA / "sample.good.yaml")
    code, out, _ = run(capsys, "rules", "list", "--group", "强制措施", "--rules", folder, "--json")
    assert code == 0 and {r["group"] for r in json.loads(out)} == {"强制措施"}
    code, _, err = run(capsys, "rules", "list", "--group", "无此分组", "--rules", folder)
    assert code == 2 and "无此分组" in err


def test_explain_reads_like_the_law(capsys, make_pack):
    code, out, _ = run(capsys, "rules", "explain", "crim.detention.arrest_request", "--rules", make_pack(DATA / "sample.good.yaml"))
    assert code == 0
    for words in ("刑事拘留（detained）之时起算", "3日", "不顺延", "延长4日", "鉴定", "应当在拘留后的三日以内"):
        assert words in out, words


def test_explain_unknown_rule_suggests(capsys, make_pack):
    code, _, err = run(capsys, "rules", "explain", "crim.detention.arrest_requst", "--rules", make_pack(DATA / "sample.good.yaml"))
    assert code == 2 and "是否应为 crim.detention.arrest_request" in err


def test_what_if_with_inline_events(capsys, make_pack):
    code, out, _ = run(
        capsys,
        "rules",
        "test",
        "crim.detention.arrest_request",
        "--rules",
        make_pack(DATA / "sample.good.yaml"),
        "--case",
        "kind=criminal",
        "--event",
        "detained 2025-09-29 15:40 P1",
        "--event",
        "arrest_request_extended 2025-10-01 09:00 P1 days=4",
        "--now",
        "2025-10-07 10:00",
    )
    assert code == 0
    assert "期满：2025-10-06 24:00，状态：已超期" in out


def test_what_if_with_an_events_file(capsys, make_pack, tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text('{"type": "arrested", "at": "2026-01-31 10:00", "person": "P1"}\n', encoding="utf-8")
    code, out, _ = run(capsys, "rules", "test", "crim.custody.extension_request", "--rules", make_pack(DATA / "sample.good.yaml"), "--events", events)
    assert code == 0 and "期满：2026-03-24 24:00" in out


def test_an_events_file_that_is_not_a_list_is_refused_in_one_line(capsys, make_pack, tmp_path):
    events = tmp_path / "events.yaml"
    events.write_text("events: 拘留\n", encoding="utf-8")
    code, out, err = run(capsys, "rules", "test", "crim.custody.extension_request", "--rules", make_pack(DATA / "sample.good.yaml"), "--events", events)
    assert code == 2 and out == "", "a usage error, nothing printed as a result"
    assert "应为事件列表" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_diff_names_what_changed(capsys, make_pack):
    old = make_pack(DATA / "sample.good.yaml", name="old")
    changed = (DATA / "sample.good.yaml").read_text(encoding="utf-8").replace("limit: 3 days", "limit: 4 days")
    new = make_pack(("sample.good.yaml", changed), DATA / "family_notice.good.yaml", name="new")
    code, out, _ = run(capsys, "rules", "diff", old, new)
    assert code == 0
    flat = out.replace("\n", "").replace("│", "").replace(" ", "")
    assert "3日" in out and "4日" in out and "新增" in out and "crim.detention.family_notice" in flat


def test_committed_schemas_match_the_models():
    for kind in ("rules", "events", "settings"):
        committed = json.loads((RULES / "schema" / f"{kind}.schema.json").read_text(encoding="utf-8"))
        assert committed == schema_of(kind), f"rules/schema/{kind}.schema.json is stale: run qixian rules schema --kind {kind}"


def test_shipped_rule_files_also_pass_the_json_schema():
    import jsonschema

    from qixian.legaltime.yamlsource import read_yaml

    validator = jsonschema.Draft202012Validator(schema_of("rules"))
    files = [p for p in RULES.glob("*.yaml") if p.name not in ("settings.yaml", "events.yaml")] + [DATA / "sample.good.yaml"]
    for path in files:
        errors = list(validator.iter_errors(json.loads(json.dumps(read_yaml(path)))))
        assert not errors, (path, errors[:3])
    assert not list(jsonschema.Draft202012Validator(schema_of("events")).iter_errors(json.loads(json.dumps(read_yaml(RULES / "events.yaml")))))
    assert ROOT.is_dir()


def test_diff_warns_first_when_a_packs_examples_fail(capsys, make_pack):
    old = make_pack(DATA / "family_notice.good.yaml", name="old")
    wrong = (DATA / "family_notice.good.yaml").read_text(encoding="utf-8").replace('due: "2026-03-03 10:00"', 'due: "2026-03-03 11:00"')
    new = make_pack(("family.yaml", wrong), name="new")
    code, out, _ = run(capsys, "rules", "diff", old, new)
    assert code == 0
    warning = out.index(f"注意：规则包 {new} 有 1 个例子未通过，不能上线")
    assert warning < out.index("两个规则包的规则没有差别") and f"规则包 {old} 有" not in out  # first; the old one passes


def test_rules_test_names_the_missing_person_instead_of_starting_no_clock(capsys):
    code, out, err = run(
        capsys, "rules", "test", "crim.detention.family_notice", "--rules", RULES, "--case", "kind=criminal", "--event", "detained 2025-09-29 15:40"
    )
    assert code == 2 and "没有启动" not in out
    assert "事件 detained 2025-09-29 15:40" in err and "必须写明人员 person" in err
    assert '--event "detained 2025-09-29 15:40 P1"' in err


def test_rules_test_with_an_unknown_event_suggests_and_says_where_to_declare(capsys):
    code, _, err = run(capsys, "rules", "test", "crim.detention.family_notice", "--rules", RULES, "--event", "detaind 2025-09-29 15:40 P1")
    assert code == 2 and "是否应为 detained？" in err and "events.yaml 中添加" in err


def test_an_on_the_spot_limit_is_explained_as_on_the_spot_not_as_zero_hours(capsys):
    code, out, _ = run(capsys, "rules", "explain", "incident.receipt_on_spot", "--rules", RULES)
    assert code == 0 and "当场（立即）" in out and "0小时" not in out
    code, out, _ = run(
        capsys,
        "rules",
        "test",
        "incident.receipt_on_spot",
        "--rules",
        RULES,
        "--case",
        "kind=incident",
        "--event",
        "case_registered_online 2025-09-28 20:05 channel=上门报案",
    )
    assert code == 0 and "应当场（立即）完成" in out and "连续计算" not in out and "0小时" not in out
    notes = " ".join(r.note or "" for r in load_pack(RULES).rules)
    assert "目录 U-" not in notes  # no editing placeholders left in what legal staff read
