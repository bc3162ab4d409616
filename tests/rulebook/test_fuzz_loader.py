"""Malformed YAML and mutated valid rule files: every one gives errors with file and line, none crashes,
none loads partially."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qixian.rulebook import build_pack
from tests.paths import DATA, RULES

SHARED = {f"rules/{name}": (RULES / name).read_text(encoding="utf-8") for name in ("settings.yaml", "events.yaml")}
SAMPLE = (DATA / "sample.good.yaml").read_text(encoding="utf-8")
LINES = SAMPLE.splitlines(keepends=True)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

junk = st.sampled_from(
    [
        "",
        " ",
        "  ",
        ":",
        "- ",
        "{",
        "}",
        "[",
        "]",
        "'",
        '"',
        "\t",
        "#",
        "&a",
        "*a",
        "!!python/object:os.system",
        "on",
        "no",
        "yes",
        "22:00",
        "3",
        "-1",
        "2027-13-01",
        "null",
        "~",
        "半个月",
        "3 weeks",
        "rules:",
        "\x00",
        "𠀀",
        "é",
        "\\",
        "|",
        ">",
        "%",
        "@",
        "`",
        "? ",
        "---\n",
        "...\n",
        "x" * 300,
    ]
)


@st.composite
def mutated(draw):
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "replace_value", "indent", "dedent", "truncate"]))
        if kind == "delete":
            lines.pop(i)
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "insert":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(junk) + lines[i][at:]
        elif kind == "replace_value" and ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {draw(junk)}\n"
        elif kind == "indent":
            lines[i] = "  " + lines[i]
        elif kind == "dedent":
            lines[i] = lines[i][2:] if lines[i].startswith("  ") else lines[i]
        elif kind == "truncate":
            lines = lines[:i]
        if not lines:
            lines = ["\n"]
    return "".join(lines)


def check_whole_or_nothing(calendar, text: str) -> None:
    pack, problems = build_pack({**SHARED, "rules/fuzzed.yaml": text}, calendar)
    if problems:
        assert pack is None
        for problem in problems:
            assert problem.source.startswith("rules/") and problem.line >= 1 and problem.column >= 1, problem
            assert problem.message
    else:
        assert pack is not None and pack.rules


@FUZZ
@given(mutated())
def test_mutated_rule_files(calendar, text):
    check_whole_or_nothing(calendar, text)


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_text(calendar, text):
    check_whole_or_nothing(calendar, text)


@FUZZ
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=20,
    )
)
def test_arbitrary_structures(calendar, value):
    import yaml

    check_whole_or_nothing(calendar, yaml.safe_dump({"rules": [value]}, allow_unicode=True))


def test_the_unmutated_sample_loads(calendar):
    pack, problems = build_pack({**SHARED, "rules/fuzzed.yaml": SAMPLE}, calendar)
    assert not problems and len(pack.rules) == 5
