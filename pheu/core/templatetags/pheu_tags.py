"""Template helpers of Pheu's pages: money in the reader's language, query strings, sortable headers."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import NumberPattern
from django import template
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.translation import get_language, to_locale

register = template.Library()


@functools.lru_cache(maxsize=16)
def _currency_format(locale_name: str) -> tuple[Locale, NumberPattern]:
    """A language's locale data and currency pattern, parsed once (≈ a third of formatting an amount)."""
    locale = Locale.parse(locale_name)
    return locale, locale.currency_formats["standard"]


@register.filter
def money(value: Decimal | int | float | None, currency: str = "VND") -> str:
    """``value`` in ``currency``, written the reader's way ("150.000.000 ₫" in vi), "" for none."""
    if value is None or value == "":
        return ""
    locale, pattern = _currency_format(to_locale(get_language() or "vi"))
    return pattern.apply(value, locale, currency=str(currency) or "VND")


@register.filter
def label(obj: models.Model | type[models.Model], field_name: str) -> str:
    """The (translated) label of a model field, so pages say what the forms and the admin say."""
    try:
        name = obj._meta.get_field(field_name).verbose_name
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
