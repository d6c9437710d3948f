from __future__ import annotations

import pytest

from pheu.rules import DomainError, RuleProblemCode
from pheu.rules.nodes import And, Condition, Not, Or, TrueDomain
from pheu.rules.parse import MAX_TEXT, build, read

Code = RuleProblemCode


def tree(source):
    node, problems = build(read(source))
    assert problems == []
    return node


def cond(path, op, value, position):
    return Condition(path, op, value, position)


def test_python_literal_and_json_read_the_same():
    python = "[('country_id', 'in', ('United States', 'Canada')), ['active', '=', True], ['x', '=', None]]"
    json = '[["country_id", "in", ["United States", "Canada"]], ["active", "=", true], ["x", "=", null]]'
    assert (
        read(python)
        == read(json)
        == [
            ["country_id", "in", ["United States", "Canada"]],
            ["active", "=", True],
            ["x", "=", None],
        ]
    )


def test_signed_numbers_are_literals():
    assert read("[['score', '>=', -5], ['amount', '<', +1.5]]") == [["score", ">=", -5], ["amount", "<", 1.5]]


def test_blank_text_and_none_are_the_empty_domain():
    source: object
    for source in ("", "   ", None, "[]", []):
        assert tree(source) == TrueDomain()


def test_an_already_parsed_list_is_accepted():
    assert tree([("score", ">=", 50)]) == cond("score", ">=", 50, 1)


def test_a_bare_condition_is_a_domain_of_one_condition():
    assert tree("['score', '>=', 50]") == cond("score", ">=", 50, 1)


def test_consecutive_terms_are_joined_with_an_implicit_and():
    assert tree("[['a', '=', 1], ['b', '=', 2], ['c', '=', 3]]") == And(
        (cond("a", "=", 1, 1), cond("b", "=", 2, 2), cond("c", "=", 3, 3))
    )


def test_prefix_operators_build_the_tree():
    node = tree("['|', ['source', '=', 'Website'], '!', ['score', '>=', 50], ['c', '=', 1]]")
    assert node == And(
        (
            Or((cond("source", "=", "Website", 2), Not(cond("score", ">=", 50, 4)))),
            cond("c", "=", 1, 5),
        )
    )


def test_nested_ands_are_flattened():
    node = tree("['&', '&', ['a', '=', 1], ['b', '=', 2], ['c', '=', 3]]")
    assert node == And((cond("a", "=", 1, 3), cond("b", "=", 2, 4), cond("c", "=", 3, 5)))


def test_list_values_become_tuples():
    assert tree("[['tags', 'in', ['a', 'b']]]").value == ("a", "b")


@pytest.mark.parametrize(
    ("source", "position", "text"),
    [
        ("['|', ['a', '=', 1]]", 1, "Term 1: '|' needs two conditions after it."),
        ("[['a', '=', 1], '&']", 2, "Term 2: '&' needs two conditions after it."),
        ("['!']", 1, "Term 1: '!' needs a condition after it."),
    ],
)
def test_unbalanced_operators_name_their_position(source, position, text):
    _node, problems = build(read(source))
    assert [(p.position, p.code, str(p.message)) for p in problems] == [(position, Code.UNBALANCED, text)]


def test_bad_terms_are_all_reported():
    _node, problems = build(read("[['a', '=', 1], 'x', ['b', '='], 5]"))
    assert [(p.position, p.code) for p in problems] == [
        (2, Code.BAD_TERM),
        (3, Code.BAD_TERM),
        (4, Code.BAD_TERM),
    ]
    assert str(problems[1].message) == (
        "Term 3: expected a condition [field, operator, value] or one of '&', '|', '!', not ['b', '=']."
    )


@pytest.mark.parametrize(
    "source",
    [
        "[['a', '=', __import__('os').system('true')]]",
        "[['a', '=', x]]",
        "[['a', '=', 1 + 1]]",
        "[['a', '=', {'k': 1}]]",
        "[['a', '=', {1, 2}]]",
        "[['a', '=', b'bytes']]",
        "[['a', '=', 1j]]",
        "[['a', '=', ...]]",
        "[['a', '=', [*'ab']]]",
        "[['a', '=', float('nan')]]",
        "[['a', '=', 1e999]]",
        '[["a", "=", NaN]]',
        '[["a", "=", Infinity]]',
        "[lambda: 1]",
    ],
)
def test_only_literals_are_read(source):
    with pytest.raises(DomainError) as err:
        read(source)
    assert err.value.code in (Code.NOT_LITERAL, Code.SYNTAX)


def test_a_syntax_error_names_line_and_column():
    with pytest.raises(DomainError) as err:
        read("[['a', '=', 1]\n ['b', '=' 2]]")
    assert err.value.code == Code.SYNTAX
    assert "line 2" in str(err.value)


@pytest.mark.parametrize("source", ["'text'", "5", '{"a": 1}', 42, {"a": 1}])
def test_a_domain_must_be_a_list(source):
    with pytest.raises(DomainError) as err:
        read(source)
    assert err.value.code in (Code.NOT_A_LIST, Code.NOT_LITERAL)


@pytest.mark.parametrize(
    "source",
    [
        "[" * 100_000,
        "[" * 300 + "]" * 300,
        "x" * (MAX_TEXT + 1),
        "[" + "1," * 10_000 + "]",
    ],
)
def test_size_and_depth_are_bounded(source):
    with pytest.raises(DomainError) as err:
        read(source)
    assert err.value.code in (Code.TOO_LARGE, Code.SYNTAX)


def test_a_self_containing_list_is_refused():
    domain: list = [["a", "=", 1]]
    domain.append(domain)
    with pytest.raises(DomainError) as err:
        read(domain)
    assert err.value.code == Code.TOO_LARGE
