"""Lead scoring in a real browser: a manager writes a rule with the domain field, sees what it would
change, saves it, and finds the points and the rule on a lead's page."""

from __future__ import annotations

import re

import pytest

from pheu.accounts.models import Role
from pheu.browser_tests.test_leads_flow import log_in
from pheu.leads.models import Lead
from pheu.scoring.models import ScoringRule
from pheu.testing import make_lead, make_user

pytestmark = pytest.mark.browser


def test_manager_creates_a_rule_and_sees_it_on_a_lead(open_page, screenshot, actors):
    from playwright.sync_api import expect

    hanoi = make_lead("Công ty Hà Nội Xanh", country="VN")
    make_lead("Công ty Sài Gòn Tươi", country="VN")
    make_lead("Acme Corp", country="US")
    page = open_page()
    log_in(page, "manager")

    # The menu leads to the scoring rules; none yet.
    page.click('#main-nav a[href="/scoring/"]')
    page.wait_for_url("**/scoring/")
    page.click("#new-rule")
    page.wait_for_url("**/scoring/rules/new/")

    page.fill("#id_name", "Viet Nam")
    page.fill("#id_domain", "[['country_id', '=', 'Việt Nam']]")
    # The domain field's preview reads the rule and counts the matching records…
    expect(page.locator(".domain-preview .domain-explanation")).to_be_visible()
    expect(page.locator(".domain-preview .domain-count")).to_contain_text("2")
    page.fill("#id_points", "10")
    # …and the impact panel says how many open leads match and how many scores would rise.
    expect(page.locator("#rule-impact .impact-matching")).to_contain_text("2")
    expect(page.locator("#rule-impact .impact-changed")).to_contain_text(re.compile(r"2\D+2\D+0"))
    screenshot(page, "scoring-01-rule-form")
    assert not ScoringRule.objects.exists()

    page.click("#save-rule")
    page.wait_for_url("**/scoring/")
    row = page.locator("#rule-table tbody tr").first
    expect(row.locator(".rule-name")).to_have_text("Viet Nam")
    expect(row.locator(".rule-points")).to_have_text("+10")
    expect(page.locator(".alert-success").first).to_contain_text("2")
    screenshot(page, "scoring-02-rules")
    assert Lead.objects.get(pk=hanoi.pk).score == 10

    # The lead's page says 10, and why.
    page.goto(f"/leads/{hanoi.pk}/")
    expect(page.locator("#score-total")).to_have_text("10")
    expect(page.locator("#score-rules .score-rule-name")).to_have_text(["Viet Nam"])
    expect(page.locator("#score-rules")).to_contain_text("+10")
    screenshot(page, "scoring-03-lead")


def test_switching_a_rule_off_by_htmx_and_a_salesperson_reading(open_page, actors):
    from playwright.sync_api import expect

    from pheu.scoring.services import create_scoring_rule

    lead = make_lead(country="VN")
    rule, _outcome = create_scoring_rule(
        actor=None, values={"name": "Viet Nam", "domain": "[['country.code', '=', 'VN']]", "points": 10}
    )
    page = open_page()
    log_in(page, "manager")
    page.goto("/scoring/")
    page.click(f"#rule-active-{rule.pk}")
    expect(page.locator("#rescore-outcome .alert-success")).to_contain_text("1")
    expect(page.locator(f"#rule-active-{rule.pk}")).not_to_be_checked()
    assert Lead.objects.get(pk=lead.pk).score == 0

    make_user("reader", role=Role.SALESPERSON)
    other = open_page()
    log_in(other, "reader")
    other.goto("/scoring/")
    expect(other.locator(f"#rule-active-{rule.pk}")).to_be_disabled()
    expect(other.locator("#new-rule")).to_have_count(0)
