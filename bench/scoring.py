"""``scoring``: set-based re-scoring and the predictive model's rebuild over many leads (issue 4's targets).

1. ``n`` leads made by ``bench.rules.fill`` (tags on ≈30%, page views on ≈20%), every one made open.
2. Twenty rules of the kinds managers write (country, source, stage, tags, visited pages, e-mail domain,
   company size, job title, language, recent creation…), stored without re-scoring.
3. In one run, side by side, each after a VACUUM:
   - a bare ``UPDATE scores SET score = score + 1`` over the open leads (the reference), and the same
     ``UPDATE`` of an integer column of the lead table (what keeping scores in their own table saves);
   - a full re-score where every score changes (scores first set to an impossible value);
   - a rule change that changes about 10% of the scores (only the leads the rule matched before or
     matches now are evaluated, and only the changed rows are written);
   - a check of every open lead where nothing changes (``pheu score``).
4. Every record closed (won/lost drawn with a dependence on country, source and tags, so that there is
   something to learn), then ``rebuild_model`` timed, with its AUC on the last 20%.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from bench._registry import benchmark

RULES: list[tuple[str, str, int, int | None]] = [
    ("Việt Nam", "[['country_id', 'in', ['Vietnam']]]", 10, None),
    ("Abroad", "[['country_id', 'not in', ['Vietnam']]]", 5, None),
    ("North America", "[['country_id', 'in', ['US', 'CA']]]", 5, None),
    ("Website", "[['source_id', '=', 'Website']]", 8, None),
    ("Referral", "[['source_id', '=', 'Giới thiệu']]", 12, None),
    ("Facebook", "[['source_id', '=', 'Facebook']]", -2, None),
    ("Qualified", "[['stage_id', '=', 'Qualified']]", 10, None),
    ("Proposition", "[['stage_id', '=', 'Proposition']]", 20, None),
    ("VIP", "[['tags', 'in', ['VIP']]]", 15, None),
    ("Large company tag", "[['tags', 'in', ['Doanh nghiệp lớn']]]", 10, None),
    ("Pricing page", "[['pageviews.url', 'ilike', '/pricing']]", 15, None),
    ("Pricing, last 30 days", "[['pageviews.url', 'ilike', '/bang-gia']]", 10, 30),
    ("Gmail", "[['email', 'ilike', '@gmail.com']]", -5, None),
    ("No e-mail", "[['email', '=', False]]", -10, None),
    ("Large", "[['company_size', '>=', 250]]", 15, None),
    ("Micro", "[['company_size', '<', 10]]", -5, None),
    ("Director", "[['job_title', 'ilike', 'giám đốc']]", 10, None),
    ("English speaker", "[['language', '=', 'en']]", 3, None),
    ("Recent", "[['created_at', '>=', '{month_ago}']]", 5, None),
    ("Company", "[['company_name', '!=', False]]", 4, None),
]


def _vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM (ANALYZE) leads_lead, leads_leadscore")
        else:
            cursor.execute("ANALYZE")


def _updates() -> tuple[int, int]:
    """PostgreSQL: the score table's row updates so far, and how many of them were HOT (the row stayed on its
    page and no index was written)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0, 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # this session's counts, reported at once
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'leads_leadscore'"
        )
        return cursor.fetchone()


