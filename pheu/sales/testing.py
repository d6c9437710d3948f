"""Factories of products, quotations and orders for tests."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from pheu.leads.models import Lead
from pheu.sales.models import Product
from pheu.testing import make_lead, make_partner

_seq = itertools.count(1)


def make_product(name: str | None = None, **kw: Any) -> Product:
    kw.setdefault("price", Decimal(1_000_000))
    return Product.objects.create(name=name or f"Sản phẩm {next(_seq)}", **kw)


def make_opportunity(name: str | None = None, **kw: Any) -> Lead:
    """An open opportunity with a customer (``partner=None`` for one without)."""
    if "partner" not in kw:
        kw["partner"] = make_partner()
    kw.setdefault("expected_revenue", Decimal(50_000_000))
    return make_lead(name or f"Cơ hội {next(_seq)}", type="opportunity", **kw)
