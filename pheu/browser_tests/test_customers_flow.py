"""A customer's page in a real browser: its opportunities, and a new one prefilled from it."""

from __future__ import annotations

import re

import pytest

from pheu.browser_tests.test_leads_flow import NAV_CUSTOMERS, log_in
from pheu.leads.models import Lead
from pheu.testing import make_partner

pytestmark = pytest.mark.browser


def test_new_opportunity_from_a_customer_and_the_customer_picker(open_page, screenshot, actors):
    from playwright.sync_api import expect

    company = make_partner("Công ty TNHH Đại Việt", is_company=True, city="Hà Nội")
    person = make_partner(
        "Nguyễn Thị Hương",
        parent=company,
        email="huong@daiviet.vn",
        phone="0912 345 678",
        city="Hà Nội",
        country="VN",
    )
    make_partner("Công ty Sao Mai", is_company=True)
    page = open_page()
    log_in(page, "sales1")

    expect(page.locator(NAV_CUSTOMERS)).to_have_text("Khách hàng")
    page.click(NAV_CUSTOMERS)
    page.wait_for_url("**/customers/")
    page.fill("#customer-search", "dai viet")
    expect(page.locator("#partner-table tbody tr")).to_have_count(1)
    # Leaving the search box must not search again: a second swap would swallow the click on a result.
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.locator("#customer-search").blur()
    page.wait_for_timeout(300)
    assert [url for url in requests if "/customers/" in url] == []
    page.get_by_role("link", name="Công ty TNHH Đại Việt").click()
    expect(page.locator("#partner-name")).to_contain_text("Công ty TNHH Đại Việt")
    page.get_by_role("link", name="Nguyễn Thị Hương").click()
    expect(page.locator("#partner-name")).to_contain_text("Nguyễn Thị Hương")

    page.click("#new-opportunity")
    expect(page.locator("#id_type")).to_have_value("opportunity")
    expect(page.locator("#id_contact_name")).to_have_value("Nguyễn Thị Hương")
    expect(page.locator("#id_company_name")).to_have_value("Công ty TNHH Đại Việt")
    expect(page.locator("#id_email")).to_have_value("huong@daiviet.vn")
    expect(page.locator("#id_partner")).to_have_value(str(person.pk))
    expect(page.locator("#id_country")).to_have_value("VN")
    screenshot(page, "20-new-opportunity-prefilled")

    # The customer picker searches without accents (htmx) and Enter does not submit the form.
    picker = page.locator("#field-partner input[type=search]")
    picker.fill("sao mai")
    picker.press("Enter")
    expect(page.locator("#id_partner option:checked")).to_have_text("Công ty Sao Mai")
    picker.fill("nguyen thi")
    expect(page.locator("#id_partner option:checked")).to_have_text("Công ty TNHH Đại Việt, Nguyễn Thị Hương")

    page.fill("#id_name", "50 máy lọc nước cho văn phòng")
    page.click("#lead-form button[type=submit]")
    page.wait_for_url(re.compile(r"/leads/\d+/$"))
    lead = Lead.objects.get(name="50 máy lọc nước cho văn phòng")
    assert (lead.type, lead.partner, lead.user) == ("opportunity", person, actors.sales1)

    page.goto(f"/customers/{company.pk}/")
    expect(page.locator("#partner-leads")).to_contain_text("50 máy lọc nước cho văn phòng")
    screenshot(page, "21-customer-page")
