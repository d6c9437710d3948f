"""Money arithmetic: ``Decimal`` end to end, rounded explicitly (ROUND_HALF_UP) to the currency's decimals.

The rule of a sales line (SPEC section 9)::

    untaxed = round(quantity × unit price × (1 − discount % / 100))
    tax     = round(untaxed × tax % / 100)
    total   = untaxed + tax

where ``round`` is to the currency's minor unit (VND has none: whole đồng; USD and EUR cents). A document's
totals are the sums of its lines' rounded amounts ("round per line"), so the lines printed on a quotation
always add up to its totals. Nothing here touches floats: a float given in is refused, because
``Decimal(0.1)`` is not 0.1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, TypedDict

from babel.numbers import get_currency_precision

HUNDRED = Decimal(100)
ZERO = Decimal(0)


class DecimalDigits(TypedDict):
    """The size of a decimal column: the keyword arguments Django's and DRF's ``DecimalField`` share."""

    max_digits: int
    decimal_places: int


# Every stored amount (prices, line and document totals): the model and API fields unpack it.
MONEY_DIGITS: Final[DecimalDigits] = {"max_digits": 18, "decimal_places": 2}


def currency_decimals(currency: str) -> int:
    """The number of decimals of ``currency``'s minor unit, per ISO 4217/CLDR (VND 0, USD 2, EUR 2)."""
    return int(get_currency_precision(currency.upper()))


def _decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):  # a float has already lost the exact value: refuse it loudly
        raise TypeError("Money is Decimal: pass a Decimal, an int or a str, not a float")
    return value if isinstance(value, Decimal) else Decimal(value)


def round_money(value: Decimal | int | str, currency: str) -> Decimal:
    """``value`` rounded half up to ``currency``'s decimals (``round_money("12.5", "VND") == 13``)."""
    exponent = Decimal(1).scaleb(-currency_decimals(currency))
    return _decimal(value).quantize(exponent, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Amounts:
    """Untaxed amount, tax and total, each already rounded to the currency."""

    untaxed: Decimal
    tax: Decimal
    total: Decimal


def line_amounts(
    *,
    quantity: Decimal | int | str,
    unit_price: Decimal | int | str,
    discount: Decimal | int | str = ZERO,
    tax: Decimal | int | str = ZERO,
    currency: str,
) -> Amounts:
    """The amounts of one line (see the module docstring). ``discount`` and ``tax`` are percentages."""
    quantity, unit_price = _decimal(quantity), _decimal(unit_price)
    discount, tax = _decimal(discount), _decimal(tax)
    untaxed = round_money(quantity * unit_price * (HUNDRED - discount) / HUNDRED, currency)
    tax_amount = round_money(untaxed * tax / HUNDRED, currency)
    return Amounts(untaxed=untaxed, tax=tax_amount, total=untaxed + tax_amount)


def sum_amounts(lines: Iterable[Amounts], currency: str) -> Amounts:
    """A document's totals: the sums of its lines' (already rounded) amounts."""
    untaxed = tax = ZERO
    for line in lines:
        untaxed += line.untaxed
        tax += line.tax
    untaxed, tax = round_money(untaxed, currency), round_money(tax, currency)
    return Amounts(untaxed=untaxed, tax=tax, total=untaxed + tax)
