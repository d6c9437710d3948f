"""The demo data of activities and sales, loaded by ``pheu demo``."""

from __future__ import annotations

import pytest

from pheu.activities.models import Activity
from pheu.demo.services import load_demo
from pheu.leads.choices import WonStatus
from pheu.sales.models import Order, Product, Quotation

pytestmark = pytest.mark.django_db


def test_demo_has_products_orders_on_won_opportunities_and_planned_activities():
    load_demo(leads=120, seed=3)
    assert Product.objects.filter(price__gt=0).count() == 6
    orders = list(Order.objects.select_related("lead"))
    assert orders and all(order.lead.won_status == WonStatus.WON and order.total > 0 for order in orders)
    assert Quotation.objects.filter(state="draft").exists()
    assert Activity.objects.overdue().exists() and Activity.objects.due_today().exists()
    assert Activity.objects.planned().exists() and Activity.objects.done().exists()
