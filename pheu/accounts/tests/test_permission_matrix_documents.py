"""SPEC section 11 as a matrix, the records' documents: quotations, sales orders and activities of each record
(role × record × API and page), scoped like the opportunity they belong to (tables of ``matrix``).

A merged-away record's documents moved to its survivor (of the same salesperson): they stay visible to the
same people. A refused or hidden path leaves everything as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse

from pheu.accounts.tests.matrix import (
    LOGIN,
    RECORDS,
    ROLES,
    Scene,
    api_client,
    expected,
    fingerprint,
    page_client,
)

pytestmark = pytest.mark.django_db


def _q(scene: Scene, record: str) -> int:
    return scene.quotation[record].pk


def _o(scene: Scene, record: str) -> int:
    return scene.order[record].pk


def _a(scene: Scene, record: str) -> int:
    return scene.activity[record].pk


@dataclass(frozen=True)
class Door:
    api: bool  # the API (401 for anonymous) or a page (the log-in page)
    call: Callable[[Any, Scene, str], Any]
    writes: bool = False


DOORS: dict[str, Door] = {
    "api_quotation": Door(True, lambda c, s, r: c.get(reverse("api:quotation-detail", args=[_q(s, r)]))),
    "api_quotation_history": Door(
        True, lambda c, s, r: c.get(reverse("api:quotation-history", args=[_q(s, r)]))
    ),
    "api_quotation_cancel": Door(
        True, lambda c, s, r: c.post(reverse("api:quotation-cancel", args=[_q(s, r)])), True
    ),
    "api_quotation_update": Door(
        True,
        lambda c, s, r: c.patch(
            reverse("api:quotation-detail", args=[_q(s, r)]), {"note": "x"}, format="json"
        ),
        True,
    ),
    "api_order": Door(True, lambda c, s, r: c.get(reverse("api:order-detail", args=[_o(s, r)]))),
    "api_order_cancel": Door(
        True, lambda c, s, r: c.post(reverse("api:order-cancel", args=[_o(s, r)])), True
    ),
    "api_activity": Door(True, lambda c, s, r: c.get(reverse("api:activity-detail", args=[_a(s, r)]))),
    "api_activity_done": Door(
        True, lambda c, s, r: c.post(reverse("api:activity-done", args=[_a(s, r)]), {"feedback": "ok"}), True
    ),
    "page_quotation": Door(False, lambda c, s, r: c.get(reverse("sales:quotation", args=[_q(s, r)]))),
    "page_quotation_print": Door(
        False, lambda c, s, r: c.get(reverse("sales:print", args=["quotation", _q(s, r)]))
    ),
    "page_quotation_cancel": Door(
        False, lambda c, s, r: c.post(reverse("sales:quotation_cancel", args=[_q(s, r)])), True
    ),
    "page_order": Door(False, lambda c, s, r: c.get(reverse("sales:order", args=[_o(s, r)]))),
    "page_order_print": Door(False, lambda c, s, r: c.get(reverse("sales:print", args=["order", _o(s, r)]))),
    "page_order_cancel": Door(
        False, lambda c, s, r: c.post(reverse("sales:order_cancel", args=[_o(s, r)])), True
    ),
    "page_activity_done": Door(
        False, lambda c, s, r: c.post(reverse("activities:done", args=[_a(s, r)])), True
    ),
    "page_activity_cancel": Door(
        False, lambda c, s, r: c.post(reverse("activities:cancel", args=[_a(s, r)])), True
    ),
}


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("door", DOORS)
def test_document(scene, role, record, door):
    spec = DOORS[door]
    client = api_client(scene, role) if spec.api else page_client(scene, role)
    before = fingerprint()
    response = spec.call(client, scene, record)
    want = expected(role, record, "sales_document")
    if want == "login":
        if spec.api:
            assert response.status_code == 401
        else:
            assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    elif want == "hidden":
        assert response.status_code == 404
        body = response.content.decode(errors="replace")
        assert f"Customer {record}" not in body and f"Call {record}" not in body
    else:
        assert response.status_code in (200, 302), response.content[:500]
        if spec.writes:
            assert fingerprint() != before
        return
    assert fingerprint() == before
