"""SPEC section 11 as a matrix, the lists: role × record × every list, board, export and report — a record is
in it exactly when its reader may see it (tables of ``matrix``) — and role × the pages and endpoints that are
not about one record (imports, reports, configuration: ``ROLE_ACCESS``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from django.urls import reverse

from pheu.accounts.tests.matrix import (
    LOGIN,
    OUTCOME,
    RECORDS,
    ROLE_ACCESS,
    ROLES,
    Scene,
    api_client,
    fingerprint,
    page_client,
    visible,
)
from pheu.reports.tables import REPORTS

pytestmark = pytest.mark.django_db


def _inactive(scene: Scene, record: str) -> dict[str, str]:
    """The list's own filter for an inactive (lost, merged-away) record: ``active=false``."""
    return {} if scene.lead[record].active else {"active": "false"}


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _xlsx_text(content: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row
    )


def _api_ids(response: Any) -> str:
    return " ".join(f"#{row['id']}" for row in response.json()["results"])


@dataclass(frozen=True)
class Listing:
    api: bool
    call: Callable[[Any, Scene, str], Any]
    # What the listing shows of the record (a name, or "#id" for an API list of ids).
    mark: Callable[[Scene, str], str]
    read: Callable[[Any], str] = lambda response: response.content.decode()
    outcome: str = "read"  # the row of OUTCOME saying whether the record belongs in this list at all


def _lead_name(scene: Scene, record: str) -> str:
    return scene.lead[record].name


def _deal_name(scene: Scene, record: str) -> str:
    return scene.opportunity[record].name


def _customer(scene: Scene, record: str) -> str:
    return f"Customer {record}"


def _page(url_name: str, *args: str) -> Callable[[Any], Any]:
    """A door that GETs ``url_name`` (reversed with ``args``) with the client it is given."""
    return lambda c: c.get(reverse(url_name, args=list(args)))


def _export(path: str, **params: str) -> Callable[[Any, Scene, str], Any]:
    return lambda c, s, r: c.get(reverse(path), {**params, **_inactive(s, r)})


# The board opens on a salesperson's own records ("my pipeline"); the matrix asks for all they may see.
ALL_MINE = {"mine": "false"}

LISTINGS: dict[str, Listing] = {
    "page_lead_list": Listing(False, _export("leads:list"), _lead_name),
    "page_kanban": Listing(
        False, lambda c, s, r: c.get(reverse("leads:pipeline"), ALL_MINE), _deal_name, outcome="pipeline"
    ),
    "page_pipeline_list": Listing(
        False, lambda c, s, r: c.get(reverse("leads:pipeline_list"), ALL_MINE), _deal_name, outcome="pipeline"
    ),
    "page_duplicates": Listing(
        False, lambda c, s, r: c.get(reverse("leads:duplicates")), _lead_name, outcome="duplicates_scan"
    ),
    "export_csv": Listing(
        False,
        _export("lead_export_csv"),
        _lead_name,
        lambda r: _body(r).decode("utf-8-sig"),
    ),
    "export_xlsx": Listing(False, _export("lead_export_xlsx"), _lead_name, lambda r: _xlsx_text(_body(r))),
    "api_export_csv": Listing(
        True, _export("api:lead-export", format="csv"), _lead_name, lambda r: _body(r).decode("utf-8-sig")
    ),
    "api_export_xlsx": Listing(
        True, _export("api:lead-export", format="xlsx"), _lead_name, lambda r: _xlsx_text(_body(r))
    ),
    "page_quotations": Listing(False, lambda c, s, r: c.get(reverse("sales:quotations")), _customer),
    "page_orders": Listing(False, lambda c, s, r: c.get(reverse("sales:orders")), _customer),
    "api_quotations": Listing(
        True,
        lambda c, s, r: c.get(reverse("api:quotation-list"), {"page_size": 500}),
        lambda s, r: f"#{s.quotation[r].pk}",
        _api_ids,
    ),
    "api_orders": Listing(
        True,
        lambda c, s, r: c.get(reverse("api:order-list"), {"page_size": 500}),
        lambda s, r: f"#{s.order[r].pk}",
        _api_ids,
    ),
    "api_activities": Listing(
        True,
        lambda c, s, r: c.get(reverse("api:activity-list"), {"page_size": 500}),
        lambda s, r: f"#{s.activity[r].pk}",
        _api_ids,
    ),
}


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("listing", LISTINGS)
def test_listing(scene, role, record, listing):
    spec = LISTINGS[listing]
    client = api_client(scene, role) if spec.api else page_client(scene, role)
    response = spec.call(client, scene, record)
    if role == "anonymous":
        if spec.api:
            assert response.status_code == 401
        else:
            assert response.status_code == 302 and response["Location"].startswith(LOGIN)
        return
    assert response.status_code == 200
    text = spec.read(response)
    listed = _contains(text, spec.mark(scene, record))
    belongs = visible(role, record) and OUTCOME[spec.outcome][record] == "ok"
    assert listed is belongs


