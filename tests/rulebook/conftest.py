from tests.conftest import DATA  # noqa: F401 - the rule-file fixtures
