"""The plan in memory: the heaps choose exactly as trying every member for every lead would."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from pheu.assignment.facts import Config, LeadRow, MemberFacts, TeamFacts
from pheu.assignment.services import LeadDecision, Outcome, _choose_member, _Plan, plan_assignment


def _reference(config: Config, leads: list[LeadRow]) -> list[LeadDecision]:
    """The plan as SPEC 5 states it, one lead at a time, trying every team and every member."""
    decisions: dict[int, LeadDecision] = {}
    by_team: dict[int, list[LeadRow]] = {}
    for lead in leads:
        team = next(
            (t for t in config.teams if lead.score >= t.min_score and config.matches(t.rule, lead.mask)),
            None,
        )
        if team is None:
            decisions[lead.id] = LeadDecision(lead.id, Outcome.NO_TEAM, lead.score)
        else:
            by_team.setdefault(team.id, []).append(lead)
    for team in config.teams:
        members = config.members.get(team.id, [])
        loads = {m.id: m.recent for m in members}
        for lead in sorted(by_team.get(team.id, []), key=lambda row: (-row.score, row.id)):
            member = _choose_member(config, members, loads, lead.mask, None)
            common = (team.id, team.name, True, team.rule, team.min_score)
            if member is None:
                decisions[lead.id] = LeadDecision(lead.id, Outcome.TEAM_ONLY, lead.score, *common)
                continue
            loads[member.id] += 1
            decisions[lead.id] = LeadDecision(
                lead.id,
                Outcome.ASSIGNED,
                lead.score,
                *common,
                member.id,
                member.user_id,
                member.label,
                member.rule,
                member.capacity,
                member.capacity - loads[member.id],
                lead.type == "lead" and not team.uses_leads,
            )
    return [decisions[lead.id] for lead in leads]


@pytest.mark.parametrize("seed", range(12))
def test_the_heaps_choose_as_trying_every_member_would(seed):
    rnd = random.Random(seed)
    rules = [f"rule {index}" for index in range(6)]
    teams = [
        TeamFacts(
            index + 1,
            f"Team {index}",
            index,
            rnd.choice([0, 0, 10, 30]),
            rnd.choice(["", *rules]),
            rnd.random() < 0.7,
            None,
            None,
        )
        for index in range(rnd.randint(1, 4))
    ]
    members: dict[int, list[MemberFacts]] = {}
    member_id = 100
    for team in teams:
        for _seat in range(rnd.randint(0, 6)):
            member_id += 1
            capacity = rnd.choice([0, 1, 2, 3, 5, 8, 20])
            members.setdefault(team.id, []).append(
                MemberFacts(
                    member_id,
                    team.id,
                    member_id + 1000,
                    f"user {member_id}",
                    rnd.choice(["", "", *rules, "broken"]),
                    capacity,
                    Decimal(rnd.choice(["1", "1", "0.5", "2", "0", "1.25"])),
                    rnd.randint(0, capacity),
                    rnd.random() < 0.1,
                    rnd.random() < 0.1,
                )
            )
    config = Config(teams, members, bits={text: index for index, text in enumerate(rules)})
    config.rules = {text: None for text in ["broken"]}
    leads = [
        LeadRow(index, None, None, rnd.randint(0, 40), rnd.choice(["lead", "opportunity"]), None, True, mask)
        for index, mask in enumerate(rnd.getrandbits(len(rules)) for _lead in range(rnd.randint(0, 150)))
    ]
    assert plan_assignment(config, leads) == _reference(config, leads)


@pytest.mark.parametrize(
    ("leads", "sizes"), [(0, []), (3, [3]), (5, [5]), (6, [5, 1]), (20, [5, 5, 5, 5]), (26, [5, 7, 7, 7])]
)
def test_a_large_plan_is_written_in_parts_the_first_small_and_the_others_even(leads, sizes):
    """Parts of a run (each one statement on PostgreSQL): the first of ``smallest`` decisions, so that the
    database starts writing early; the others share the rest. Together they are the whole plan."""
    team = TeamFacts(1, "Team", 1, 0, "", True, None, None, False)
    member = MemberFacts(1, 1, 101, "Seller", "", 1000, Decimal("1"), 0, False, False)
    config = Config([team], {1: [member]})
    rows = [LeadRow(index, None, None, index % 7, "lead", None, True, 0) for index in range(leads)]

    plan = _Plan(config, rows)
    parts = list(plan.parts(4, smallest=5))

    assert [len(part) for part in parts] == sizes
    assert sorted(d.lead_id for part in parts for d in part) == list(range(leads))
    assert plan.decisions == plan_assignment(config, rows)
