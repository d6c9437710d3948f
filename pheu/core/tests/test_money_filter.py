"""The ``money`` filter writes amounts as Babel (CLDR) does, in each language and currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel import Locale
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from pheu.core.templatetags.pheu_tags import money, money_format

LOCALES = ["vi", "en", "en_US", "fr", "de_CH", "hi_IN", "ar"]  # hi_IN groups by 2 and is left to Babel
CURRENCIES = ["VND", "USD", "EUR", "JPY", "KWD"]  # precisions 0, 2, 2, 0, 3


def babel_text(value: Decimal | int | float, locale: str, currency: str) -> str:
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    return Locale.parse(locale).currency_formats["standard"].apply(amount, locale, currency=currency)


amounts = st.one_of(
    st.decimals(min_value=-(10**16), max_value=10**16, places=4, allow_nan=False),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    st.sampled_from([Decimal("0.5"), Decimal("2.5"), Decimal("-0"), Decimal("1.005"), Decimal("999.995")]),
)


@settings(max_examples=300, deadline=None)
@given(value=amounts, locale=st.sampled_from(LOCALES), currency=st.sampled_from(CURRENCIES))
def test_amounts_are_written_as_cldr_says(value, locale, currency):
    assert money_format(locale, currency)(value) == babel_text(value, locale, currency)


@pytest.mark.parametrize(
    ("language", "currency", "expected"),
    [
        ("vi", "VND", "150.000.000\xa0₫"),
        ("en", "VND", "₫150,000,000"),
        ("vi", "USD", "1.234,50\xa0US$"),
        ("en", "USD", "$1,234.50"),
        ("vi", "VND", "-2\xa0₫"),  # 1.5 rounds half to even, as Babel does
    ],
)
def test_money_in_the_readers_language(language, currency, expected):
    value = Decimal("-1.5") if expected.startswith("-") else Decimal("150000000")
    if currency == "USD":
        value = Decimal("1234.5")
    with translation.override(language):
        assert money(value, currency) == expected


def test_no_amount_is_written_as_nothing():
    assert money(None) == ""
    assert money("") == ""


def test_without_a_currency_amounts_are_in_dong():
    with translation.override("vi"):
        assert money(Decimal(5), None) == money(Decimal(5), "") == "5\xa0₫"