def _contains(text: str, mark: str) -> bool:
    # "#12" must not match "#123": marks are followed by a space, a quote, a tag or the end.
    index = text.find(mark)
    while index != -1:
        end = index + len(mark)
        if end == len(text) or not text[end].isalnum():
            return True
        index = text.find(mark, end)
    return False


# --- per role: the pages and endpoints that are not about one record ----------------------------------
def _role_status(want: str, *, api: bool) -> tuple[int, ...]:
    if want == "login":
        return (401,) if api else (302,)
    if want == "403":
        return (403,)
    return (200,)


ROLE_DOORS: dict[str, tuple[str, bool, Callable[[Any], Any]]] = {
    # name: (row of ROLE_ACCESS, API?, the request)
    "page_imports": ("imports", False, lambda c: c.get(reverse("imports:list"))),
    "api_imports": ("imports", True, lambda c: c.get(reverse("api:import-list"))),
    "api_import_upload": (
        "imports",
        True,
        lambda c: c.post(
            reverse("api:import-list"),
            {"file": _csv_upload(), "dry_run": "false"},
            format="multipart",
        ),
    ),
    "page_reports": ("reports", False, lambda c: c.get(reverse("reports:index"))),
    **{
        f"page_report_{name}": (
            "reports",
            False,
            _page("reports:report", name),
        )
        for name in REPORTS
    },
    **{
        f"report_{name}_csv": (
            "reports",
            False,
            _page("reports:export_csv", name),
        )
        for name in REPORTS
    },
    **{
        f"report_{name}_xlsx": (
            "reports",
            False,
            _page("reports:export_xlsx", name),
        )
        for name in REPORTS
    },
    **{f"api_report_{name}": ("reports", True, _page(f"api:report-{name}")) for name in REPORTS},
    "api_stage_create": (
        "configuration",
        True,
        lambda c: c.post(reverse("api:stage-list"), {"name": "Hacked", "sequence": 9}, format="json"),
    ),
    "api_team_create": ("configuration", True, lambda c: c.post(reverse("api:team-list"), {"name": "Mine"})),
    "api_scoring_rule_create": (
        "configuration",
        True,
        lambda c: c.post(
            reverse("api:scoring-rule-list"), {"name": "Me", "domain": "[]", "points": 99}, format="json"
        ),
    ),
    "page_stages": ("configuration", False, lambda c: c.get(reverse("leads:stage_list"))),
    # The rules' list is read by everyone (a lead says which rules gave its score); writing is not.
    "page_scoring_rule_create": (
        "configuration",
        False,
        lambda c: c.post(reverse("scoring:rule_create"), {"name": "Me", "domain": "[]", "points": 99}),
    ),
    "page_assignment": ("configuration", False, lambda c: c.get(reverse("assignment:overview"))),
}


def _csv_upload() -> io.BytesIO:
    upload = io.BytesIO("Tên,Email\nMatrix import,import@matrix.example\n".encode())
    upload.name = "leads.csv"
    return upload


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("door", ROLE_DOORS)
def test_role_door(scene, role, door):
    row, api, call = ROLE_DOORS[door]
    client = api_client(scene, role) if api else page_client(scene, role)
    want = ROLE_ACCESS[row][role]
    writes = (row == "configuration" and api) or door == "api_import_upload"
    before = fingerprint()
    response = call(client)
    allowed = _role_status(want, api=api)
    if want == "ok" and writes:
        allowed = (200, 201, 202)
    assert response.status_code in allowed, response.content[:300]
    if want == "login" and not api:
        assert response["Location"].startswith(LOGIN)
    if want != "ok":
        assert fingerprint() == before


OPEN_RECORDS = [record for record in RECORDS if OUTCOME["pipeline"][record] == "ok"]


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_pipeline_report_counts_what_the_reader_sees(scene, role):
    """Every open opportunity of the scene is one row of the report (stage × team × salesperson); the
    merge's survivor, the salesperson's, is in a later stage. The report counts exactly the visible ones."""
    rows = api_client(scene, role).get(reverse("api:report-pipeline")).json()["tables"][0]["rows"]
    in_first_stage = sum(row["count"] for row in rows if row["stage"] == scene.stage.name)
    survivor = sum(row["count"] for row in rows if row["stage"] == scene.later_stage.name)
    assert in_first_stage == sum(visible(role, record) for record in OPEN_RECORDS)
    assert survivor == int(visible(role, "own"))
