"""Schemas by name (``register_schema`` / ``get_schema``) and ``clean_domain``, database-free."""

from __future__ import annotations

import pytest

from pheu.rules import (
    CleanDomain,
    DomainError,
    RuleProblemCode,
    UnknownSchemaError,
    clean_domain,
    get_schema,
    register_schema,
    stored_domain_json,
)
from pheu.rules.registry import registered_schemas
from pheu.rules.tests.schema import SCHEMA

built: list[str] = []


def _factory():
    built.append("record")
    return SCHEMA


@pytest.fixture(autouse=True)
def _record_schema():
    register_schema("test-record", _factory)
    built.clear()


def test_get_schema_builds_once_and_caches():
    assert get_schema("test-record") is SCHEMA
    assert get_schema("test-record") is SCHEMA
    assert built == ["record"]


def test_registering_again_replaces_the_cached_schema():
    get_schema("test-record")
    register_schema("test-record", _factory)
    get_schema("test-record")
    assert built == ["record", "record"]


def test_an_unknown_schema_is_a_clear_error():
    with pytest.raises(UnknownSchemaError, match=r"'nope'.*registered: .*test-record.*AppConfig\.ready"):
        get_schema("nope")


def test_the_leads_app_registers_the_lead_schema():
    assert "lead" in registered_schemas()
    assert get_schema("lead").name == "lead"


def test_text_is_kept_as_typed_and_canonical_is_json():
    clean = clean_domain("  [('country_id', 'in', ['United States', 'Canada'])]\n", "test-record")
    assert clean == CleanDomain(
        "[('country_id', 'in', ['United States', 'Canada'])]",
        '[["country", "in", ["United States", "Canada"]]]',
        clean.domain,
    )
    assert clean.canonical_list() == [["country", "in", ["United States", "Canada"]]]
    assert not clean.is_everything


def test_a_list_is_stored_as_its_canonical_text():
    clean = clean_domain(["|", ["email_from", "=", "a@b.vn"], ["score", ">=", 50]], "test-record")
    assert clean.text == clean.canonical == '["|", ["email", "=", "a@b.vn"], ["score", ">=", 50]]'


@pytest.mark.parametrize("empty", ["", "   ", None, [], "[]"])
def test_empty_is_every_record(empty):
    clean = clean_domain(empty, "test-record")
    assert (clean.text, clean.canonical, clean.is_everything) == ("", "", True)
    assert clean.canonical_list() == []


def test_a_bad_domain_raises_with_every_problem():
    with pytest.raises(DomainError) as caught:
        clean_domain("[['cuntry', '=', 'VN'], ['score', '>=', 'many']]", "test-record")
    problems = caught.value.problems
    assert [(p.position, p.path, p.code) for p in problems] == [
        (1, "cuntry", RuleProblemCode.UNKNOWN_FIELD),
        (2, "score", RuleProblemCode.BAD_VALUE),
    ]
    assert caught.value.messages[0].startswith("Term 1: unknown field “cuntry”")


def test_a_value_that_is_not_a_list_is_a_problem():
    with pytest.raises(DomainError) as caught:
        clean_domain({"country": "VN"}, "test-record")  # type: ignore[arg-type]  # a wrong type on purpose: it is refused
    assert caught.value.code == RuleProblemCode.NOT_A_LIST


def test_stored_domain_json_is_none_when_the_text_no_longer_reads():
    assert stored_domain_json("[['team', '=', 'Miền Bắc']]", "test-record") == [["team", "=", "Miền Bắc"]]
    assert stored_domain_json("", "test-record") == []
    assert stored_domain_json("[['team', '=', 'Gone']]", "test-record") is None
