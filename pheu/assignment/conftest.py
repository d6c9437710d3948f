import pytest

from pheu.assignment.facts import clear_rule_cache


@pytest.fixture(autouse=True)
def _fresh_rule_cache():
    """Parsed rules hold ids of tags and teams, which differ from test to test."""
    clear_rule_cache()
    yield
    clear_rule_cache()
