"""The planner on plain values (no database): which team, which member, capacity, weights, explanations."""

from __future__ import annotations

from decimal import Decimal

from pheu.assignment.planner import (
    Config,
    LeadDecision,
    LeadRow,
    MemberFacts,
    Outcome,
    TeamFacts,
    WaitingReason,
    moves_between,
    plan_assignment,
    stage_change,
    summarize,
    waiting_reason,
    without_member,
)

NORTH, SOUTH = "[['state', '=', 'North']]", "[['state', '=', 'South']]"
BITS = {NORTH: 0, SOUTH: 1}  # what parse_rules would give these two rules
IN_NORTH, IN_SOUTH = 1 << 0, 1 << 1


def team(pk: int, *, sequence: int = 1, min_score: int = 0, rule: str = "", **more: object) -> TeamFacts:
    values: dict[str, object] = {
        "uses_leads": True,
        "first_stage_id": None,
        "first_stage_probability": None,
    } | more
    return TeamFacts(id=pk, name=f"Team {pk}", sequence=sequence, min_score=min_score, rule=rule, **values)  # type: ignore[arg-type]


def member(
    pk: int, team_id: int, *, capacity: int = 10, recent: int = 0, weight: str = "1", **more: object
) -> MemberFacts:
    values: dict[str, object] = {"rule": "", "optout": False, "away": False} | more
    return MemberFacts(
        id=pk,
        team_id=team_id,
        user_id=pk + 100,
        label=f"Seller {pk}",
        capacity=capacity,
        weight=Decimal(weight),
        recent=recent,
        **values,  # type: ignore[arg-type]
    )


def config(teams: list[TeamFacts], *members: MemberFacts) -> Config:
    by_team: dict[int, list[MemberFacts]] = {}
    for m in members:
        by_team.setdefault(m.team_id, []).append(m)
    result = Config(teams, by_team, rules=dict.fromkeys(BITS), bits=dict(BITS))
    result.order_teams()
    return result


def lead(
    pk: int, *, score: int = 0, mask: int = 0, team_id: int | None = None, type: str = "lead"
) -> LeadRow:
    return LeadRow(pk, team_id, None, score, type, None, True, mask)


def where(decisions: list[LeadDecision]) -> list[tuple[str, int | None, int | None]]:
    return [(d.outcome, d.team_id, d.member_id) for d in decisions]


# --- which team ----------------------------------------------------------------------------------------
def test_a_lead_goes_to_the_first_team_by_sequence_whose_rule_and_minimum_score_it_meets():
    teams = [team(1, sequence=1, rule=NORTH), team(2, sequence=2, min_score=20), team(3, sequence=3)]
    plan = config(teams, member(11, 1), member(21, 2), member(31, 3))
    leads = [lead(1, mask=IN_NORTH), lead(2, score=25, mask=IN_SOUTH), lead(3, score=5, mask=IN_SOUTH)]

    assert where(plan_assignment(plan, leads)) == [
        (Outcome.ASSIGNED, 1, 11),
        (Outcome.ASSIGNED, 2, 21),
        (Outcome.ASSIGNED, 3, 31),
    ]


def test_equal_sequences_prefer_the_team_with_the_most_free_capacity():
    plan = config([team(1), team(2)], member(11, 1, capacity=10, recent=8), member(21, 2, capacity=10))

    assert [d.team_id for d in plan_assignment(plan, [lead(1)])] == [2]


def test_a_lead_under_every_minimum_keeps_no_team_and_says_why():
    plan = config([team(1, min_score=10, rule=NORTH), team(2, min_score=30)], member(11, 1))
    low, unmatched = lead(1, score=5), lead(2, score=15, mask=IN_SOUTH)

    decisions = plan_assignment(plan, [low, unmatched])

    assert [d.outcome for d in decisions] == [Outcome.NO_TEAM, Outcome.NO_TEAM]
    assert [waiting_reason(plan, d) for d in decisions] == [
        WaitingReason.BELOW_MIN_SCORE,
        WaitingReason.NO_TEAM_RULE,
    ]
    assert waiting_reason(config([]), plan_assignment(config([]), [low])[0]) == WaitingReason.NO_TEAM


def test_a_broken_rule_matches_no_lead():
    plan = config([team(1, rule="[['gone', '=', 1]]")], member(11, 1))  # not in the bits: it no longer parses

    assert plan_assignment(plan, [lead(1, mask=IN_NORTH | IN_SOUTH)])[0].outcome == Outcome.NO_TEAM


def test_a_lead_of_a_team_outside_the_scope_or_taking_no_part_is_left_alone():
    plan = config([team(1), team(2, sequence=2)], member(11, 1), member(21, 2))
    leads = [lead(1), lead(2, team_id=2), lead(3, team_id=9)]

    decisions = plan_assignment(plan, leads, scope_team_id=2)

    assert where(decisions) == [
        (Outcome.OTHER_TEAM, 1, None),
        (Outcome.ASSIGNED, 2, 21),
        (Outcome.OTHER_TEAM, 9, None),
    ]
    assert [waiting_reason(plan, d) for d in decisions] == [
        WaitingReason.TEAM_OFF,
        WaitingReason.NEXT_RUN,
        WaitingReason.TEAM_OFF,
    ]
    assert not decisions[1].team_chosen and decisions[1].team_rule == "" and decisions[1].min_score is None


