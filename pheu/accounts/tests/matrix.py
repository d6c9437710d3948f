"""The permission matrix of SPEC section 11: the people, the records, and what each may do with each.

One scene serves every cell of a test module (built once, rolled back at the end, each cell in its own
transaction on top of it). The expected outcomes are the two tables below, written as one reads them:

- ``VISIBLE``: who may see (and so work on) which record — the rule of ``pheu.accounts.permissions``;
- ``OUTCOME``: what an action does to a record for someone who may see it (``ok``: done; ``refused``: a
  business rule says no, with a message, nothing changed; ``absent``: not in that list).

Anyone else gets "not found" (404 — the record's existence is not told) and nothing changes; an anonymous
visitor is asked to log in (API 401, pages a redirect to the log-in page).

The records are named from the salesperson's side (``sales1`` of team North, led by ``leader``):
``own`` (theirs), ``team_unassigned`` (North's, no salesperson), ``teammates`` (``sales2``'s, North),
``other_team`` (``sales3``'s, team South led by ``south_leader``), ``no_team`` (nobody's), ``merged_away``
(theirs, merged into another of theirs) and ``lost`` (theirs, lost). Each record is a lead, with an
opportunity "twin" of the same people and e-mail (so that the two are duplicates) that carries a draft
quotation, a confirmed order and an open activity given to the record's salesperson (or to someone who
sees the record anyway: an activity's assignee sees it whatever its record).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from pheu.accounts.models import Role, User
from pheu.activities.models import Activity
from pheu.core.models import HistoryEntry
from pheu.imports.models import Import
from pheu.leads.models import Lead, Merge, Stage
from pheu.sales.models import Order, Quotation
from pheu.teams.models import Team

ROLES = ("salesperson", "other_salesperson", "leader", "other_leader", "manager", "admin", "anonymous")
RECORDS = ("own", "team_unassigned", "teammates", "other_team", "no_team", "merged_away", "lost")
LOGIN = "/accounts/login/"
USERNAMES = {
    "salesperson": "sales1",
    "other_salesperson": "sales2",
    "leader": "leader",
    "other_leader": "south_leader",
    "manager": "manager",
    "admin": "admin",
    "anonymous": None,
}


def table(text: str) -> dict[str, dict[str, str]]:
    """A whitespace-aligned table → ``{row: {column: cell}}`` (the first line names the columns)."""
    lines = [line.split() for line in text.strip().splitlines() if line.strip()]
    header, rows = lines[0], lines[1:]
    parsed = {}
    for row in rows:
        assert len(row) == len(header) + 1, f"{row[0]}: {len(row) - 1} cells for {len(header)} columns"
        parsed[row[0]] = dict(zip(header, row[1:], strict=True))
    return parsed


# Who sees which record (SPEC 11: a salesperson their own records and the unassigned ones of their teams; a
# team leader the team's records; a manager and an administrator every record; nobody else anything).
VISIBLE = table("""
                    own  team_unassigned  teammates  other_team  no_team  merged_away  lost
salesperson         yes  yes              no         no          no       yes          yes
other_salesperson   no   yes              yes        no          no       no           no
leader              yes  yes              yes        no          no       yes          yes
other_leader        no   no               no         yes         no       no           no
manager             yes  yes              yes        yes         yes      yes          yes
admin               yes  yes              yes        yes         yes      yes          yes
anonymous           no   no               no         no          no       no           no
""")

# What an action does to a record its user may see. A merged-away record points to its survivor: it is
# read, never changed ("change that one instead"); a lost record may be won back or restored, not lost
# again, nor moved on the board (restore it first). The board and the duplicate scan show open records.
OUTCOME = table("""
                      own      team_unassigned  teammates  other_team  no_team  merged_away  lost
read                  ok       ok               ok         ok          ok       ok           ok
update                ok       ok               ok         ok          ok       refused      ok
convert               ok       ok               ok         ok          ok       refused      refused
won                   ok       ok               ok         ok          ok       refused      ok
lost                  ok       ok               ok         ok          ok       refused      refused
restore               refused  refused          refused    refused     refused  refused      ok
merge                 ok       ok               ok         ok          ok       refused      ok
move                  ok       ok               ok         ok          ok       refused      refused
unmerge               ok       ok               ok         ok          ok       ok           ok
note                  ok       ok               ok         ok          ok       ok           ok
pipeline              ok       ok               ok         ok          ok       absent       absent
duplicates_scan       ok       ok               ok         ok          ok       absent       absent
sales_document        ok       ok               ok         ok          ok       ok           ok
""")

# Pages and endpoints that are not about one record: who may use them (``ok``), who is refused (403), who
# is asked to log in. Reports and exports are open to everyone who logs in, scoped to what they see.
ROLE_ACCESS = table("""
                  salesperson  other_salesperson  leader  other_leader  manager  admin  anonymous
imports           403          403                403     403           ok       ok     login
reports           ok           ok                 ok      ok            ok       ok     login
configuration     403          403                403     403           ok       ok     login
""")


def api_client(scene: Scene, role: str) -> APIClient:
    """An API client with the role's token (none for the anonymous visitor)."""
    client = APIClient()
    user = scene.user(role)
    if user is not None:
        token, _created = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def page_client(scene: Scene, role: str) -> Client:
    """A browser logged in as the role (not logged in for the anonymous visitor)."""
    client = Client()
    user = scene.user(role)
    if user is not None:
        client.force_login(user)
    return client


def visible(role: str, record: str) -> bool:
    return VISIBLE[role][record] == "yes"


