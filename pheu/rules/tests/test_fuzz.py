"""Whatever comes in, parse_domain answers with a Domain or a DomainError — nothing else."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pheu.rules import DomainError, parse_domain, validate_domain
from pheu.rules.operators import OPERATORS
from pheu.rules.tests.schema import SCHEMA
from pheu.rules.tests.test_evaluate import EMPTY, RECORD

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["&", "|", "!", "VN", "Việt Nam", "%", "2025-01-01", ""])
)
STRUCTURES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner, inner), max_leaves=30
)
PATHS = st.sampled_from(
    [
        *SCHEMA.names,
        "country.name",
        "team.id",
        "tags.name",
        "partner.country.code",
        "pageviews.url",
        "pageviews.created_at",
        "score.x",
        "nope",
        "",
        ".",
        "partner..name",
    ]
)
OPS = st.sampled_from([*OPERATORS, "==", "<>", "NOT IN", "contains", ""])
VALUES = SCALARS | st.lists(SCALARS, max_size=4)
TERMS = st.tuples(PATHS, OPS, VALUES).map(list)
DOMAINS = st.lists(st.one_of(TERMS, st.sampled_from(["&", "|", "!"])), max_size=8)
TOKENS = st.sampled_from(
    [
        "[",
        "]",
        "(",
        ")",
        ",",
        "'",
        '"',
        "country_id",
        "'in'",
        "'='",
        "['United States', 'Canada']",
        "True",
        "null",
        "1",
        "-",
        "1e999",
        "__import__",
        "'&'",
        "'|'",
        "'!'",
        " ",
        "\\",
        "{",
        "}",
        ":",
        "\n",
        "#",
        "...",
    ]
)


def _use(source: object) -> None:
    try:
        domain = parse_domain(source, SCHEMA)  # type: ignore[arg-type]  # any object on purpose: fuzzing
    except DomainError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert str(problem.message)
        return
    domain.evaluate(RECORD)
    domain.evaluate(EMPTY)
    domain.explain()
    again = parse_domain(domain.canonical_json(), SCHEMA)
    assert again.canonical_json() == domain.canonical_json()
    assert again.evaluate(RECORD) == domain.evaluate(RECORD)


@FAST
@given(st.text(max_size=200))
def test_random_text(text):
    _use(text)


@FAST
@given(st.lists(TOKENS, max_size=40).map("".join))
def test_random_text_from_domain_tokens(text):
    _use(text)


@FAST
@given(STRUCTURES)
def test_random_nested_structures(structure):
    _use(structure)
    _use(repr(structure))


@FAST
@given(DOMAINS)
def test_random_domains_from_the_schema_vocabulary(domain):
    _use(domain)
    _use(json.dumps(domain, default=str))
    assert isinstance(validate_domain(domain, SCHEMA), list)
