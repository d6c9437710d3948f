"""Template helpers of Pheu's pages: money in the reader's language, query strings, sortable headers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import (
    NumberPattern,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)
from django import template
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, to_locale

from pheu.core.fields import model_field
from pheu.lib.html import sanitize_html

register = template.Library()


class _MoneyFormat:
    """One language's way of writing one currency, prepared once from Babel's CLDR data.

    Babel's ``NumberPattern.apply`` re-reads the locale's symbols and the currency's precision, name and
    symbol for every amount (≈ 40 µs; a pipeline list shows 100 amounts). For the plain patterns of
    currencies (groups of three, no scale or exponent, which is what vi and en use) the same text is
    quantised and grouped here with the same rounding; any other pattern is left to Babel.
    """

    def __init__(self, locale_name: str, currency: str) -> None:
        self.locale = Locale.parse(locale_name)
        self.pattern: NumberPattern = self.locale.currency_formats["standard"]
        self.currency = currency
        pattern = self.pattern
        affixes = (*pattern.prefix, *pattern.suffix)
        self.plain = (
            pattern.grouping == (3, 3)
            and pattern.int_prec[0] == 1
            and not pattern.scale
            and not pattern.exp_prec
            and "@" not in pattern.pattern
            and not any("'" in affix or "¤¤" in affix for affix in affixes)
        )
        symbol = get_currency_symbol(currency, self.locale)
        self.prefix = tuple(affix.replace("¤", symbol) for affix in pattern.prefix)
        self.suffix = tuple(affix.replace("¤", symbol) for affix in pattern.suffix)
        self.quantum = Decimal(1).scaleb(-get_currency_precision(currency))
        self.separators = str.maketrans(
            {",": get_group_symbol(self.locale), ".": get_decimal_symbol(self.locale)}
        )

    def __call__(self, value: Decimal | int | float | str) -> str:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        if not self.plain or not amount.is_finite():
            return self.pattern.apply(amount, self.locale, currency=self.currency)
        negative = int(amount.is_signed())
        digits = format(abs(amount).normalize().quantize(self.quantum), ",f").translate(self.separators)
        return f"{self.prefix[negative]}{digits}{self.suffix[negative]}"


@functools.lru_cache(maxsize=64)
def money_format(locale_name: str, currency: str) -> _MoneyFormat:
    """How ``locale_name`` writes amounts in ``currency`` (prepared once per pair)."""
    return _MoneyFormat(locale_name, currency)


def money_writer(currency: Any = "VND") -> Callable[[Decimal | int | float | str | None], str]:
    """Amounts in ``currency`` (VND when none is set) written the reader's way, "" for none: for a page
    writing many amounts, the language is looked up once."""
    write = money_format(to_locale(get_language() or "vi"), str(currency or "") or "VND")
    return lambda value: "" if value is None or value == "" else write(value)


@register.filter
def money(value: Decimal | int | float | str | None, currency: str | None = "VND") -> str:
    """``value`` in ``currency``, written the reader's way ("150.000.000 ₫" in vi), "" for none."""
    return money_writer(currency)(value)


@register.filter
def sanitized(value: str | None) -> SafeString:
    """Stored rich text (a description, a note) as HTML a page may show: sanitised again as it is shown,
    whatever wrote it — a service sanitises what it stores, but a bulk load or an old row may not have."""
    return mark_safe(sanitize_html(value))  # nh3 keeps only formatting tags and safe links


@register.filter
def label(obj: models.Model | type[models.Model], field_name: str) -> str:
    """The (translated) label of a model field, so pages say what the forms and the admin say."""
    try:
        name = model_field(obj, field_name).verbose_name
    except FieldDoesNotExist:
        return field_name
    text = str(name)
    return text[:1].upper() + text[1:]


@register.simple_tag(takes_context=True)
def query(context: template.Context, **changes: Any) -> str:
    """The current query string with ``changes`` applied (``None`` or "" removes a parameter).

    Changing anything but the page goes back to page 1, so a new filter or sort never lands on a page
    that no longer exists.
    """
    params: QueryDict = context["request"].GET.copy()
    if "page" not in changes:
        params.pop("page", None)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, field: str, text: str, target: str = "") -> str:
    """A column header linking to the list sorted by ``field``; clicking again reverses the order."""
    current = context["request"].GET.get("ordering", "")
    if current == field:
        new, icon = f"-{field}", "bi-sort-up"
    elif current == f"-{field}":
        new, icon = field, "bi-sort-down"
    else:
        new, icon = field, ""
    href = query(context, ordering=new)
    htmx = format_html(' hx-get="{}" hx-target="{}" hx-push-url="true"', href, target) if target else ""
    marker = format_html(' <i class="bi {}" aria-hidden="true"></i>', icon) if icon else ""
    return format_html(
        '<a href="{}"{} class="link-body-emphasis text-decoration-none" data-sort="{}">{}{}</a>',
        href,
        htmx,
        field,
        text,
        marker,
    )
