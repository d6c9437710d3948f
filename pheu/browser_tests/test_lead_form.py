"""The lead form in a real browser: the probability follows the stage chosen, before saving."""

from __future__ import annotations

import pytest

from pheu.browser_tests.test_leads_flow import log_in
from pheu.leads.choices import LeadType
from pheu.testing import make_lead, make_stage

pytestmark = pytest.mark.browser


def test_the_probability_follows_the_chosen_stage_before_saving(open_page, actors):
    from playwright.sync_api import expect

    new = make_stage("Mới", sequence=1, probability=10)
    proposal = make_stage("Đề xuất", sequence=2, probability=60)
    lead = make_lead(
        "Máy lọc nước",
        type=LeadType.OPPORTUNITY,
        team=actors.north,
        user=actors.sales1,
        stage=new,
        probability=10,
    )
    page = open_page()
    log_in(page, "sales1")
    page.goto(f"/leads/{lead.pk}/edit/")
    expect(page.locator("#id_probability")).to_have_value("10.00")
    page.select_option("#id_stage", str(proposal.pk))
    expect(page.locator("#id_probability")).to_have_value("60.00")  # at once, not after saving
    page.uncheck("#id_auto_probability")
    page.fill("#id_probability", "45")
    page.select_option("#id_stage", str(new.pk))
    expect(page.locator("#id_probability")).to_have_value("45")  # typed by hand: left alone
