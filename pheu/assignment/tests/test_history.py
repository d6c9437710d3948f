"""A lead's assignment decisions in its history: on its page in the reader's language, in the API, after a
merge. A run writes no history row of its own: the decision is the record of the change."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from pheu.assignment.models import AssignmentDecision
from pheu.assignment.services import assign_leads
from pheu.core.history import timeline_of
from pheu.core.models import HistoryEntry
from pheu.leads.services.merge import merge_leads
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db


def _entry(page: bytes, decision: AssignmentDecision) -> str:
    match = re.search(
        rf'<li [^>]*id="assignment-decision-{decision.pk}".*?</li>\s*</ul>', page.decode(), re.S
    )
    assert match, "the assignment is not in the lead's history"
    return match.group(0)


def test_the_lead_page_words_the_automatic_assignment_in_each_readers_language(client, actors):
    lead = make_lead(name="Công ty Sao Mai")
    assign_leads(actor=actors.manager)
    decision = AssignmentDecision.objects.get(lead=lead)
    with translation.override("vi"):
        seller = decision.user.display_name

    client.force_login(actors.manager)  # Vietnamese, the default
    entry = _entry(client.get(reverse("leads:detail", args=[lead.pk])).content, decision)
    assert f"Phân công tự động (lượt chạy #{decision.run_id})." in entry
    assert "Trần Minh" in entry and "Miền Bắc" in entry and seller in entry

    actors.admin.language = "en"
    actors.admin.save()
    client.force_login(actors.admin)
    client.cookies["pheu_language"] = "en"
    entry = _entry(client.get(reverse("leads:detail", args=[lead.pk])).content, decision)
    assert f"Automatic assignment (run #{decision.run_id})." in entry
    assert "Team Miền Bắc: its rule matches and the score 0 reaches its minimum 0." in entry
    with translation.override("en"):  # worded when read: the given name first in English
        seller = decision.user.display_name
    assert re.search(rf"Salesperson</span>: <span[^>]*>—</span> → <span>{seller}</span>", entry)
    assert not HistoryEntry.objects.filter(kind="change").exists()


def test_the_api_history_lists_the_assignment_among_the_entries_newest_first(actors, api_client):
    lead = make_lead(name="Deal")
    client = api_client(actors.manager)
    assert (
        client.post(f"/api/v1/leads/{lead.pk}/notes/", {"body": "Gọi trước"}, format="json").status_code
        == 201
    )
    assign_leads(actor=actors.manager)
    decision = AssignmentDecision.objects.get(lead=lead)

    entries = client.get(f"/api/v1/leads/{lead.pk}/history/").json()

    assert [e["kind"] for e in entries] == ["change", "note"]
    assignment, note = entries
    assert (assignment["id"], assignment["assignment_decision"]) == (None, decision.pk)
    assert isinstance(note["id"], int) and note["assignment_decision"] is None
    assert assignment["author"] == {"id": actors.manager.pk, "name": "Trần Minh"}
    assert [(c["field"], c["new_id"]) for c in assignment["changes"]] == [
        ("team", actors.north.pk),
        ("user", decision.user_id),
    ]


def test_merged_leads_keep_their_assignments_in_the_survivors_history(actors):
    older = make_lead(name="Sao Mai", email="mua@saomai.vn")
    newer = make_lead(name="Sao Mai", email="mua@saomai.vn")
    assign_leads(actor=actors.manager)
    decisions = set(AssignmentDecision.objects.values_list("pk", flat=True))
    assert len(decisions) == 2

    merge = merge_leads(actor=actors.manager, leads=[older, newer])

    shown = {getattr(e, "decision_id", None) for e in timeline_of(merge.survivor)}
    assert decisions <= shown


def test_after_a_merge_the_survivors_own_decision_still_explains_its_salesperson():
    from pheu.accounts.models import Role
    from pheu.assignment.services import lead_assignment
    from pheu.leads.models import Lead
    from pheu.testing import make_member, make_team, make_user

    manager = make_user("boss", role=Role.SALES_MANAGER)
    team = make_team("Sales")
    make_member(team=team, user=make_user("lan"))
    make_member(team=team, user=make_user("minh"))
    older = make_lead(name="Sao Mai", email="mua@saomai.vn")
    first = assign_leads(actor=manager, lead_ids=[older.pk])
    newer = make_lead(name="Sao Mai", email="mua@saomai.vn")
    assign_leads(actor=manager, lead_ids=[newer.pk])  # the other member: the first has a lead already
    users = dict(Lead.objects.values_list("pk", "user__username"))
    assert users[older.pk] != users[newer.pk]

    survivor = merge_leads(actor=manager, leads=[older, newer]).survivor

    assert survivor.pk == older.pk and survivor.user.username == users[older.pk]
    explained = lead_assignment(lead=Lead.objects.get(pk=survivor.pk))
    assert (explained.current, explained.manual) == (True, False)  # not "assigned by hand"
    assert explained.decision.run_id == first.run_id and explained.decision.user.username == users[older.pk]
