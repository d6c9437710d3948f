from __future__ import annotations

import ast
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from pheu.accounts.models import Role, User
from pheu.contacts.models import Partner
from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.demo import samples
from pheu.demo.exceptions import DemoError
from pheu.demo.services import DEMO_PASSWORD, DemoSummary, load_demo
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.models import Lead, LostReason, Source, Stage
from pheu.teams.models import Team

pytestmark = pytest.mark.django_db

ROLES = {
    "admin": Role.ADMINISTRATOR,
    "manager": Role.SALES_MANAGER,
    "leader": Role.TEAM_LEADER,
    **{f"sales{n}": Role.SALESPERSON for n in range(1, 7)},
}


@pytest.fixture
def demo(db) -> DemoSummary:
    return load_demo(leads=30, seed=7)


def test_load_demo_creates_the_named_users_with_roles_and_the_demo_password(demo):
    users = {user.username: user for user in User.objects.all()}
    assert {name: user.role for name, user in users.items()} == ROLES
    assert (users["admin"].is_staff, users["admin"].is_superuser) == (True, True)
    assert (users["manager"].is_staff, users["manager"].is_superuser) == (True, False)
    assert not any(users[name].is_staff for name in ("leader", "sales1", "sales6"))
    # Argon2 is slow on purpose: try three, and check that the others hold the same hash.
    for name in ("admin", "leader", "sales6"):
        assert authenticate(username=name, password=DEMO_PASSWORD) == users[name]
    assert {user.password for user in users.values()} == {users["admin"].password}
    assert all(user.first_name and user.last_name and user.is_active for user in users.values())
    assert {users["sales5"].language, users["sales6"].language} == {"en"}
    assert users["sales1"].language == "vi"
    assert [(u.username, u.role) for u in demo.users] == [
        (name, str(role.label)) for name, role in ROLES.items()
    ]
    assert demo.password == "pheu-demo"


def test_load_demo_creates_three_teams_with_rules_leaders_and_capacities(demo):
    teams = {team.name: team for team in Team.objects.prefetch_related("members__user")}
    assert list(teams) == ["Miền Bắc", "Miền Nam", "International"]
    members = {name: sorted(m.user.username for m in team.members.all()) for name, team in teams.items()}
    assert members == {
        "Miền Bắc": ["leader", "sales1", "sales2"],
        "Miền Nam": ["sales3", "sales4"],
        "International": ["sales5", "sales6"],
    }
    assert teams["Miền Bắc"].leader.username == "leader"
    north = ast.literal_eval(teams["Miền Bắc"].assignment_domain)
    assert north[0] == ["country_id", "in", ["Vietnam"]]
    assert north[1][:2] == ["state", "in"] and {"Hà Nội", "Hải Phòng"} <= set(north[1][2])
    south = ast.literal_eval(teams["Miền Nam"].assignment_domain)
    assert "TP. Hồ Chí Minh" in south[1][2] and not set(south[1][2]) & set(north[1][2])
    assert ast.literal_eval(teams["International"].assignment_domain) == [
        ["country_id", "not in", ["Vietnam"]]
    ]
    assert all(m.capacity > 0 for team in teams.values() for m in team.members.all())


def test_load_demo_creates_the_shared_pipeline_with_qualified_requirements(demo):
    stages = list(Stage.objects.filter(team=None).order_by("sequence"))
    assert [(s.probability, s.is_won) for s in stages] == [
        (Decimal(10), False),
        (Decimal(30), False),
        (Decimal(60), False),
        (Decimal(100), True),
    ]
    qualified = stages[1]
    assert qualified.required_fields == ["expected_revenue", "expected_close_date"]
    assert qualified.requirements
    assert set(LostReason.objects.values_list("name", flat=True)) == set(samples.LOST_REASONS)
    assert set(Source.objects.values_list("name", flat=True)) == set(samples.SOURCES)


