from __future__ import annotations

import pytest

from pheu.rules import DomainError, RuleProblemCode, parse_domain, shared_lookups, validate_domain
from pheu.rules.nodes import Condition, Mode
from pheu.rules.tests import schema as toy
from pheu.rules.tests.schema import SCHEMA

Code = RuleProblemCode


def problems(source):
    return [(p.position, p.path, p.code, str(p.message)) for p in validate_domain(source, SCHEMA)]


def bound(source):
    return parse_domain(source, SCHEMA).tree


# --- one message per kind, naming the term's position and field --------------------------------------
def test_unknown_field_suggests_close_names():
    assert problems("[['scroe', '>=', 50]]") == [
        (1, "scroe", Code.UNKNOWN_FIELD, "Term 1: unknown field “scroe”. Did you mean score?"),
    ]


def test_unknown_sub_field_suggests_with_its_parent():
    assert problems("[['partner.countri', '=', 'VN']]") == [
        (
            1,
            "partner.countri",
            Code.UNKNOWN_FIELD,
            "Term 1: unknown field “partner.countri”. Did you mean partner.country, partner.country_id?",
        ),
    ]


def test_a_plain_field_has_no_sub_fields():
    assert problems("[['score.value', '=', 1]]") == [
        (
            1,
            "score.value",
            Code.UNKNOWN_FIELD,
            "Term 1: “score” is not a relation, so “score.value” does not exist.",
        ),
    ]


def test_unknown_operator_lists_the_operators():
    [(position, path, code, message)] = problems("[['name', 'contains', 'x']]")
    assert (position, path, code) == (1, "name", Code.UNKNOWN_OPERATOR)
    assert message.startswith("Term 1 (name): unknown operator “contains”; use one of =, !=, <, <=")


def test_operator_not_allowed_for_the_type():
    assert problems("[['score', 'ilike', '5']]") == [
        (
            1,
            "score",
            Code.OPERATOR_NOT_ALLOWED,
            "Term 1 (score): “ilike” cannot be used with Score; use one of =, !=, <, <=, >, >=, in, not in.",
        ),
    ]


def test_ilike_needs_a_stored_key():
    [(_, _, code, message)] = problems("[['phone', 'ilike', '0912']]")
    assert code == Code.OPERATOR_NOT_ALLOWED
    assert "like, not like, =like" in message


def test_value_of_the_wrong_type():
    assert problems("[['score', '>=', 'abc']]") == [
        (1, "score", Code.BAD_VALUE, "Term 1 (score): Score needs a whole number, not “abc”."),
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("[['score', '=', 1.5]]", "a whole number"),
        ("[['score', '=', True]]", "a whole number"),
        ("[['score', '=', 100000000000000000000]]", "a whole number between"),
        ("[['amount', '>', '12']]", "a number"),
        ("[['amount', '>', 1234567890123456789]]", "a number of at most 15 digits"),
        ("[['active', '=', 1]]", "true or false"),
        ("[['due', '<', '31/12/2025']]", "a date such as 2025-12-31"),
        ("[['created_at', '<', 'yesterday']]", "a date and time such as 2025-12-31 17:30"),
        ("[['kind', '=', 'customer']]", "one of lead, opportunity"),
        ("[['priority', '=', 5]]", "one of 0, 1, 2"),
        ("[['name', '=', 5]]", "a text in quotes"),
        ("[['name', '=', 'a\\x00b']]", "a text without NUL characters"),
        ("[['name', '=', '" + "x" * 1001 + "']]", "a text of at most 1000 characters"),
        ("[['country', '=', True]]", "a name or an id"),
        ("[['pageviews', '=', 'home']]", "an id (a whole number)"),
        ("[['score', '>', False]]", "a whole number"),
        ("[['name', '=like', '" + "%a" * 11 + "']]", "a pattern with at most 10 “%”"),
    ],
)
def test_each_wrong_value_says_what_was_expected(source, expected):
    [(position, _path, code, message)] = problems(source)
    assert (position, code) == (1, Code.BAD_VALUE)
    assert expected in message


def test_in_needs_a_list():
    assert problems("[['country_id', 'in', 'Vietnam']]") == [
        (
            1,
            "country_id",
            Code.NEEDS_LIST,
            "Term 1 (country_id): “in” needs a list of values, such as [“Vietnam”].",
        ),
    ]


def test_a_list_where_one_value_is_expected():
    assert problems("[['score', '>=', [1, 2]]]") == [
        (
            1,
            "score",
            Code.NEEDS_SINGLE_VALUE,
            "Term 1 (score): “>=” needs a single value; use “in” for a list.",
        ),
    ]


def test_a_relation_name_that_matches_nothing():
    assert problems("[['country_id', 'in', ['Vietnam', 'Wakanda']]]") == [
        (1, "country_id", Code.NO_MATCH, "Term 1 (country_id): “Wakanda” matches no country."),
    ]
    assert problems("[['team_id', '=', 99]]") == [
        (1, "team_id", Code.NO_MATCH, "Term 1 (team_id): 99 matches no sales team."),
    ]


