"""CSV injection: the names in a report (teams, people, sources, stages) are never formulas in its exports."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from pheu.reports.tables import REPORTS

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example","Xem")'


@pytest.fixture
def hostile_names(actors, scene):
    from pheu.leads.models import Source, Stage
    from pheu.teams.models import Team

    Team.objects.filter(pk=actors.north.pk).update(name=FORMULA)
    Stage.objects.filter(pk=scene.first.pk).update(name="@" + FORMULA[1:])
    for index, source in enumerate(Source.objects.all()):
        Source.objects.filter(pk=source.pk).update(name=f"+{index}{FORMULA[1:]}")
    actors.sales1.first_name, actors.sales1.last_name = "-2+3", "+cmd|' /C calc'!A0"
    actors.sales1.save()
    return actors


@pytest.mark.parametrize("name", list(REPORTS))
def test_no_text_of_a_report_export_is_a_formula(client, hostile_names, name):
    client.force_login(hostile_names.manager)
    response = client.get(reverse("reports:export_csv", args=[name]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    texts = [value for row in rows for value in row if value]
    assert not [
        t for t in texts if t[0] in "=+@" or (t[0] == "-" and not t.replace(".", "").lstrip("-").isdigit())
    ]
    book = load_workbook(io.BytesIO(client.get(reverse("reports:export_xlsx", args=[name])).content))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [cell.value for cell in cells if cell.data_type == "f"]


def test_the_pipeline_export_keeps_the_team_name_as_text(client, hostile_names):
    client.force_login(hostile_names.manager)
    content = client.get(reverse("reports:export_csv", args=["pipeline"])).content.decode("utf-8-sig")
    assert "'" + FORMULA in [value for row in csv.reader(io.StringIO(content)) for value in row]
