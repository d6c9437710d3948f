"""SPEC section 11 as a matrix, the pages' part: role × record × every page that shows or changes a record.

Expected outcomes: the tables of ``pheu.accounts.tests.matrix``. A page that refuses (a business rule) says
why and leaves everything as it was; a record the user may not see is a 404 (or "unknown record" where ids
come in the form), and its name is never on the page; an anonymous visitor goes to the log-in page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from pheu.accounts.tests.matrix import (
    LOGIN,
    RECORDS,
    ROLES,
    Scene,
    expected,
    fingerprint,
    merge_to_undo,
    page_client,
)
from pheu.leads.forms import LeadForm

pytestmark = pytest.mark.django_db


def edit_data(scene: Scene, record: str) -> dict[str, Any]:
    """The edit form as the page fills it for the record, with the city changed."""
    form = LeadForm(instance=scene.lead[record], actor=scene.users["admin"])
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        else:
            data[name] = "on" if value is True else str(value)
    data["city"] = "Huế"
    return data


def _move(client: Client, scene: Scene, record: str) -> Any:
    url = reverse("leads:pipeline_move", args=[scene.opportunity[record].pk])
    return client.post(url, {"stage": scene.later_stage.pk})


def _merge_ids(scene: Scene, record: str) -> dict[str, list[int]]:
    return {"ids": [scene.lead[record].pk, scene.opportunity[record].pk]}


def _unmerge(client: Client, scene: Scene, record: str) -> Any:
    return client.post(reverse("leads:unmerge", args=[scene.merge_id]))


@dataclass(frozen=True)
class Page:
    outcome: str  # the row of OUTCOME
    call: Callable[[Client, Scene, str], Any]
    writes: bool = False
    hidden_status: int = 404


def lead_page(name: str, scene: Scene, record: str) -> str:
    return reverse(f"leads:{name}", args=[scene.lead[record].pk])


NO_CUSTOMER = {"customer": "none"}
PAGES: dict[str, Page] = {
    "detail": Page("read", lambda c, s, r: c.get(lead_page("detail", s, r))),
    "edit_form": Page("read", lambda c, s, r: c.get(lead_page("edit", s, r))),
    "edit": Page("update", lambda c, s, r: c.post(lead_page("edit", s, r), edit_data(s, r)), True),
    "won": Page("won", lambda c, s, r: c.post(lead_page("won", s, r)), True),
    "lost": Page(
        "lost", lambda c, s, r: c.post(lead_page("lost", s, r), {"lost_reason": "", "note": "far"}), True
    ),
    "restore": Page("restore", lambda c, s, r: c.post(lead_page("restore", s, r)), True),
    "convert_form": Page("read", lambda c, s, r: c.get(lead_page("convert", s, r))),
    "convert": Page(
        "convert", lambda c, s, r: c.post(lead_page("convert", s, r), {"customer": "none"}), True
    ),
    "note": Page("note", lambda c, s, r: c.post(lead_page("note", s, r), {"body": "<p>hello</p>"}), True),
    "kanban_move": Page("move", _move, True),
    "merge_preview": Page(
        "read",
        lambda c, s, r: c.get(reverse("leads:merge"), _merge_ids(s, r)),
        hidden_status=200,  # the preview page, saying "unknown record"
    ),
    "merge": Page("merge", lambda c, s, r: c.post(reverse("leads:merge"), _merge_ids(s, r)), True, 400),
    "unmerge": Page("unmerge", _unmerge, True),
}


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_lead_page(scene, role, record, page):
    spec = PAGES[page]
    client = page_client(scene, role)
    if spec.outcome == "unmerge":
        scene.merge_id = merge_to_undo(scene, record)
    before = fingerprint()
    response = spec.call(client, scene, record)
    want = expected(role, record, spec.outcome)
    body = response.content.decode(errors="replace")
    if want == "login":
        assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    elif want == "hidden":
        assert response.status_code == spec.hidden_status, body[:500]
        assert scene.lead[record].name not in body and scene.opportunity[record].name not in body
    elif want == "refused":
        assert response.status_code in (200, 302, 400, 422), body[:500]
    else:
        assert response.status_code in (200, 302), body[:500]
        if spec.writes:
            assert fingerprint() != before
        return
    assert fingerprint() == before