def _seconds(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


@benchmark("scoring", default_n=1_000_000)
def scoring(n: int) -> dict[str, float]:
    from django.db import connection, transaction
    from django.db.models import F

    from bench.rules import _r, fill
    from pheu.leads.models import Lead, LeadScore
    from pheu.rules import clean_domain
    from pheu.scoring.models import ScoringRule
    from pheu.scoring.services import rescore_open_leads, rule_scope
    from pheu.scoring.services.prediction import rebuild_model

    figures: dict[str, float] = {}
    timings = fill(n)
    print("fill: " + "  ".join(f"{k}={v:.1f}" for k, v in timings.items()))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE leads_lead SET won_status = 'open', active = TRUE "
            "WHERE won_status <> 'open' OR NOT active"
        )
    month_ago = (datetime.date.today() - datetime.timedelta(days=30)).isoformat()
    for name, text, points, window in RULES:
        text = text.format(month_ago=month_ago)
        clean_domain(text, "lead")  # every rule is valid as typed
        ScoringRule.objects.create(name=name, domain=text, points=points, window_days=window)
    open_leads = Lead.objects.filter(won_status="open", active=True)
    figures["open_leads"] = open_leads.count()

    # The references: one integer column written on every open lead. The score lives in its own narrow
    # table (LeadScore): the bare UPDATE of that column is the reference of the target; the same UPDATE of
    # an integer column of the wide lead table (``priority``, 0–3, no index) shows what it saves.
    scores = LeadScore.objects.filter(lead__won_status="open", lead__active=True)
    _vacuum()
    with transaction.atomic():
        figures["bare_update_lead_table_s"], _ = _seconds(
            lambda: open_leads.update(priority=3 - F("priority"))
        )
    _vacuum()
    with transaction.atomic():
        figures["bare_update_s"], _ = _seconds(lambda: scores.update(score=F("score") + 1))

    # Every score changes.
    scores.update(score=-1_000_000)
    _vacuum()
    figures["full_rescore_s"], result = _seconds(rescore_open_leads)
    figures["full_rescore_changed"] = result.changed
    figures["full_vs_bare_ratio"] = figures["full_rescore_s"] / figures["bare_update_s"]
    figures["full_vs_bare_lead_table_ratio"] = figures["full_rescore_s"] / figures["bare_update_lead_table_s"]

    # A rule change that moves about 10% of the scores (the leads in the US or Canada), re-scored as
    # update_scoring_rule does it: only the leads the rule matched before or matches now are evaluated.
    _vacuum()
    north_america = ScoringRule.objects.get(name="North America")
    scope = rule_scope(north_america)
    north_america.points = 9
    north_america.save()
    scope += rule_scope(north_america)
    before = _updates()
    figures["rule_change_s"], result = _seconds(lambda: rescore_open_leads(scope=scope))
    figures["rule_change_changed"] = result.changed
    after = _updates()
    figures["rule_change_hot_pct"] = 100 * (after[1] - before[1]) / max(1, after[0] - before[0])
    figures["rule_change_changed_pct"] = 100 * result.changed / max(1, figures["open_leads"])

    # Nothing changes: the cost of checking every open lead (`pheu score`).
    figures["no_change_s"], result = _seconds(rescore_open_leads)
    figures["no_change_changed"] = result.changed

    # The predictive model over n closed records: outcome depends on country, source and tags.
    with connection.cursor() as cursor:
        vn = "l.country_id = 'VN'"
        good_source = "l.source_id IN (SELECT id FROM leads_source WHERE name IN ('Giới thiệu', 'Website'))"
        vip = "l.id IN (SELECT lead_id FROM leads_lead_tags WHERE tag_id IN (SELECT id FROM contacts_tag WHERE name = 'VIP'))"  # noqa: E501
        chance = f"(30 + CASE WHEN {vn} THEN 15 ELSE 0 END + CASE WHEN {good_source} THEN 20 ELSE 0 END + CASE WHEN {vip} THEN 20 ELSE 0 END)"  # noqa: E501
        cursor.execute(
            f"UPDATE leads_lead l SET won_status = CASE WHEN {_r(91, 100, 'l.id')} < {chance} "
            f"THEN 'won' ELSE 'lost' END, closed_at = l.created_at".replace("%%", "%")
            if connection.vendor == "postgresql"
            else f"UPDATE leads_lead AS l SET won_status = CASE WHEN {_r(91, 100, 'l.id')} < {chance} "
            f"THEN 'won' ELSE 'lost' END, closed_at = l.created_at".replace("%%", "%")
        )
    _vacuum()
    marks: list[float] = []
    start = time.perf_counter()
    rebuilt = rebuild_model(progress=lambda _step: marks.append(time.perf_counter()))
    figures["model_rebuild_s"] = time.perf_counter() - start
    # Its steps: the samples (one INSERT … SELECT), the frequency tables, the AUC on history.
    if len(marks) == 3:
        figures["model_samples_s"] = marks[1] - marks[0]
        figures["model_frequencies_s"] = marks[2] - marks[1]
        figures["model_measure_s"] = start + figures["model_rebuild_s"] - marks[2]
    figures["model_samples"] = rebuilt.samples
    figures["model_auc"] = rebuilt.auc or 0.0
    for key, value in figures.items():
        print(f"  {key:28s} {value:,.3f}")
    return figures
