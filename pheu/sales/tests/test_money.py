"""Money arithmetic (``pheu.lib.money``): line totals, discount, tax, rounding half up per currency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pheu.lib.money import Amounts, currency_decimals, line_amounts, round_money, sum_amounts


def test_vnd_has_no_decimals_usd_and_eur_two():
    assert [currency_decimals(c) for c in ("VND", "USD", "eur")] == [0, 2, 2]


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("12.5", "VND", Decimal(13)),  # half up, not half even (which would give 12)
        ("13.5", "VND", Decimal(14)),
        ("12.4999", "VND", Decimal(12)),
        ("0.125", "USD", Decimal("0.13")),
        ("0.115", "USD", Decimal("0.12")),
        ("-2.5", "VND", Decimal(-3)),  # away from zero on the half
        (7, "VND", Decimal(7)),
    ],
)
def test_round_money_is_half_up_to_the_currency(value, currency, expected):
    result = round_money(value, currency)
    assert result == expected
    assert result.as_tuple().exponent == -currency_decimals(currency)


def test_floats_are_refused():
    with pytest.raises(TypeError):
        round_money(0.1, "VND")  # type: ignore[arg-type]  # a float on purpose: it is refused
    with pytest.raises(TypeError):
        line_amounts(quantity=1, unit_price=0.1, currency="USD")  # type: ignore[arg-type]  # a float on purpose: it is refused


def test_line_quantity_price_discount_then_tax_on_the_discounted_amount():
    # 3 × 1.234.567 ₫ = 3.703.701 ₫; −10 % = 3.333.330,9 → 3.333.331 ₫; VAT 10 % = 333.333,1 → 333.333 ₫.
    amounts = line_amounts(quantity=3, unit_price="1234567", discount=10, tax=10, currency="VND")
    assert amounts == Amounts(untaxed=Decimal(3333331), tax=Decimal(333333), total=Decimal(3666664))


def test_line_with_fractional_quantity_in_usd():
    amounts = line_amounts(quantity="2.5", unit_price="19.99", discount="5", tax="8", currency="USD")
    # 2.5 × 19.99 = 49.975; × 0.95 = 47.47625 → 47.48; 8 % = 3.7984 → 3.80
    assert amounts == Amounts(untaxed=Decimal("47.48"), tax=Decimal("3.80"), total=Decimal("51.28"))


def test_full_discount_and_no_tax_give_zero():
    assert line_amounts(quantity=5, unit_price=100_000, discount=100, tax=10, currency="VND") == Amounts(
        Decimal(0), Decimal(0), Decimal(0)
    )
    assert line_amounts(quantity=2, unit_price=150_000, currency="VND") == Amounts(
        Decimal(300000), Decimal(0), Decimal(300000)
    )


def test_document_totals_are_the_sums_of_the_rounded_lines():
    # Each line's tax is 0,5 ₫ → 1 ₫; summed per line that is 2 ₫ (on the untaxed sum it would be 1 ₫):
    # the printed lines add up to the printed totals.
    line = line_amounts(quantity=1, unit_price=5, tax=10, currency="VND")
    assert line.tax == Decimal(1)
    totals = sum_amounts([line, line], "VND")
    assert totals == Amounts(untaxed=Decimal(10), tax=Decimal(2), total=Decimal(12))
    assert sum_amounts([], "VND") == Amounts(Decimal(0), Decimal(0), Decimal(0))
