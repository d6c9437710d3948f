"""Ids beyond what the database holds are a 400 naming the field (found by the schema fuzzer: a 500 on
SQLite, "Python int too large to convert to SQLite INTEGER")."""

from __future__ import annotations

import pytest

from pheu.leads.models import Lead
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db


def test_huge_ids_in_merge_unmerge_and_convert_are_400s(api_client, actors):
    lead = make_lead("Khách", user=actors.sales1, team=actors.north)
    client = api_client(actors.manager)
    merged = client.post("/api/v1/leads/merge/", {"ids": [lead.pk, 2**70]}, format="json")
    assert merged.status_code == 400 and "ids" in merged.json()
    unmerged = client.post("/api/v1/leads/unmerge/", {"merge_id": 2**64}, format="json")
    assert unmerged.status_code == 400 and "merge_id" in unmerged.json()
    converted = client.post(f"/api/v1/leads/{lead.pk}/convert/", {"merge": [2**63]}, format="json")
    assert converted.status_code == 400 and "merge" in converted.json()
    assert Lead.objects.get(pk=lead.pk).active
