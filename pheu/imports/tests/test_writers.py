"""Both writers of an import store the same records, scored, flagged and assigned alike: on PostgreSQL the
staged writer (new records scored and assigned on their staging rows, each inserted once with its final
values) and the portable writer (records inserted, then scored and assigned as stored records) import the
same file into the same database, one after the other (the first rolled back), and every stored field,
tag, score, import line, assignment decision and member load is compared. (``test_same_rows`` holds the
portable writer on SQLite to the same stored rows as PostgreSQL's.)"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from pheu.accounts.models import Role, User
from pheu.assignment.models import AssignmentDecision, AssignmentRun, MemberLoadDay
from pheu.core.models import PheuSettings
from pheu.imports import services, writes
from pheu.imports.models import ImportLine
from pheu.imports.testing import make_import, stored_fields, write_csv
from pheu.leads.models import Lead
from pheu.scoring.models import ScoringRule
from pheu.teams.models import Team
from pheu.testing import make_lead, make_member, make_stage, make_tag, make_team, make_user

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="one writer on this database"),
]

HEADER = ["External ID", "Name", "Email", "Phone", "City", "Country", "Company size", "Tags", "Salesperson"]
ROWS = [
    ["w-1", "Đông Á", "an@donga.vn", "0912 345 678", "Hà Nội", "Việt Nam", "120", "VIP", ""],
    ["w-2", "Tây Bắc", "bac@taybac.vn", "", "Hà Nội", "Việt Nam", "", "", ""],
    ["w-3", "Sài Gòn Xanh", "xanh@sg.vn", "0912 345 678", "TP Hồ Chí Minh", "Việt Nam", "500", "", ""],
    ["w-4", "Singapore Trade", "trade@sg.com", "", "Singapore", "Singapore", "", "VIP", ""],
    ["w-5", "Cần Thơ Foods", "an@donga.vn", "", "Cần Thơ", "Việt Nam", "20", "", ""],
    ["w-6", "Đã giao", "given@x.vn", "", "Hà Nội", "Việt Nam", "", "", "sales9"],
    ["w-7", "New York Steel", "ny@steel.com", "", "New York", "United States", "", "", ""],
    ["x-old", "Cũ, đã sửa", "old@x.vn", "", "Huế", "Việt Nam", "", "VIP", ""],
    ["w-8", "Hải Phòng Port", "hp@port.vn", "", "Hải Phòng", "Việt Nam", "300", "VIP", ""],
    ["w-9", "Đà Nẵng Tech", "dn@tech.vn", "0905 111 222", "Đà Nẵng", "Việt Nam", "", "", ""],
]


class _Undo(Exception):
    pass


def _stored() -> dict[str, Any]:
    """What the import left, by names (ids differ between the two imports)."""
    leads = {lead.pk: lead for lead in Lead.objects.all()}
    names = {pk: lead.name for pk, lead in leads.items()}
    records: dict[str, Any] = {}
    for lead in leads.values():
        row = stored_fields(lead)
        row["lines"] = [
            (line.row, line.action, names.get(line.duplicate_of_id))
            for line in ImportLine.objects.filter(lead_id=lead.pk).order_by("id")
        ]
        row["decisions"] = [
            (
                str(d.team),
                str(d.user) if d.user else None,
                d.team_chosen,
                d.team_rule,
                d.min_score,
                d.member_rule,
                d.score,
                d.capacity,
                d.capacity_left,
                d.converted,
                d.run.trigger if d.run else None,
            )
            for d in AssignmentDecision.objects.filter(lead_id=lead.pk).order_by("id")
        ]
        records[lead.name] = row
    teams = dict(Team.objects.values_list("pk", "name"))
    users = dict(User.objects.values_list("pk", "username"))
    loads = sorted(
        (teams[load.team_id], users[load.user_id], load.count)
        for load in MemberLoadDay.objects.all()
        if load.count
    )
    runs = [
        (run.trigger, run.considered, run.teamed, run.assigned, run.converted)
        for run in AssignmentRun.objects.order_by("id")
    ]
    return {"records": records, "loads": loads, "runs": runs}


def _import_and_undo(path, actor) -> tuple[dict[str, Any], list[str]]:
    """Import ``path``, read what it stored and the statements that wrote leads, then roll it back."""
    stored: dict[str, Any] = {}
    with CaptureQueriesContext(connection) as queries:
        try:
            with transaction.atomic():
                run = make_import(path, actor=actor)
                assert (run.status, run.error_count, run.updated_count) == ("done", 0, 1), run.message
                stored.update(_stored())
                raise _Undo
        except _Undo:
            pass
    updates = [q["sql"] for q in queries.captured_queries if re.match(r'UPDATE "?leads_lead"?\s', q["sql"])]
    return stored, updates


@pytest.mark.parametrize(
    ("part", "merging"),
    [(None, False), (3, False), (None, True)],
    ids=["one part", "parts of 3 records", "a team merging duplicates: assigned once inserted"],
)
def test_the_staged_writer_stores_what_the_portable_writer_stores(
    tmp_path, actors, monkeypatch, part, merging
):
    if part:  # the assignment in parts: the members' loads carried from part to part
        monkeypatch.setattr(writes, "CHUNK", part)
        monkeypatch.setattr(services, "CHUNK", part)
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": True, "use_leads": True})
    ScoringRule.objects.create(name="VN", domain="[['country.code', '=', 'VN']]", points=10)
    make_tag("VIP")  # before the rule naming it (a rule is parsed once: the tag as it was then)
    ScoringRule.objects.create(name="VIP", domain="[['tags', 'in', ['VIP']]]", points=4)
    ScoringRule.objects.create(name="Big", domain="[['company_size', '>=', 100]]", points=3)
    Team.objects.update(active=False)  # the fixture's teams: only this test's take part
    make_stage("Mới", sequence=1, probability=Decimal(15))
    north = make_team("Bắc Bộ", sequence=1, min_score=12, assignment_domain="[['country.code', '=', 'VN']]")
    south = make_team("Quốc tế", sequence=2, use_leads=False, merge_duplicates_on_assignment=merging or None)
    ScoringRule.objects.create(name="In Quốc tế", domain="[['team', '=', 'Quốc tế']]", points=2)
    seller = [make_user(f"seller{i}", first_name=f"Seller {i}") for i in range(3)]
    make_member(team=north, user=seller[0], capacity=2)
    make_member(team=north, user=seller[1], capacity=5, assignment_domain="[['city', '=', 'Hà Nội']]")
    make_member(team=south, user=seller[2], capacity=1)
    make_user("sales9", role=Role.SALESPERSON)
    make_lead("Đã có", email="dn@tech.vn")
    make_lead("Cũ", email="old@x.vn", external_id="x-old")
    path = write_csv(tmp_path / "leads.csv", [HEADER, *ROWS])

    staged, staged_updates = _import_and_undo(path, actors.manager)
    monkeypatch.setattr(writes, "WRITERS", {})  # the portable writer on this database too
    portable, portable_updates = _import_and_undo(path, actors.manager)

    # Each new record inserted once with its final values: the staged writer updates only the record
    # found by its external id (its values, then its keys); the portable one the new ones too (assigned).
    assert staged_updates and all("pheu_import_" in sql for sql in staged_updates) != merging
    assert any("pheu_import_" not in sql for sql in portable_updates)
    assert staged["runs"] == portable["runs"] and staged["runs"]
    assert staged["loads"] == portable["loads"] and staged["loads"]
    assert sorted(staged["records"]) == sorted(portable["records"])
    for name, fields in portable["records"].items():
        assert staged["records"][name] == fields, name
    merged = [name for name, r in portable["records"].items() if r["merged_into_id"]]
    assert bool(merged) == merging, merged
    decided = [r for r in portable["records"].values() if r["decisions"]]
    assert len(decided) >= 5 and any(d[9] for r in decided for d in r["decisions"])  # one converted
