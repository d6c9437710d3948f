"""``pheu leads --domain …``: the active leads a rule selects, as a table, a number or JSON."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from pheu.leads.management.commands.leads import Command
from pheu.testing import make_lead, make_partner, make_source

pytestmark = pytest.mark.django_db

SEED = "[['country_id', 'in', ['United States', 'Canada']]]"


def run(*args: str) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("leads", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def scene(actors):
    return {
        "us": make_lead(
            "Acme US",
            company_name="Acme Inc.",
            user=actors.sales1,
            team=actors.north,
            country="US",
            score=42,
            partner=make_partner("Acme"),
        ),
        "ca": make_lead("Maple", team=actors.south, country="CA", source=make_source("Website")),
        "vn": make_lead("Đại Việt", user=actors.sales3, team=actors.south, country="VN", score=70),
        "lost": make_lead("Lost US", country="US", active=False),
    }


def test_prints_the_matching_active_leads_as_a_table(scene):
    text = run("--domain", SEED)
    assert "2 of 2 records" in text
    for value in ("Acme US", "Acme Inc.", "US", "Miền Bắc", "An Nguyễn", "42", "Maple", "CA", "Miền Nam"):
        assert value in text
    assert "Đại Việt" not in text and "Lost US" not in text


def test_count_prints_only_the_number(scene):
    assert run("--domain", "['|', ['source', '=', 'Website'], ['score', '>=', 50]]", "--count") == "2\n"
    assert run("--count") == "3\n"


def test_json_is_machine_readable(scene, actors):
    data = json.loads(run("--domain", SEED, "--json", "--limit", "1"))
    assert data == {
        "count": 2,
        "domain": [["country", "in", ["United States", "Canada"]]],
        "leads": [
            {
                "id": scene["ca"].pk,
                "name": "Maple",
                "company": "",
                "country": "CA",
                "team": "Miền Nam",
                "salesperson": None,
                "score": 0,
            }
        ],
    }
    assert json.loads(run("--domain", SEED, "--json", "--count")) == {"count": 2}


def test_a_bad_domain_fails_naming_each_problem(scene):
    with pytest.raises(CommandError) as caught, translation.override("en"):
        call_command(
            "leads", "--domain", "[['cuntry', '=', 'VN'], ['score', '>=', 'many']]", stdout=StringIO()
        )
    assert caught.value.returncode != 0
    lines = str(caught.value).splitlines()
    assert lines[0] == "The rule cannot be used:"
    assert lines[1].startswith("Term 1: unknown field “cuntry”")
    assert lines[2].startswith("Term 2 (score): ")


def test_a_negative_limit_fails(scene):
    with pytest.raises(CommandError), translation.override("en"):
        call_command("leads", "--limit", "-1", stdout=StringIO())


def test_from_the_command_line_a_bad_domain_exits_non_zero_with_the_message(scene):
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as caught, translation.override("en"):
        Command(stdout=out, stderr=err).run_from_argv(["pheu", "leads", "--domain", "[['cuntry', '=', 1]]"])
    assert caught.value.code == 1
    assert "Term 1: unknown field “cuntry”" in err.getvalue()
    assert out.getvalue() == ""
