"""Hostile input (SPEC 14): rules 10,000 levels deep, lists of 100,000 items, SQL and Python fragments and
huge texts are refused with a 400 on every interface that takes a rule, by a size limit before any work
(the rule language reads at most ``MAX_TEXT`` characters and ``MAX_ITEMS`` items, nested ``MAX_DEPTH``
deep; the API reads bodies of at most ``DATA_UPLOAD_MAX_MEMORY_SIZE``, JSON nested as deep as Python's
parser goes) — so each answer costs a bounded time, whatever the input."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from pheu.rules.parse import MAX_DEPTH, MAX_ITEMS, MAX_TEXT
from pheu.scoring.models import ScoringRule
from pheu.teams.models import Team

pytestmark = pytest.mark.django_db

DEEP_TEXT = "[" * 10_000 + "]" * 10_000
LONG_TEXT = "[" + "['name', '=', 'a']," * 100_000 + "]"
HOSTILE_TEXTS = {
    "10,000 levels deep": DEEP_TEXT,
    "100,000 terms": LONG_TEXT,
    "100,000 values": "[['country_id', 'in', [" + "'VN'," * 100_000 + "]]]",
    "SQL": "name = 'x' OR 1=1; DROP TABLE leads_lead; --",
    "SQL as a field": "[['name; DROP TABLE leads_lead; --', '=', 'x']]",
    "SQL in a path": "[['partner_id.name\\\"); DELETE FROM leads_lead; --', '=', 'x']]",
    "Python": "__import__('os').system('touch /tmp/pheu-pwned')",
    "Python in a value": "[['name', '=', open('/etc/passwd').read()]]",
    "a lambda": "[(lambda: 1)()]",
    "a huge text value": "[['name', '=', '" + "x" * 1_000_000 + "']]",
}


HOSTILE_JSON = {
    "10,000 levels deep": "[" * 10_000 + "]" * 10_000,  # as JSON text: json.dumps would not nest so deep
    "100,000 terms": [["name", "=", "a"]] * 100_000,
    "100,000 values": [["country_id", "in", ["VN"] * 100_000]],
}


def test_the_limits_are_far_below_the_hostile_sizes():
    """Each hostile input is refused by a size limit, not by the work it would cost."""
    assert len(LONG_TEXT) > MAX_TEXT and len(HOSTILE_TEXTS["a huge text value"]) > MAX_TEXT
    assert MAX_DEPTH < 10_000 and MAX_ITEMS < 100_000


class Raw(str):
    """JSON text put into a body as it is."""


def encode(value: object) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {encode(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def send(client, method: str, url: str, body: object):
    return client.generic(method, url, encode(body), content_type="application/json")


def writes(actors):
    """(url, body of a rule) of every API write that stores a rule."""
    member = actors.north.members.first()
    return [
        ("POST", "/api/v1/scoring-rules/", lambda rule: {"name": "R", "domain": rule, "points": 5}),
        ("POST", "/api/v1/teams/", lambda rule: {"name": "T", "assignment_domain": rule}),
        ("PATCH", f"/api/v1/teams/{actors.north.pk}/", lambda rule: {"assignment_domain": rule}),
        ("PATCH", f"/api/v1/team-members/{member.pk}/", lambda rule: {"assignment_domain": rule}),
    ]


@pytest.mark.parametrize("name", [*HOSTILE_TEXTS, *(f"JSON: {n}" for n in HOSTILE_JSON)])
def test_a_hostile_rule_is_a_400_on_every_write_and_nothing_is_stored(api_client, english, name):
    rule = HOSTILE_JSON[name[6:]] if name.startswith("JSON: ") else HOSTILE_TEXTS[name]
    if name == "JSON: 10,000 levels deep":
        rule = Raw(rule)
    client = api_client(english.manager)
    before = list(Team.objects.values_list("id", "assignment_domain").order_by("id"))
    for method, url, body in writes(english):
        response = send(client, method, url, body(rule))
        assert response.status_code == 400, (url, response.content[:300])
        assert response.json(), url
    assert not ScoringRule.objects.exists()
    assert list(Team.objects.values_list("id", "assignment_domain").order_by("id")) == before


@pytest.mark.parametrize("name", list(HOSTILE_TEXTS))
def test_a_hostile_rule_filters_no_list_and_validates_as_invalid(api_client, english, name):
    client = api_client(english.sales1)
    rule = HOSTILE_TEXTS[name]
    if len(rule) < 100_000:  # a longer query string is the web server's to refuse
        listed = client.get("/api/v1/leads/", {"domain": rule})
        assert listed.status_code == 400 and "domain" in listed.json()
    checked = send(client, "POST", "/api/v1/domains/validate/", {"domain": rule})
    assert checked.status_code == 200 and checked.json()["valid"] is False


def test_the_largest_rules_are_refused_by_a_limit_before_they_are_read(api_client, english):
    client = api_client(english.sales1)
    for rule in (LONG_TEXT, HOSTILE_TEXTS["a huge text value"], [["name", "=", "a"]] * 100_000):
        checked = send(client, "POST", "/api/v1/domains/validate/", {"domain": rule}).json()
        assert [error["code"] for error in checked["errors"]] == ["too_large"], checked["errors"][:2]
    # Python's own parser stops at 200 nested brackets: a syntax error, before any work of Pheu's.
    checked = send(client, "POST", "/api/v1/domains/validate/", {"domain": DEEP_TEXT}).json()
    assert [error["code"] for error in checked["errors"]] == ["syntax"]


def test_a_body_larger_than_the_limit_is_a_400_before_it_is_read(api_client, english):
    client = api_client(english.manager)
    huge = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = send(client, "POST", "/api/v1/scoring-rules/", {"name": "R", "domain": huge, "points": 1})
    assert response.status_code == 400
    assert response.json()["code"] == "too_large"
    assert not ScoringRule.objects.exists()


def test_json_nested_deeper_than_the_parser_goes_is_a_400(api_client, english):
    body = "[" * 100_000 + "]" * 100_000
    response = api_client(english.manager).generic(
        "POST", "/api/v1/scoring-rules/", body, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["detail"]
