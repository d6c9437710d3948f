"""Sales pages: lists, the quotation form with lines, confirm/cancel, printing, the record panels."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from pheu.leads.choices import WonStatus
from pheu.sales.choices import QuotationState
from pheu.sales.models import Order, Quotation
from pheu.sales.services import create_order, create_quotation
from pheu.sales.testing import make_opportunity, make_product
from pheu.testing import make_partner

pytestmark = pytest.mark.django_db

LINE = {"description": "Máy lọc nước RO", "quantity": 2, "unit_price": Decimal(4500000), "tax": 10}


def lines_post(*rows: dict[str, str], extra: int = 0) -> dict[str, str]:
    data = {
        "lines-TOTAL_FORMS": str(len(rows) + extra),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "500",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"lines-{index}-{name}"] = value
    return data


@pytest.fixture
def opportunity(actors):
    return make_opportunity(
        "50 máy lọc nước", team=actors.north, user=actors.sales1, partner=make_partner("Đại Việt")
    )


def test_new_quotation_from_the_opportunity_page_then_confirm(client, english, opportunity):
    client.force_login(english.sales1)
    page = client.get(reverse("leads:detail", args=[opportunity.pk]))
    assert 'id="new-quotation"' in page.content.decode()
    product = make_product("Lõi lọc", price=Decimal(350000), tax=Decimal(10))

    form_url = reverse("sales:quotation_create") + f"?lead={opportunity.pk}"
    assert client.get(form_url).status_code == 200
    response = client.post(
        form_url,
        {
            "lead": opportunity.pk,
            "partner": opportunity.partner_id,
            "note": "",
            **lines_post(
                {"product": str(product.pk), "quantity": "4", "discount": "5"},
                {"description": "Lắp đặt", "quantity": "1", "unit_price": "500000", "tax": "8"},
                extra=2,
            ),
        },
    )
    quotation = Quotation.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "sales:quotation", args=[quotation.pk]
    )
    # 4 × 350.000 × 0,95 = 1.330.000 + 10 % = 1.463.000; 500.000 + 8 % = 540.000
    assert quotation.total == Decimal(2003000) and quotation.lines.count() == 2
    detail = client.get(reverse("sales:quotation", args=[quotation.pk])).content.decode()
    assert "₫2,003,000" in detail

    confirmed = client.post(reverse("sales:quotation_confirm", args=[quotation.pk]))
    order = Order.objects.get()
    assert confirmed["Location"] == reverse("sales:order", args=[order.pk])
    opportunity.refresh_from_db()
    assert opportunity.won_status == WonStatus.WON
    panel = client.get(reverse("leads:detail", args=[opportunity.pk])).content.decode()
    assert order.number in panel and quotation.number in panel


def test_the_form_asks_for_a_customer_and_names_bad_lines(client, english, actors):
    opportunity = make_opportunity(partner=None, team=actors.north, user=actors.sales1)
    client.force_login(english.sales1)
    url = reverse("sales:quotation_create")
    response = client.post(
        url, {"lead": opportunity.pk, **lines_post({"description": "x", "unit_price": "1"})}
    )
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    response = client.post(
        url,
        {
            "lead": opportunity.pk,
            "partner": make_partner().pk,
            **lines_post({"description": "x", "quantity": "0", "unit_price": "1"}),
        },
    )
    assert "Line 1: the quantity must be more than 0." in response.content.decode()
    assert not Quotation.objects.exists()


def test_cancel_print_and_lists(client, english, opportunity):
    quotation = create_quotation(actor=english.sales1, lead=opportunity, lines=[LINE])
    client.force_login(english.sales1)
    printed = client.get(reverse("sales:print", args=["quotation", quotation.pk])).content.decode()
    assert "₫9,900,000" in printed and quotation.number in printed
    assert client.get(reverse("sales:print", args=["other", quotation.pk])).status_code == 404
    listed = client.get(reverse("sales:quotations"), {"q": "dai viet"}).content.decode()
    assert quotation.number in listed
    client.post(reverse("sales:quotation_cancel", args=[quotation.pk]))
    quotation.refresh_from_db()
    assert quotation.state == QuotationState.CANCELLED
    again = client.post(reverse("sales:quotation_cancel", args=[quotation.pk]), follow=True)
    assert "can no longer be cancelled" in again.content.decode()


def test_documents_of_others_are_404(client, actors, opportunity):
    quotation = create_quotation(actor=actors.sales1, lead=opportunity, lines=[LINE])
    client.force_login(actors.sales3)
    for url in (
        reverse("sales:quotation", args=[quotation.pk]),
        reverse("sales:print", args=["quotation", quotation.pk]),
        reverse("sales:quotation_edit", args=[quotation.pk]),
    ):
        assert client.get(url).status_code == 404
    assert client.post(reverse("sales:quotation_confirm", args=[quotation.pk])).status_code == 404
    assert Quotation.objects.get().state == QuotationState.DRAFT


def test_direct_order_from_the_customer_page(client, english):
    partner = make_partner("Công ty Sao Mai")
    client.force_login(english.sales3)
    assert 'id="new-order"' in client.get(reverse("contacts:detail", args=[partner.pk])).content.decode()
    response = client.post(
        reverse("sales:order_create"),
        {"partner": partner.pk, **lines_post({"description": "Bảo trì", "unit_price": "750000"})},
    )
    order = Order.objects.get()
    assert response["Location"] == reverse("sales:order", args=[order.pk])
    assert order.total == Decimal(750000)
    page = client.get(reverse("contacts:detail", args=[partner.pk])).content.decode()
    assert order.number in page


def test_products_are_managed_by_managers(client, english):
    client.force_login(english.sales1)
    assert client.get(reverse("sales:product_create")).status_code == 403
    client.force_login(english.manager)
    response = client.post(
        reverse("sales:product_create"),
        {"name": "Máy lọc nước", "code": "ML1", "price": "4500000", "tax": "10", "active": "on"},
    )
    assert response.status_code == 302
    assert "Máy lọc nước" in client.get(reverse("sales:products")).content.decode()


def test_order_for_a_customer_lists_for_its_salesperson_only(client, actors):
    order = create_order(actor=actors.sales3, partner=make_partner(), lines=[LINE])
    client.force_login(actors.sales1)
    assert order.number not in client.get(reverse("sales:orders")).content.decode()
    client.force_login(actors.sales3)
    assert order.number in client.get(reverse("sales:orders")).content.decode()


def test_the_quotation_form_reads_the_products_once_however_many_lines(client, actors, opportunity):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for index in range(3):
        make_product(f"Sản phẩm {index}")
    short = create_quotation(actor=actors.sales1, lead=opportunity, lines=[LINE])
    long = create_quotation(actor=actors.sales1, lead=opportunity, lines=[LINE] * 8)
    client.force_login(actors.sales1)
    counts = []
    for quotation in (short, long):
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("sales:quotation_edit", args=[quotation.pk]))
        assert page.status_code == 200 and "Sản phẩm 2" in page.content.decode()
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
