"""Products, quotations and orders: what the services accept, compute and refuse."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import translation

from pheu.core.history import history_of
from pheu.core.models import HistoryKind, PheuSettings
from pheu.leads.choices import WonStatus
from pheu.leads.models import Campaign, Source
from pheu.sales.choices import OrderState, QuotationState
from pheu.sales.exceptions import SalesError
from pheu.sales.models import Order, Product, Quotation
from pheu.sales.services import (
    cancel_order,
    cancel_quotation,
    confirm_quotation,
    create_order,
    create_product,
    create_quotation,
    send_quotation,
    update_product,
    update_quotation,
)
from pheu.sales.testing import make_opportunity, make_product
from pheu.testing import make_lead, make_lost_reason, make_partner, make_stage


@pytest.fixture(autouse=True)
def _english_messages():
    """Messages and history texts are written in the active language; these tests read them in English."""
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db

TWO_LINES = [
    {
        "description": "Máy lọc nước RO",
        "quantity": 3,
        "unit_price": Decimal(1234567),
        "discount": 10,
        "tax": 10,
    },
    {"description": "Lắp đặt", "quantity": 1, "unit_price": Decimal(500000), "tax": 8},
]


@pytest.fixture
def opportunity(actors):
    return make_opportunity(
        "50 máy lọc nước",
        team=actors.north,
        user=actors.sales1,
        partner=make_partner("Công ty Đại Việt", is_company=True, email="mua@daiviet.example"),
        campaign=Campaign.objects.create(name="Tết 2026"),
        source=Source.objects.create(name="Website"),
    )


# --- products ------------------------------------------------------------------------------------------
def test_managers_create_products_and_codes_are_unique(actors):
    product = create_product(
        actor=actors.manager, values={"name": "Máy lọc nước", "code": " ML-01 ", "price": Decimal(4500000)}
    )
    assert (product.code, product.price, product.active) == ("ML-01", Decimal(4500000), True)
    with pytest.raises(SalesError) as err:
        create_product(actor=actors.manager, values={"name": "Khác", "code": "ML-01"})
    assert "code" in err.value.field_errors
    assert Product.objects.count() == 1


def test_salespeople_do_not_change_products(actors):
    product = make_product("Máy lọc nước", price=Decimal(100))
    with pytest.raises(SalesError) as err:
        update_product(actor=actors.sales1, product=product, values={"price": Decimal(1)})
    assert err.value.code == SalesError.Code.FORBIDDEN
    product.refresh_from_db()
    assert product.price == Decimal(100)


# --- quotations ----------------------------------------------------------------------------------------
def test_quotation_from_an_opportunity_carries_its_customer_team_salesperson_and_utm(actors, opportunity):
    quotation = create_quotation(actor=actors.sales1, lead=opportunity, lines=TWO_LINES)

    assert quotation.state == QuotationState.DRAFT
    assert quotation.partner == opportunity.partner
    assert (quotation.team, quotation.user) == (actors.north, actors.sales1)
    assert (quotation.campaign, quotation.source) == (opportunity.campaign, opportunity.source)
    assert quotation.currency == "VND"
    lines = list(quotation.lines.order_by("sequence"))
    assert [(line.description, line.untaxed_amount, line.tax_amount, line.total) for line in lines] == [
        ("Máy lọc nước RO", Decimal(3333331), Decimal(333333), Decimal(3666664)),
        ("Lắp đặt", Decimal(500000), Decimal(40000), Decimal(540000)),
    ]
    assert (quotation.untaxed_amount, quotation.tax_amount, quotation.total) == (
        Decimal(3833331),
        Decimal(373333),
        Decimal(4206664),
    )
    assert [e.kind for e in history_of(quotation)] == [HistoryKind.CREATED]
    assert list(opportunity.quotations.all()) == [quotation]


def test_a_line_takes_its_products_name_price_and_tax(actors, opportunity):
    product = make_product("Bộ lõi lọc thay thế", price=Decimal(350000), tax=Decimal(10))
    quotation = create_quotation(
        actor=actors.sales1, lead=opportunity, lines=[{"product": product, "quantity": 2}]
    )
    line = quotation.lines.get()
    assert (line.product, line.description, line.unit_price, line.tax) == (
        product,
        "Bộ lõi lọc thay thế",
        Decimal(350000),
        Decimal(10),
    )
    assert quotation.total == Decimal(770000)


def test_a_customer_is_asked_for_when_the_opportunity_has_none_and_then_linked(actors):
    opportunity = make_opportunity(partner=None, team=actors.north, user=actors.sales1)
    with pytest.raises(SalesError) as err:
        create_quotation(actor=actors.sales1, lead=opportunity, lines=TWO_LINES)
    assert err.value.code == SalesError.Code.NO_CUSTOMER
    assert "partner" in err.value.field_errors
    assert not Quotation.objects.exists()

    customer = make_partner("Nguyễn Thị Hương")
    quotation = create_quotation(
        actor=actors.sales1, lead=opportunity, values={"partner": customer}, lines=TWO_LINES
    )
    opportunity.refresh_from_db()
    assert quotation.partner == customer and opportunity.partner == customer


@pytest.mark.parametrize(
    ("lead_kw", "code"),
    [
        ({"type": "lead"}, SalesError.Code.NOT_AN_OPPORTUNITY),
        ({"won_status": "lost", "active": False}, SalesError.Code.NOT_AN_OPPORTUNITY),
    ],
)
def test_leads_and_lost_opportunities_are_not_quoted(actors, lead_kw, code):
    lead = make_lead(
        team=actors.north, user=actors.sales1, partner=make_partner(), **{"type": "opportunity", **lead_kw}
    )
    with pytest.raises(SalesError) as err:
        create_quotation(actor=actors.sales1, lead=lead, lines=TWO_LINES)
    assert err.value.code == code
    assert not Quotation.objects.exists()


def test_a_salesperson_cannot_quote_an_opportunity_they_do_not_see(actors, opportunity):
    with pytest.raises(SalesError) as err:
        create_quotation(actor=actors.sales3, lead=opportunity, lines=TWO_LINES)
    assert err.value.code == SalesError.Code.FORBIDDEN
    assert not Quotation.objects.exists()


def test_bad_lines_are_refused_each_named_and_nothing_is_saved(actors, opportunity):
    lines: list[dict[str, Any]] = [
        {"description": "OK", "quantity": 1, "unit_price": Decimal(10)},
        {"description": "", "quantity": 0, "unit_price": Decimal(10)},
        {"description": "Giảm quá nhiều", "unit_price": Decimal(10), "discount": 150, "tax": -1},
        {"description": "Không giá"},
    ]
    with pytest.raises(SalesError) as err:
        create_quotation(actor=actors.sales1, lead=opportunity, lines=lines)
    messages = err.value.field_errors["lines"]
    assert [m.split(":")[0] for m in messages] == ["Line 2", "Line 3", "Line 4"]
    assert "quantity" in messages[0] and "describe" in messages[0]
    assert "discount" in messages[1] and "tax" in messages[1]
    assert "unit price" in messages[2]
    assert not Quotation.objects.exists()


def test_confirming_makes_an_order_and_marks_the_opportunity_won(actors, opportunity):
    won = make_stage("Thành công", is_won=True, sequence=9, probability=100)
    quotation = create_quotation(actor=actors.sales1, lead=opportunity, lines=TWO_LINES)

    order = confirm_quotation(actor=actors.sales1, quotation=quotation)

    quotation.refresh_from_db()
    opportunity.refresh_from_db()
    assert quotation.state == QuotationState.CONFIRMED and quotation.confirmed_at is not None
    assert order.quotation == quotation and order.state == OrderState.CONFIRMED
    assert (order.partner, order.lead, order.user, order.team) == (
        quotation.partner,
        opportunity,
        actors.sales1,
        actors.north,
    )
    assert order.total == quotation.total == Decimal(4206664)
    assert [(line.description, line.total) for line in order.lines.all()] == [
        (line.description, line.total) for line in quotation.lines.all()
    ]
    assert (opportunity.won_status, opportunity.probability, opportunity.stage) == (WonStatus.WON, 100, won)
    assert list(opportunity.orders.all()) == [order]
    texts = [e.body for e in history_of(opportunity)]
    assert any(f"{quotation.number}" in text and order.number in text for text in texts)


def test_confirming_wins_back_an_opportunity_lost_meanwhile(actors, opportunity):
    from pheu.leads.services.outcome import mark_lost

    quotation = create_quotation(actor=actors.sales1, lead=opportunity, lines=TWO_LINES)
    mark_lost(actor=actors.sales1, lead=opportunity, lost_reason=make_lost_reason())
    confirm_quotation(actor=actors.sales1, quotation=quotation)
    opportunity.refresh_from_db()
    assert (opportunity.won_status, opportunity.active) == (WonStatus.WON, True)


def test_with_the_setting_off_confirming_leaves_the_opportunity_open(actors, opportunity):
    PheuSettings.objects.update_or_create(pk=1, defaults={"confirm_marks_won": False})
    quotation = create_quotation(actor=actors.sales1, lead=opportunity, lines=TWO_LINES)
    confirm_quotation(actor=actors.sales1, quotation=quotation)
    opportunity.refresh_from_db()
    assert opportunity.won_status == WonStatus.OPEN
    assert Order.objects.count() == 1


def test_a_quotation_without_lines_is_neither_confirmed_nor_sent(actors, opportunity):
    quotation = create_quotation(actor=actors.sales1, lead=opportunity)
    with pytest.raises(SalesError) as err:
        confirm_quotation(actor=actors.sales1, quotation=quotation)
    assert err.value.code == SalesError.Code.NO_LINES
    with pytest.raises(SalesError):
        send_quotation(actor=actors.sales1, quotation=quotation, to="mua@daiviet.example")
    quotation.refresh_from_db()
    assert quotation.state == QuotationState.DRAFT
    assert not Order.objects.exists() and mail.outbox == []


def test_state_machine_confirmed_and_cancelled_are_final(actors, opportunity):
    confirmed = create_quotation(actor=actors.sales1, lead=opportunity, lines=TWO_LINES)
    confirm_quotation(actor=actors.sales1, quotation=confirmed)
    cancelled = cancel_quotation(
        actor=actors.sales1,
        quotation=create_quotation(actor=actors.sales1, lead=opportunity, lines=TWO_LINES),
    )
    assert cancelled.state == QuotationState.CANCELLED and cancelled.cancelled_at is not None

    refusals = [
        lambda: confirm_quotation(actor=actors.sales1, quotation=confirmed),
        lambda: cancel_quotation(actor=actors.sales1, quotation=confirmed),
        lambda: update_quotation(actor=actors.sales1, quotation=confirmed, values={"note": "x"}),
        lambda: confirm_quotation(actor=actors.sales1, quotation=cancelled),
        lambda: cancel_quotation(actor=actors.sales1, quotation=cancelled),
        lambda: send_quotation(actor=actors.sales1, quotation=cancelled, to="a@daiviet.example"),
    ]
    for refused in refusals:
        with pytest.raises(SalesError) as err:
            refused()
        assert err.value.code == SalesError.Code.WRONG_STATE
    assert Order.objects.count() == 1
    assert Quotation.objects.get(pk=confirmed.pk).state == QuotationState.CONFIRMED
    assert Quotation.objects.get(pk=cancelled.pk).state == QuotationState.CANCELLED
    assert Quotation.objects.get(pk=confirmed.pk).note == ""


def test_a_sent_quotation_may_still_change_and_be_confirmed(actors, opportunity):
    quotation = create_quotation(actor=actors.sales1, lead=opportunity, lines=TWO_LINES)
    entry = send_quotation(actor=actors.sales1, quotation=quotation, to="mua@daiviet.example")

    quotation.refresh_from_db()
    assert quotation.state == QuotationState.SENT and quotation.sent_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["mua@daiviet.example"]
    assert message.subject == f"Quotation {quotation.number}"
    assert message.attachments[0][0] == f"{quotation.number}.html"
    assert "4.206.664" in message.attachments[0][1] or "4,206,664" in message.attachments[0][1]
    assert entry.kind == HistoryKind.EMAIL and entry in history_of(opportunity)

    update_quotation(actor=actors.sales1, quotation=quotation, values={}, lines=TWO_LINES[:1])
    quotation.refresh_from_db()
    assert quotation.total == Decimal(3666664)
    order = confirm_quotation(actor=actors.sales1, quotation=quotation)
    assert order.total == Decimal(3666664)


def test_others_cannot_confirm_or_cancel_a_quotation_they_do_not_see(actors, opportunity):
    quotation = create_quotation(actor=actors.sales1, lead=opportunity, lines=TWO_LINES)
    for action in (confirm_quotation, cancel_quotation):
        with pytest.raises(SalesError) as err:
            action(actor=actors.sales3, quotation=quotation)
        assert err.value.code == SalesError.Code.FORBIDDEN
    quotation.refresh_from_db()
    assert quotation.state == QuotationState.DRAFT


# --- orders --------------------------------------------------------------------------------------------
def test_an_order_made_directly_for_a_customer(actors):
    customer = make_partner("Công ty Sao Mai")
    order = create_order(actor=actors.sales3, partner=customer, lines=TWO_LINES)
    assert (order.state, order.lead, order.user, order.team) == (
        OrderState.CONFIRMED,
        None,
        actors.sales3,
        actors.south,
    )
    assert order.total == Decimal(4206664)
    assert list(customer.orders.all()) == [order]
    with pytest.raises(SalesError) as err:
        create_order(actor=actors.sales3, partner=customer, lines=[])
    assert err.value.code == SalesError.Code.NO_LINES
    assert Order.objects.count() == 1


def test_cancelling_an_order_is_final(actors):
    order = create_order(actor=actors.sales3, partner=make_partner(), lines=TWO_LINES)
    cancel_order(actor=actors.sales3, order=order)
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
    with pytest.raises(SalesError) as err:
        cancel_order(actor=actors.sales3, order=order)
    assert err.value.code == SalesError.Code.WRONG_STATE


# --- visibility ------------------------------------------------------------------------------------------
def test_documents_are_visible_with_their_opportunity_or_by_their_own_salesperson_and_team(
    actors, opportunity
):
    quotation = create_quotation(actor=actors.sales1, lead=opportunity, lines=TWO_LINES)
    direct = create_order(actor=actors.sales3, partner=make_partner(), lines=TWO_LINES)
    from_quote = confirm_quotation(actor=actors.sales1, quotation=quotation)

    def seen(user, model):
        return set(model.objects.visible_to(user).values_list("pk", flat=True))

    assert seen(actors.sales1, Quotation) == {quotation.pk}
    assert seen(actors.sales1, Order) == {from_quote.pk}
    assert seen(actors.leader, Order) == {from_quote.pk}
    assert seen(actors.sales3, Quotation) == set()
    assert seen(actors.sales3, Order) == {direct.pk}
    assert seen(actors.manager, Order) == {from_quote.pk, direct.pk}
