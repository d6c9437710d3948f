"""The page, the API and the exports of each report show the same figures, scoped alike for each reader."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from pheu.core.models import PheuSettings
from pheu.reports.facts import ReportFilters
from pheu.reports.filters import default_period
from pheu.reports.tables import REPORTS, build_report

pytestmark = pytest.mark.django_db
NAMES = list(REPORTS)


def api(api_client, user, name, **params):
    return api_client(user).get(f"/api/v1/reports/{name}/", params)


def csv_rows(client, name, **params):
    response = client.get(reverse("reports:export_csv", args=[name]), params)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("name", NAMES)
def test_every_report_answers_on_page_api_and_exports(client, api_client, actors, scene, name):
    client.force_login(actors.manager)
    page = client.get(reverse("reports:report", args=[name]))
    assert page.status_code == 200
    assert b'id="report-chart"' in page.content and b'id="report-chart-data"' in page.content
    body = api(api_client, actors.manager, name).json()
    assert body["report"] == name and body["currency"] == "VND"
    xlsx = client.get(reverse("reports:export_xlsx", args=[name]))
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert len(book.sheetnames) == len(body["tables"])
    first = book[book.sheetnames[0]]
    header = [cell.value for cell in next(first.iter_rows(max_row=1))]
    assert header == [column["label"] for column in body["tables"][0]["columns"]]
    # Header, the rows, and the totals row when there are rows.
    rows = body["tables"][0]["rows"]
    assert first.max_row == 1 + len(rows) + (1 if rows and body["tables"][0]["totals"] else 0)


def test_the_pipeline_export_is_what_the_api_returns(client, api_client, actors, scene):
    client.force_login(actors.manager)
    exported = csv_rows(client, "pipeline")
    body = api(api_client, actors.manager, "pipeline").json()
    (table,) = body["tables"]
    keys = [c["key"] for c in table["columns"]]
    assert exported[0] == [c["label"] for c in table["columns"]]
    assert exported[1:-1] == [[str(row[k]) for k in keys] for row in table["rows"]]
    assert exported[-1][3:] == ["3", "160000000.00", "52550000.00"]
    assert table["totals"]["weighted_revenue"] == "52550000.00"


def has_amount(text: str, amount: str) -> bool:
    """Whether ``amount`` appears in ``text`` as a whole number (not as a part of a longer one)."""
    return re.search(rf"(?<![\d.,]){re.escape(amount)}(?![\d])", text) is not None


@pytest.mark.parametrize("name", ["pipeline", "forecast", "funnel", "sources"])
def test_a_salesperson_sees_only_their_figures_on_every_interface(client, api_client, actors, scene, name):
    """sales1 owns A (100 M open), D (a lead) and E (won 70 M): no other record's money appears anywhere."""
    client.force_login(actors.sales1)
    body = json.dumps(api(api_client, actors.sales1, name).json())
    page = client.get(reverse("reports:report", args=[name])).content.decode()
    exported = "\n".join(",".join(row) for row in csv_rows(client, name))
    for foreign in ("50000000.00", "10000000.00", "30000000.00", "5000000.00", "2550000.00"):  # B, C, F
        assert not has_amount(body, foreign), foreign
        assert not has_amount(exported, foreign), foreign
    for foreign in ("50.000.000", "10.000.000", "30.000.000", "5.000.000", "2.550.000"):
        assert not has_amount(page, foreign), foreign
    assert "Lê Bình" not in page and "Võ Chi" not in page
    assert has_amount(body, "100000000.00") == (name in ("pipeline", "forecast"))


def test_a_salesperson_pipeline_matches_on_page_api_and_export(client, api_client, actors, scene):
    client.force_login(actors.sales1)
    body = api(api_client, actors.sales1, "pipeline").json()
    assert [r["expected_revenue"] for r in body["tables"][0]["rows"]] == ["100000000.00"]
    page = client.get(reverse("reports:report", args=["pipeline"])).content.decode()
    assert "100.000.000" in page and "20.000.000" in page
    assert csv_rows(client, "pipeline")[1][3:] == ["1", "100000000.00", "20000000.00"]


def test_the_api_refuses_bad_filters_with_400_naming_the_field(api_client, actors, scene):
    response = api(api_client, actors.manager, "pipeline", domain="[['nope', '=', 1]]", date_from="soon")
    assert response.status_code == 400
    assert set(response.json()) == {"domain", "date_from"}
    # A team the reader may not narrow to is a bad choice, not an empty report.
    assert api(api_client, actors.sales3, "pipeline", team=actors.north.pk).status_code == 400


def test_the_api_needs_a_login(api_client, scene):
    assert api_client().get("/api/v1/reports/pipeline/").status_code in (401, 403)


def test_the_page_shows_money_in_the_installation_currency(client, actors, scene):
    settings = PheuSettings.load()
    settings.currency = "USD"
    settings.save()
    actors.manager.language = "en"
    actors.manager.save()
    client.force_login(actors.manager)
    page = client.get(reverse("reports:report", args=["pipeline"])).content.decode()
    assert "$100,000,000.00" in page


def test_the_filters_narrow_the_page(client, actors, scene):
    client.force_login(actors.manager)
    page = client.get(
        reverse("reports:report", args=["pipeline"]), {"team": actors.south.pk}
    ).content.decode()
    table = page[page.index('id="table-pipeline"') :]
    assert "Võ Chi" in table and "Nguyễn An" not in table


# The report's own queries (set-based GROUP BYs, whatever the number of records): the assignment report reads
# the members with their loads and the medians of the assigned records (1 each), and runs the assignment's
# read-only plan (its configuration in 2 queries, the waiting groups in 1; one more reads the waiting leads
# planned one by one when a group reaches a team's members, none here).
OWN_QUERIES = {"pipeline": 1, "forecast": 1, "funnel": 3, "sources": 1, "assignment": 5, "activities": 1}
# A page adds the session, the user, the installation's settings, and the team and salesperson choices.
PAGE_QUERIES = 5


@pytest.mark.parametrize("name", NAMES)
def test_each_report_is_a_bounded_number_of_queries(actors, scene, name, django_assert_max_num_queries):
    PheuSettings.load()
    filters = ReportFilters(*default_period())
    with django_assert_max_num_queries(OWN_QUERIES[name] + 1):  # + the settings' currency
        build_report(name, user=actors.manager, filters=filters)


@pytest.mark.parametrize("name", NAMES)
def test_each_report_page_is_a_bounded_number_of_queries(
    client, actors, scene, name, django_assert_max_num_queries
):
    PheuSettings.load()
    client.force_login(actors.manager)
    with django_assert_max_num_queries(OWN_QUERIES[name] + PAGE_QUERIES):
        assert client.get(reverse("reports:report", args=[name])).status_code == 200


def test_the_openapi_schema_lists_every_report(api_client, actors):
    schema = api_client(actors.manager).get("/api/v1/schema/", {"format": "json"}).json()
    for name in NAMES:
        assert f"/api/v1/reports/{name}/" in schema["paths"]


def test_money_in_the_api_is_decimal_strings(api_client, actors, scene):
    body = api(api_client, actors.manager, "forecast").json()
    overdue = body["tables"][0]["rows"][0]
    assert overdue["month"] is None if "month" in overdue else True
    assert Decimal(overdue["expected_revenue"]) == Decimal(50_000_000)
