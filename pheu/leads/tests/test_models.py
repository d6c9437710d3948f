"""The lead's column lists derived from its fields say what they claim."""

from __future__ import annotations

from pheu.leads.models import DERIVED_COLUMNS, EDITABLE_FIELDS, SET_BY_PHEU, Lead


def _row(lead: Lead) -> dict[str, object]:
    return {f.attname: getattr(lead, f.attname) for f in Lead._meta.concrete_fields}


def test_normalize_writes_the_derived_columns_and_nothing_else():
    lead = Lead(
        name="Báo giá CRM",
        contact_name="Nguyễn Văn An",
        company_name="Công ty Sao Mai",
        email="An@SaoMai.vn",
        phone="0912 345 678",
        mobile="0987 654 321",
        job_title="Giám đốc",
        street="1 Lê Lợi",
        city="Huế",
        state="Thừa Thiên Huế",
        zip="530000",
        industry="Phần mềm",
        website="https://saomai.vn",
    )
    for name in DERIVED_COLUMNS:
        setattr(lead, name, "stale")
    before = _row(lead)

    lead.normalize()

    changed = {name for name, value in _row(lead).items() if value != before[name]}
    assert changed == set(DERIVED_COLUMNS)


def test_the_editable_fields_are_the_lead_s_columns_but_those_pheu_sets_or_derives():
    columns = {f.name for f in Lead._meta.concrete_fields if not f.primary_key}
    timestamps = {"created_at", "updated_at"}
    assert set(EDITABLE_FIELDS) == columns - set(SET_BY_PHEU) - timestamps - set(DERIVED_COLUMNS)
    assert set(SET_BY_PHEU) <= columns
