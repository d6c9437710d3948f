"""SPEC section 11 as a matrix, the API's part: role × record × every lead endpoint and action.

The expected outcome of each cell comes from the tables of ``pheu.accounts.tests.matrix`` (``VISIBLE`` and
``OUTCOME``). Every interface asks the one scoping function (``Lead.objects.visible_to``); these cells hold
them to it. A refused or hidden path must leave everything exactly as it was (``fingerprint``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.response import Response
from rest_framework.test import APIClient

from pheu.accounts.tests.matrix import (
    RECORDS,
    ROLES,
    Scene,
    api_client,
    expected,
    fingerprint,
    merge_to_undo,
    visible,
)

pytestmark = pytest.mark.django_db


def lead_url(name: str, scene: Scene, record: str) -> str:
    return reverse(f"api:lead-{name}", args=[scene.lead[record].pk])


def _unmerge(client: APIClient, scene: Scene, record: str) -> Response:
    return client.post(reverse("api:lead-unmerge"), {"merge_id": scene.merge_id}, format="json")


@dataclass(frozen=True)
class Action:
    outcome: str  # the row of OUTCOME
    call: Callable[[APIClient, Scene, str], Response]
    writes: bool = False
    hidden_status: int = 404  # what one who may not see the record gets


ACTIONS: dict[str, Action] = {
    "retrieve": Action("read", lambda c, s, r: c.get(lead_url("detail", s, r))),
    "update": Action("update", lambda c, s, r: c.patch(lead_url("detail", s, r), {"city": "Huế"}), True),
    "replace": Action(
        "update",
        lambda c, s, r: c.put(lead_url("detail", s, r), {"name": "Renamed", "city": "Huế"}),
        True,
    ),
    "convert": Action(
        "convert", lambda c, s, r: c.post(lead_url("convert", s, r), {"customer": "none"}), True
    ),
    "won": Action("won", lambda c, s, r: c.post(lead_url("won", s, r)), True),
    "lost": Action("lost", lambda c, s, r: c.post(lead_url("lost", s, r), {"note": "too far"}), True),
    "restore": Action("restore", lambda c, s, r: c.post(lead_url("restore", s, r)), True),
    "merge": Action(
        "merge",
        lambda c, s, r: c.post(
            reverse("api:lead-merge"), {"ids": [s.lead[r].pk, s.opportunity[r].pk]}, format="json"
        ),
        True,
        hidden_status=400,  # ids in a body the user does not know: "unknown record", as for any bad id
    ),
    "unmerge": Action("unmerge", _unmerge, True, hidden_status=400),  # "unknown merge", as for any bad id
    "duplicates": Action("read", lambda c, s, r: c.get(lead_url("duplicates", s, r))),
    "explain": Action("read", lambda c, s, r: c.get(lead_url("explain", s, r))),
    "assignment": Action("read", lambda c, s, r: c.get(lead_url("assignment", s, r))),
    "history": Action("read", lambda c, s, r: c.get(lead_url("history", s, r))),
    "notes": Action("note", lambda c, s, r: c.post(lead_url("notes", s, r), {"body": "<p>hello</p>"}), True),
}


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_api_lead_action(scene, role, record, action):
    spec = ACTIONS[action]
    client = api_client(scene, role)
    if spec.outcome == "unmerge":
        scene.merge_id = merge_to_undo(scene, record)
    before = fingerprint()
    response = spec.call(client, scene, record)
    want = expected(role, record, spec.outcome)
    body = response.content.decode()
    if want == "login":
        assert response.status_code == 401, body
    elif want == "hidden":
        assert response.status_code == spec.hidden_status, body
        assert scene.lead[record].name not in body
    elif want == "refused":
        assert response.status_code == 400, body
        assert json.loads(body), body  # the messages that say why
    else:
        assert response.status_code in (200, 201), body
        if spec.writes:
            assert fingerprint() != before
        return
    assert fingerprint() == before


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("role", ROLES)
def test_api_list(scene, role, record):
    lead = scene.lead[record]
    params: dict[str, Any] = {"page_size": 500} if lead.active else {"page_size": 500, "active": "false"}
    response = api_client(scene, role).get(reverse("api:lead-list"), params)
    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    listed = lead.pk in {row["id"] for row in response.json()["results"]}
    assert listed is visible(role, record)


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("role", ROLES)
def test_api_delete_is_never_offered(scene, role, record):
    """Records are never deleted (lost and merged-away ones become inactive): 405 for everyone."""
    before = fingerprint()
    response = api_client(scene, role).delete(lead_url("detail", scene, record))
    assert response.status_code == (401 if role == "anonymous" else 405)
    assert fingerprint() == before
