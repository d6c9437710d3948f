"""Duplicates in a real browser: select two leads, merge them, undo it; convert with a duplicate."""

from __future__ import annotations

import pytest

from pheu.leads.choices import LeadType
from pheu.leads.models import Lead, Merge
from pheu.testing import PASSWORD, make_lead

pytestmark = pytest.mark.browser


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/?next=/leads/")  # the list, not the dashboard that follows a log-in
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/leads/")


def test_select_in_the_list_merge_then_undo(open_page, screenshot, actors):
    from playwright.sync_api import expect

    web = make_lead("Nguyễn Văn An — web", email="an@thepviet.vn", user=actors.sales1, team=actors.north)
    mail = make_lead(
        "Nguyen Van An — e-mail",
        email="AN@thepviet.vn",
        phone="0912 345 678",
        user=actors.sales1,
        team=actors.north,
    )
    page = open_page()
    log_in(page, "sales1")

    # The list gets selection boxes; the actions show once something is chosen.
    expect(page.locator("#lead-selection")).to_be_hidden()
    page.check(f'input.lead-select[value="{web.pk}"]')
    expect(page.locator("#lead-selection")).to_be_visible()
    expect(page.locator("#selection-merge")).to_be_disabled()  # two records at least
    page.check(f'input.lead-select[value="{mail.pk}"]')
    expect(page.locator("#selection-merge")).to_be_enabled()
    page.click("#selection-merge")

    # The preview shows the survivor first (the oldest of two equal leads), then merge.
    page.wait_for_url("**/leads/merge/**")
    expect(page.locator("#merge-records tbody tr").first).to_contain_text("Nguyễn Văn An — web")
    screenshot(page, "merge-01-preview")
    page.click("#merge-submit")
    page.wait_for_url(f"**/leads/{web.pk}/")
    expect(page.locator("#merges-panel")).to_be_visible()
    assert Lead.objects.get(pk=mail.pk).merged_into_id == web.pk
    assert Lead.objects.get(pk=web.pk).phone == "0912 345 678"
    screenshot(page, "merge-02-survivor")

    # Undo from the Merges panel: both records are back.
    page.click("#merges-panel .undo-merge")
    page.wait_for_url(f"**/leads/{web.pk}/")
    expect(page.locator("#similar-panel")).to_contain_text("Nguyen Van An — e-mail")
    assert Lead.objects.get(pk=mail.pk).active and Merge.objects.get().undone_at is not None


def test_convert_from_the_lead_page_with_its_duplicate(open_page, actors):
    from playwright.sync_api import expect

    lead = make_lead(
        "Cần báo giá", contact_name="Lê Thị Bình", company_name="Sao Mai", email="binh@saomai.vn",
        user=actors.sales1, team=actors.north,
    )  # fmt: skip
    dup = make_lead("Báo giá (e-mail)", email="binh@saomai.vn", user=actors.sales1, team=actors.north)
    page = open_page()
    log_in(page, "sales1")
    page.goto(f"/leads/{lead.pk}/")
    expect(page.locator("#similar-panel")).to_contain_text("Báo giá (e-mail)")
    page.click("#convert-button")
    page.wait_for_url(f"**/leads/{lead.pk}/convert/")
    expect(page.locator(f'input[name=merge][value="{dup.pk}"]')).to_be_checked()  # pre-selected
    page.check('input[name=customer][value="create"]')
    page.click("#convert-submit")
    page.wait_for_url(f"**/leads/{lead.pk}/")
    lead.refresh_from_db()
    assert lead.type == LeadType.OPPORTUNITY and lead.partner.name == "Lê Thị Bình"
    assert Lead.objects.get(pk=dup.pk).merged_into_id == lead.pk