def test_every_problem_is_reported_in_term_order():
    found = problems("['|', ['scroe', '>=', 1], ['score', '>=', 'x'], ['country', 'in', ['Wakanda']], '&']")
    assert [(p[0], p[2]) for p in found] == [
        (2, Code.UNKNOWN_FIELD),
        (3, Code.BAD_VALUE),
        (4, Code.NO_MATCH),
        (5, Code.UNBALANCED),
    ]


def test_parse_domain_raises_with_every_problem():
    with pytest.raises(DomainError) as err:
        parse_domain("[['scroe', '>=', 1], ['score', '>=', 'x']]", SCHEMA)
    assert err.value.code == Code.UNKNOWN_FIELD
    assert [p.position for p in err.value.problems] == [1, 2]
    assert "Term 1" in str(err.value) and "Term 2" in str(err.value)


def test_a_valid_domain_has_no_problem():
    assert problems("[['country_id', 'in', ['United States', 'Canada']]]") == []


# --- binding ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("country_id", "country"),
        ("country.name", "country"),
        ("country_id.id", "country"),
        ("team.name", "team"),
        ("tag_ids", "tags"),
        ("tags.name", "tags"),
        ("score_pageview_ids.url", "pageviews.url"),
        ("partner_id.country_id.code", "partner.country.code"),
        ("email_from", "email"),
        ("date_deadline", "due"),
    ],
)
def test_aliases_resolve_to_canonical_paths(path, canonical):
    value = "x@example.com" if path == "email_from" else "2025-01-01" if path == "date_deadline" else "VN"
    if canonical in ("team", "tags"):
        value = "Miền Bắc" if canonical == "team" else "VIP"
    op = "ilike" if canonical in ("pageviews.url",) else "="
    assert bound([[path, op, value]]).target.canonical == canonical


@pytest.mark.parametrize("name", ["Việt Nam", "viet nam", "Vietnam", "VN", "vn", "VIETNAM"])
def test_a_relation_matches_names_in_any_language_and_codes(name):
    assert bound([["country_id", "=", name]]).operand.values == ("VN",)


def test_a_relation_matches_ids():
    assert bound([["team_id", "in", [1, "Miền Nam"]]]).operand.values == (1, 2)


def test_ilike_on_a_relation_finds_names_containing_the_text():
    operand = bound([["team", "ilike", "mien"]]).operand
    assert (operand.mode, operand.values) == (Mode.MEMBER, (1, 2))
    assert bound([["team", "ilike", "nowhere"]]).operand.values == ()


def test_small_tables_are_loaded_once_per_parse_large_ones_per_condition():
    before = dict(toy.calls)
    parse_domain(
        "[['country', '=', 'VN'], ['partner.country', 'in', ['US', 'CA']], ['partner', '=', 'Acme'],"
        " ['partner_id', '=', 100], ['score', '>', 1]]",
        SCHEMA,
    )
    assert toy.calls["countries"] - before["countries"] == 1
    assert toy.calls["partners"] - before["partners"] == 2
    assert toy.calls["teams"] == before["teams"]


def test_shared_lookups_load_each_small_table_once_for_many_parses():
    before = dict(toy.calls)
    with shared_lookups():
        first = parse_domain("[['country', '=', 'VN']]", SCHEMA)
        with shared_lookups():  # nested: the outer block's tables
            second = parse_domain("[['partner.country', 'in', ['US', 'CA']]]", SCHEMA)
    assert toy.calls["countries"] - before["countries"] == 1
    assert isinstance(first.tree, Condition) and isinstance(second.tree, Condition)
    assert first.tree.operand is not None and second.tree.operand is not None
    assert (first.tree.operand.values, second.tree.operand.values) == (("VN",), ("US", "CA"))
    parse_domain("[['country', '=', 'VN']]", SCHEMA)  # outside the block: loaded again
    assert toy.calls["countries"] - before["countries"] == 2


def test_false_and_none_test_emptiness_except_false_on_booleans():
    operand = bound([["name", "=", False]]).operand
    assert (operand.values, operand.empty) == ((), True)
    assert bound([["name", "in", ["", "x"]]]).operand.empty
    operand = bound([["active", "=", False]]).operand
    assert (operand.values, operand.empty) == ((False,), False)
    assert bound([["active", "=", None]]).operand.empty


def test_choices_accept_value_or_label():
    assert bound([["kind", "=", "Opportunity"]]).operand.values == ("opportunity",)
    assert bound([["priority", ">=", 1]]).operand.values == (1,)


def test_operator_spellings():
    assert bound([["score", "<>", 1]]).operand.negated
    assert bound([["name", "NOT ILIKE", "x"]]).operand.negated
