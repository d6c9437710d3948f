"""Rule scoring: arithmetic, set-based re-scoring, page views, decay, explanations, bad rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead, LeadScore
from pheu.leads.services import create_lead, update_lead
from pheu.scoring import services
from pheu.scoring.exceptions import ScoringError
from pheu.scoring.models import PageView, RescoreRun, ScoringRule
from pheu.scoring.services import (
    PageViewInput,
    create_scoring_rule,
    delete_scoring_rule,
    explain_score,
    record_pageview,
    rescore_decayed,
    rescore_open_leads,
    rule_impact,
    update_scoring_rule,
)
from pheu.testing import country, make_lead, make_partner, make_tag, set_scores

pytestmark = pytest.mark.django_db

VIETNAM = "[['country_id', 'in', ['Vietnam']]]"
GMAIL = "[['email', 'ilike', '@gmail.com']]"
PRICING = "[['pageviews.url', 'ilike', '/pricing']]"


def rule(actor, name, domain, points, **kw):
    created, _outcome = create_scoring_rule(
        actor=actor, values={"name": name, "domain": domain, "points": points, **kw}
    )
    return created


def scores(*leads):
    return [Lead.objects.get(pk=lead.pk).score for lead in leads]


def test_score_is_the_sum_of_the_points_of_the_active_rules_matched(actors):
    hanoi = make_lead(country="VN", email="an@gmail.com")
    paris = make_lead(country="FR", email="jean@firm.fr")
    rule(actors.manager, "Việt Nam", VIETNAM, 10)
    rule(actors.manager, "Gmail", GMAIL, -5)
    rule(actors.manager, "Everyone", "", 1)
    assert scores(hanoi, paris) == [6, 1]


def test_negative_points_can_take_a_score_below_zero(actors):
    lead = make_lead(email="x@gmail.com")
    rule(actors.manager, "Gmail", GMAIL, -15)
    assert scores(lead) == [-15]


def test_inactive_rules_count_for_nothing_and_toggling_rescored(actors):
    lead = make_lead(country="VN")
    vn = rule(actors.manager, "VN", VIETNAM, 10, active=False)
    assert scores(lead) == [0]
    update_scoring_rule(actor=actors.manager, rule=vn, values={"active": True})
    assert scores(lead) == [10]
    update_scoring_rule(actor=actors.manager, rule=vn, values={"active": False})
    assert scores(lead) == [0]


def test_deleting_a_rule_takes_its_points_back(actors):
    lead = make_lead(country="VN")
    vn = rule(actors.manager, "VN", VIETNAM, 10)
    rule(actors.manager, "All", "", 2)
    delete_scoring_rule(actor=actors.manager, rule=vn)
    assert scores(lead) == [2]
    assert not ScoringRule.objects.filter(pk=vn.pk).exists()


def test_changing_points_rescored_and_writes_only_changed_scores(actors):
    matching = [make_lead(country="VN") for _ in range(3)]
    others = [make_lead(country="FR") for _ in range(2)]
    vn = rule(actors.manager, "VN", VIETNAM, 10)
    LeadScore.objects.filter(lead__in=[lead.pk for lead in others]).update(score=0)
    result = rescore_open_leads()
    assert (result.checked, result.changed) == (5, 0)  # nothing to write: every score is already true
    update_scoring_rule(actor=actors.manager, rule=vn, values={"points": 20})
    assert scores(*matching, *others) == [20, 20, 20, 0, 0]
    set_scores([matching[0]], 99)  # a wrong score is healed, and only it
    assert rescore_open_leads().changed == 1


def test_closed_and_inactive_records_keep_their_score(actors):
    won = make_lead(country="VN", won_status=WonStatus.WON)
    archived = make_lead(country="VN", active=False)
    rule(actors.manager, "VN", VIETNAM, 10)
    assert scores(won, archived) == [0, 0]


def test_rescoring_in_batches_gives_the_same_scores(actors, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    leads = [make_lead(country="VN" if i % 2 else "FR") for i in range(7)]
    ScoringRule.objects.create(name="VN", domain=VIETNAM, points=4)
    seen = []
    result = rescore_open_leads(progress=lambda done, total: seen.append((done, total)))
    assert result.changed == 3
    assert scores(*leads) == [4 if i % 2 else 0 for i in range(7)]
    assert seen[-1] == (7, 7)


def test_batches_compute_to_many_and_joined_conditions_for_their_own_leads_only(actors, monkeypatch):
    # Each batch reads the tags, page views and partners of its own id range: a lead is scored by its own
    # rows whichever batch it falls in, and a lead without them by none of another batch's.
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    vip = make_tag("VIP")
    firm = make_partner("Firm", country=country("VN"))
    leads = [make_lead(tags=[vip] if i % 3 == 0 else [], partner=firm if i % 2 else None) for i in range(7)]
    for lead in leads[::2]:
        record_pageview(view=PageViewInput(url="/pricing", lead_id=lead.pk))
    ScoringRule.objects.create(name="VIP", domain="[['tags', 'in', ['VIP']]]", points=1)
    ScoringRule.objects.create(name="Not VIP", domain="[['tags', 'not in', ['VIP']]]", points=10)
    ScoringRule.objects.create(name="Pricing", domain=PRICING, points=100)
    ScoringRule.objects.create(name="Partner", domain="[['partner_id.country_id', '=', 'VN']]", points=1000)
    LeadScore.objects.update(score=-1)
    assert rescore_open_leads().changed == 7
    expected = [
        (1 if i % 3 == 0 else 10) + (100 if i % 2 == 0 else 0) + (1000 if i % 2 else 0) for i in range(7)
    ]
    assert scores(*leads) == expected
    monkeypatch.setattr(services, "BATCH_SIZE", 100)
    assert rescore_open_leads().changed == 0  # one statement for all agrees with the batches


def test_a_large_base_is_rescored_in_the_background_with_a_run(
    actors, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "BACKGROUND_THRESHOLD", 1)
    leads = [make_lead(country="VN") for _ in range(3)]
    abroad = make_lead(country="FR")
    with django_capture_on_commit_callbacks(execute=True):  # the tests' task backend runs it at once
        _created, outcome = create_scoring_rule(
            actor=actors.manager, values={"name": "VN", "domain": VIETNAM, "points": 7}
        )
    run = outcome.run
    assert run is not None
    run.refresh_from_db()
    # Only the leads the new rule can change are checked.
    assert (run.status, run.total, run.done, run.changed) == (RescoreRun.Status.DONE, 3, 3, 3)
    assert len(run.scope) == 1
    assert scores(*leads, abroad) == [7, 7, 7, 0]


def test_a_rule_change_checks_the_leads_it_matched_before_or_matches_now(actors):
    hanoi, paris, boston = make_lead(country="VN"), make_lead(country="FR"), make_lead(country="US")
    vn = rule(actors.manager, "Home", VIETNAM, 10)
    set_scores([boston], 99)  # wrong, and outside the rule before and after
    update_scoring_rule(
        actor=actors.manager, rule=vn, values={"domain": "[['country_id', 'in', ['France']]]"}
    )
    assert scores(hanoi, paris, boston) == [0, 10, 99]
    delete_scoring_rule(actor=actors.manager, rule=ScoringRule.objects.get(pk=vn.pk))
    assert scores(hanoi, paris, boston) == [0, 0, 99]
    assert rescore_open_leads().changed == 1  # `pheu score` checks every open lead
    assert scores(boston) == [0]


def test_a_rule_worth_nothing_before_and_after_rescores_nothing(actors):
    lead = make_lead(country="VN")
    zero = rule(actors.manager, "Zero", VIETNAM, 0)
    set_scores([lead], 5)
    with CaptureQueriesContext(connection) as queries:
        update_scoring_rule(actor=actors.manager, rule=zero, values={"domain": GMAIL})
    assert not [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "leads_lead"')]
    assert scores(lead) == [5]


def test_tags_rule_scores_the_to_many_relation(actors):
    vip = make_tag("VIP")
    tagged = make_lead(tags=[vip])
    plain = make_lead()
    rule(actors.manager, "VIP", "[['tags', 'in', ['VIP']]]", 8)
    rule(actors.manager, "Not VIP", "[['tags', 'not in', ['VIP']]]", -1)
    assert scores(tagged, plain) == [8, -1]


def test_page_view_rules_score_on_arrival(actors):
    lead = make_lead(email="lan@firm.vn")
    rule(actors.manager, "Pricing", PRICING, 15)
    assert scores(lead) == [0]
    record_pageview(view=PageViewInput(url="https://pheu.example/Pricing?plan=pro", lead_id=lead.pk))
    assert scores(lead) == [15]
    record_pageview(view=PageViewInput(url="https://pheu.example/pricing", email="LAN@firm.vn"))
    assert PageView.objects.filter(lead=lead).count() == 2
    assert scores(lead) == [15]  # a rule counts once, however many views match


def test_anonymous_visitor_views_are_linked_when_the_visitor_becomes_a_lead(actors):
    rule(actors.manager, "Pricing", PRICING, 15)
    record_pageview(view=PageViewInput(url="/pricing", visitor_id="v-123"))
    lead = create_lead(actor=None, values={"name": "Khách web"}, visitor_id="v-123")
    assert lead.score == 15 and scores(lead) == [15]
    assert PageView.objects.get(visitor_id="v-123").lead == lead
    # the visitor's next views go to the lead directly
    record_pageview(view=PageViewInput(url="/blog", visitor_id="v-123"))
    assert PageView.objects.filter(lead=lead).count() == 2


def test_views_recorded_under_an_email_go_to_the_lead_created_with_it(actors):
    rule(actors.manager, "Pricing", PRICING, 15)
    record_pageview(view=PageViewInput(url="/pricing", email="new@firm.vn"))
    lead = create_lead(actor=actors.sales1, values={"name": "New", "email": "New@Firm.vn"})
    assert lead.score == 15
    assert scores(lead) == [15]


def test_decay_counts_only_recent_page_views(actors):
    lead = make_lead()
    old = timezone.now() - timedelta(days=40)
    record_pageview(view=PageViewInput(url="/pricing", lead_id=lead.pk, viewed_at=old))
    rule(actors.manager, "Pricing, 30 days", PRICING, 15, window_days=30)
    rule(actors.manager, "Pricing, ever", PRICING, 1)
    assert scores(lead) == [1]
    record_pageview(view=PageViewInput(url="/pricing", lead_id=lead.pk))
    assert scores(lead) == [16]
    # thirty days later the nightly job lowers the score
    PageView.objects.filter(lead=lead).update(created_at=old)
    assert rescore_decayed().changed == 1
    assert scores(lead) == [1]


def test_lead_create_scores_inline_with_at_most_two_extra_queries(actors, monkeypatch):
    rule(actors.manager, "VN", VIETNAM, 10)
    rule(actors.manager, "Pricing", PRICING, 15)
    values = {"name": "Đơn hàng", "email": "a@b.vn", "phone": "0912345678", "country": country("VN")}
    create_lead(actor=actors.sales1, values=dict(values))  # warm-up: content types, parsed rules

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            create_lead(actor=actors.sales1, values=dict(values))
        return len(ctx.captured_queries)

    with_scoring = count()
    from pheu.scoring import lead_steps

    monkeypatch.setattr(lead_steps, "score_unsaved_lead", lambda lead, tags=(), rules_stamp=None: 0)
    monkeypatch.setattr(lead_steps, "waiting_pageviews", lambda email_normalized, visitor_id="": [])
    monkeypatch.setattr(lead_steps, "link_pageviews", lambda lead, pageview_ids: 0)
    without_scoring = count()
    assert with_scoring - without_scoring <= 2
    assert Lead.objects.filter(email_normalized="a@b.vn", score_row__score=10).count() == 2


def test_update_rescored_in_the_same_transaction(actors):
    rule(actors.manager, "VN", VIETNAM, 10)
    lead = create_lead(actor=actors.sales1, values={"name": "Khách"})
    assert lead.score == 0
    lead = update_lead(actor=actors.sales1, lead=lead, values={"country": country("VN")})
    assert lead.score == 10
    assert scores(lead) == [10]


def test_explain_lists_matched_rules_with_their_points(actors):
    lead = make_lead(country="VN", email="an@gmail.com")
    rule(actors.manager, "Việt Nam", VIETNAM, 10)
    rule(actors.manager, "Gmail", GMAIL, -5)
    rule(actors.manager, "Pricing", PRICING, 15)
    explanation = explain_score(Lead.objects.get(pk=lead.pk))
    assert [(m.name, m.points) for m in explanation.matched] == [("Việt Nam", 10), ("Gmail", -5)]
    assert explanation.total == explanation.stored == 5


def test_rule_impact_counts_what_a_save_would_change(actors):
    make_lead(country="VN")
    make_lead(country="VN", score=3)
    make_lead(country="FR")
    impact = rule_impact(domain_text=VIETNAM, points=3, window_days=None, rule=None)
    assert (impact.matching, impact.changed, impact.raised, impact.lowered) == (2, 1, 1, 0)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "x", "domain": "[['nonexistent', '=', 1]]", "points": 1}, "domain"),
        ({"name": "x", "domain": "[['country_id', 'in', ['Atlantis']]]", "points": 1}, "domain"),
        ({"name": "x", "domain": "[[", "points": 1}, "domain"),
        ({"name": "", "domain": "", "points": 1}, "name"),
        ({"name": "x", "domain": ""}, "points"),
        ({"name": "x", "domain": "", "points": "ten"}, "points"),
        ({"name": "x", "domain": "", "points": 10**9}, "points"),
        ({"name": "x", "domain": "", "points": 1, "window_days": 0}, "window_days"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_error_and_nothing_changes(actors, values, field):
    lead = make_lead(country="VN", score=4)
    with pytest.raises(ScoringError) as caught:
        create_scoring_rule(actor=actors.manager, values=values)
    assert field in caught.value.field_errors
    assert all(message.strip() for message in caught.value.field_errors[field])
    assert not ScoringRule.objects.exists()
    assert scores(lead) == [4]


def test_a_page_view_needs_a_url_and_a_key(actors):
    with pytest.raises(ScoringError) as caught:
        record_pageview(view=PageViewInput(url=""))
    assert set(caught.value.field_errors) == {"url", "lead"}
    with pytest.raises(ScoringError) as caught:
        record_pageview(view=PageViewInput(url="/x", lead_id=999_999))
    assert "lead" in caught.value.field_errors
    assert not PageView.objects.exists()


def test_rules_on_the_lead_itself_stay_plain_conditions_and_related_fields_become_subqueries(actors):
    """An UPDATE takes no join: a rule on a related record's field becomes ``id IN (…)``; the others stay
    plain conditions on the row (a subquery per rule would read the whole table once per rule)."""
    from pheu.rules import clean_domain
    from pheu.scoring.services import _needs_join
    from pheu.testing import make_partner, make_stage

    make_tag("VIP")
    make_stage("Won", is_won=True)

    def needs_join(text: str) -> bool:
        return _needs_join(clean_domain(text, "lead").domain.to_q())

    assert not needs_join(VIETNAM)
    assert not needs_join("[['stage_id', '=', 'Won']]")
    assert not needs_join("[['tags', 'in', ['VIP']]]")
    assert needs_join("[['partner.country.code', '=', 'VN']]")
    lead = make_lead(partner=make_partner(country=country("VN")))
    rule(actors.manager, "Customer in Viet Nam", "[['partner.country.code', '=', 'VN']]", 3)
    assert scores(lead) == [3]


def test_a_rule_change_writes_the_score_table_only(actors):
    lead = make_lead(country="VN")
    updated = Lead.objects.values_list("updated_at", flat=True).get(pk=lead.pk)
    with CaptureQueriesContext(connection) as queries:
        rule(actors.manager, "VN", VIETNAM, 10)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith(("UPDATE", "WITH"))]
    assert not [sql for sql in writes if sql.lstrip().startswith('UPDATE "leads_lead"')]
    assert scores(lead) == [10]
    assert Lead.objects.values_list("updated_at", flat=True).get(pk=lead.pk) == updated


def test_a_new_lead_is_scored_by_the_rules_as_every_rule_service_left_them(actors):
    vietnam = rule(actors.manager, "VN", VIETNAM, 10)
    values = {"name": "Khách", "country": country("VN")}
    assert create_lead(actor=actors.sales1, values=dict(values)).score == 10  # this process keeps the rules
    update_scoring_rule(actor=actors.manager, rule=vietnam, values={"points": 12})
    assert create_lead(actor=actors.sales1, values=dict(values)).score == 12
    delete_scoring_rule(actor=actors.manager, rule=vietnam)
    assert create_lead(actor=actors.sales1, values=dict(values)).score == 0
    rule(actors.manager, "VN more", VIETNAM, 25)
    assert create_lead(actor=actors.sales1, values=dict(values)).score == 25


def test_rules_kept_from_a_rolled_back_change_are_not_used_afterwards(actors):
    from django.db import transaction

    values = {"name": "Khách", "country": country("VN")}
    create_lead(actor=actors.sales1, values=dict(values))  # the process keeps "no rule"
    with pytest.raises(RuntimeError), transaction.atomic():
        rule(actors.manager, "VN", VIETNAM, 10)
        assert create_lead(actor=actors.sales1, values=dict(values)).score == 10
        raise RuntimeError("rolled back")
    lead = create_lead(actor=actors.sales1, values=dict(values))
    assert (lead.score, scores(lead)) == (0, [0])
    rule(actors.manager, "VN again", VIETNAM, 3)  # a later change: never taken for the rolled-back one
    lead = create_lead(actor=actors.sales1, values=dict(values))
    assert (lead.score, scores(lead)) == (3, [3])
