"""Team services: assignment rules are checked with the "lead" schema, without importing the leads app."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pheu.teams.exceptions import TeamError
from pheu.teams.models import Team
from pheu.teams.services import create_team, create_team_member, update_team

pytestmark = pytest.mark.django_db

SEED = "[['country_id', 'in', ['United States', 'Canada']]]"


def test_create_team_stores_the_rule_as_typed(actors):
    team = create_team(actor=actors.manager, values={"name": "International", "assignment_domain": SEED})
    team.refresh_from_db()
    assert team.assignment_domain == SEED


def test_update_team_stores_a_list_as_its_canonical_text(actors):
    team = update_team(
        actor=actors.manager, team=actors.north, values={"assignment_domain": [["score", ">", 5]]}
    )
    team.refresh_from_db()
    assert team.assignment_domain == '[["score", ">", 5]]'


def test_a_bad_rule_is_a_field_error_and_nothing_is_saved(actors):
    with pytest.raises(TeamError) as caught:
        create_team(actor=actors.manager, values={"name": "X", "assignment_domain": "[['cuntry', '=', 1]]"})
    assert list(caught.value.field_errors) == ["assignment_domain"]
    assert not Team.objects.filter(name="X").exists()


def test_rule_errors_are_reported_with_the_other_field_errors(actors):
    with pytest.raises(TeamError) as caught:
        create_team_member(actor=actors.manager, values={"team": actors.south, "assignment_domain": "[["})
    assert set(caught.value.field_errors) == {"user", "assignment_domain"}


def test_the_teams_app_does_not_import_the_leads_app():
    """STYLE.md: teams ← leads, never the other way; the lead schema comes from ``pheu.rules.registry``.

    Models, services and the API are checked; ``admin.py`` (the admin shell, whose domain widget lives in
    the leads app for now) and the tests are not.
    """
    package = Path(__file__).resolve().parents[1]
    offenders = []
    for path in package.rglob("*.py"):
        if "tests" in path.relative_to(package).parts or path.name == "admin.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n == "pheu.leads" or n.startswith("pheu.leads.")
            ]
    assert offenders == []
