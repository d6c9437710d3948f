"""Sales in a real browser: a quotation with two lines from an opportunity, confirmed; the opportunity is
won and its order listed."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from pheu.browser_tests.test_leads_flow import log_in
from pheu.leads.choices import WonStatus
from pheu.sales.models import Order, Quotation
from pheu.sales.testing import make_opportunity, make_product
from pheu.testing import make_partner, make_stage

pytestmark = pytest.mark.browser


def test_quotation_with_two_lines_confirmed_wins_the_opportunity(open_page, screenshot, actors):
    from playwright.sync_api import expect

    make_stage("Thành công", is_won=True, sequence=9, probability=100)
    customer = make_partner("Công ty TNHH Đại Việt", is_company=True, email="mua@daiviet.example")
    opportunity = make_opportunity("50 máy lọc nước", team=actors.north, user=actors.sales1, partner=customer)
    filter_ = make_product("Máy lọc nước RO 9 cấp", code="RO9", price=Decimal(4500000), tax=Decimal(10))
    make_product("Lõi lọc thay thế", price=Decimal(350000), tax=Decimal(10))

    page = open_page()
    log_in(page, "sales1")
    page.goto(f"/leads/{opportunity.pk}/")
    page.click("#new-quotation")
    page.wait_for_url(re.compile(r"/sales/quotations/new/\?lead=\d+$"))
    expect(page.locator("#id_partner")).to_have_value(str(customer.pk))

    # Line 1: a product (its name, price and tax are filled in), 10 units, 5 % discount.
    page.select_option("#id_lines-0-product", str(filter_.pk))
    expect(page.locator("#id_lines-0-description")).to_have_value("Máy lọc nước RO 9 cấp")
    expect(page.locator("#id_lines-0-unit_price")).to_have_value("4500000")
    page.fill("#id_lines-0-quantity", "10")
    page.fill("#id_lines-0-discount", "5")
    # Line 2: free text, on a row added with "Add a line".
    page.click("#add-line")
    page.click("#add-line")
    expect(page.locator("#line-rows .sales-line")).to_have_count(4)
    page.fill("#id_lines-3-description", "Lắp đặt và hướng dẫn sử dụng")
    page.fill("#id_lines-3-quantity", "1")
    page.fill("#id_lines-3-unit_price", "2000000")
    page.fill("#id_lines-3-tax", "8")
    screenshot(page, "50-quotation-form")
    page.click("#save-quotation")
    page.wait_for_url(re.compile(r"/sales/quotations/\d+/$"))

    quotation = Quotation.objects.get()
    # 10 × 4.500.000 × 0,95 = 42.750.000 + 10 % = 47.025.000; 2.000.000 + 8 % = 2.160.000.
    assert quotation.total == Decimal(49185000) and quotation.lines.count() == 2
    expect(page.locator("#document-lines tbody tr")).to_have_count(2)
    expect(page.locator("#document-total")).to_have_text(re.compile(r"49\.185\.000\s*₫"))
    screenshot(page, "51-quotation")

    page.click("#confirm-quotation")
    page.wait_for_url(re.compile(r"/sales/orders/\d+/$"))
    order = Order.objects.get()
    expect(page.locator("#document-title")).to_contain_text(order.number)

    page.click("#document-opportunity a")
    page.wait_for_url(f"**/leads/{opportunity.pk}/")
    expect(page.locator("#record-orders")).to_contain_text(order.number)
    expect(page.locator("#record-orders")).to_contain_text("49.185.000")
    expect(page.locator("#record-quotations")).to_contain_text(quotation.number)
    opportunity.refresh_from_db()
    assert opportunity.won_status == WonStatus.WON
    screenshot(page, "52-opportunity-won-with-order")

    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator("#record-orders")).to_contain_text(order.number)