# --- which member, capacity, weights -------------------------------------------------------------------
def test_members_with_a_matching_rule_come_before_members_without_one():
    plan = config([team(1)], member(11, 1), member(12, 1, rule=NORTH))

    assert [d.member_id for d in plan_assignment(plan, [lead(1, mask=IN_NORTH), lead(2, mask=IN_SOUTH)])] == [
        12,
        11,
    ]


def test_the_most_free_capacity_relative_to_capacity_times_the_weight_wins_and_loads_count_at_once():
    # 11: 5 of 10 free (0.5); 12: 2 of 2 free (1.0) with weight 0.4 → 0.4; 13 away, 14 opted out.
    plan = config(
        [team(1)],
        member(11, 1, capacity=10, recent=5),
        member(12, 1, capacity=2, weight="0.4"),
        member(13, 1, away=True),
        member(14, 1, optout=True),
    )

    decisions = plan_assignment(plan, [lead(pk) for pk in range(1, 8)])

    # 11 falls from 0.5 to 0.4 and ties with 12: the fewest leads given wins (12, which falls to 0.2); 11
    # takes two more, ties again at 0.2 and 12 takes its last seat; 11 takes the rest until it is full.
    assert [d.member_id for d in decisions] == [11, 12, 11, 11, 12, 11, 11]
    assert [d.capacity_left for d in decisions if d.member_id == 11] == [4, 3, 2, 1, 0]
    assert summarize(plan, decisions, dry_run=True).member_counts == {11: 5, 12: 2}


def test_the_best_scored_lead_goes_first_when_capacity_runs_out():
    plan = config([team(1)], member(11, 1, capacity=1))

    decisions = plan_assignment(plan, [lead(1, score=5), lead(2, score=9), lead(3, score=9)])

    assert where(decisions) == [
        (Outcome.TEAM_ONLY, 1, None),
        (Outcome.ASSIGNED, 1, 11),
        (Outcome.TEAM_ONLY, 1, None),
    ]
    assert waiting_reason(plan, decisions[0]) == WaitingReason.MEMBERS_FULL


def test_a_member_counted_full_is_skipped_by_the_next_decision():
    plan = config([team(1)], member(11, 1), member(12, 1, capacity=10, recent=9))
    assert plan_assignment(plan, [lead(1)])[0].member_id == 11

    assert plan_assignment(without_member(plan, 11), [lead(1)])[0].member_id == 12


def test_a_redistributed_lead_never_goes_back_to_its_away_salesperson():
    plan = config([team(1)], member(11, 1), member(12, 1, recent=9))
    rows = [lead(1, team_id=1)]

    decision = plan_assignment(plan, rows, previous_users={1: 111})[0]

    assert (decision.member_id, decision.previous_user_id) == (12, 111)
    assert decision.outcome == Outcome.ASSIGNED and not decision.team_chosen


# --- explanations and conversion -----------------------------------------------------------------------
def test_a_decision_carries_what_made_it():
    plan = config([team(1, min_score=3, rule=NORTH)], member(11, 1, capacity=4, recent=1, rule=NORTH))

    (decision,) = plan_assignment(plan, [lead(7, score=8, mask=IN_NORTH)])

    assert decision.as_dict() == {
        "lead": 7,
        "outcome": Outcome.ASSIGNED,
        "score": 8,
        "team": 1,
        "team_name": "Team 1",
        "team_chosen": True,
        "team_rule": NORTH,
        "min_score": 3,
        "member": 11,
        "user": 111,
        "user_name": "Seller 11",
        "member_rule": NORTH,
        "capacity": 4,
        "capacity_left": 2,
        "converted": False,
        "previous_user": None,
    }


def test_a_team_without_leads_converts_a_lead_into_its_first_stage():
    converting = team(1, uses_leads=False, first_stage_id=5, first_stage_probability=Decimal("10.00"))
    plan = config([converting], member(11, 1))
    rows = [lead(1), lead(2, type="opportunity")]

    first, second = plan_assignment(plan, rows)

    assert (first.converted, second.converted) == (True, False)
    assert stage_change(first, rows[0], converting) == (5, Decimal("10.00"), True)
    assert stage_change(second, rows[1], converting) == (None, None, False)
    manual_probability = rows[0]._replace(auto_probability=False)
    assert stage_change(first, manual_probability, converting) == (5, None, True)
    in_a_stage = rows[0]._replace(stage_id=3)
    assert stage_change(first, in_a_stage, converting) == (3, None, False)


def test_moves_between_two_plans_group_the_leads_by_where_they_go():
    before = config([team(1, rule=NORTH), team(2, sequence=2)], member(11, 1), member(21, 2))
    after = before.with_team(1, rule=SOUTH)
    rows = [lead(1, mask=IN_NORTH), lead(2, mask=IN_NORTH), lead(3, mask=IN_SOUTH)]

    moves = moves_between(plan_assignment(before, rows), plan_assignment(after, rows))

    assert [(m.source, m.to, m.count, m.lead_ids) for m in moves] == [
        ("Team 1 / Seller 11", "Team 2 / Seller 21", 2, (1, 2)),
        ("Team 2 / Seller 21", "Team 1 / Seller 11", 1, (3,)),
    ]
