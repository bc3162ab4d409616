"""Hostile YAML and hostile rule pack folders: every YAML file the product reads is refused quickly, with one clear
line naming the file, instead of hanging, running code, crashing, or quoting a file from outside the pack."""

import os
import time
import tracemalloc

import pytest

from qixian.alerting.messages import NotifyConfig, NotifyConfigError
from qixian.casework import rollout
from qixian.casework.directory import read_directory
from qixian.cli import main
from qixian.legaltime.yamlsource import ALIAS_NODES, NESTING, ProblemsFound
from qixian.rulebook import load_pack
from tests.paths import RULES


def billion_laughs(key: str = "laughs") -> str:
    """Nine levels of ten aliases each: 10^9 strings once expanded, under 1 kB as written."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 10)]
    return f"{key}:\n" + "\n".join("  " + line for line in lines) + "\n"


BOMB_RULE = billion_laughs() + "rules:\n  - id: x.bomb\n    name: *l9\n"  # pydantic's error would print all of it
SECRET = "root:$6$not-a-real-hash:19000:0:99999:7:::"


def raising(error, call, *args):
    """An action that calls `call(*args)` and expects it to raise `error`."""

    def action():
        with pytest.raises(error):
            call(*args)

    return action


def quickly_and_small(action):
    """Run `action` twice: it must not hang (an expanded bomb takes minutes and gigabytes; the bound is no timing
    goal, only a guard a loaded CI machine never nears), and traced, it must never hold 20 MB."""
    began = time.perf_counter()
    action()
    took = time.perf_counter() - began
    tracemalloc.start()
    try:
        action()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert took < 10 and peak < 20 * 2**20, (took, peak)


def problems_of(folder) -> list[str]:
    with pytest.raises(ProblemsFound) as found:
        load_pack(folder)
    return [str(p) for p in found.value.problems]


def test_a_billion_laughs_rule_file_is_refused_quickly_naming_the_line(make_pack):
    folder = make_pack(("bomb.yaml", BOMB_RULE))
    quickly_and_small(raising(ProblemsFound, load_pack, folder))
    assert problems_of(folder) == [
        f"{folder}/bomb.yaml:5:7: 别名（*）展开后超过 {ALIAS_NODES} 个节点，拒绝读取。规则与配置文件不需要大量别名：把内容直接写出来"
    ]  # line 5: where the 10,000 is passed


def test_aliases_as_people_write_them_still_load(make_pack):
    folder = make_pack()
    settings = (folder / "settings.yaml").read_text(encoding="utf-8")
    shared = settings.replace("days: [3 days, 1 day, 0 days]", "days: &daily [3 days, 1 day, 0 days]", 1).replace(
        "workdays: [3 days, 1 day, 0 days]", "workdays: *daily", 1
    )
    assert shared.count("*daily") == 1
    (folder / "settings.yaml").write_text(shared, encoding="utf-8")
    remind = load_pack(folder).settings.default_remind
    assert remind["workdays"] == remind["days"] == load_pack(make_pack(name="plain")).settings.default_remind["workdays"]


def test_a_billion_laughs_calendar_file_is_refused(make_pack):
    folder = make_pack()
    (folder / "calendar" / "2030.yaml").write_text("year: 2030\n" + billion_laughs("holidays"), encoding="utf-8")
    quickly_and_small(raising(ProblemsFound, load_pack, folder))
    assert any("calendar/2030.yaml:" in line and "别名（*）展开后超过" in line for line in problems_of(folder))


def test_an_alias_inside_its_own_anchor_is_refused(make_pack):
    lines = problems_of(make_pack(("loop.yaml", "rules: &r\n  - *r\n")))
    assert any("loop.yaml:1:8: 别名（*）引用了包含它自己的内容" in line for line in lines), lines


def test_a_python_tag_in_a_rule_file_is_one_line_and_runs_nothing(make_pack, tmp_path):
    marker = tmp_path / "ran"
    folder = make_pack(("tagged.yaml", f"rules: !!python/object/apply:os.system ['touch {marker}']\n"))
    assert problems_of(folder) == [
        f"{folder}/tagged.yaml:1:8: 不支持的 YAML 标签 !!python/object/apply:os.system。只能写文字、数字、true/false、列表和键值对，请删除这个标签"
    ]
    assert not marker.exists()


def test_a_link_out_of_the_pack_is_refused_and_its_target_never_quoted(make_pack, tmp_path, capsys):
    outside = tmp_path / "shadow"
    outside.write_text(f"{SECRET}\n", encoding="utf-8")
    folder = make_pack()
    (folder / "leak.yaml").symlink_to(outside)
    (folder / "calendar" / "2031.yaml").symlink_to(outside)
    lines = problems_of(folder)
    assert f"{folder}/leak.yaml:1:1: 符号链接指向规则包目录之外，拒绝读取。把文件本身放进规则包目录" in lines
    assert any(line.endswith("calendar/2031.yaml:1:1: 符号链接指向规则包目录之外，拒绝读取。把文件本身放进规则包目录") for line in lines), lines
    assert main(["rules", "check", str(folder)]) == 1
    shown = "".join(capsys.readouterr())
    assert "leak.yaml" in shown and "root:" not in shown and "shadow" not in shown
    files = rollout.pack_files(folder)  # the roll-out hash does not read it either
    assert files["leak.yaml"] == files["calendar/2031.yaml"] == "符号链接指向规则包目录之外，拒绝读取"


def test_a_linked_calendar_folder_out_of_the_pack_is_refused(make_pack, tmp_path):
    folder = make_pack()
    (folder / "calendar").rename(tmp_path / "elsewhere")
    (folder / "calendar").symlink_to(tmp_path / "elsewhere")
    assert any(line.endswith("calendar:1:1: 符号链接指向规则包目录之外，拒绝读取。把文件本身放进规则包目录") for line in problems_of(folder))


def test_links_inside_the_pack_still_load(make_pack):
    folder = make_pack()
    (folder / "kept").mkdir()
    (folder / "kept" / "acceptance.yaml").write_bytes((RULES / "acceptance.yaml").read_bytes())
    (folder / "acceptance.yaml").symlink_to(folder / "kept" / "acceptance.yaml")
    assert load_pack(folder).versions("accept.admin_review")
    assert rollout.pack_files(folder)["acceptance.yaml"] == rollout.pack_files(folder)["kept/acceptance.yaml"]


def test_a_symlink_loop_is_refused_not_a_traceback(make_pack, capsys):
    folder = make_pack()
    os.symlink("loop.yaml", folder / "loop.yaml")
    os.symlink("2032.yaml", folder / "calendar" / "2032.yaml")
    lines = problems_of(folder)
    assert f"{folder}/loop.yaml:1:1: 符号链接形成循环，拒绝读取。删除或改正这个链接" in lines
    assert any(line.endswith("calendar/2032.yaml:1:1: 符号链接形成循环，拒绝读取。删除或改正这个链接") for line in lines)
    assert rollout.pack_files(folder)["loop.yaml"] == "符号链接形成循环，拒绝读取"
    assert main(["rules", "check", str(folder)]) == 1
    assert "Traceback" not in "".join(capsys.readouterr())


def test_a_fifo_in_the_pack_is_refused_without_waiting_on_it(make_pack):
    folder = make_pack()
    os.mkfifo(folder / "pipe.yaml")
    assert f"{folder}/pipe.yaml:1:1: 不是普通文件。规则包中只放 YAML 文件和 calendar 目录" in problems_of(folder)
    assert rollout.pack_files(folder)["pipe.yaml"] == "不是普通文件"


@pytest.fixture
def notify(tmp_path):
    folder = tmp_path / "notify"
    folder.mkdir()
    return folder


def test_a_billion_laughs_channels_file_is_one_line_and_exit_2(notify, capsys):
    (notify / "channels.yaml").write_text(billion_laughs() + "levels: {notice: *l9}\n", encoding="utf-8")
    quickly_and_small(raising(NotifyConfigError, NotifyConfig.load, notify))
    assert main(["health", "--alert", "--notify", str(notify), "--rules", str(RULES)]) == 2
    out, err = capsys.readouterr()
    assert (
        out == ""
        and err.strip()
        == f"错误：{notify}/channels.yaml:5:7: 别名（*）展开后超过 {ALIAS_NODES} 个节点，拒绝读取。规则与配置文件不需要大量别名：把内容直接写出来"
    )


def test_a_python_tag_in_channels_is_one_line_and_runs_nothing(notify, tmp_path, capsys):
    marker = tmp_path / "ran"
    (notify / "channels.yaml").write_text(f"sms: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    assert main(["health", "--alert", "--notify", str(notify), "--rules", str(RULES)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == (
        f"错误：{notify}/channels.yaml:1:6: 不支持的 YAML 标签 !!python/object/apply:os.system。只能写文字、数字、true/false、列表和键值对，请删除这个标签"
    )
    assert not marker.exists()


def test_channels_that_are_not_a_mapping_are_one_line(notify):
    (notify / "channels.yaml").write_text("- sms\n", encoding="utf-8")
    with pytest.raises(NotifyConfigError, match=r"channels\.yaml: 应为键值对"):
        NotifyConfig.load(notify)


def test_a_billion_laughs_directory_file_is_refused(tmp_path):
    path = tmp_path / "directory.yaml"
    path.write_text(billion_laughs() + "units: *l9\n", encoding="utf-8")
    quickly_and_small(raising(ProblemsFound, read_directory, path))
    with pytest.raises(ProblemsFound, match=r"别名（\*）展开后超过"):
        read_directory(path)


def test_deep_nesting_is_refused_before_libyaml_recurses_into_a_crash(make_pack):
    deep = "rules: " + "[" * 100_000 + "]" * 100_000 + "\n"  # composed by libyaml, this kills the process
    # the document is depth 1: the 100th bracket, column 7 + 100, is one too deep
    folder = make_pack(("deep.yaml", deep))
    quickly_and_small(raising(ProblemsFound, load_pack, folder))
    assert problems_of(folder) == [f"{folder}/deep.yaml:1:{7 + NESTING}: 列表和键值对嵌套超过 {NESTING} 层，拒绝读取。请检查括号和缩进"]
