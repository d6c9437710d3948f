"""The lead's column lists derived from its fields say what they claim."""

from __future__ import annotations

from types import SimpleNamespace

from pheu.leads.models import DERIVED_COLUMNS, EDITABLE_FIELDS, KEY_SOURCES, SET_BY_PHEU, Lead


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


def test_normalize_reads_its_key_sources_and_no_other_field():
    """What a row writer hands normalize() (KEY_SOURCES) is all it reads: an object holding only those
    fields gets the keys the lead gets, and each source changes some key."""
    values = {
        "name": "Báo giá CRM",
        "contact_name": "Nguyễn Văn An",
        "company_name": "Công ty Sao Mai",
        "email": "An@SaoMai.vn",
        "phone": "0912 345 678",
        "mobile": "0987 654 321",
        "job_title": "Giám đốc",
        "street": "1 Lê Lợi",
        "city": "Huế",
        "state": "Thừa Thiên Huế",
        "zip": "530000",
        "industry": "Phần mềm",
        "website": "https://saomai.vn",
    }
    assert set(KEY_SOURCES) <= set(values)
    lead = Lead(**values)
    lead.normalize()

    def keys_of(sources: dict[str, str]) -> dict[str, object]:
        row = SimpleNamespace(**sources)
        Lead.normalize(row)  # type: ignore[arg-type]  # an AttributeError if it read another field
        return {name: getattr(row, name) for name in DERIVED_COLUMNS}

    only = {name: values[name] for name in KEY_SOURCES}
    assert keys_of(only) == {name: getattr(lead, name) for name in DERIVED_COLUMNS}
    for name in KEY_SOURCES:
        assert keys_of({**only, name: "Khác 0909 000 111"}) != keys_of(only), name
