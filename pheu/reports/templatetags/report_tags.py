"""Writing a report's cells the reader's way: money in the installation's currency, counts grouped, rates
and days with one decimal."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from pheu.core.templatetags.pheu_tags import money_writer
from pheu.reports.facts import Column

register = template.Library()


@register.simple_tag
def report_cell(column: Column, value: Any, currency: str) -> str:
    if value is None or value == "":
        return ""
    if column.kind == "money":
        return money_writer(currency)(value)
    if column.kind == "count":
        return number_format(value, 0, use_l10n=True, force_grouping=True)
    if column.kind == "percent":
        return f"{number_format(value, 1, use_l10n=True)} %"
    if column.kind == "days":
        return number_format(value, 1, use_l10n=True)
    if column.kind == "yesno":
        return _("yes") if value else _("no")
    return str(value)


@register.simple_tag
def row_cells(table: Any, row: Any) -> list[tuple[Column, Any]]:
    return list(zip(table.columns, table.values(row), strict=True))


@register.simple_tag
def total_cells(table: Any) -> list[tuple[Column, Any]]:
    return list(zip(table.columns, table.total_values() or [], strict=True))
