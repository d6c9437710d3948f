from __future__ import annotations

import json

import pytest
from django.utils import translation

from pheu.rules import parse_domain
from pheu.rules.tests.schema import SCHEMA


def explain(source) -> str:
    return parse_domain(source, SCHEMA).explain()


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("[['country_id', 'in', ['United States', 'Canada']]]", "Country is in United States, Canada"),
        ("[['score', '>=', 50]]", "Score is at least 50"),
        ("[['name', 'ilike', 'nguyen']]", "Name contains “nguyen”"),
        ("[['name', 'not like', 'X']]", "Name does not contain “X” (matching case)"),
        ("[['email_from', '=ilike', '%@gmail.com']]", "E-mail matches the pattern “%@gmail.com”"),
        ("[['country', '=', False]]", "Country is empty"),
        ("[['tags', '!=', False]]", "Tags is set"),
        ("[['country', 'in', ['VN', False]]]", "Country is in Vietnam, empty"),
        ("[['active', '=', True]]", "Active is yes"),
        ("[['kind', '=', 'opportunity']]", "Type is Opportunity"),
        ("[['partner.country.code', '=', 'US']]", "Customer › Country › Code is “US”"),
        ("[['pageviews.url', 'ilike', '/pricing']]", "Page views › URL contains “/pricing”"),
        ("[['team', 'ilike', 'mien']]", "Sales team contains “mien”"),
        (
            "['|', ['kind', '=', 'lead'], '&', ['score', '>', 1], ['score', '<', 9]]",
            "Type is Lead or (Score is more than 1 and Score is less than 9)",
        ),
        ("['!', ['team', '=', 'Export']]", "not (Sales team is Export)"),
        ("[]", "every record"),
    ],
)
def test_explain_reads_the_domain(source, text):
    assert explain(source) == text


def test_relations_are_shown_by_their_label_in_the_active_language():
    domain = parse_domain("[['country_id', 'in', ['United States', 'Canada']]]", SCHEMA)
    # The toy lookup's labels are plain English; lazy labels (see the lead schema) follow the language.
    with translation.override("vi"):
        assert "United States, Canada" in domain.explain()


@pytest.mark.parametrize(
    ("source", "canonical"),
    [
        (
            "[('country_id', 'in', ('United States', 'Canada'))]",
            [["country", "in", ["United States", "Canada"]]],
        ),
        (
            "['|', ['team.name', '=', False], ['score', '>=', 50.0]]",
            ["|", ["team", "=", False], ["score", ">=", 50]],
        ),
        (
            "[['amount', '<', 12.5], ['due', '=', '2025-01-02 ']]",
            [["amount", "<", 12.5], ["due", "=", "2025-01-02"]],
        ),
        (
            "['!', '&', ['name', 'ILIKE', 'x'], ['tag_ids', 'in', ['VIP', None]]]",
            ["!", "&", ["name", "ilike", "x"], ["tags", "in", ["VIP", False]]],
        ),
        (
            "[['active', '<>', None], ['kind', '==', 'Opportunity']]",
            [["active", "!=", None], ["kind", "=", "opportunity"]],
        ),
        ("['score', '>', 1]", [["score", ">", 1]]),
    ],
)
def test_canonical_json_normalises_names_operators_and_values(source, canonical):
    domain = parse_domain(source, SCHEMA)
    assert json.loads(domain.canonical_json()) == canonical
    again = parse_domain(domain.canonical_json(), SCHEMA)
    assert again.canonical_json() == domain.canonical_json()


def test_canonical_json_keeps_vietnamese_readable():
    assert (
        parse_domain("[['team', '=', 'Miền Bắc']]", SCHEMA).canonical_json() == '[["team", "=", "Miền Bắc"]]'
    )
