"""A report as JSON: its filters, tables (columns, rows by column key, totals) and chart. Money and rates
are decimal strings, dates ISO 8601."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from rest_framework import serializers

from pheu.reports.facts import Report, Table


def value(raw: Any) -> Any:
    if isinstance(raw, Decimal):
        return format(raw, "f")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw) if isinstance(raw, Promise) else raw


def table_dict(table: Table) -> dict[str, Any]:
    keys = [column.key for column in table.columns]
    totals = table.total_values()
    return {
        "name": table.name,
        "title": str(table.title),
        "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in table.columns],
        "rows": [dict(zip(keys, map(value, table.values(row)), strict=True)) for row in table.rows],
        "totals": None if totals is None else dict(zip(keys, map(value, totals), strict=True)),
    }


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "report": report.name,
        "title": str(report.title),
        "currency": report.currency,
        "filters": report.filters.query(),
        "tables": [table_dict(table) for table in report.tables],
        "chart": report.chart.as_dict(),
    }


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the API's column title, not DRF's Field.label
    kind = serializers.ChoiceField(choices=["text", "count", "money", "percent", "days", "yesno"])


class TableSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(
        child=serializers.DictField(), help_text="One object per row, by column key."
    )
    totals = serializers.DictField(allow_null=True, help_text="The sums of the rows, by column key.")


class ReportSerializer(serializers.Serializer):
    report = serializers.CharField()
    title = serializers.CharField()
    currency = serializers.CharField(help_text="The installation's currency (ISO 4217); money is in it.")
    filters = serializers.DictField(child=serializers.CharField(), help_text="The filters applied.")
    tables = TableSerializer(many=True, help_text="The first table is the report's main one.")
    chart = serializers.DictField(help_text="The chart's labels and series, as the page draws it.")
