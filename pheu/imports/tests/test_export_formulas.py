"""CSV injection: no text of a lead export, CSV or XLSX, or of an import's error list, is a formula."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from pheu.imports.testing import make_import, write_csv
from pheu.lib.spreadsheet import safe_cell, safe_text
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("http://evil.example","Xem")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
]


def test_texts_starting_like_a_formula_get_an_apostrophe_and_numbers_do_not():
    for text in FORMULAS:
        assert safe_text(text) == "'" + text
    assert safe_text("\t=1+1") == "'\t=1+1"
    assert safe_text("Máy lọc = tốt") == "Máy lọc = tốt"
    for number in ("+84 912 345 678", "-12,5", "-1500000.50", "(028) 3822-1234"):
        assert safe_text(number) == number
    assert safe_cell(-5) == -5 and safe_cell(None) is None
    assert safe_text("a\x00b\x1b") == "ab"


def _scene(actors):
    for index, text in enumerate(FORMULAS):
        make_lead(
            text, contact_name=text, user=actors.sales1, team=actors.north, phone=f"+84 91234567{index}"
        )


def _texts(rows):
    return [value for row in rows for value in row if isinstance(value, str) and value]


def test_the_csv_export_writes_no_formula(client, actors):
    _scene(actors)
    client.force_login(actors.sales1)
    response = client.get("/leads/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    texts = _texts(rows[1:])
    assert not [t for t in texts if t[0] in "=+-@" and not t.startswith("+84")]
    # Each formula twice (name and contact), each with its apostrophe.
    assert sorted(t for t in texts if t.lstrip("'") in FORMULAS) == sorted("'" + f for f in FORMULAS * 2)
    assert "+84912345670" in texts or "+84 912345670" in texts


def test_the_xlsx_export_writes_no_formula(api_client, actors):
    _scene(actors)
    response = api_client(actors.sales1).get("/api/v1/leads/export/?format=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value not in (None, "")]
    assert not [c.value for c in cells if c.data_type == "f"]
    assert {c.value for c in cells if isinstance(c.value, str) and c.value.lstrip("'") in FORMULAS} == {
        "'" + f for f in FORMULAS
    }
    assert "+84 912345670" in {c.value for c in cells}


def test_the_error_list_of_an_import_writes_no_formula(client, actors, tmp_path):
    rows = [["Tên", "Doanh thu dự kiến"], ["Khách A", "=1+2"], ["Khách B", "@x"]]
    run = make_import(write_csv(tmp_path / "leads.csv", rows), actor=actors.manager)
    assert run.issues.count() == 2, run.message  # "not a number": left out
    client.force_login(actors.manager)
    response = client.get(f"/imports/{run.pk}/errors.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {row[2] for row in rows[1:]} == {"'=1+2", "'@x"}
