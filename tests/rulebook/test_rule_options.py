"""Options legal staff asked for while writing the default pack."""

import pytest

from qixian.rulebook import load_pack
from qixian.rulebook.examples import run_examples
from qixian.yamlsource import ProblemsFound
from tests.conftest import DATA

BASE = (DATA / "family_notice.good.yaml").read_text(encoding="utf-8")


def test_examples_of_a_disabled_rule_still_run(make_pack):
    pack = load_pack(make_pack(("f.yaml", BASE.replace("    custody: true\n", "    custody: true\n    enabled: false\n    note: 待确认\n"))))
    assert [r.passed for r in run_examples(pack)] == [True]


def test_an_extension_in_another_unit_family_is_a_load_error(make_pack):
    text = BASE.replace("    custody: true\n", "    custody: true\n    extend: [{on: custody_extended, to: 3 days}]\n")
    with pytest.raises(ProblemsFound, match=r"f.yaml:13:.*延长 3日 与期限 24小时 的计算单位不一致"):
        load_pack(make_pack(("f.yaml", text)))


def test_overdue_repeats_can_be_switched_off_and_party_windows_have_none(make_pack):
    quiet = BASE.replace("    custody: true\n", "    custody: true\n    overdue: {every: null, escalate: []}\n")
    party = BASE.replace("    custody: true\n", "    custody: true\n    party_window: true\n")
    default = load_pack(make_pack(("f.yaml", BASE), name="a")).rules[0].overdue
    assert default.every is not None and default.escalate
    for text, name in ((quiet, "b"), (party, "c")):
        overdue = load_pack(make_pack(("f.yaml", text), name=name)).rules[0].overdue
        assert overdue.every is None and overdue.escalate == ()
