"""Demo sales (``pheu demo``): products with Vietnamese names and VND prices, and quotations/orders on some
won opportunities (made and confirmed through the services, so their totals and history are real)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from pheu.leads.models import Lead
from pheu.sales.models import Product
from pheu.sales.services import confirm_quotation, create_quotation

PRODUCTS = (
    ("RO-9", "Máy lọc nước RO 9 cấp", Decimal(4_500_000), Decimal(10)),
    ("RO-11", "Máy lọc nước RO 11 cấp nóng lạnh", Decimal(8_900_000), Decimal(10)),
    ("LOI-1", "Bộ lõi lọc thay thế (1 năm)", Decimal(1_250_000), Decimal(10)),
    ("LD", "Lắp đặt tại nhà", Decimal(300_000), Decimal(8)),
    ("BT-12", "Gói bảo trì 12 tháng", Decimal(1_800_000), Decimal(8)),
    ("CRM-U", "Phần mềm quản lý khách hàng (người dùng/năm)", Decimal(2_400_000), Decimal(10)),
)
QUOTED = 4


def load(*, seed: int, users: dict[str, Any]) -> None:
    """The products, then for a few won opportunities with a customer a confirmed quotation (its order),
    and for a few open ones a draft quotation. Won records stay won: confirming one does not change them."""
    rng = random.Random(seed)
    products = Product.objects.bulk_create(
        [Product(code=code, name=name, price=price, tax=tax) for code, name, price, tax in PRODUCTS]
    )
    for product in products:
        product.normalize()
    Product.objects.bulk_update(products, ["search_key", "code"])

    def lines() -> list[dict[str, Any]]:
        chosen = rng.sample(products, k=rng.randint(1, 3))
        return [
            {"product": p, "quantity": rng.randint(1, 20), "discount": rng.choice((0, 0, 5, 10))}
            for p in chosen
        ]

    with_customer = Lead.objects.opportunities().filter(partner__isnull=False, user__isnull=False)
    for lead in with_customer.filter(won_status="won", active=True).order_by("id")[:QUOTED]:
        confirm_quotation(actor=None, quotation=create_quotation(actor=None, lead=lead, lines=lines()))
    for lead in with_customer.filter(won_status="open", active=True).order_by("id")[:QUOTED]:
        create_quotation(actor=None, lead=lead, lines=lines())
