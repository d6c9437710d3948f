from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from pheu.imports.testing import make_import
from pheu.leads.models import Lead
from pheu.testing import make_lead, make_stage, make_tag

pytestmark = pytest.mark.django_db

FIELDS = (
    "name",
    "contact_name",
    "company_name",
    "email",
    "phone_e164",
    "country_id",
    "team_id",
    "user_id",
    "stage_id",
    "expected_revenue",
    "expected_close_date",
    "rating",
    "priority",
    "external_id",
)


def _scene(actors):
    stage = make_stage("Báo giá")
    make_lead(
        "Máy lọc nước",
        contact_name="Nguyễn Văn Ấn",
        company_name="Đông Á",
        email="an@donga.vn",
        phone="0912345678",
        country="VN",
        team=actors.north,
        user=actors.sales1,
        stage=stage,
        expected_revenue=Decimal("1500000.50"),
        rating="hot",
        priority=2,
        external_id="x-1",
        tags=[make_tag("VIP"), make_tag("Hà Nội")],
    )
    make_lead("Other team", team=actors.south, user=actors.sales3)


def _values():
    return sorted(
        (tuple(getattr(lead, f) for f in FIELDS), tuple(sorted(lead.tags.values_list("name", flat=True))))
        for lead in Lead.objects.all()
    )


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_export_then_import_gives_the_same_records(client, english, tmp_path, extension):
    _scene(english)
    client.force_login(english.manager)
    response = client.get(f"/imports/leads/export.{extension}")
    assert response.status_code == 200
    path = tmp_path / f"leads.{extension}"
    path.write_bytes(b"".join(response.streaming_content) if response.streaming else response.content)
    before = _values()
    Lead.objects.all().delete()

    run = make_import(path, actor=english.manager)

    assert (run.created_count, run.error_count) == (2, 0)
    assert _values() == before


def test_reimporting_an_export_updates_by_external_id(client, actors, tmp_path):
    _scene(actors)
    client.force_login(actors.manager)
    path = tmp_path / "leads.csv"
    path.write_bytes(b"".join(client.get("/imports/leads/export.csv").streaming_content))
    run = make_import(path, actor=actors.manager)
    assert (run.created_count, run.updated_count, Lead.objects.count()) == (1, 1, 3)


def test_export_keeps_filters_and_visibility_and_headers_follow_the_language(client, actors):
    _scene(actors)
    client.force_login(actors.sales1)
    text = b"".join(client.get("/imports/leads/export.csv?search=nuoc").streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][2] == "Tên"  # Vietnamese, the default language
    assert [row[2] for row in rows[1:]] == ["Máy lọc nước"]
    client.force_login(actors.sales3)
    text = b"".join(client.get("/imports/leads/export.csv").streaming_content).decode("utf-8-sig")
    assert [row[2] for row in csv.reader(io.StringIO(text))][1:] == ["Other team"]


def test_api_export_xlsx_and_bad_filter(api_client, actors):
    _scene(actors)
    client = api_client(actors.manager)
    response = client.get(f"/api/v1/leads/export/?format=xlsx&team={actors.north.pk}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    assert [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Máy lọc nước"]
    assert client.get("/api/v1/leads/export/?format=pdf").status_code == 400
    bad = client.get("/api/v1/leads/export/?domain=[['nope','=',1]]")
    assert bad.status_code == 400 and "domain" in bad.json()


@pytest.mark.parametrize("url", ["/leads/export.csv", "/leads/export.xlsx", "/imports/leads/export.xlsx"])
def test_exports_are_under_the_leads_and_the_old_paths(client, actors, url):
    _scene(actors)
    client.force_login(actors.sales1)
    response = client.get(url + "?search=nuoc")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    if url.endswith(".csv"):
        assert "Máy lọc nước" in body.decode("utf-8-sig") and "Other team" not in body.decode("utf-8-sig")
    else:
        assert body[:2] == b"PK"  # an XLSX (zip) file
