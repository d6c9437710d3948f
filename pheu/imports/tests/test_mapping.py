"""The importable fields are the lead's editable ones, derived from the model: each imports, or is left out
with its reason; the columns, their order and the headers they answer to are those exports write."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from pheu.imports.mapping import FIELDS, NOT_IMPORTED, field_label, guess_mapping
from pheu.imports.testing import make_import, write_csv
from pheu.leads.models import EDITABLE_FIELDS, Lead
from pheu.testing import make_stage, make_team, make_user

# What exports have always written, in this order (an export made before imports again the same).
EXPORT_COLUMNS = (
    "external_id",
    "type",
    "name",
    "contact_name",
    "company_name",
    "email",
    "phone",
    "mobile",
    "website",
    "job_title",
    "street",
    "street2",
    "city",
    "state",
    "zip",
    "country",
    "language",
    "company_size",
    "industry",
    "team",
    "user",
    "stage",
    "probability",
    "amount",
    "expected_revenue",
    "expected_close_date",
    "rating",
    "priority",
    "customer_type",
    "tags",
    "campaign",
    "source",
    "medium",
    "description",
)

# A cell for each importable field, and what the record then holds (see _stored).
SAMPLE: dict[str, tuple[str, Any]] = {
    "external_id": ("crm-7", "crm-7"),
    "type": ("Opportunity", "opportunity"),
    "name": ("Máy lọc nước", "Máy lọc nước"),
    "contact_name": ("Nguyễn Văn An", "Nguyễn Văn An"),
    "company_name": ("Đông Á", "Đông Á"),
    "email": ("an@donga.vn", "an@donga.vn"),
    "phone": ("0912345678", "0912345678"),
    "mobile": ("0987654321", "0987654321"),
    "website": ("donga.vn", "donga.vn"),
    "job_title": ("Giám đốc", "Giám đốc"),
    "street": ("1 Lê Lợi", "1 Lê Lợi"),
    "street2": ("Tầng 3", "Tầng 3"),
    "city": ("Hà Nội", "Hà Nội"),
    "state": ("HN", "HN"),
    "zip": ("100000", "100000"),
    "country": ("VN", "VN"),
    "language": ("Vietnamese", "vi"),
    "company_size": ("250", 250),
    "industry": ("Nước sạch", "Nước sạch"),
    "team": ("North", "North"),
    "user": ("seller", "seller"),
    "stage": ("Báo giá", "Báo giá"),
    "probability": ("35", Decimal("35.00")),
    "amount": ("1.500.000", Decimal("1500000.00")),
    "expected_revenue": ("2,000,000.50", Decimal("2000000.50")),
    "expected_close_date": ("31/01/2027", date(2027, 1, 31)),
    "rating": ("Hot", "hot"),
    "priority": ("Very good", 2),
    "customer_type": ("Existing customer", "existing"),
    "tags": ("VIP, Hà Nội", ["Hà Nội", "VIP"]),
    "campaign": ("Tết 2027", "Tết 2027"),
    "source": ("Website", "Website"),
    "medium": ("Email", "Email"),
    "description": ("Cần 20 máy", "Cần 20 máy"),
}


def _stored(lead: Lead, name: str) -> Any:
    """The record's value of ``name`` as SAMPLE states it: relations by their name (the country by code,
    the salesperson by login, the tags sorted)."""
    if name == "tags":
        return sorted(lead.tags.values_list("name", flat=True))
    if name == "country":
        return lead.country_id
    if name == "user":
        return lead.user.username if lead.user else None
    value = getattr(lead, name)
    return (
        getattr(value, "name", value) if name in ("team", "stage", "campaign", "source", "medium") else value
    )


def test_the_fields_are_the_export_columns_in_their_order():
    assert FIELDS == EXPORT_COLUMNS


def test_every_editable_lead_field_is_importable_or_left_out_with_a_reason():
    importable = set(FIELDS) - {"tags"}
    assert not importable & set(NOT_IMPORTED)
    assert importable | set(NOT_IMPORTED) == set(EDITABLE_FIELDS)
    assert all(len(reason) > 20 for reason in NOT_IMPORTED.values())


@pytest.mark.django_db
def test_a_file_giving_every_importable_field_sets_each(tmp_path):
    """Each importable field, under its English label, is read and stored (a field added to the model is
    importable once the row reader reads it, or is listed in NOT_IMPORTED)."""
    assert list(SAMPLE) == list(FIELDS)
    make_team("North")
    make_user("seller")
    make_stage("Báo giá")
    with translation.override("en"):
        headers = [field_label(name) for name in FIELDS]
    path = write_csv(tmp_path / "all.csv", [headers, [SAMPLE[name][0] for name in FIELDS]])

    run = make_import(path)

    assert (run.created_count, run.error_count, run.warning_count) == (1, 0, 0)
    lead = Lead.objects.get()
    assert {name: _stored(lead, name) for name in FIELDS} == {
        name: stored for name, (_c, stored) in SAMPLE.items()
    }
    assert lead.auto_probability is False  # the file gave a probability


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Địa chỉ 2", "street2"),
        ("Address line 2", "street2"),
        ("Số điện thoại", "phone"),
        ("Phone", "phone"),
        ("Tên công ty", "company_name"),
        ("Nhãn", "tags"),
        ("Tags", "tags"),
        ("Ngày chốt dự kiến", "expected_close_date"),
        ("external_id", "external_id"),
        ("Quy mô công ty (số nhân viên)", "company_size"),
    ],
)
def test_headers_in_vietnamese_or_english_name_their_field(header, field):
    assert guess_mapping(["Fax", header]) == {"1": field}