def test_load_demo_creates_normalised_leads_in_vietnamese_and_english(demo):
    leads = list(Lead.objects.select_related("country"))
    assert len(leads) == demo.leads == 30
    assert {lead.language for lead in leads} == {"vi", "en"}
    for lead in leads:
        assert lead.phone_e164 or lead.mobile_e164, lead.phone or lead.mobile
        assert lead.email_normalized == lead.email.lower() and lead.name_key
        if lead.country.code == "VN":
            assert (lead.phone_e164 or lead.mobile_e164).startswith("+84")
            assert lead.state in samples.NORTH or lead.state in samples.SOUTH
        if lead.team is not None:
            expected = (
                "International"
                if lead.country.code != "VN"
                else "Miền Bắc"
                if lead.state in samples.NORTH
                else "Miền Nam"
            )
            assert lead.team.name == expected
            assert lead.user.team_memberships.filter(team=lead.team).exists()


def test_load_demo_backdates_records_and_leaves_the_automatic_dates_on(demo):
    oldest = Lead.objects.earliest("created_at").created_at
    assert oldest < timezone.now() - timedelta(days=7)
    assert all(lead.updated_at >= lead.created_at for lead in Lead.objects.all())
    assert Partner.objects.earliest("created_at").created_at < timezone.now() - timedelta(days=100)
    assert Lead._meta.get_field("created_at").auto_now_add is True
    assert Lead._meta.get_field("updated_at").auto_now is True


def test_load_demo_opportunities_meet_their_stage_requirements(demo):
    opportunities = Lead.objects.filter(type=LeadType.OPPORTUNITY).select_related("stage")
    assert demo.opportunities == opportunities.count() > 0
    for opportunity in opportunities:
        for name in opportunity.stage.required_fields:
            assert getattr(opportunity, name) is not None
        if opportunity.won_status == WonStatus.OPEN:
            assert opportunity.probability == opportunity.stage.probability


def test_load_demo_records_won_and_lost_with_their_history(demo):
    won = list(Lead.objects.filter(won_status=WonStatus.WON).select_related("stage"))
    lost = list(Lead.objects.filter(won_status=WonStatus.LOST))
    assert len(won) == demo.won >= 1 and len(lost) == demo.lost >= 1
    for lead in won:
        assert lead.stage.is_won and lead.probability == 100 and lead.closed_at and lead.active
        changes = [c for e in history_of(lead) for c in e.changes]
        assert {
            "field": "won_status",
            "old": "open",
            "new": "won",
            "old_id": "open",
            "new_id": "won",
        } in changes
    for lead in lost:
        assert not lead.active and lead.lost_reason_id and lead.probability == 0 and lead.closed_at
        entry = next(e for e in history_of(lead) if any(c["field"] == "lost_reason" for c in e.changes))
        assert entry.body and entry.author == lead.user
    for lead in Lead.objects.all():
        assert history_of(lead).filter(kind=HistoryKind.CREATED).count() == 1
    assert Lead.objects.filter(user=None, team=None).count() == demo.unassigned >= 1


def test_load_demo_is_deterministic_for_a_seed(db):
    def fingerprint() -> list[tuple]:
        return list(
            Lead.objects.order_by("id").values_list(
                "name",
                "contact_name",
                "email",
                "phone",
                "mobile",
                "state",
                "amount",
                "won_status",
                "user__username",
            )
        )

    with transaction.atomic():
        load_demo(leads=20, seed=3)
        first = fingerprint()
        transaction.set_rollback(True)
    load_demo(leads=20, seed=3)
    assert fingerprint() == first
    assert len(first) == 20


def test_load_demo_refuses_a_second_load_and_changes_nothing(demo):
    before = (User.objects.count(), Lead.objects.count(), Team.objects.count())
    with pytest.raises(DemoError) as err:
        load_demo(leads=5, seed=1)
    assert err.value.code == DemoError.Code.ALREADY_LOADED
    assert (User.objects.count(), Lead.objects.count(), Team.objects.count()) == before