def expected(role: str, record: str, action: str) -> str:
    """``login``, ``hidden``, or the ``OUTCOME`` of ``action`` on ``record`` for one who sees it."""
    if role == "anonymous":
        return "login"
    if not visible(role, record):
        return "hidden"
    return OUTCOME[action][record]


@dataclass
class Scene:
    users: dict[str, User]
    north: Team
    south: Team
    stage: Stage
    later_stage: Stage
    lead: dict[str, Lead]  # by record name: the lead
    opportunity: dict[str, Lead]  # by record name: its opportunity twin
    quotation: dict[str, Quotation] = field(default_factory=dict)
    order: dict[str, Order] = field(default_factory=dict)
    activity: dict[str, Activity] = field(default_factory=dict)
    merge: Merge | None = None
    merge_id: int | None = None  # the merge a cell undoes (set by the cell)

    def user(self, role: str) -> User | None:
        name = USERNAMES[role]
        return None if name is None else self.users[name]


def build_scene() -> Scene:
    from pheu.activities.services import schedule_activity
    from pheu.leads.services.merge import merge_leads
    from pheu.leads.services.outcome import mark_lost
    from pheu.sales.services import create_order, create_quotation
    from pheu.testing import make_lead, make_partner, make_stage, make_team, make_user

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        users = {
            "admin": make_user("admin", role=Role.ADMINISTRATOR),
            "manager": make_user("manager", role=Role.SALES_MANAGER),
            "leader": make_user("leader", role=Role.TEAM_LEADER),
            "south_leader": make_user("south_leader", role=Role.TEAM_LEADER),
            "sales1": make_user("sales1"),
            "sales2": make_user("sales2"),
            "sales3": make_user("sales3"),
        }
    north = make_team(
        "North", leader=users["leader"], members=[users["leader"], users["sales1"], users["sales2"]]
    )
    south = make_team(
        "South", leader=users["south_leader"], members=[users["south_leader"], users["sales3"]], sequence=2
    )
    stage = make_stage("Qualified", sequence=1, probability=Decimal(20))
    later_stage = make_stage("Proposal", sequence=2, probability=Decimal(40))
    owners = {
        "own": (users["sales1"], north),
        "team_unassigned": (None, north),
        "teammates": (users["sales2"], north),
        "other_team": (users["sales3"], south),
        "no_team": (None, None),
        "merged_away": (users["sales1"], north),
        "lost": (users["sales1"], north),
    }
    scene = Scene(
        users=users, north=north, south=south, stage=stage, later_stage=later_stage, lead={}, opportunity={}
    )
    due = dt.date.today() + dt.timedelta(days=3)
    for record, (user, team) in owners.items():
        common: dict[str, Any] = {
            "user": user,
            "team": team,
            "email": f"{record}@matrix.example",
            "city": "Hà Nội",
        }
        scene.lead[record] = make_lead(f"Lead {record}", contact_name=f"Contact {record}", **common)
        scene.opportunity[record] = opportunity = make_lead(
            f"Deal {record}",
            type="opportunity",
            stage=stage,
            partner=make_partner(f"Customer {record}", is_company=True),
            expected_revenue=Decimal(10_000_000),
            **common,
        )
        line = {"description": f"Line {record}", "quantity": 1, "unit_price": Decimal(1_000_000)}
        scene.quotation[record] = create_quotation(actor=None, lead=opportunity, lines=[line])
        scene.order[record] = create_order(
            actor=None, partner=opportunity.partner, lead=opportunity, lines=[line]
        )
        # Its assignee sees the activity whatever the record: one who sees the record anyway.
        assignee = user or (users["leader"] if team is north else users["manager"])
        scene.activity[record] = schedule_activity(
            actor=None,
            lead=opportunity,
            values={"summary": f"Call {record}", "due_date": due, "assignee": assignee},
        )
    # The merged-away pair go into a survivor of the same salesperson (further on: it survives); the lost
    # pair are lost.
    survivor = make_lead(
        "Deal survivor", type="opportunity", stage=later_stage, user=users["sales1"], team=north
    )
    scene.merge = merge_leads(
        actor=None, leads=[survivor, scene.lead["merged_away"], scene.opportunity["merged_away"]]
    )
    for lead in (scene.lead["lost"], scene.opportunity["lost"]):
        mark_lost(actor=None, lead=lead, lost_reason=None)
    for records in (scene.lead, scene.opportunity):
        for record, lead in records.items():
            records[record] = Lead.objects.get(pk=lead.pk)
    return scene


def merge_to_undo(scene: Scene, record: str) -> int:
    """The merge an ``unmerge`` cell undoes, made by the system before the cell: the record's with its
    twin (the merged-away record's own merge for that one)."""
    from pheu.leads.services.merge import merge_leads

    if record == "merged_away":
        assert scene.merge is not None
        return scene.merge.pk
    return merge_leads(actor=None, leads=[scene.lead[record], scene.opportunity[record]]).pk


def fingerprint() -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    return (
        list(
            Lead.objects.order_by("pk").values_list(
                "pk",
                "name",
                "city",
                "type",
                "user_id",
                "team_id",
                "stage_id",
                "partner_id",
                "active",
                "won_status",
                "merged_into_id",
                "probability",
                "updated_at",
            )
        ),
        list(HistoryEntry.objects.order_by("pk").values_list("pk", "object_id", "kind")),
        list(Activity.objects.order_by("pk").values_list("pk", "lead_id", "done_at", "assignee_id")),
        list(Quotation.objects.order_by("pk").values_list("pk", "lead_id", "state", "updated_at")),
        list(Order.objects.order_by("pk").values_list("pk", "lead_id", "state", "updated_at")),
        list(Merge.objects.order_by("pk").values_list("pk", "survivor_id", "undone_at")),
        Import.objects.count(),
    )
