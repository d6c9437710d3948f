"""Which lead field a column holds, from its header: the field's API name, or its label in Vietnamese or
English, compared unaccented, case-insensitively and ignoring punctuation ("Số điện thoại", "so dien thoai",
"Phone", "phone" all work). Exports write the labels in the user's language, so exports import back.
"""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.text import capfirst

from pheu.core.fields import model_field
from pheu.leads.models import EDITABLE_FIELDS, Lead
from pheu.lib.text import text_key

# Fields a person sets (EDITABLE_FIELDS) that no import reads, and why; every other one is importable
# (tests/test_mapping.py imports a file giving each).
NOT_IMPORTED: dict[str, str] = {
    "partner": "a customer record is linked on the record, by a conversion or a merge: a file names the "
    "company (company_name), not one of the customer records",
    "auto_probability": "follows the file: a row that gives a probability turns it off, a row without one "
    "keeps the stage's",
}
# The lead's many-to-many fields a file gives as names separated by commas (tags), placed before ``_BEFORE``.
_MANY: tuple[str, ...] = tuple(f.name for f in Lead._meta.many_to_many if f.editable)
_BEFORE = "campaign"


def _fields() -> tuple[str, ...]:
    """The importable fields in export order: the external id first (what a re-import updates by), then the
    fields a person sets in the model's order, the many-to-many ones before the campaign."""
    fields = [name for name in EDITABLE_FIELDS if name not in NOT_IMPORTED and name != "external_id"]
    position = fields.index(_BEFORE)
    fields[position:position] = _MANY
    return ("external_id", *fields)


# Importable fields, in export order. Relations are written and read by name (country: ISO code or name;
# salesperson: login or full name; tags: names separated by commas).
FIELDS: tuple[str, ...] = _fields()

# Further headers people use for a field (keys as compared: see ``header_key``).
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("title", "lead", "opportunity", "ten", "tieu de", "co hoi"),
    "contact_name": (
        "contact",
        "full name",
        "ten lien he",
        "ho ten",
        "ho va ten",
        "nguoi lien he",
        "lien he",
    ),
    "company_name": ("company", "organization", "cong ty", "ten cong ty", "doanh nghiep"),
    "email": ("email address", "mail", "dia chi email", "thu dien tu"),
    "phone": ("telephone", "tel", "dien thoai", "so dien thoai", "sdt"),
    "mobile": ("mobile phone", "cell", "di dong", "so di dong"),
    "street": ("address", "address line 1", "dia chi", "dia chi 1"),
    "street2": ("street 2", "address 2", "address line 2", "dia chi 2", "duong 2"),
    "country": ("country code", "quoc gia", "nuoc"),
    "user": ("salesperson", "owner", "login", "nhan vien kinh doanh", "nhan vien ban hang", "phu trach"),
    "team": ("sales team", "doi", "nhom", "doi ban hang", "nhom ban hang"),
    "tags": ("tag", "the", "nhan"),
    "expected_revenue": ("revenue", "doanh thu", "doanh thu du kien"),
    "expected_close_date": ("close date", "closing date", "ngay dong du kien", "ngay chot"),
    "external_id": ("id ngoai", "ma ngoai", "ma"),
    "company_size": ("employees", "so nhan vien", "quy mo"),
}

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def header_key(text: str) -> str:
    """The comparison key of a header: unaccented, lower-case, letters and digits only."""
    return _NOT_ALNUM.sub("", text_key(text))


def field_label(name: str) -> str:
    """The field's label in the active language (the header of exports)."""
    return capfirst(str(model_field(Lead, name).verbose_name))


def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name in FIELDS:
        keys = [name, *ALIASES.get(name, ())]
        for language in ("en", "vi"):
            with translation.override(language):
                keys.append(field_label(name))
        for key in keys:
            index.setdefault(header_key(key), name)
    return index


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """Column position (as a string, for JSON) → field, for the headers that name a field; when two
    columns name the same field, the first is taken."""
    index = _index()
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for position, header in enumerate(headers):
        field = index.get(header_key(header)) if header else None
        if field and field not in taken:
            mapping[str(position)] = field
            taken.add(field)
    return mapping


def field_choices() -> list[tuple[str, str]]:
    """``(field, label)`` of every importable field, in the active language (for the mapping form)."""
    return [(name, field_label(name)) for name in FIELDS]
